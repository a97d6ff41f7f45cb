"""What the command line shows: collab's own lines on the terminal, library logs in a file."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_library_output_goes_to_the_file_and_collabs_lines_to_the_terminal(tmp_path):
    log = tmp_path / "logs" / "demo.log"
    script = textwrap.dedent(
        f"""
        import logging, os, sys
        from pathlib import Path
        import collab

        collab.quiet_library_logs(Path({str(log)!r}))
        os.write(2, b"WARN Utils: what a JVM prints\\n")
        logging.getLogger("syft.server.server").critical("Hash of the signing key")
        print("training: 5/30 rounds", file=sys.stderr)
        print("Test accuracy: 0.96")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Test accuracy: 0.96\n"
    assert done.stderr == "training: 5/30 rounds\n"
    written = log.read_text()
    assert "WARN Utils: what a JVM prints" in written
    assert "CRITICAL syft.server.server: Hash of the signing key" in written
    assert "training" not in written and "accuracy" not in written


def test_progress_off_a_terminal_is_a_line_at_the_start_every_sixth_and_at_the_end(capsys):
    from collab.scientist._job import _RoundLines, _RoundsShown

    shown = _RoundsShown.for_output(13)  # captured output is not a terminal
    assert isinstance(shown, _RoundLines)
    for done in [0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 13]:
        shown.show(done, {"north": "running", "south": "running"})
    shown.close()
    rounds = [line.split()[1] for line in capsys.readouterr().err.splitlines()]
    assert rounds == ["0/13", "2/13", "4/13", "6/13", "8/13", "10/13", "12/13", "13/13"]
