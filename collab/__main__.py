"""Command line: ``python -m collab demo`` (and the ``collab`` console script)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence


def _demo(args: argparse.Namespace) -> int:
    import collab

    splits = ["iid", "skewed"] if args.split == "both" else [args.split]
    started = time.perf_counter()
    gaps = []
    for split in splits:
        print(f"\n=== {args.n} hospitals, {split} split of the breast-cancer data ===")
        t0 = time.perf_counter()
        with collab.demo.hospitals(n=args.n, split=split, seed=args.seed) as demo:
            print(
                f"Started {args.n} lakes in {time.perf_counter() - t0:.1f} s: "
                f"{', '.join(lake.name for lake in demo.lakes)}"
            )
            fed = demo.federation
            print("\nThe scientist sees table names, per lake:")
            for lake, tables in fed.tables.items():
                print(f"  {lake}: {', '.join(tables)}")
            schema = fed.schema(demo.table)
            print(f"\n...and the schema of {demo.table!r} (first 6 of {len(schema)} columns):")
            print(schema.drop(columns=["description"]).head(6).to_string(index=False))
            print("\n...and synthetic rows made from the schema (never real rows):")
            print(fed.mock(demo.table, n=2).iloc[:, :6].to_string(index=False))

            plan = demo.plan(rounds=args.rounds)
            print(
                f"\nPlan: logistic regression on {len(plan.features)} features -> "
                f"{plan.label!r}, {plan.rounds} rounds x {plan.local_epochs} local epochs "
                f"(plan {plan.hash[:12]})"
            )
            fed.simulate(plan)
            print("Simulated on every lake's synthetic rows: the plan runs end to end.")
            job = fed.submit(plan)
            print(f"Submitted as one PySyft request per lake (job {job.job_id[:8]}).")
            for lake in demo.lakes:
                for request in lake.requests:
                    if request.status == "pending":
                        s = request.summary()
                        print(
                            f"  {lake.name}: owner reviews {s['model']} on {s['table']} "
                            f"({s['rounds']} rounds, from {s['scientist']}) -> approved"
                        )
                        request.approve()
            t1 = time.perf_counter()
            model = job.result(progress=not args.quiet)
            seconds = time.perf_counter() - t1
            history = job.history
            print("\nround  loss    train accuracy  rows")
            for _, row in history.iterrows():
                if row["round"] in (1, 2, 5) or row["round"] % 10 == 0:
                    print(
                        f"{int(row['round']):>5}  {row['loss']:.4f}  {row['accuracy']:.4f}"
                        f"          {int(row['rows'])}"
                    )
            test = demo.test_set()
            federated = model.score(test[demo.features], test[demo.label])
            central = demo.centralised_model().score(test[demo.features], test[demo.label])
            gap = abs(federated - central) * 100
            gaps.append(gap)
            print(f"\nTraining: {seconds:.1f} s ({seconds / plan.rounds:.2f} s a round)")
            print(f"Test accuracy ({len(test)} held-out patients):")
            print(f"  federated (collab, {args.n} lakes): {federated:.4f}")
            print(f"  centralised (scikit-learn, pooled): {central:.4f}")
            print(f"  difference: {gap:.2f} points")
    print(f"\nDemo finished in {time.perf_counter() - started:.1f} s.")
    return 0 if all(g <= 1.0 for g in gaps) else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="collab", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="three hospitals train one model; nobody sees a row")
    demo.add_argument("--n", type=int, default=3, help="hospitals (default 3)")
    demo.add_argument("--split", choices=["iid", "skewed", "both"], default="both")
    demo.add_argument("--rounds", type=int, default=30)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return _demo(args)
    return 2  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
