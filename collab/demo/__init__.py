"""Everything in one kernel for demos, workshops and tests: hospitals holding real data."""

from ._hospitals import HospitalsDemo, hospitals

__all__ = ["HospitalsDemo", "hospitals"]
