"""Rich display of collab objects: the text, HTML and JSON a notebook shows.

Each object is first described as a :class:`Report` (a title, a status, a progress bar and a
few :class:`Section` s) built from plain data; :func:`text` and :func:`html` then render the same
report, so a terminal, GitHub or nbviewer (``text/plain``, and a plain-text fallback inside the
HTML for viewers that strip styles) and JupyterLab (``text/html``) show the same sections.
Beside them, ``_repr_mimebundle_`` carries a JSON payload for the collab JupyterLab extension:

- ``application/vnd.collab.schema+json``: ``{"table", "lakes", "columns": [{"name", "type",
  "nullable", "description", "private", "kind", "categories": [...] | null, "presence":
  {lake: "ok" | "missing" | "differs: <type>" | "differs: categories"}}]}``; ``kind`` is
  numeric, binary, categorical, boolean, date, text or other, ``categories`` the values the
  owners publish for a categorical column
- ``application/vnd.collab.plan+json``: ``plan.to_spec()`` plus ``"hash"``
- ``application/vnd.collab.job+json``: ``{"job_id", "plan", "status", "lakes",
  "rounds_done", "rounds_total", "history": [{"round", "loss", "accuracy", "rows"}],
  "error"}``
- ``application/vnd.collab.model+json``: ``model.to_dict()``

Every value that reaches HTML goes through :func:`html.escape`. The stylesheet is
``collab/static/collab.css``, read once.

The package: :mod:`._kit`, the rendering kit (reports, text, HTML, the MIME bundle and
:class:`RichDisplay`), which names no type it renders; then each type's report, built from
plain data and typed by what it reads (protocols, so that the package still imports none
of the types it renders): :mod:`._schema`, :mod:`._plan`, :mod:`._job`, :mod:`._follow`
(followed jobs), :mod:`._model`
(models and model cards) and :mod:`._lake` (lakes and the requests their owners review).
"""

from ._follow import follow_report, update_columns
from ._job import HISTORY_SHOWN, JOB_MIME, job_payload, job_report
from ._kit import (
    Cell,
    Report,
    RichDisplay,
    Section,
    bundle,
    css,
    esc,
    fmt,
    frame_section,
    grid_html,
    header_html,
    html,
    progress_html,
    section_html,
    state_of,
    style,
    text,
)
from ._lake import lake_info, lake_report, request_report
from ._model import MODEL_MIME, model_card_report, model_payload, model_report
from ._plan import PLAN_MIME, plan_payload, plan_report
from ._schema import (
    CATEGORIES_SHOWN,
    SCHEMA_MIME,
    SchemaView,
    categories_payload,
    categories_text,
    mismatches,
    schema_payload_from_frame,
    schema_report,
    table_schema_payload,
    with_published_categories,
)

__all__ = [
    "CATEGORIES_SHOWN",
    "HISTORY_SHOWN",
    "JOB_MIME",
    "MODEL_MIME",
    "PLAN_MIME",
    "SCHEMA_MIME",
    "Cell",
    "Report",
    "RichDisplay",
    "SchemaView",
    "Section",
    "bundle",
    "categories_payload",
    "categories_text",
    "css",
    "esc",
    "fmt",
    "follow_report",
    "frame_section",
    "grid_html",
    "header_html",
    "html",
    "job_payload",
    "job_report",
    "lake_info",
    "lake_report",
    "mismatches",
    "model_card_report",
    "model_payload",
    "model_report",
    "plan_payload",
    "plan_report",
    "progress_html",
    "request_report",
    "schema_payload_from_frame",
    "schema_report",
    "section_html",
    "state_of",
    "style",
    "table_schema_payload",
    "text",
    "update_columns",
    "with_published_categories",
]
