"""Declarative training plans: what to train, on which columns, and how."""

from ._logistic import LogisticRegression
from ._model import LogisticModel
from ._plan import Plan

__all__ = ["LogisticModel", "LogisticRegression", "Plan"]
