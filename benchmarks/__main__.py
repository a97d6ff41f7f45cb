"""``python -m benchmarks [--smoke] [--out DIR] [--only WORKLOAD ...]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ._run import run
from ._suite import FULL, SMOKE, WORKLOADS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="collab vs Spark MLlib vs scikit-learn, measured in one process run.",
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (a minute or less)")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results", help="results folder"
    )
    parser.add_argument("--only", nargs="+", choices=WORKLOADS, help="run only these workloads")
    args = parser.parse_args(argv)
    summary = run(SMOKE if args.smoke else FULL, args.out, only=args.only)
    print(f"\nwrote {args.out}/results.md ({summary['total_seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
