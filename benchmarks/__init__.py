"""Federated training with collab measured side by side with centralised Spark MLlib and
scikit-learn, in one process run so that machine noise cancels in the ratios.

Run ``python -m benchmarks`` (or ``make bench``); ``--smoke`` runs tiny sizes in seconds.
Results go to ``benchmarks/results/``: one JSON file per workload, ``summary.json``,
``results.md`` and PNG plots.
"""

from ._run import run
from ._suite import FULL, SMOKE, Suite

__all__ = ["FULL", "SMOKE", "Suite", "run"]
