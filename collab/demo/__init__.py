"""Everything in one kernel for demos, workshops and tests: hospitals holding real data."""

from ._hospitals import HospitalsDemo, hospitals, write_patients
from ._penguins import penguins, split_penguins

__all__ = ["HospitalsDemo", "hospitals", "penguins", "split_penguins", "write_patients"]
