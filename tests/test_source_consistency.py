"""What every parser shares: one ``parse`` signature, one ``RecordStream``, one ISSN representation,
affiliations whose author may be unknown (ingest/records.py)."""

from __future__ import annotations

import importlib
import inspect
import io
import json

import pytest

from conftest import FIXTURES
from ingest.normalize import normalize_issn
from ingest.records import ParseError, RecordStream
from ingest.sources import FORMATS
from ingest.zotero_map import item_to_record

# Every text format, with a file holding good records and exactly one bad one.
ONE_BAD_RECORD = {
    "bibpage": ("bibpage/one_bad_reference.txt", 2),
    "bibtex": ("bibtex/unbalanced.bib", 2),
    "csl-json": ("csljson/one_bad_item.json", 2),
    "medline": ("medline/bad-line.nbib", 2),
    "pubmed-xml": ("pubmed_xml/no-pmid.xml", 1),
    "ris": ("ris/bad_missing_er.ris", 2),
}

# Zotero's import test cases of each format we parse (../shared/corpus/zotero-translators).
TRANSLATOR_CASES = {
    "ris": "ris.json", "bibtex": "bibtex.json", "medline": "medline-nbib.json",
    "pubmed-xml": "pubmed-xml.json", "csl-json": "csl-json.json",
}


def module(fmt: str):
    return importlib.import_module(FORMATS[fmt])


@pytest.mark.parametrize("fmt", sorted(ONE_BAD_RECORD))
def test_parse_has_one_signature(fmt):
    parameters = inspect.signature(module(fmt).parse).parameters
    assert [(p.name, p.default) for p in parameters.values()] == [
        ("source", inspect.Parameter.empty), ("skip_bad", False), ("errors", None),
    ]


@pytest.mark.parametrize("fmt", sorted(ONE_BAD_RECORD))
def test_bad_record_raises_by_default(fmt):
    fixture, _ = ONE_BAD_RECORD[fmt]
    with pytest.raises(ParseError) as caught:
        list(module(fmt).parse(FIXTURES / fixture))
    assert fixture.split("/")[1] in str(caught.value)


@pytest.mark.parametrize("fmt", sorted(ONE_BAD_RECORD))
def test_skip_bad_returns_a_record_stream_with_its_errors(fmt):
    fixture, good = ONE_BAD_RECORD[fmt]
    stream = module(fmt).parse(FIXTURES / fixture, skip_bad=True)
    assert isinstance(stream, RecordStream)
    records = list(stream)
    assert len(records) == good and all(isinstance(r, dict) and r.get("title") for r in records)
    assert len(stream.errors) == 1 and isinstance(stream.errors[0], ParseError)
    assert list(stream) == []  # read once


@pytest.mark.parametrize("fmt", sorted(ONE_BAD_RECORD))
def test_errors_go_into_the_list_passed_in(fmt):
    fixture, good = ONE_BAD_RECORD[fmt]
    mine: list = []
    stream = module(fmt).parse(FIXTURES / fixture, skip_bad=True, errors=mine)
    assert len(list(stream)) == good
    assert stream.errors is mine and len(mine) == 1


def test_record_stream_collects_errors_yielded_in_place_of_records():
    bad = ParseError("broken", "file.ris", "record 2")
    given: list = []
    stream = RecordStream(iter([{"title": "a"}, bad, {"title": "b"}]), given)
    assert [r["title"] for r in stream] == ["a", "b"]
    assert stream.errors is given and given == [bad]


# --- ISSN: a list of normalised strings, whatever the format ---------------------------------------


@pytest.mark.parametrize(
    "fmt, text",
    [
        ("ris", "TY  - JOUR\nTI  - T\nSN  - 0028-0836\nSN  - 1476-4687\nER  - \n"),
        ("ris", "TY  - JOUR\nTI  - T\nSN  - 0028-0836; 1476-4687\nER  - \n"),
        ("bibtex", "@article{k, title = {T}, issn = {0028-0836, 1476-4687}}"),
        ("bibtex", "@article{k, title = {T}, issn = {00280836 and 14764687}}"),
        ("csl-json", '{"type": "article-journal", "title": "T", "ISSN": "0028-0836, 1476-4687"}'),
        ("csl-json", '{"type": "article-journal", "title": "T", "ISSN": ["0028-0836", "1476-4687"]}'),
        ("medline", "PMID- 1\nTI  - T\nIS  - 0028-0836 (Print)\nIS  - 1476-4687 (Electronic)\n"),
        ("pubmed-xml",
         '<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID><Article><Journal>'
         '<ISSN IssnType="Print">0028-0836</ISSN><Title>Nature</Title></Journal><ArticleTitle>T</ArticleTitle>'
         '</Article><MedlineJournalInfo><ISSNLinking>1476-4687</ISSNLinking></MedlineJournalInfo>'
         '</MedlineCitation></PubmedArticle></PubmedArticleSet>'),
    ],
)
def test_issns_are_a_list(fmt, text):
    (record,) = module(fmt).parse(io.BytesIO(text.encode("utf-8")))
    assert record["ISSN"] == ["0028-0836", "1476-4687"]


@pytest.mark.parametrize(
    "zotero_issn, expected",
    [("0028-0836, 1476-4687", ["0028-0836", "1476-4687"]), ("0028083x", ["0028-083X"]), ("n/a", None)],
)
def test_zotero_items_give_issn_lists(zotero_issn, expected):
    assert item_to_record({"itemType": "journalArticle", "ISSN": zotero_issn}).get("ISSN") == expected


def test_a_value_that_is_no_issn_is_left_out():
    (record,) = module("bibtex").parse(io.BytesIO(b"@article{k, title = {T}, issn = {pending}}"))
    assert "ISSN" not in record


def assert_canonical_issns_and_affiliations(record, where):
    if "ISSN" in record:
        issns = record["ISSN"]
        assert isinstance(issns, list) and issns, where
        assert all(normalize_issn(i) == i for i in issns) and len(set(issns)) == len(issns), where
    authors = len(record.get("author") or [])
    for affiliation in record.get("affiliations") or []:
        position = affiliation["author_position"]
        assert position is None or 1 <= position <= authors, where


# Real files of each format beside Zotero's cases: corpus exports and the project's own fixtures.
REAL_FILES = {
    "ris": ["samples/exports/ris"],
    "medline": ["samples/exports/medline"],
    "pubmed-xml": ["samples/pubmed-xml"],
    "csl-json": [FIXTURES / "csljson" / "better-bibtex.json"],
    "bibtex": [FIXTURES / "crosssource" / "nejm-2018.bib", FIXTURES / "bibtex" / "classic.bib"],
}


def real_inputs(corpus, fmt):
    """(label, bytes) of every real input of a format."""
    cases = json.loads((corpus / "zotero-translators" / TRANSLATOR_CASES[fmt]).read_text(encoding="utf-8"))
    for number, case in enumerate(cases):
        yield f"{fmt} case {number}", case["input"].encode("utf-8")
    for place in REAL_FILES[fmt]:
        place = corpus / place if isinstance(place, str) else place
        for path in sorted(place.iterdir()) if place.is_dir() else [place]:
            yield path.name, path.read_bytes()


@pytest.mark.corpus
@pytest.mark.parametrize("fmt", sorted(TRANSLATOR_CASES))
def test_real_records_follow_the_record_contract(corpus, fmt):
    seen_issns = 0
    for label, data in real_inputs(corpus, fmt):
        for record in module(fmt).parse(io.BytesIO(data), skip_bad=True):
            assert_canonical_issns_and_affiliations(record, label)
            seen_issns += "ISSN" in record
    assert seen_issns, f"no {fmt} input carries an ISSN: the check above proved nothing"


@pytest.mark.corpus
@pytest.mark.parametrize("case_file", sorted(TRANSLATOR_CASES.values()))
def test_zotero_items_follow_the_record_contract(corpus, case_file):
    cases = json.loads((corpus / "zotero-translators" / case_file).read_text(encoding="utf-8"))
    for number, case in enumerate(cases):
        for item in case["items"]:
            assert_canonical_issns_and_affiliations(item_to_record(item), f"{case_file} case {number}")


@pytest.mark.corpus
def test_ris_affiliations_of_several_authors_have_no_position(corpus):
    path = corpus / "samples" / "exports" / "ris" / "searchbuildR-testset_ris.txt"
    records = list(module("ris").parse(path))
    several = [r for r in records if len(r.get("author") or []) > 1 and r.get("affiliations")]
    assert several
    assert all(a["author_position"] is None for r in several for a in r["affiliations"])
