"""A stand-in for the collab Jupyter server extension, for browser tests.

It serves the documented REST payloads under ``<base>/collab/`` so the
frontend can be exercised before (and independently of) the real server
extension. Load it with
``--ServerApp.jpserver_extensions='{"fake_collab_server": True}'`` and this
directory on ``PYTHONPATH``.

``COLLAB_FAKE_STATE`` may name a JSON file, read on every request, so a
test can change the answers while the server runs:
``{"version": "0.2.0", "fail": true}`` makes ``GET collab/version`` report
another version and ``GET collab/lakes`` answer 500 with collab's error body.
"""

import json
import os

import tornado
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

LAKES = {
    "lakes": [
        {
            "name": "st-mary",
            "url": "http://127.0.0.1:8081",
            "role": "owner",
            "status": "online",
            "error": None,
            "pending_requests": 2,
            "tables": [
                {
                    "name": "patients",
                    "rows": "about 190",
                    "columns": [
                        {"name": "radius", "type": "double", "private": False},
                        {"name": "texture", "type": "double", "private": False},
                        {"name": "patient_name", "type": "string", "private": True},
                        {"name": "malignant", "type": "boolean", "private": False},
                    ],
                }
            ],
        },
        {
            "name": "st-jude",
            "url": None,
            "role": "scientist",
            "status": "offline",
            "error": "Connection refused at http://127.0.0.1:8082",
            "pending_requests": 0,
            "tables": [],
        },
    ]
}

REQUESTS = {
    "requests": [
        {
            "id": "r1",
            "scientist": "ada@lab.org",
            "table": "patients",
            "model": "logistic_regression",
            "features": ["radius", "texture"],
            "label": "malignant",
            "rounds": 30,
            "epsilon": 1.0,
            "status": "pending",
        }
    ]
}

TEMPLATES = {
    "scientist": {
        "cells": [
            {"cell_type": "markdown", "source": "# Scientist notebook"},
            {"cell_type": "code", "source": "import collab"},
        ]
    },
    "owner": {"cells": [{"cell_type": "markdown", "source": "# Owner notebook"}]},
}


def _state():
    path = os.environ.get("COLLAB_FAKE_STATE")
    if not path or not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f)


def _error(status, kind, message):
    return status, {"error": {"type": kind, "message": message}}


class _Route(APIHandler):
    def initialize(self, answer):
        self.answer = answer

    @tornado.web.authenticated
    def get(self, *args):
        status, body = self.answer(*args)
        self.set_status(status)
        self.finish(json.dumps(body))


def _lakes():
    if _state().get("fail"):
        return _error(500, "LakeError", "st-mary: registry locked")
    return 200, LAKES


def _template(kind):
    if kind not in TEMPLATES:
        return _error(404, "NotFound", f"no {kind} template")
    return 200, TEMPLATES[kind]


def _jupyter_server_extension_points():
    return [{"module": "fake_collab_server"}]


def _load_jupyter_server_extension(app):
    base = app.web_app.settings["base_url"]
    routes = [
        ("collab/version", lambda: (200, {"version": _state().get("version", "0.1.0")})),
        ("collab/lakes", _lakes),
        ("collab/lakes/([^/]+)/requests", lambda lake: (200, REQUESTS)),
        ("collab/templates/([^/]+)", _template),
    ]
    app.web_app.add_handlers(
        ".*$",
        [(url_path_join(base, route), _Route, {"answer": answer}) for route, answer in routes],
    )
