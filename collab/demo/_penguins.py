"""A real table with categories, text labels, booleans, dates and gaps: Palmer penguins.

The Palmer Station penguin records (Gorman, Williams and Fraser, 2014; CC0, shipped in the
``palmerpenguins`` package) as a field station would keep them: species and sex as text,
island as a category, whether the clutch was completed as a boolean, the date of the first
egg, four body measurements and two blood isotope ratios. The records have gaps of their own
(about 3% of sex and isotopes); :func:`penguins` adds more, seeded, so that several columns
miss 10-30% of their values, as clinical tables do.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd

SPECIES = ["Adelie", "Chinstrap", "Gentoo"]
ISLANDS = ["Biscoe", "Dream", "Torgersen"]
SEXES = ["female", "male"]
MEASURES = [
    "culmen_length_mm",
    "culmen_depth_mm",
    "flipper_length_mm",
    "body_mass_g",
    "delta_15n",
    "delta_13c",
]
# ranges known before any bird is measured (published by the owner; never the data's extremes)
BOUNDS = {
    "culmen_length_mm": (25.0, 65.0),
    "culmen_depth_mm": (10.0, 25.0),
    "flipper_length_mm": (160.0, 240.0),
    "body_mass_g": (2500.0, 6500.0),
    "delta_15n": (7.0, 10.5),
    "delta_13c": (-27.5, -23.5),
}
# the share of each column left missing on top of the records' own gaps
GAPS = {
    "culmen_length_mm": 0.12,
    "flipper_length_mm": 0.10,
    "body_mass_g": 0.20,
    "delta_15n": 0.15,
    "sex": 0.10,
    "island": 0.10,
}


def penguins(seed: int = 0) -> pd.DataFrame:
    """The 344 penguin records as a table (one row per bird), with seeded extra gaps.

    Columns: ``bird_id`` (text), ``species``, ``island`` and ``sex`` (text categories),
    ``clutch_completion`` (boolean), ``date_egg`` (date), :data:`MEASURES` (numbers) and
    ``consent`` (boolean: whether the bird's record may be used in studies; 85% do).
    """
    source = resources.files("palmerpenguins") / "data" / "penguins-raw.csv"
    with source.open() as handle:
        raw = pd.read_csv(handle)
    sex = raw["Sex"].str.lower()
    frame = pd.DataFrame(
        {
            "bird_id": raw["Individual ID"].astype(str) + "-" + raw["Sample Number"].astype(str),
            "species": raw["Species"].str.split().str[0],
            "island": raw["Island"],
            "sex": sex.where(sex.isin(SEXES)),
            "clutch_completion": raw["Clutch Completion"].eq("Yes"),
            "date_egg": pd.to_datetime(raw["Date Egg"]).dt.date,
            "culmen_length_mm": raw["Culmen Length (mm)"],
            "culmen_depth_mm": raw["Culmen Depth (mm)"],
            "flipper_length_mm": raw["Flipper Length (mm)"].astype(float),
            "body_mass_g": raw["Body Mass (g)"].astype(float),
            "delta_15n": raw["Delta 15 N (o/oo)"],
            "delta_13c": raw["Delta 13 C (o/oo)"],
        }
    )
    rng = np.random.default_rng(seed)
    for column, share in GAPS.items():
        frame.loc[rng.random(len(frame)) < share, column] = None
    frame["consent"] = rng.random(len(frame)) < 0.85
    return frame


def split_penguins(frame: pd.DataFrame, lakes: int = 3, seed: int = 0) -> list[np.ndarray]:
    """Row positions of ``frame`` for each of ``lakes`` stations, uneven (about 55%, 30%
    and 15% for three), the last one having no bird from Torgersen island at all."""
    rng = np.random.default_rng(seed)
    shares = np.array([0.55, 0.30, 0.15]) if lakes == 3 else np.full(lakes, 1 / lakes)
    wanted = np.round(shares * len(frame)).astype(int)
    torgersen = frame["island"].eq("Torgersen").to_numpy()
    others = rng.permutation(np.flatnonzero(~torgersen))
    last = others[: wanted[-1]]
    rest = rng.permutation(np.r_[np.flatnonzero(torgersen), others[wanted[-1] :]])
    cuts = np.cumsum(wanted[:-1])[:-1]
    return [np.sort(p) for p in np.split(rest, cuts)] + [np.sort(last)]
