"""Folders collab makes when the caller names none go when their owner closes, when their
process exits, or, if it was killed, when the next process makes one of their kind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import collab
from collab._scratch import scratch_folder


def _made_in_a_child(base: Path, how: str) -> Path:
    """The folder a child process made before it ended ``how`` ('exit' or 'kill')."""
    end = "os.kill(os.getpid(), signal.SIGKILL)" if how == "kill" else "sys.exit(0)"
    script = (
        "import os, signal, sys\n"
        "from collab._scratch import scratch_folder\n"
        f"print(scratch_folder('lake', 'north', base={str(base)!r}), flush=True)\n"
        f"{end}\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == (-signal.SIGKILL if how == "kill" else 0), done.stderr
    return Path(done.stdout.strip())


def test_a_process_folders_go_when_it_exits_or_after_it_was_killed(tmp_path) -> None:
    exited = _made_in_a_child(tmp_path, "exit")
    assert exited.parent == tmp_path and exited.name.startswith("collab-lake-")
    assert not exited.exists()

    killed = _made_in_a_child(tmp_path, "kill")
    assert killed.is_dir()  # nothing ran at its exit
    pid = int(killed.name.split("-")[2])
    mine = scratch_folder("lake", "south", base=str(tmp_path))  # this process still runs
    other_kind = tmp_path / f"collab-demo-{pid}-kept"
    other_kind.mkdir()
    assert mine.name.startswith(f"collab-lake-{os.getpid()}-south-")

    again = scratch_folder("lake", base=str(tmp_path))
    assert not killed.exists()  # its process is gone: the next folder of its kind removed it
    assert mine.is_dir() and again.is_dir() and other_kind.is_dir()


def test_a_lake_and_a_demo_without_a_folder_leave_nothing_when_they_stop(ports) -> None:
    busy = socket.socket()
    busy.bind(("127.0.0.1", ports()))
    busy.listen()
    try:
        with pytest.raises(collab.LakeError, match="is not free"):
            collab.Lake.launch("unserved", port=busy.getsockname()[1])
    finally:
        busy.close()
    assert not list(Path(tempfile.gettempdir()).glob(f"collab-lake-{os.getpid()}-unserved-*"))

    lake = collab.Lake.launch("solo")
    assert lake.data_dir.name.startswith(f"collab-lake-{os.getpid()}-solo-")
    collab.demo.host_recurrence([lake], patients=200)
    assert (lake.data_dir / "solo-recurrence.parquet").is_file()  # in the lake's own folder
    assert lake.tables == ["recurrence"]
    lake.stop()
    assert not lake.data_dir.exists()

    demo = collab.demo.hospitals(n=1, seed=0)
    assert demo.data_dir.name.startswith(f"collab-demo-{os.getpid()}-")
    assert (demo.data_dir / demo.lakes[0].name / "lake" / "collab.sqlite").is_file()
    demo.close()
    assert not demo.data_dir.exists()


def test_the_test_run_keeps_its_temporary_files_in_one_folder_of_its_own(tmp_path) -> None:
    run = Path(tempfile.gettempdir())
    assert run.name.startswith("collab-tests-") and run.parent != run
    assert os.environ["TMPDIR"] == str(run)
    assert tmp_path.is_relative_to(run)  # pytest's own folders too
