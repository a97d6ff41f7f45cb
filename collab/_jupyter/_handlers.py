"""The REST routes under ``<base_url>/collab/``: thin tornado handlers over a LakeDirectory."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import tornado
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from .._errors import CollabError, LakeError
from .._version import __version__
from ._directory import LakeDirectory, NotFound, NotOwner
from ._templates import template

_STATUS: list[tuple[type[Exception], int]] = [
    (NotFound, 404),
    (NotOwner, 403),
    (LakeError, 502),  # the lake, not this server, failed
    (CollabError, 500),  # e.g. an unreadable connections file: fix the server's files
]


class _Handler(APIHandler):
    """Answers JSON; a failure becomes ``{"error": {"type", "message"}}``."""

    def initialize(self, directory: LakeDirectory) -> None:
        self.directory = directory

    def reply(self, body: Any) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, tornado.web.HTTPError):  # Jupyter's own (e.g. 403 without a token)
            super().write_error(status_code, **kwargs)
            return
        kind = type(exc).__name__ if exc is not None else "HTTPError"
        message = str(exc) if exc is not None else self._reason
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": {"type": kind, "message": message}}))

    def send_error(self, status_code: int = 500, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        for cls, status in _STATUS:
            if isinstance(exc, cls):
                status_code = status
                break
        super().send_error(status_code, **kwargs)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, CollabError):  # expected, and answered with its message
            self.log.warning("collab: %s: %s", typ.__name__, value)
        else:
            super().log_exception(typ, value, tb)


class VersionHandler(_Handler):
    @tornado.web.authenticated
    def get(self) -> None:
        self.reply({"version": __version__})


class LakesHandler(_Handler):
    @tornado.web.authenticated
    async def get(self) -> None:
        self.reply({"lakes": await asyncio.to_thread(self.directory.lakes)})


class RequestsHandler(_Handler):
    @tornado.web.authenticated
    async def get(self, lake: str) -> None:
        lake = tornado.escape.url_unescape(lake)
        self.reply({"requests": await asyncio.to_thread(self.directory.requests, lake)})


class TemplateHandler(_Handler):
    @tornado.web.authenticated
    def get(self, kind: str) -> None:
        body = template(kind)
        if body is None:
            raise NotFound(f"no {kind!r} notebook template; there are 'scientist' and 'owner'")
        self.reply(body)


def setup_handlers(web_app: Any, directory: LakeDirectory) -> None:
    """Add the ``collab/`` routes to Jupyter server's tornado application."""
    base = url_path_join(web_app.settings["base_url"], "collab")
    routes = [
        ("version", VersionHandler),
        ("lakes", LakesHandler),
        ("lakes/([^/]+)/requests", RequestsHandler),
        ("templates/([^/]+)", TemplateHandler),
    ]
    web_app.add_handlers(
        ".*$",
        [(url_path_join(base, path), cls, {"directory": directory}) for path, cls in routes],
    )
