"""Declarative training plans: what to train, on which columns, and how.

Each model family is one class; :func:`register_family` adds a family of one's own.
"""

from ._evaluation import Evaluation
from ._linear import LinearModel, LinearRegression
from ._logistic import LogisticModel, LogisticRegression
from ._mlp import MLPClassifier, MLPModel
from ._model import Classifier, Model, ModelCard, Regressor, load_model
from ._plan import Plan, families, register_family
from ._rounds import ClassifierRoundPlan, RoundPlan
from ._softmax import SoftmaxModel, SoftmaxRegression
from ._statistics import PooledStatistics, Statistics
from ._stats import Standardizer
from ._trees import BoostedTreesClassifier, BoostedTreesRegressor, GradientBoostedTrees
from ._update import Update

__all__ = [
    "BoostedTreesClassifier",
    "BoostedTreesRegressor",
    "Classifier",
    "ClassifierRoundPlan",
    "Evaluation",
    "GradientBoostedTrees",
    "LinearModel",
    "LinearRegression",
    "LogisticModel",
    "LogisticRegression",
    "MLPClassifier",
    "MLPModel",
    "Model",
    "ModelCard",
    "Plan",
    "PooledStatistics",
    "Regressor",
    "RoundPlan",
    "SoftmaxModel",
    "SoftmaxRegression",
    "Standardizer",
    "Statistics",
    "Update",
    "families",
    "load_model",
    "register_family",
]
