"""The notebooks that "New data-scientist notebook" and "New data-owner notebook" start from."""

from __future__ import annotations

from typing import Any

SCIENTIST = [
    (
        "markdown",
        "# Data scientist notebook\n\n"
        "The lakes you saved with `collab.connect([...], save=True)` are listed in the "
        "**Data Lakes** panel on the left. Click a table there to insert its schema below; "
        "*plan skeleton* inserts a plan for it. You see schemas and synthetic rows only: "
        "the rows never leave their lakes.",
    ),
    (
        "code",
        "import collab\n\nfed = collab.connect()  # the saved lakes, with saved passwords\nfed",
    ),
    ("code", "fed.tables"),
    (
        "markdown",
        "## Train\n\n"
        "`fed.simulate(plan)` runs a plan on synthetic rows, asking no one; `fed.submit(plan)` "
        "sends it to every lake, and each owner approves it before anything runs.",
    ),
    (
        "code",
        "# collab.plans.families()  # the model families: one class each\n"
        "# plan = collab.plans.<Family>(\n"
        '#     table="...", features=[...], label="...", rounds=30\n'
        "# )\n"
        "# fed.simulate(plan)\n"
        "# job = fed.submit(plan)\n"
        "# job  # its rounds and loss curve, live\n"
        "# model = job.result()",
    ),
]

OWNER = [
    (
        "markdown",
        "# Data owner notebook\n\n"
        "Serve a lake over HTTP: its tables stay where they are, scientists see schemas only, "
        "and every plan waits for your approval. Save an owner connection to see its pending "
        "requests in the **Data Lakes** panel.",
    ),
    (
        "code",
        "import getpass\n\n"
        "import collab\n\n"
        'admin_password = getpass.getpass("Admin password of the lake: ")\n'
        "lake = collab.Lake.launch(\n"
        '    "my-lake",  # the name scientists see\n'
        "    port=8080,  # served over HTTP, so JupyterLab and scientists can reach it\n"
        '    data_dir="my-lake-records",  # reopening it later brings everything back\n'
        "    admin_password=admin_password,\n"
        ")\n"
        "lake",
    ),
    (
        "code",
        '# lake.add_table("patients", "data/patients.parquet", private_columns=["patient_id"])\n'
        '# lake.add_scientist("ada@uni.edu", getpass.getpass("Password for ada@uni.edu: "))',
    ),
    (
        "code",
        "# the Data Lakes panel lists this lake and counts its pending requests\n"
        "collab.connect(\n"
        '    [lake], email="info@openmined.org", password=admin_password, role="owner", '
        "save=True\n"
        ")",
    ),
    ("code", "lake.requests  # then lake.requests[0].approve() or .deny(reason)"),
]

TEMPLATES = {"scientist": SCIENTIST, "owner": OWNER}


def template(kind: str) -> dict[str, Any] | None:
    """``{"cells": [{"cell_type", "source"}]}`` of the ``kind`` template, ``None`` if unknown."""
    cells = TEMPLATES.get(kind)
    if cells is None:
        return None
    return {"cells": [{"cell_type": t, "source": source} for t, source in cells]}
