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

# What every task imports: Spark's worker and Arrow serialisers (pandas, pyarrow), collab (its
# plans' arithmetic) and its engine (the kept rows; 47 ms to import in each new worker).
SHARED_MODULES = ("pyspark.worker", "pyspark.sql.pandas.serializers", "collab", "collab.engine")


def main() -> None:
    import importlib

    for name in SHARED_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # a worker imports it again and reports what is wrong
            pass
    try:  # a new worker's first task then skips re-reading Spark's zip archives (``_rows``)
        from collab.engine import _rows

        _rows._reread_changed_archives_only()  # not its sockets: a worker has its own
        importlib.invalidate_caches()
    except Exception:  # a worker settles itself again before its tasks
        pass
    gc.collect()
    gc.freeze()
    from pyspark import daemon

    daemon.manager()


if __name__ == "__main__":
    main()
