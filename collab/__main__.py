"""Command line: ``python -m collab demo`` (and the ``collab`` console script)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .demo import HospitalsDemo

DEFAULT_LOG = Path(tempfile.gettempdir()) / "collab-demo.log"
VALIDATION = 0.2  # the share of each lake's rows the demo's plan holds out
DEMO_PARTS = ("lake start", "statistics", "simulation", "training", "evaluation", "trees")
LOG_HELP = f"where PySyft's and Spark's own logs go (default {DEFAULT_LOG})"


def _quiet_libraries(args: argparse.Namespace) -> None:
    from ._library_logs import quiet_library_logs

    path = quiet_library_logs(args.log)
    print(f"(PySyft's and Spark's own logs go to {path})")


def _demo(args: argparse.Namespace) -> int:
    import collab

    _quiet_libraries(args)
    splits = ["iid", "skewed"] if args.split == "both" else [args.split]
    started = time.perf_counter()
    gaps = []
    parts = dict.fromkeys(DEMO_PARTS, 0.0)  # wall time of each part, summed over the splits
    for split in splits:
        print(f"\n=== {args.n} hospitals, {split} split of the breast-cancer data ===")
        t0 = time.perf_counter()
        with collab.demo.hospitals(n=args.n, split=split, seed=args.seed) as demo:
            parts["lake start"] += time.perf_counter() - t0
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

            for lake in demo.lakes:  # the owners let statistics through without a review
                policy = lake.policy(demo.table)
                lake.set_policy(demo.table, replace(policy, auto_approve_statistics=True))
            t2 = time.perf_counter()
            described = fed.describe(demo.table, [*demo.features[:4], demo.label])
            parts["statistics"] += time.perf_counter() - t2
            print(
                f"\nPooled statistics, approved by the owners' policy and securely aggregated "
                f"({time.perf_counter() - t2:.1f} s):"
            )
            print(described[["count", "mean", "std", "q25", "q50", "q75"]].round(3).to_string())

            # scikit-learn's default penalty (C=1) on the rows the plan trains on, which the
            # pooled count above tells
            training_rows = float(described["count"].max()) * (1 - VALIDATION)
            plan = demo.plan(rounds=args.rounds, validation=VALIDATION, l2=1 / training_rows)
            print(
                f"\nPlan: logistic regression on {len(plan.features)} features -> "
                f"{plan.label!r}, {plan.rounds} rounds x {plan.local_epochs} local epochs, "
                f"L2 {plan.l2:.2g} (scikit-learn's C=1), {VALIDATION:.0%} of rows held out "
                f"(plan {plan.hash[:12]})"
            )
            t3 = time.perf_counter()
            fed.simulate(plan)
            parts["simulation"] += time.perf_counter() - t3
            print("Simulated on every lake's synthetic rows: the plan runs end to end.")
            t1 = time.perf_counter()
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
            model = job.result(progress=not args.quiet)
            seconds = time.perf_counter() - t1
            parts["training"] += seconds
            history = job.history
            print("\nround  loss    train accuracy  validation accuracy  rows")
            for _, row in history.iterrows():
                if row["round"] in (1, 2, 5) or row["round"] % 10 == 0:
                    print(
                        f"{int(row['round']):>5}  {row['loss']:.4f}  {row['accuracy']:.4f}"
                        f"          {row['val_accuracy']:.4f}               {int(row['rows'])}"
                    )
            checked = model.validation
            print(
                f"\nThe model on the {VALIDATION:.0%} of rows each lake held out: accuracy "
                f"{checked['accuracy']:.4f}, ROC AUC {checked['roc_auc']:.4f}, F1 "
                f"{checked['f1']:.4f}, log loss {checked['log_loss']:.4f}"
            )
            t4 = time.perf_counter()
            test = demo.test_set()
            federated = model.score(test[demo.features], test[demo.label])
            yardstick = demo.centralised_model(validation=VALIDATION)
            central = yardstick.score(test[demo.features], test[demo.label])
            parts["evaluation"] += time.perf_counter() - t4
            gap = abs(federated - central) * 100
            gaps.append(gap)
            print(f"\nTraining: {seconds:.1f} s ({seconds / plan.rounds:.2f} s a round)")
            print(f"Test accuracy ({len(test)} held-out patients):")
            print(f"  federated (collab, {args.n} lakes): {federated:.4f}")
            print(f"  centralised (scikit-learn, the same rows pooled): {central:.4f}")
            print(f"  difference: {gap:.2f} points")
            gaps.append(_demo_trees(demo, args, parts))
    total = time.perf_counter() - started
    said = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in parts.items())
    print(f"\nDemo finished in {total:.1f} s: {said} (logs: {args.log}).")
    if args.timings:
        Path(args.timings).write_text(json.dumps({"total": total, "parts": parts}, indent=1))
    return 0 if all(g <= 1.0 for g in gaps) else 1


def _demo_trees(demo: HospitalsDemo, args: argparse.Namespace, parts: dict[str, float]) -> float:
    """Gradient-boosted trees on the same lakes, one round per tree level, against
    scikit-learn's on the pooled rows; the gap in points."""

    plan = demo.trees_plan(n_trees=30, max_depth=3)
    print(
        f"\nPlan: gradient-boosted trees, {plan.n_trees} trees of depth {plan.max_depth}: "
        f"{plan.total_rounds} rounds, one a tree level, each the pooled gradient histograms"
    )
    started = time.perf_counter()
    job = demo.federation.submit(plan)
    demo.approve_all()
    model = job.result(progress=not args.quiet)
    seconds = time.perf_counter() - started
    parts["trees"] += seconds
    pooled, test = demo.pooled_training_set(), demo.test_set()
    yardstick = job.plan.sklearn_estimator().fit(pooled[demo.features], pooled[demo.label])
    federated = model.score(test[demo.features], test[demo.label])
    central = yardstick.score(test[demo.features], test[demo.label])
    gap = abs(federated - central) * 100
    print(f"Training: {seconds:.1f} s ({seconds / job.rounds_done:.3f} s a round)")
    print(f"Test accuracy ({len(test)} held-out patients):")
    print(f"  federated trees (collab, {len(demo.lakes)} lakes): {federated:.4f}")
    print(f"  centralised (scikit-learn's histogram trees, rows pooled): {central:.4f}")
    print(f"  difference: {gap:.2f} points")
    return gap


def _privacy(args: argparse.Namespace) -> int:
    """Test accuracy at several epsilons on the demo data, beside no DP and scikit-learn."""
    import numpy as np

    import collab

    _quiet_libraries(args)
    with collab.demo.hospitals(n=args.n, split=args.split, seed=args.seed) as demo:
        for lake in demo.lakes:
            lake.set_policy("patients", collab.Policy(auto_approve=True))
        test = demo.test_set()
        central = demo.centralised_model().score(test[demo.features], test[demo.label])
        print(
            f"{args.n} hospitals, {args.split} split; {args.rounds} rounds of one full-batch "
            f"step; delta 1e-5, clip norm 1; centralised scikit-learn: {central:.4f}"
        )
        print(f"each setting trained {args.repeats} times (fresh noise each time)")
        print("epsilon   test accuracy (mean, min-max)   seconds a job")
        settings = [None, *[float(e) for e in args.epsilons.split(",")]]
        for epsilon in settings:
            dp = None if epsilon is None else collab.DP(epsilon=epsilon)
            plan = demo.plan(rounds=args.rounds, local_epochs=1, learning_rate=1.0, dp=dp)
            scores, started = [], time.perf_counter()
            for _ in range(1 if dp is None else args.repeats):
                model = demo.federation.submit(plan).result(progress=False, timeout=900)
                scores.append(model.score(test[demo.features], test[demo.label]))
            seconds = (time.perf_counter() - started) / len(scores)
            label = "no DP" if epsilon is None else f"{epsilon:g}"
            spread = f"{min(scores):.4f}-{max(scores):.4f}" if len(scores) > 1 else ""
            print(f"{label:<9} {np.mean(scores):.4f}  {spread:<22} {seconds:.1f}")
    return 0


def _attach(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from .lake import Lake
    from .lake._config import admin_password, load_config

    config = load_config(args.config)
    return Lake.attach(config.data_dir, config.url, admin_password())


def _lake(args: argparse.Namespace) -> int:
    from .lake._config import load_config
    from .lake._serve import serve

    if args.lake_command == "serve":
        return serve(load_config(args.config))
    lake = _attach(args)
    if args.lake_command == "status":
        print(f"lake {lake.name!r} at {lake.url}, records in {lake.data_dir}")
        for table in lake.tables:
            schema, policy = lake.schema(table), lake.policy(table)
            kind = "stream" if schema.extra.get("stream") else "table"
            print(
                f"  {kind} {table}: {len(schema.columns)} columns, at least "
                f"{schema.rows_at_least} rows; models "
                f"{', '.join(policy.allowed_models or ['any installed'])}, "
                f"max epsilon {policy.max_epsilon}, auto-approve {policy.auto_approve}"
            )
        pending = [r for r in lake.requests if r.status == "pending"]
        print(f"  requests pending: {len(pending)}")
        print(
            f"  audit log: {len(lake.audit)} entries, "
            f"{'intact' if lake.verify_audit() else 'TAMPERED'}"
        )
        return 0
    if args.lake_command == "requests":
        import pandas as pd

        rows = [r.summary() | {"id": r.id} for r in lake.all_requests()]
        print(pd.DataFrame(rows).to_string(index=False) if rows else "no requests")
        return 0
    matches = [r for r in lake.all_requests() if r.id.startswith(args.id)]
    if len(matches) != 1:
        print(
            f"{len(matches)} requests match {args.id!r}; give more of the id "
            "(see `collab lake requests`)",
            file=sys.stderr,
        )
        return 2
    if args.lake_command == "approve":
        matches[0].approve()
        print(f"approved {matches[0].id}")
    else:
        matches[0].deny(args.reason)
        print(f"denied {matches[0].id}: {args.reason}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="collab", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="three hospitals train one model; nobody sees a row")
    demo.add_argument("--n", type=int, default=3, help="hospitals (default 3)")
    demo.add_argument("--split", choices=["iid", "skewed", "both"], default="both")
    demo.add_argument("--rounds", type=int, default=30)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.add_argument("--log", default=str(DEFAULT_LOG), help=LOG_HELP)
    demo.add_argument("--timings", help="write the demo's wall time and its parts to this JSON")
    privacy = commands.add_parser("privacy", help="demo accuracy at several DP epsilons")
    privacy.add_argument("--epsilons", default="0.5,1,3,10")
    privacy.add_argument("--rounds", type=int, default=10)
    privacy.add_argument("--n", type=int, default=3)
    privacy.add_argument("--split", choices=["iid", "skewed"], default="iid")
    privacy.add_argument("--seed", type=int, default=0)
    privacy.add_argument("--repeats", type=int, default=3, help="jobs per epsilon (new noise)")
    privacy.add_argument("--log", default=str(DEFAULT_LOG), help=LOG_HELP)
    lake = commands.add_parser("lake", help="run and administer a served lake")
    lake_commands = lake.add_subparsers(dest="lake_command", required=True)
    for name, text in [
        ("serve", "serve the lake described by --config until SIGTERM"),
        ("status", "tables, policies, pending requests, audit integrity"),
        ("requests", "list the requests plans made to this lake"),
        ("approve", "approve a request by (the start of) its id"),
        ("deny", "deny a request by (the start of) its id"),
    ]:
        sub = lake_commands.add_parser(name, help=text)
        sub.add_argument("--config", required=True, help="the lake's TOML config file")
        if name in ("approve", "deny"):
            sub.add_argument("id")
        if name == "deny":
            sub.add_argument("--reason", required=True)
    args = parser.parse_args(argv)
    from ._errors import CollabError

    try:
        if args.command == "demo":
            return _demo(args)
        if args.command == "privacy":
            return _privacy(args)
        return _lake(args)
    except CollabError as exc:
        print(f"collab: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
