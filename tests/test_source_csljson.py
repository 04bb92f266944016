"""CSL-JSON parser (ingest.sources.csljson)."""

from __future__ import annotations

import io
import json

import pytest

from ingest.records import ParseError
from ingest.sources import csljson, detect
from ingest.zotero_map import item_to_record

from conftest import FIXTURES

BETTER_BIBTEX = FIXTURES / "csljson" / "better-bibtex.json"


def parse_text(text: str):
    return list(csljson.parse(io.BytesIO(text.encode("utf-8"))))


def test_zotero_conformance_case(corpus):
    case = json.loads((corpus / "zotero-translators" / "csl-json.json").read_text(encoding="utf-8"))[0]
    (record,) = parse_text(case["input"])
    expected = item_to_record(case["items"][0])
    for key in ("type", "title", "author", "issued", "ISBN", "publisher", "publisher-place",
                "collection-title", "volume", "number-of-pages", "language"):
        assert record.get(key) == expected.get(key), key
    assert record["issued"] == {"date-parts": [[2013, 1, 1]]}  # "2013" in date-parts is a number
    assert record["zotero_key"] == "BDQRTS3T"
    assert record["zotero_library"] == "users/96641"
    assert record["source_key"] == "http://zotero.org/users/96641/items/BDQRTS3T"


@pytest.fixture(scope="module")
def bbt():
    return {record["source_key"]: record for record in csljson.parse(BETTER_BIBTEX)}


@pytest.mark.parametrize(
    "key, field, value",
    [
        ("watson1953molecular", "type", "article-journal"),
        ("watson1953molecular", "DOI", "10.1038/171737a0"),
        ("watson1953molecular", "issue", "4356"),
        ("watson1953molecular", "PMID", "13054692"),
        ("watson1953molecular", "issued", {"date-parts": [[1953, 4, 25]]}),
        ("watson1953molecular", "author",
         [{"family": "Watson", "given": "J. D."}, {"family": "Crick", "given": "F. H. C."}]),
        ("watson1953molecular", "cite_key", "watson1953molecular"),
        ("watson1953molecular", "tags", [
            {"name": "DNA", "kind": "keyword"}, {"name": "double helix", "kind": "keyword"},
            {"name": "X-ray diffraction", "kind": "keyword"},
        ]),
        ("latour1983give", "type", "chapter"),
        ("latour1983give", "issued", {"date-parts": [[1983]]}),
        ("latour1983give", "editor",
         [{"family": "Knorr-Cetina", "given": "Karin"}, {"family": "Mulkay", "given": "Michael"}]),
        ("latour1983give", "page", "141–170"),
        ("vaswani2017attention", "issued", {"date-parts": [[2017]]}),
        ("vaswani2017attention", "event-title", "NIPS 2017"),
        ("shannon1940symbolic", "issued", {"date-parts": [[1940]]}),
        ("shannon1940symbolic", "genre", "Master's thesis"),
        ("desaussure1916cours", "author", [{"family": "de Saussure", "given": "Ferdinand"}]),
        ("desaussure1916cours", "issued", {"date-parts": [[1916]]}),
        ("who2020coronavirus", "author", [{"literal": "World Health Organization"}]),
        ("who2020coronavirus", "issued", {"literal": "n.d."}),
        ("who2020coronavirus", "accessed", {"date-parts": [[2020, 3, 15]]}),
        ("who2020coronavirus", "note", "Situation reports are published daily.\nSee also the dashboard."),
    ],
)
def test_better_bibtex_export(bbt, key, field, value):
    assert bbt[key][field] == value


def test_better_bibtex_keeps_order_and_drops_id(bbt):
    assert list(bbt) == [
        "watson1953molecular", "latour1983give", "vaswani2017attention", "shannon1940symbolic",
        "desaussure1916cours", "who2020coronavirus",
    ]
    assert all("id" not in record and "citation-key" not in record for record in bbt.values())


def test_single_object_and_json_lines():
    one = '{"id": "a", "type": "book", "title": "One"}'
    assert [r["title"] for r in parse_text(one)] == ["One"]
    lines = one + '\n\n{"type": "report", "title": "Two", "number": 7}\n'
    records = parse_text(lines)
    assert [(r["type"], r["title"], r["source_key"]) for r in records] == [
        ("book", "One", "a"), ("report", "Two", "#2")
    ]
    assert records[1]["number"] == "7"


def test_doi_content_negotiation_shape():
    """CSL-JSON as doi.org serves it: ISSN lists, author affiliations and ORCIDs, non-CSL objects."""
    (record,) = parse_text(json.dumps({
        "type": "article-journal",
        "title": ["Ribosome profiling"],
        "ISSN": ["0028-0836", "1476-4687"],
        "license": [{"URL": "http://creativecommons.org/licenses/by/4.0"}],
        "author": [
            {"given": "Nicholas T.", "family": "Ingolia", "sequence": "first",
             "ORCID": "http://orcid.org/0000-0002-3395-1545",
             "affiliation": [{"name": "University of California, Berkeley"}]},
            {"given": "Jonathan S.", "family": "Weissman", "affiliation": []},
        ],
        "published-print": {"date-parts": [[2009, 4, 10]]},
        "issued": {"date-parts": [[2009, 4, 10]]},
    }))
    assert record["title"] == "Ribosome profiling"
    assert record["ISSN"] == ["0028-0836", "1476-4687"]
    assert "license" not in record and "published-print" not in record
    assert record["author"][0] == {"family": "Ingolia", "given": "Nicholas T.", "orcid": "0000-0002-3395-1545"}
    assert record["affiliations"] == [{"author_position": 1, "raw": "University of California, Berkeley"}]


@pytest.mark.parametrize(
    "text, message, location",
    [
        ('[\n  {"type": "book",\n   "title": "x",,}\n]', "not valid JSON", "line 3, column"),
        ('[{"type": "book"}, "just a string"]', "expected a CSL-JSON object, got a string", "record 2"),
        ('[{"type": "book"}, {"title": "y"}, [1]]', "got an array", "record 3"),
        ('{"type": "book", "author": "Smith, J."}', "'author' must be a list of names", "record 1"),
        ('{"type": "book", "editor": [42]}', "'editor' holds a number", "record 1"),
        ('"a string"', "expected a JSON array or object", None),
        ("  \n", "empty file", None),
        ('{"type": "book"}\n{"type": "book",\n', "JSON Lines", "line 2, column"),
        ('[{"type": "book"}] trailing', "Extra data", "line 1, column 20"),
    ],
)
def test_bad_input(text, message, location):
    with pytest.raises(ParseError) as caught:
        parse_text(text)
    error = caught.value
    assert message in error.message
    if location:
        assert location in (error.location or "")
    assert "<stream>" in str(error)


def test_error_names_the_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('[{"type": "book"}, 3]', encoding="utf-8")
    with pytest.raises(ParseError, match=r"broken\.json, record 2: expected a CSL-JSON object"):
        list(csljson.parse(path))


@pytest.mark.parametrize(
    "head, expected",
    [
        ('[\n\t{\n\t\t"id": "http://zotero.org/users/96641/items/BDQRTS3T",', True),
        ('  {"type": "book", "title": "x"}', True),
        ('{"title": "x"}\n{"title": "y"}', True),
        ('[1, 2, 3]', False),
        ('{"name": "package", "version": "1.0"}', False),
        ('TY  - JOUR\nTI  - "title": x', False),
        ('@article{key, title = {"type": x}}', False),
    ],
)
def test_sniff(head, expected):
    assert csljson.sniff(head) is expected


def test_detected_from_content(tmp_path):
    path = tmp_path / "library.txt"
    path.write_bytes(BETTER_BIBTEX.read_bytes())
    assert detect(path) == "csl-json"


def json_lines_file(path, count: int, title_size: int = 10):
    with open(path, "w", encoding="utf-8") as fp:
        for number in range(1, count + 1):
            fp.write(json.dumps({"id": f"w{number}", "type": "book", "title": f"{number} " + "x" * title_size}) + "\n")
    return path


def test_json_lines_file_is_read_a_line_at_a_time(tmp_path):
    """A JSON Lines export of any size costs the memory of a line, not of the file or of its items."""
    import tracemalloc

    path = json_lines_file(tmp_path / "big.jsonl", 20_000, title_size=1_000)  # ~20 MB
    tracemalloc.start()
    try:
        count = sum(1 for _ in csljson.parse(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 20_000
    assert peak < 2_000_000, peak


@pytest.mark.parametrize(
    "line, message",
    [
        (b'{"type": "book",', "not valid JSON (JSON Lines)"),
        (b'{"type": "book", "title": "caf\xe9"}', "not UTF-8 text: byte 0xe9"),
        (b'{"type": "book", "title": "a\x00b"}', "NUL bytes"),
    ],
)
def test_json_lines_file_error_names_its_line(tmp_path, line, message):
    path = json_lines_file(tmp_path / "bad.jsonl", 3)
    with open(path, "ab") as fp:
        fp.write(line + b"\n" + b'{"type": "book", "title": "after"}\n')
    with pytest.raises(ParseError) as caught:
        list(csljson.parse(path))
    assert message in caught.value.message
    assert caught.value.location.startswith("line 4")
    assert "bad.jsonl" in str(caught.value)


def test_json_lines_file_gzip_and_bom(tmp_path):
    import gzip

    plain = json_lines_file(tmp_path / "plain.jsonl", 5)
    data = plain.read_bytes()
    (tmp_path / "bom.jsonl").write_bytes(b"\xef\xbb\xbf" + data)
    (tmp_path / "packed.jsonl.gz").write_bytes(gzip.compress(data))
    expected = [record["source_key"] for record in csljson.parse(plain)]
    assert expected == ["w1", "w2", "w3", "w4", "w5"]
    for name in ("bom.jsonl", "packed.jsonl.gz"):
        assert [record["source_key"] for record in csljson.parse(tmp_path / name)] == expected


def test_a_document_over_several_lines_is_still_one_document(tmp_path):
    path = tmp_path / "pretty.json"
    path.write_text(json.dumps([{"type": "book", "title": "A"}, {"type": "book", "title": "B"}], indent=2))
    assert [record["title"] for record in csljson.parse(path)] == ["A", "B"]
    path.write_text(json.dumps({"type": "book", "title": "Solo"}, indent=2))
    assert [record["title"] for record in csljson.parse(path)] == ["Solo"]
