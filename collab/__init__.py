"""collab: train one model across data lakes that never share a row."""

from . import demo, plans
from ._errors import (
    AlreadyDecided,
    BudgetExceeded,
    CollabError,
    LakeError,
    PlanError,
    PolicyViolation,
    PrivacyError,
    RequestDenied,
    SetupError,
)
from ._library_logs import quiet_library_logs
from ._policy import Policy
from ._schema import ColumnSchema, TableSchema
from ._version import __version__
from .lake import Lake, Request
from .plans import load_model
from .plans._drift import DriftWarning
from .scientist import Federation, FollowJob, Job, connect
from .secure import DP

__all__ = [
    "DP",
    "AlreadyDecided",
    "BudgetExceeded",
    "CollabError",
    "ColumnSchema",
    "DriftWarning",
    "Federation",
    "FollowJob",
    "Job",
    "Lake",
    "LakeError",
    "PlanError",
    "Policy",
    "PolicyViolation",
    "PrivacyError",
    "Request",
    "RequestDenied",
    "SetupError",
    "TableSchema",
    "__version__",
    "connect",
    "demo",
    "load_model",
    "plans",
    "quiet_library_logs",
]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """Where Jupyter server finds collab's server extension (the Data Lakes panel's API)."""
    return [{"module": "collab._jupyter"}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where ``jupyter labextension develop`` finds the built JupyterLab extension."""
    return [{"src": "labextension", "dest": "@data-lake-collab/labext"}]
