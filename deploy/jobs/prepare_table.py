"""Batch job: copy a lake's source table into Parquet where the lake reads it.

A lake reads its tables in place (``[[tables]] path`` in lake.toml). Owners whose data arrives as
CSV or JSON exports get faster rounds from Parquet split into a few large files; this job makes
that copy with Spark, so it scales with the table. It runs anywhere Spark does:

    spark-submit prepare_table.py --source /data/incoming/patients.csv --format csv \
        --target /data/patients.parquet --partitions 8

and as the Spark Operator example in deploy/k8s/spark-operator/ (image path
/opt/collab/jobs/prepare_table.py). Nothing here reads or prints a row.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, help="the table to read (file, folder, URL)")
    parser.add_argument("--format", default="csv", help="csv, json, parquet, orc (default csv)")
    parser.add_argument("--target", required=True, help="where to write the Parquet copy")
    parser.add_argument(
        "--partitions",
        type=int,
        default=0,
        help="number of output files (default: as Spark reads the source)",
    )
    parser.add_argument(
        "--mode",
        choices=["error", "overwrite"],
        default="error",
        help="what to do when the target exists (default: fail)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.appName("collab-prepare-table").getOrCreate()
    try:
        reader = spark.read.format(args.format)
        if args.format == "csv":
            reader = reader.option("header", "true").option("inferSchema", "true")
        frame = reader.load(args.source)
        if args.partitions > 0:
            frame = frame.repartition(args.partitions)
        frame.write.mode(args.mode).parquet(args.target)
        written = spark.read.parquet(args.target)
        print(
            f"wrote {args.target}: {len(written.columns)} columns, "
            f"{len(written.inputFiles())} files",
            flush=True,
        )
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
