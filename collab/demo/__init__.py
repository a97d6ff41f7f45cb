"""Everything in one kernel for demos, workshops and tests: hospitals holding real data."""

from ._hospitals import Dealt, HospitalsDemo, deal, hospitals, write_patients
from ._penguins import penguins, split_penguins
from ._recurrence import HAZARD_RATIOS, host_recurrence, recurrence_frame

__all__ = [
    "HAZARD_RATIOS",
    "Dealt",
    "HospitalsDemo",
    "deal",
    "hospitals",
    "host_recurrence",
    "penguins",
    "recurrence_frame",
    "split_penguins",
    "write_patients",
]
