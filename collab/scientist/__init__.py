"""The data scientist's side: connect to lakes, browse schemas, submit plans, follow jobs."""

from ._federation import Federation, connect
from ._follow import FollowJob
from ._job import Job

__all__ = ["Federation", "FollowJob", "Job", "connect"]
