"""Federated training with collab measured side by side with centralised Spark MLlib and
scikit-learn, in one process run so that machine noise cancels in the ratios.

Run ``python -m benchmarks`` (or ``make bench``); ``--smoke`` runs tiny sizes in seconds.
Results go to ``benchmarks/results/``: one JSON file per workload, ``summary.json``,
``results.md`` and PNG plots.

One module per workload in ``workloads/``; what they share in ``_context.py`` (the run's
Spark, lakes and probe), ``_collab.py`` (collab's side), ``_central.py`` (MLlib and
scikit-learn) and ``_data.py``; the run in ``_run.py``; the report in ``_report.py``
(Markdown), ``_plots.py``, ``_targets.py`` and ``_report_rounds.py``, all formatting through
``_format.py``. collab's timings come through :mod:`collab.probe` only.
"""

from ._run import run
from ._suite import FULL, SMOKE, Suite

__all__ = ["FULL", "SMOKE", "Suite", "run"]
