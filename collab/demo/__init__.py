"""Everything in one kernel for demos, workshops and tests: hospitals holding real data."""

from ._hospitals import Dealt, HospitalsDemo, deal, hospitals, write_patients
from ._penguins import penguins, split_penguins

__all__ = [
    "Dealt",
    "HospitalsDemo",
    "deal",
    "hospitals",
    "penguins",
    "split_penguins",
    "write_patients",
]
