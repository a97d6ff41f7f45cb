"""Survival analysis across lakes: Cox proportional hazards (:class:`CoxPH`, trained into a
:class:`CoxModel`), and the Kaplan-Meier curves and log-rank test a federation answers
(``fed.kaplan_meier``, ``fed.logrank``) from counts per bin of a shared time grid."""

from ._cox import CoxPH
from ._curves import SurvivalCounts
from ._evaluation import CoxEvaluation
from ._model import CoxModel

__all__ = ["CoxEvaluation", "CoxModel", "CoxPH", "SurvivalCounts"]
