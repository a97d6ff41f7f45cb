"""The round protocol: phases and typed messages, and the one handler every lake runs."""

from ._handler import ArrayRows, MaskingStore, MemoryMasking, PartyHandler, Rows
from ._messages import (
    Deal,
    Evaluate,
    Keys,
    Message,
    Phase,
    Receive,
    Round,
    Stats,
    Unmask,
    parse,
)

__all__ = [
    "ArrayRows",
    "Deal",
    "Evaluate",
    "Keys",
    "MaskingStore",
    "MemoryMasking",
    "Message",
    "PartyHandler",
    "Phase",
    "Receive",
    "Round",
    "Rows",
    "Stats",
    "Unmask",
    "parse",
]
