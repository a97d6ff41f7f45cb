"""Saved connections: collab.connect(save=True) writes them, collab.connect() uses them."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from lake_processes import ADMIN_PASSWORD, SCIENTIST
from served_lakes import save_lab_connections

import collab
from collab import _connections

pytestmark = [pytest.mark.http, pytest.mark.slow]


def saved(config_dir: Path) -> tuple[dict, dict, int]:
    folder = config_dir / "collab"
    credentials = folder / "credentials.json"
    return (
        json.loads((folder / "connections.json").read_text()),
        json.loads(credentials.read_text()),
        stat.S_IMODE(credentials.stat().st_mode),
    )


def test_saving_keeps_passwords_apart_and_connect_uses_the_saved_lakes(config_dir, lakes):
    save_lab_connections(lakes)
    connections, credentials, mode = saved(config_dir)
    assert connections == {
        "lakes": [
            {
                "name": "st-mary",
                "url": lakes["st-mary"].url,
                "role": "owner",
                "email": "info@openmined.org",
            },
            {
                "name": "st-jude",
                "url": lakes["st-jude"].url,
                "role": "scientist",
                "email": SCIENTIST[0],
            },
        ]
    }
    text = (config_dir / "collab" / "connections.json").read_text()
    assert ADMIN_PASSWORD not in text and SCIENTIST[1] not in text
    assert credentials == {"st-mary": ADMIN_PASSWORD, "st-jude": SCIENTIST[1]}
    assert mode == 0o600

    fed = collab.connect()  # the saved scientist lakes
    assert fed.lakes == ["st-jude"]
    assert fed.tables == {"st-jude": ["biopsies", "patients"]}
    owner = collab.connect(role="owner")
    assert owner.lakes == ["st-mary"]

    # saving again merges: another scientist lake is added, a lake saved twice is replaced
    collab.connect([lakes["st-mary"].url], email=SCIENTIST[0], password=SCIENTIST[1], save=True)
    connections, credentials, mode = saved(config_dir)
    assert [(c["name"], c["role"]) for c in connections["lakes"]] == [
        ("st-mary", "scientist"),
        ("st-jude", "scientist"),
    ]
    assert credentials == {"st-mary": SCIENTIST[1], "st-jude": SCIENTIST[1]}
    assert mode == 0o600
    assert sorted(collab.connect().lakes) == ["st-jude", "st-mary"]


def test_the_environment_overrides_the_credentials_file(config_dir, lakes, monkeypatch):
    save_lab_connections(lakes)
    (config_dir / "collab" / "credentials.json").unlink()
    with pytest.raises(
        collab.CollabError, match="no password for lake 'st-jude': set COLLAB_PASSWORD_ST_JUDE"
    ):
        collab.connect()
    monkeypatch.setenv("COLLAB_PASSWORD_ST_JUDE", SCIENTIST[1])
    assert collab.connect().lakes == ["st-jude"]


def test_an_in_process_lake_cannot_be_saved(config_dir, clinics):
    with pytest.raises(collab.CollabError, match="runs inside this Python process") as caught:
        collab.connect(list(clinics), email=SCIENTIST[0], password=SCIENTIST[1], save=True)
    assert "Serve it over HTTP" in str(caught.value)
    assert not (config_dir / "collab").exists()


def test_an_owner_connection_is_the_admin_account(config_dir, lakes):
    with pytest.raises(collab.CollabError, match="logs in as the lake's admin account"):
        collab.connect(
            [lakes["st-mary"]], email=SCIENTIST[0], password=SCIENTIST[1], role="owner", save=True
        )
    with pytest.raises(collab.CollabError, match="role must be 'scientist' or 'owner'"):
        collab.connect([lakes["st-mary"]], email=SCIENTIST[0], password="x", role="admin")


def test_nothing_saved_or_a_bad_file_is_named(config_dir):
    folder = config_dir / "collab"
    with pytest.raises(collab.CollabError, match="no saved scientist connections in") as caught:
        collab.connect()
    assert str(folder / "connections.json") in str(caught.value)

    folder.mkdir()
    (folder / "connections.json").write_text("{not json")
    with pytest.raises(collab.CollabError) as caught:
        collab.connect()
    assert str(caught.value).startswith(f"{folder / 'connections.json'} is not valid JSON")

    (folder / "connections.json").write_text(
        json.dumps({"lakes": [{"name": "st-mary", "url": "ftp://x", "role": "scientist"}]})
    )
    with pytest.raises(collab.CollabError, match=r"lake #1 lacks email \(text\)"):
        collab.connect()

    entry = {"name": "st-mary", "url": "http://127.0.0.1:9", "role": "scientist", "email": "a@b"}
    (folder / "connections.json").write_text(json.dumps({"lakes": [entry]}))
    credentials = folder / "credentials.json"
    credentials.write_text(json.dumps({"st-mary": "secret-password"}))
    credentials.chmod(0o644)
    with pytest.raises(
        collab.CollabError, match=r"others may read it \(mode 0644\); run: chmod 600"
    ):
        collab.connect()


def test_connect_without_lakes_takes_no_account(config_dir):
    with pytest.raises(collab.CollabError, match="logs in to the saved lakes"):
        collab.connect(email=SCIENTIST[0], password=SCIENTIST[1])
    assert _connections.password_variable("st-mary.north_1") == "COLLAB_PASSWORD_ST_MARY_NORTH_1"
