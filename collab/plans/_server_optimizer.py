"""The coordinator's step: federated averaging, plain or adaptive (Reddi et al., ICLR 2021).

Each round the lakes' row-weighted mean change of the parameters is a pseudo-gradient
``delta``; ``sgd`` adds ``server_learning_rate * delta`` (FedAvg with a server step size),
while ``adam``, ``yogi`` and ``adagrad`` keep per-parameter moments of it (FedAdam, FedYogi,
FedAdagrad), which helps when lakes are uneven.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

ServerOptimizer = Literal["sgd", "adam", "yogi", "adagrad"]
SERVER_OPTIMIZERS: tuple[str, ...] = ("sgd", "adam", "yogi", "adagrad")

BETA_1 = 0.9
BETA_2 = 0.99
TAU = 1e-3  # the adaptivity floor: Reddi et al.'s best values were 1e-3 or below


def default_server_learning_rate(optimizer: str) -> float:
    return 1.0 if optimizer == "sgd" else 0.1


def server_step(
    name: str,
    learning_rate: float,
    weights: np.ndarray,
    delta: np.ndarray,
    moments: Mapping[str, Any] | None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """The next weights and the optimiser's moments after one round's mean ``delta``."""
    if name == "sgd":
        return weights + learning_rate * delta, {}
    m = np.asarray((moments or {}).get("m", np.zeros_like(delta)), dtype=np.float64)
    v = np.asarray((moments or {}).get("v", np.full_like(delta, TAU * TAU)), dtype=np.float64)
    square = delta * delta
    if name == "adagrad":
        m = delta
        v = v + square
    else:
        m = BETA_1 * m + (1 - BETA_1) * delta
        if name == "adam":
            v = BETA_2 * v + (1 - BETA_2) * square
        else:  # yogi
            v = v - (1 - BETA_2) * square * np.sign(v - square)
    new = weights + learning_rate * m / (np.sqrt(v) + TAU)
    return new, {"m": m.tolist(), "v": v.tolist()}
