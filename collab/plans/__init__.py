"""Declarative training plans: what to train, on which columns, and how.

Each model family is one class: a :class:`Plan` that writes what :class:`LakeStep` (what a
lake runs) and :class:`Strategy` (what the coordinator runs) require, and names the
:class:`Model` it trains (``model_class``), and declares its settings once as
:class:`Param` rows in ``parameters`` (read with :func:`parameters_of`).
:func:`register_family` adds a family of one's own, refusing one that leaves a required
member or a setting's row out.
"""

from ._classes import ClassLabels
from ._contract import LakeStep, Strategy
from ._evaluation import Evaluation
from ._linear import LinearModel, LinearRegression
from ._logistic import LogisticModel, LogisticRegression
from ._mlp import MLPClassifier, MLPModel
from ._model import Classifier, Model, ModelCard, Regressor, load_model
from ._parameters import Param, parameters_of
from ._plan import Plan, register_family
from ._registry import families
from ._rounds import ClassifierRoundPlan, RoundPlan
from ._softmax import SoftmaxModel, SoftmaxRegression
from ._statistics import PooledStatistics, Statistics
from ._stats import Standardizer
from ._survival import CoxEvaluation, CoxModel, CoxPH, SurvivalCounts
from ._trees import BoostedTreesClassifier, BoostedTreesRegressor, GradientBoostedTrees
from ._update import Update

__all__ = [
    "BoostedTreesClassifier",
    "BoostedTreesRegressor",
    "ClassLabels",
    "Classifier",
    "ClassifierRoundPlan",
    "CoxEvaluation",
    "CoxModel",
    "CoxPH",
    "Evaluation",
    "GradientBoostedTrees",
    "LakeStep",
    "LinearModel",
    "LinearRegression",
    "LogisticModel",
    "LogisticRegression",
    "MLPClassifier",
    "MLPModel",
    "Model",
    "ModelCard",
    "Param",
    "Plan",
    "PooledStatistics",
    "Regressor",
    "RoundPlan",
    "SoftmaxModel",
    "SoftmaxRegression",
    "Standardizer",
    "Statistics",
    "Strategy",
    "SurvivalCounts",
    "Update",
    "families",
    "load_model",
    "parameters_of",
    "register_family",
]
