"""The server extension's REST routes under a real Jupyter server, against served lakes."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from lake_processes import ADMIN_PASSWORD, SCIENTIST, free_port
from served_lakes import FEATURES, launch_lake, save_lab_connections
from tornado.httpclient import HTTPClientError

import collab

pytestmark = [pytest.mark.http, pytest.mark.slow]

SLOW = {"request_timeout": 180}  # the first call imports PySyft and logs in to every lake


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"collab": True}}}


async def get(jp_fetch: Any, *path: str) -> Any:
    response = await jp_fetch("collab", *path, **SLOW)
    assert response.code == 200
    return json.loads(response.body)


async def error(jp_fetch: Any, *path: str) -> tuple[int, dict[str, str]]:
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch("collab", *path, **SLOW)
    body = json.loads(caught.value.response.body)
    return caught.value.code, body["error"]


async def test_version(jp_fetch):
    assert await get(jp_fetch, "version") == {"version": collab.__version__}


async def test_lakes_list_schemas_and_an_offline_lake_without_secrets_or_rows(
    jp_fetch, lakes, jp_config_dir
):
    save_lab_connections(lakes, offline=True)
    reply = await get(jp_fetch, "lakes")
    by_name = {lake["name"]: lake for lake in reply["lakes"]}
    assert list(by_name) == ["st-mary", "st-jude", "st-luke"]

    mary, jude, luke = by_name["st-mary"], by_name["st-jude"], by_name["st-luke"]
    assert (mary["role"], mary["status"], mary["error"]) == ("owner", "online", None)
    assert mary["url"] == lakes["st-mary"].url
    assert [(t["name"], t["rows"]) for t in mary["tables"]] == [("patients", "at least 300")]
    columns = {c["name"]: c for c in mary["tables"][0]["columns"]}
    assert len(columns) == 32
    assert columns["patient_id"] == {
        "name": "patient_id",
        "type": "string",
        "private": True,
        "kind": "text",
        "categories": None,
    }
    assert columns["mean_radius"] == {
        "name": "mean_radius",
        "type": "double",
        "private": False,
        "kind": "numeric",
        "categories": None,
    }
    # the plan skeleton proposes a classifier for a binary label, a regression otherwise
    assert columns["malignant"]["kind"] == "binary"

    assert (jude["role"], jude["status"], jude["pending_requests"]) == ("scientist", "online", 0)
    assert [(t["name"], t["rows"]) for t in jude["tables"]] == [
        ("biopsies", "at least 60"),
        ("patients", "at least 200"),
    ]

    assert luke["status"] == "offline" and luke["tables"] == []
    assert luke["error"] == (
        f"lake 'st-luke' at {luke['url']} is not reachable (Connection refused). "
        "Is the lake running?"
    )

    text = json.dumps(reply)
    for secret in (ADMIN_PASSWORD, SCIENTIST[1]):
        assert secret not in text
    for row_value in ("P00000", "17.99", "20.57"):  # first patient's id and radius
        assert row_value not in text


async def test_owner_sees_pending_requests_and_their_count(jp_fetch, lakes, jp_config_dir):
    save_lab_connections(lakes)
    mary = lakes["st-mary"]
    fed = collab.connect([mary.url], email=SCIENTIST[0], password=SCIENTIST[1])
    plan = collab.plans.LogisticRegression(
        table="patients", features=FEATURES, label="malignant", rounds=3
    )
    job = fed.submit(plan)
    try:
        requests = (await get(jp_fetch, "lakes", "st-mary", "requests"))["requests"]
        mine = [r for r in requests if r["status"] == "pending"]
        assert len(mine) == 1
        assert {k: v for k, v in mine[0].items() if k != "id"} == {
            "scientist": SCIENTIST[0],
            "table": "patients",
            "model": "logistic_regression",
            "features": FEATURES,
            "label": "malignant",
            "rounds": 3,
            "epsilon": None,
            "status": "pending",
        }
        lake_list = {lake["name"]: lake for lake in (await get(jp_fetch, "lakes"))["lakes"]}
        assert lake_list["st-mary"]["pending_requests"] == 1
    finally:
        for request in mary.requests:
            if request.job_id == job.job_id:
                request.deny("a test request")
    requests = (await get(jp_fetch, "lakes", "st-mary", "requests"))["requests"]
    assert [r["status"] for r in requests if r["id"] == mine[0]["id"]] == ["denied"]
    lake_list = {lake["name"]: lake for lake in (await get(jp_fetch, "lakes"))["lakes"]}
    assert lake_list["st-mary"]["pending_requests"] == 0


async def test_errors_name_what_is_wrong(jp_fetch, lakes, jp_config_dir):
    save_lab_connections(lakes)
    code, body = await error(jp_fetch, "lakes", "st-jude", "requests")
    assert (code, body["type"]) == (403, "NotOwner")
    assert "role 'scientist'" in body["message"] and "role='owner'" in body["message"]

    code, body = await error(jp_fetch, "lakes", "st-nowhere", "requests")
    assert (code, body["type"]) == (404, "NotFound")
    assert body["message"] == (
        "no saved lake is called 'st-nowhere'; saved lakes: st-mary, st-jude"
    )

    code, body = await error(jp_fetch, "templates", "auditor")
    assert (code, body["type"]) == (404, "NotFound")

    connections = Path(jp_config_dir) / "collab" / "connections.json"
    connections.write_text('{"lakes": [')
    code, body = await error(jp_fetch, "lakes")
    assert (code, body["type"]) == (500, "CollabError")
    assert body["message"].startswith(f"{connections} is not valid JSON")


async def test_a_missing_or_wrong_password_shows_that_lake_offline(
    jp_fetch, lakes, jp_config_dir, monkeypatch
):
    save_lab_connections(lakes)
    credentials = Path(jp_config_dir) / "collab" / "credentials.json"
    saved = json.loads(credentials.read_text())
    del saved["st-jude"]
    credentials.write_text(json.dumps(saved))
    reply = {lake["name"]: lake for lake in (await get(jp_fetch, "lakes"))["lakes"]}
    assert reply["st-mary"]["status"] == "online"
    assert reply["st-jude"]["status"] == "offline"
    assert (
        "no password for lake 'st-jude': set COLLAB_PASSWORD_ST_JUDE" in reply["st-jude"]["error"]
    )

    monkeypatch.setenv("COLLAB_PASSWORD_ST_JUDE", "not-the-password")
    reply = {lake["name"]: lake for lake in (await get(jp_fetch, "lakes"))["lakes"]}
    assert reply["st-jude"]["status"] == "offline"
    assert "refused the login of 'ada@uni.edu'" in reply["st-jude"]["error"]
    assert "not-the-password" not in json.dumps(reply)

    monkeypatch.setenv("COLLAB_PASSWORD_ST_JUDE", SCIENTIST[1])
    reply = {lake["name"]: lake for lake in (await get(jp_fetch, "lakes"))["lakes"]}
    assert reply["st-jude"]["status"] == "online"
    assert os.environ["COLLAB_PASSWORD_ST_JUDE"] not in json.dumps(reply)


async def test_a_lake_that_restarts_comes_back_without_restarting_jupyter(
    jp_fetch, jp_config_dir, tmp_path
):
    port = free_port()
    lake = launch_lake(tmp_path, "st-anne", port=port)
    try:
        collab.connect([lake], email=SCIENTIST[0], password=SCIENTIST[1], save=True)
        (anne,) = (await get(jp_fetch, "lakes"))["lakes"]
        assert (anne["status"], anne["tables"][0]["rows"]) == ("online", "at least 100")
        lake.stop()
        lake = launch_lake(tmp_path, "st-anne", port=port)  # reopened: same identity, records
        (anne,) = (await get(jp_fetch, "lakes"))["lakes"]
        assert (anne["status"], anne["error"]) == ("online", None)
        assert [t["name"] for t in anne["tables"]] == ["patients"]
        lake.stop()
        (anne,) = (await get(jp_fetch, "lakes"))["lakes"]
        assert anne["status"] == "offline"
        assert anne["error"].startswith(f"lake 'st-anne' at {lake.url} is not reachable")
    finally:
        lake.stop()


async def test_templates_start_from_the_saved_connections(jp_fetch):
    scientist = await get(jp_fetch, "templates", "scientist")
    sources = [cell["source"] for cell in scientist["cells"] if cell["cell_type"] == "code"]
    assert "fed = collab.connect()" in sources[0]
    owner = await get(jp_fetch, "templates", "owner")
    assert any('role="owner", save=True' in cell["source"] for cell in owner["cells"])
