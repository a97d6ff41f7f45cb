"""Spark's Python daemon for a local session, with the workers' modules imported before it forks.

Spark's daemon (``pyspark.daemon``) forks one Python worker per running task slot; each worker
then imports what its tasks need (pandas and pyarrow for Arrow batches, collab for the plans'
arithmetic), about 45 MiB of objects per worker that no other process shares. Imported once in
the daemon instead, those pages are shared by every worker it forks (copy on write), and
``gc.freeze`` keeps the collector from writing to them. The workers run the same code either
way: this module only imports, then hands over to ``pyspark.daemon``.

Started by Spark as ``python -m collab.engine._daemon`` (setting ``spark.python.daemon.module``,
see ``_spark.LOCAL_CONF``).
"""

from __future__ import annotations

import gc

# What every task imports: Spark's worker and Arrow serialisers (pandas, pyarrow), and collab
# (its plans' arithmetic and the kept rows); importing the package imports those.
SHARED_MODULES = ("pyspark.worker", "pyspark.sql.pandas.serializers", "collab")


def main() -> None:
    import importlib

    for name in SHARED_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # a worker imports it again and reports what is wrong
            pass
    gc.collect()
    gc.freeze()
    from pyspark import daemon

    daemon.manager()


if __name__ == "__main__":
    main()
