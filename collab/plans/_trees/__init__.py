"""Gradient-boosted trees across lakes: per-node gradient histograms summed over lakes.

The job runs in three kinds of rounds, all of them sums over rows:

1. **start**: each lake sums its labels (the coordinator's baseline: the log-odds of the
   pooled share of positives, or the pooled mean) and, for every numeric input without
   published bounds, counts its values in fixed log-spaced cells (a DDSketch-like sketch whose
   cells are the same on every lake, so counts add up under secure aggregation). A lake
   coarsens its own sketch before release so that every cell it releases holds at least its
   policy's ``min_rows`` rows. The coordinator turns the pooled sketch into quantile bin edges;
   inputs with published bounds get uniform edges over them, one-hot columns one edge at 0.5.
2. **one round per tree level**: the request carries the finished trees and the open nodes of
   the tree being grown; each lake sums the gradient, hessian and count of its rows per open
   node, per input, per bin (with one bin for missing values). The coordinator picks each
   node's split with XGBoost's gain and ``l2``, sends missing values the way that gains most
   (XGBoost's learned default direction), and sets the children's leaf values
   ``-G / (H + l2) * learning_rate`` from the same sums, so leaves cost no round. A split that
   leaves a child with fewer pooled rows than ``min_rows_in_leaf`` is never taken.
3. **final**: the finished model's training loss and score, so the history ends on it.

Rows are read as they are (``scales_rows = False``): the plan's design (one-hot categories,
transforms, constant fills) is applied by this family itself, and a missing value stays
missing and follows the direction its node learned.

The package: :mod:`._sketch` (the quantile sketch), :mod:`._arrays` (trees as plain data
and as arrays), :mod:`._models` (the trained models), :mod:`._plans` (the plan: the lakes'
step and the coordinator's) and :mod:`._regression` (its squared-error variant).
"""

from ._arrays import TreeArrays
from ._models import BoostedTreesClassifier, BoostedTreesRegressor, TreeEnsemble
from ._plans import GradientBoostedTrees
from ._regression import GradientBoostedTreesRegression

__all__ = [
    "BoostedTreesClassifier",
    "BoostedTreesRegressor",
    "GradientBoostedTrees",
    "GradientBoostedTreesRegression",
    "TreeArrays",
    "TreeEnsemble",
]
