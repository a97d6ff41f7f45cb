"""Notebook widgets over collab's objects: views that read the objects and call their methods.

- :class:`SchemaBrowser` (scientist): tables down, lakes across, columns, synthetic rows.
- :class:`PlanBuilder` (scientist): a plan from the columns the owners allow.
- :class:`ApprovalQueue` (owner): requests with approve / deny.
- :class:`TrainingDashboard` (scientist): a job's lakes, rounds and curves, live.
- :class:`FollowDashboard` (scientist): a followed job's updates, drift marked, live.
"""

from ._approval_queue import ApprovalQueue
from ._dashboard import TrainingDashboard
from ._follow_dashboard import FollowDashboard
from ._plan_builder import PlanBuilder
from ._schema_browser import SchemaBrowser

__all__ = ["ApprovalQueue", "FollowDashboard", "PlanBuilder", "SchemaBrowser", "TrainingDashboard"]
