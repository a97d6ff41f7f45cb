"""The errors a user of collab can meet: one small hierarchy under :class:`CollabError`."""

from __future__ import annotations


class CollabError(Exception):
    """Base class of every error collab raises on purpose.

    ``lake`` names the lake the error came from, or is ``None`` when it came from no lake.
    """

    lake: str | None = None


class PlanError(CollabError, ValueError):
    """A plan does not fit a lake's table: unknown table or column, wrong type, bad setting."""


class PrivacyError(CollabError):
    """A request would reach private data (a row, a per-row value or a private column)."""


class PolicyViolation(CollabError):
    """A plan or an execution is outside what the lake's owner allows."""


class BudgetExceeded(PolicyViolation):
    """A plan would spend more privacy budget than the owner left for this scientist."""


class LakeError(CollabError):
    """A lake could not be reached or failed while it worked; ``lake`` names it."""

    lake: str

    def __init__(self, lake: str, message: str) -> None:
        super().__init__(f"lake {lake!r}: {message}")
        self.lake = lake


class RequestDenied(CollabError):
    """The owner of a lake denied a plan; ``lake`` and ``reason`` say who and why."""

    lake: str

    def __init__(self, lake: str, reason: str) -> None:
        super().__init__(f"lake {lake!r} denied the plan: {reason}")
        self.lake = lake
        self.reason = reason


class AlreadyDecided(CollabError):
    """A request's owner decided it already (approved, denied, or the lake refused it): a
    decision is final, and the scientist may submit the plan again as a new request."""


class SetupError(CollabError):
    """The machine lacks something collab needs (Java, a Python version, a port)."""


ERRORS_BY_NAME: dict[str, type[CollabError]] = {
    cls.__name__: cls
    for cls in (CollabError, PlanError, PrivacyError, PolicyViolation, BudgetExceeded, SetupError)
}


def reported_by(lake: str, kind: str, message: str) -> CollabError:
    """The error a lake reported as ``kind`` (a class name), raised on the scientist's side:
    its message names the lake and its ``lake`` attribute is set."""
    error = ERRORS_BY_NAME.get(kind, CollabError)(
        message if repr(lake) in message else f"lake {lake!r}: {message}"
    )
    error.lake = lake
    return error
