"""The refsette command through click's CliRunner."""

import os

import pytest
import sqlite_utils
from click.testing import CliRunner

from ingest.cli import cli, datasette_args, sql_threads

from conftest import SEEDS

SEED = str(SEEDS / "trastuzumab.txt")


def test_ingest_reports_what_it_did(tmp_path):
    db_path = str(tmp_path / "library.db")
    result = CliRunner().invoke(cli, ["ingest", db_path, SEED])
    assert result.exit_code == 0, result.output
    assert "[bibpage]: 62 records — 62 added, 0 updated, 0 unchanged" in result.output
    assert "62 works, 301 authors, 46 journals, 3 collections" in result.output
    again = CliRunner().invoke(cli, ["ingest", db_path, SEED])
    assert "unchanged since last load, skipped" in again.output
    forced = CliRunner().invoke(cli, ["ingest", db_path, SEED, "--force"])
    assert "0 added, 0 updated, 62 unchanged" in forced.output


def test_ingest_a_directory_and_forced_format(tmp_path):
    db_path = str(tmp_path / "library.db")
    result = CliRunner().invoke(cli, ["ingest", db_path, str(SEEDS / "trastuzumab.txt"), "--format", "bibpage"])
    assert result.exit_code == 0, result.output
    assert sqlite_utils.Database(db_path)["works"].count == 62


def test_bad_file_is_named_other_files_still_load_exit_code_says_so(tmp_path):
    bad = tmp_path / "empty.ris"
    bad.write_bytes(b"")
    junk = tmp_path / "junk.txt"
    junk.write_bytes(b"\xff\xfe\x00\x00garbage \x89PNG")
    db_path = str(tmp_path / "library.db")
    result = CliRunner().invoke(cli, ["ingest", db_path, str(bad), SEED, str(junk)])
    assert result.exit_code == 1
    assert f"{bad}: empty file" in result.output
    assert str(junk) in result.output
    assert "could not be loaded" in result.output
    assert sqlite_utils.Database(db_path)["works"].count == 62


def test_missing_file_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(cli, ["ingest", str(tmp_path / "x.db"), str(tmp_path / "nope.bib")])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_serve_runs_datasette_read_only_with_project_configuration(tmp_path):
    args = datasette_args(tmp_path / "library.db", host="127.0.0.1", port=0)
    assert args[1:5] == ["-m", "datasette", "serve", "-i"]
    assert "--metadata" in args and args[args.index("--metadata") + 1].endswith("metadata.yml")
    assert "--plugins-dir" in args and "--template-dir" in args
    assert args[args.index("--host") + 1] == "127.0.0.1"


@pytest.mark.parametrize("cores, threads", [(1, 1), (2, 1), (3, 2), (4, 3), (64, 3)])
def test_sql_threads_leave_a_core_to_python_and_never_exceed_datasettes_default(cores, threads):
    assert sql_threads(cores) == threads


def test_serve_passes_the_sql_threads_of_this_machine(tmp_path):
    args = datasette_args(tmp_path / "library.db")
    settings = {args[i + 1]: args[i + 2] for i, arg in enumerate(args) if arg == "--setting"}
    assert settings == {"suggest_facets": "off", "num_sql_threads": str(sql_threads(os.cpu_count() or 1)),
                        "sql_time_limit_ms": "3000"}


def test_help_lists_verbs():
    result = CliRunner().invoke(cli, ["--help"])
    assert "ingest" in result.output and "serve" in result.output
