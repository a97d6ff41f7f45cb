"""The install (``make install`` / ``pip install``) enables both halves of the extension."""

from __future__ import annotations

import re
import subprocess
import sys

import collab

ANSI = re.compile(r"\x1b\[[0-9;]*m")
HINT = "install collab with `make install` (or pip install), then `make labext`"


def jupyter(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "jupyter", *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return ANSI.sub("", done.stdout + done.stderr)


def test_the_server_extension_is_enabled_and_loads():
    listed = jupyter("server", "extension", "list")
    assert re.search(r"^\s+collab enabled$", listed, re.M), f"{HINT}\n{listed}"
    assert re.search(rf"^\s+collab {re.escape(collab.__version__)} OK$", listed, re.M), listed


def test_the_labextension_is_enabled_and_ok():
    listed = jupyter("labextension", "list")
    line = rf"^\s+@data-lake-collab/labext v{re.escape(collab.__version__)} enabled OK"
    assert re.search(line, listed, re.M), f"{HINT}\n{listed}"
