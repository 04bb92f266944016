"""Crash safety: an ingest killed with SIGKILL midway leaves a library that is whole.

``python -m ingest ingest DB file1 … fileN`` runs in a child process on files that take a few seconds
in all; once it has reported some files done it is killed with SIGKILL, in the middle of a later file.
The database must then open, pass ``PRAGMA integrity_check``, hold every file reported done (whole:
its source row, every one of its works and their links) and nothing of the file that was being written
(one transaction per file); and the same command run again must complete with the full counts.
This guards the loader's transactions: a loader that commits a file in batches, or a whole run at once,
or reports a file before it is committed, fails here. (A process kill cannot test ``synchronous``,
which matters for power loss; a kill during a commit with the rollback journal turned off would be
caught, but such a kill is too rare to aim at.)
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FILES = 12
RECORDS = 1500
DONE_LINE = re.compile(r"^(?P<path>.+) \[csl-json\]: (?P<records>\d+) records")
KILL_AFTER = 2  # files reported done


def write_files(directory: Path) -> list:
    """FILES CSL-JSON files of RECORDS distinct works each (a DOI apiece), sharing a pool of authors
    and journals so that later files also update rows that earlier ones wrote."""
    paths = []
    for number in range(1, FILES + 1):
        items = []
        for index in range(RECORDS):
            serial = number * 100_000 + index
            items.append({
                "id": f"w{serial}",
                "type": "article-journal",
                "title": f"Study {serial} of crash safety in reference libraries",
                "DOI": f"10.5555/crash.{serial}",
                "container-title": f"Journal of Durable Storage {serial % 40}",
                "issued": {"date-parts": [[1990 + serial % 30]]},
                "author": [{"family": f"Author{(serial * 7 + k) % 900}", "given": "Ann"} for k in range(4)],
                "keyword": f"durability; topic {serial % 25}",
                "abstract": "A work written to be interrupted. " * 8,
            })
        path = directory / f"part-{number:02d}.json"
        path.write_text(json.dumps(items), encoding="utf-8")
        paths.append(path)
    return paths


def command(db: Path, files: list) -> list:
    return [sys.executable, "-m", "ingest", "ingest", str(db), *map(str, files)]


def kill_after_reports(db: Path, files: list, reports: int) -> list:
    """Start the ingest, SIGKILL it once ``reports`` files are reported done; the paths reported."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    process = subprocess.Popen(command(db, files), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True, env=env)
    reported = []
    deadline = time.monotonic() + 120
    try:
        for line in process.stdout:
            match = DONE_LINE.match(line)
            if match:
                reported.append(match.group("path"))
                if len(reported) >= reports:
                    os.kill(process.pid, signal.SIGKILL)
                    break
            assert time.monotonic() < deadline, "the ingest took too long to report a file"
        # Lines already written to the pipe before the kill landed were reported too.
        reported.extend(m.group("path") for m in map(DONE_LINE.match, process.stdout) if m)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "the ingest ended before it could be killed midway"
    return reported


def library_state(db: Path) -> dict:
    connection = sqlite3.connect(db)
    try:
        return {
            "integrity": connection.execute("PRAGMA integrity_check").fetchall(),
            "foreign_keys": connection.execute("PRAGMA foreign_key_check").fetchall(),
            "sources": dict(connection.execute("SELECT path, records FROM sources")),
            "works_per_source": dict(connection.execute(
                "SELECT sources.path, COUNT(DISTINCT work_sources.work_id) FROM sources "
                "LEFT JOIN work_sources ON work_sources.source_id = sources.id GROUP BY sources.path")),
            "works": connection.execute("SELECT COUNT(*) FROM works").fetchone()[0],
            "orphan_works": connection.execute(
                "SELECT COUNT(*) FROM works WHERE id NOT IN (SELECT work_id FROM work_sources)").fetchone()[0],
            "authorless_works": connection.execute(
                "SELECT COUNT(*) FROM works WHERE id NOT IN (SELECT work_id FROM work_authors)").fetchone()[0],
        }
    finally:
        connection.close()


@pytest.mark.slow
def test_a_killed_ingest_leaves_whole_files_and_a_rerun_completes(tmp_path):
    files = write_files(tmp_path)
    db = tmp_path / "library.db"
    reported = kill_after_reports(db, files, KILL_AFTER)
    assert len(reported) >= KILL_AFTER

    state = library_state(db)
    assert state["integrity"] == [("ok",)]
    assert state["foreign_keys"] == []
    loaded = set(state["sources"])
    # Every file reported done is there; at most one more: committed, killed before it was reported.
    assert set(reported) <= loaded, (reported, loaded)
    extra = loaded - set(reported)
    assert extra <= {str(files[len(reported)])}, extra
    assert len(loaded) < FILES, "the kill came after the last file: nothing was interrupted"
    # Each file in the library is whole, and nothing else is there.
    assert state["sources"] == {path: RECORDS for path in loaded}
    assert state["works_per_source"] == {path: RECORDS for path in loaded}
    assert state["works"] == RECORDS * len(loaded)
    assert state["orphan_works"] == 0 and state["authorless_works"] == 0

    rerun = subprocess.run(command(db, files), cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    skipped = [line for line in rerun.stdout.splitlines() if "unchanged since last load, skipped" in line]
    assert len(skipped) == len(loaded)
    assert f"{RECORDS * FILES} works" in rerun.stdout

    final = library_state(db)
    assert final["integrity"] == [("ok",)] and final["foreign_keys"] == []
    assert final["sources"] == {str(path): RECORDS for path in files}
    assert final["works"] == RECORDS * FILES
    assert final["orphan_works"] == 0 and final["authorless_works"] == 0
