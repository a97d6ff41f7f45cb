"""collab.quiet_library_logs: PySyft's and Spark's own output goes to a file, collab's shows."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap


def _run(script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_a_lake_starts_without_a_line_on_the_terminal_and_its_notices_go_to_the_file(tmp_path):
    log = tmp_path / "library.log"
    done = _run(
        f"""
        import sys
        import collab

        path = collab.quiet_library_logs({str(log)!r})
        assert collab.quiet_library_logs({str(log)!r}) == path  # a second call changes nothing
        with collab.demo.hospitals(n=1, seed=0) as demo:
            print("started", demo.lakes[0].name)
            print("collab's own line", file=sys.stderr)
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "started st-mary\n"
    assert done.stderr == "collab's own line\n"
    written = log.read_text()
    assert "syft.server.server: Hash of the signing key" in written  # PySyft's notice
    assert 'Setting default log level to "WARN"' in written  # the Spark JVM's
    assert "collab's own line" not in written


def test_in_a_kernel_the_descriptors_go_to_the_file_and_pythons_streams_stay(tmp_path):
    """A Jupyter kernel's sys.stdout/sys.stderr send text to the notebook, not to descriptors
    1 and 2, which a JVM started later inherits: those go to the file."""
    first, second = tmp_path / "first.log", tmp_path / "second.log"
    shown = tmp_path / "shown.json"
    done = _run(
        f"""
        import io, json, os, sys, warnings
        from pathlib import Path

        class Notebook(io.StringIO):  # like ipykernel's OutStream: no descriptor of its own
            def fileno(self):
                raise io.UnsupportedOperation("fileno")

        cell_out, cell_err = Notebook(), Notebook()
        sys.stdout, sys.stderr = cell_out, cell_err
        import collab

        assert collab.quiet_library_logs({str(first)!r}) == Path({str(first)!r})
        os.write(1, b"JVM on stdout\\n")
        os.write(2, b"WARN NativeCodeLoader: a JVM notice\\n")
        warnings.warn_explicit("a library's warning", UserWarning,
                               "/env/lib/python3.11/site-packages/syft/x.py", 1)
        warnings.warn("the user's own warning")
        print("round 3/3")
        print("collab's progress", file=sys.stderr)
        assert collab.quiet_library_logs({str(second)!r}) == Path({str(second)!r})
        os.write(2, b"WARN after the move\\n")
        Path({str(shown)!r}).write_text(json.dumps([cell_out.getvalue(), cell_err.getvalue()]))
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == done.stderr == ""
    out, err = json.loads(shown.read_text())  # what the notebook would show
    assert out == "round 3/3\n"
    assert "collab's progress" in err and "the user's own warning" in err
    assert "JVM" not in err and "a library's warning" not in err
    written = first.read_text()
    assert "JVM on stdout" in written and "WARN NativeCodeLoader: a JVM notice" in written
    assert "UserWarning: a library's warning" in written
    assert "round 3/3" not in written and "the user's own warning" not in written
    assert second.read_text() == "WARN after the move\n"
