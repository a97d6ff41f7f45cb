"""Secure aggregation (masking, key agreement, fixed-point ring) and differential privacy."""

from ._dp import DP, clip_rows, epsilon_spent, noise_multiplier_for, privatise
from ._fixed_point import FRAC_BITS, MAX_ABS, MAX_PARTIES, decode, encode
from ._mods import dp_mod, release
from ._secagg import AggregationAborted, MaskingParty, pack, secure_threshold, unmask, unpack

__all__ = [
    "DP",
    "FRAC_BITS",
    "MAX_ABS",
    "MAX_PARTIES",
    "AggregationAborted",
    "MaskingParty",
    "clip_rows",
    "decode",
    "dp_mod",
    "encode",
    "epsilon_spent",
    "noise_multiplier_for",
    "pack",
    "privatise",
    "release",
    "secure_threshold",
    "unmask",
    "unpack",
]
