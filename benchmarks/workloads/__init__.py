"""The workloads, one module each: ``name(ctx) -> result`` writes nothing itself; the run
(``benchmarks._run``) saves each result as ``results/<name>.json``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._context import Context
from .demo import demo
from .encoding import encoding
from .families import families
from .features import features
from .first_run import first_run
from .lakes import lakes
from .large import large
from .memory import memory
from .mlp_step import mlp_step
from .round_cost import round_cost
from .server_optimisers import server_optimisers
from .sizes import sizes
from .streams import streams
from .survival import survival
from .trees import trees
from .yardsticks import yardsticks

RUNNERS: dict[str, Callable[[Context], dict[str, Any]]] = {
    "yardsticks": yardsticks,
    "first_run": first_run,
    "demo": demo,
    "sizes": sizes,
    "large": large,
    "lakes": lakes,
    "features": features,
    "memory": memory,
    "families": families,
    "server_optimisers": server_optimisers,
    "encoding": encoding,
    "round_cost": round_cost,
    "trees": trees,
    "streams": streams,
    "survival": survival,
    "mlp_step": mlp_step,
}

__all__ = ["RUNNERS"]
