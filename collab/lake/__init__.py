"""The data owner's side: lakes, their tables, requests and records."""

from ._lake import Lake, Request

__all__ = ["Lake", "Request"]
