"""The Jupyter server extension behind the JupyterLab Data Lakes panel: ``<base_url>/collab/``.

Routes (JSON; errors are ``{"error": {"type": <collab error class>, "message": ...}}``):

- ``GET version``: ``{"version"}``, this package's version;
- ``GET lakes``: the saved lakes with their tables (schema only, coarsened row counts),
  owners' pending-request counts, and offline lakes with the reason;
- ``GET lakes/<lake>/requests``: the requests made to a lake the user owns (metadata only);
- ``GET templates/<scientist|owner>``: the cells of a new notebook.
"""

from __future__ import annotations

from typing import Any

from ._directory import LakeDirectory


def _load_jupyter_server_extension(server_app: Any) -> None:
    """Register the ``collab/`` routes (called by Jupyter server)."""
    from ._handlers import setup_handlers

    directory = LakeDirectory()
    server_app.web_app.settings["collab_lake_directory"] = directory
    setup_handlers(server_app.web_app, directory)
    server_app.log.info(
        "collab server extension: lakes saved in %s", directory.directory / "connections.json"
    )


def _unload_jupyter_server_extension(server_app: Any) -> None:
    """Stop the worker threads (called by Jupyter server when it stops)."""
    directory = server_app.web_app.settings.pop("collab_lake_directory", None)
    if directory is not None:
        directory.close()


__all__ = ["LakeDirectory"]
