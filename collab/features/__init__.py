"""Transforms a plan applies to its features in each lake, before its family's step.

>>> from collab import features as F
>>> transforms = [F.log1p("income"), F.impute("median", "age"), F.missing_indicator("age")]

Any plan takes them: ``transforms=transforms`` beside its table, features and label.

Categorical features (columns whose categories the owner publishes) are one-hot encoded with
those categories, so every lake produces the same columns. The transforms are part of the
plan's spec, which the owners approve; they run where the rows are, are fitted from pooled
statistics, and are kept in the model, so ``model.predict(frame)`` and ``model.to_sklearn()``
apply the same steps.
"""

from ._design import MEDIAN_BINS, Design, InputColumn
from ._transforms import (
    Bucketize,
    Clip,
    Impute,
    Log1p,
    MissingIndicator,
    Standardize,
    Transform,
    bucketize,
    clip,
    impute,
    log1p,
    missing_indicator,
    standardize,
)

__all__ = [
    "MEDIAN_BINS",
    "Bucketize",
    "Clip",
    "Design",
    "Impute",
    "InputColumn",
    "Log1p",
    "MissingIndicator",
    "Standardize",
    "Transform",
    "bucketize",
    "clip",
    "impute",
    "log1p",
    "missing_indicator",
    "standardize",
]
