"""The data scientist's side: connect to lakes, browse schemas, submit plans, follow jobs."""

from ._federation import Federation, connect
from ._job import Job

__all__ = ["Federation", "Job", "connect"]
