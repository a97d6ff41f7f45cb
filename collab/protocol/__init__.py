"""The round protocol: a job's schedule, its typed messages, and the one handler every lake
runs."""

from ._handler import ArrayRows, MaskingStore, MemoryMasking, PartyHandler, Rows
from ._messages import (
    Deal,
    Evaluate,
    Keys,
    Message,
    Receive,
    Round,
    Stats,
    Unmask,
    parse,
)
from ._schedule import (
    STATS_SLOT,
    Execution,
    Executions,
    MemoryExecutions,
    Phase,
    Schedule,
    digest,
    evaluation_slot,
    unmask_round,
)

__all__ = [
    "STATS_SLOT",
    "ArrayRows",
    "Deal",
    "Evaluate",
    "Execution",
    "Executions",
    "Keys",
    "MaskingStore",
    "MemoryExecutions",
    "MemoryMasking",
    "Message",
    "PartyHandler",
    "Phase",
    "Receive",
    "Round",
    "Rows",
    "Schedule",
    "Stats",
    "Unmask",
    "digest",
    "evaluation_slot",
    "parse",
    "unmask_round",
]
