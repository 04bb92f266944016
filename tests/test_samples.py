"""Every real export under ../shared/corpus/samples loads with no error; the broken ones get a clear one."""

import pytest
import sqlite_utils
from click.testing import CliRunner

from ingest.cli import cli

SAMPLES = [
    # (path under samples/, format, records, works)
    ("exports/ris/rispy-example_empty_tag.ris", "ris", 1, 1),
    ("exports/ris/rispy-example_extraneous_data.ris", "ris", 2, 2),
    ("exports/ris/rispy-example_starting_newlines.ris", "ris", 1, 1),
    ("exports/ris/searchbuildR-testset_ris.txt", "ris", 32, 32),
    ("exports/medline/nbib-pmc_medlars.txt", "medline", 5, 5),
    ("exports/medline/searchbuildR-testset_pubmed.txt", "medline", 10, 10),
    ("exports/medline/searchbuildR-testset_pubmed_hyphen_decision.txt", "medline", 20, 20),
    ("pubmed-xml/pubmed-29768149.xml", "pubmed-xml", 1, 1),
    ("exports/bad/rispy-example_utf_chars.ris", "ris", 1, 1),
    ("zotero-sqlite/engineering-library.zotero.sqlite", "zotero-sqlite", 38, 38),
    ("zotero-sqlite/older-schema-library.zotero.sqlite", "zotero-sqlite", 62, 57),
    ("zotero-sqlite/trash-library.zotero.sqlite", "zotero-sqlite", 1, 1),
    ("zotero-sqlite/empty-library.zotero.sqlite", "zotero-sqlite", 0, 0),
]


@pytest.mark.corpus
@pytest.mark.parametrize("path, fmt, records, works", SAMPLES, ids=[s[0].rsplit("/", 1)[1] for s in SAMPLES])
def test_sample_loads(tmp_path, corpus, path, fmt, records, works):
    db_path = str(tmp_path / "sample.db")
    result = CliRunner().invoke(cli, ["ingest", db_path, str(corpus / "samples" / path)])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert f"[{fmt}]: {records} records" in result.output
    db = sqlite_utils.Database(db_path)
    assert db["works"].count == works
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []


@pytest.mark.corpus
def test_all_samples_together_and_again(tmp_path, corpus):
    db_path = str(tmp_path / "all.db")
    files = [str(corpus / "samples" / s[0]) for s in SAMPLES]
    first = CliRunner().invoke(cli, ["ingest", db_path, *files])
    assert first.exit_code == 0, first.output
    db = sqlite_utils.Database(db_path)
    counts = {t: db[t].count for t in ("works", "authors", "journals", "work_sources")}
    assert counts["works"] <= sum(s[3] for s in SAMPLES)
    assert counts["work_sources"] == sum(s[2] for s in SAMPLES)  # one provenance row per record, duplicates too
    again = CliRunner().invoke(cli, ["ingest", db_path, *files, "--force"])
    assert again.exit_code == 0, again.output
    assert {t: db[t].count for t in counts} == counts


@pytest.mark.corpus
def test_web_of_science_file_gets_a_clear_error(tmp_path, corpus):
    bad = corpus / "samples/exports/bad/rispy-example_wos.ris"
    good = corpus / "samples/pubmed-xml/pubmed-29768149.xml"
    result = CliRunner().invoke(cli, ["ingest", str(tmp_path / "x.db"), str(bad), str(good)])
    assert result.exit_code == 1
    assert f"{bad}, line 1: Web of Science tagged format" in result.output
    assert "Traceback" not in result.output
    assert sqlite_utils.Database(tmp_path / "x.db")["works"].count == 1
