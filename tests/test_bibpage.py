"""The bibliography-page parser: every one of the seed page's 62 references, and tricky variants."""

import csv
import io

import pytest

from ingest.normalize import split_pages
from ingest.records import ParseError
from ingest.sources import bibpage, detect

from conftest import FIXTURES, SEEDS

SEED = SEEDS / "trastuzumab.txt"


def expected_rows():
    with open(FIXTURES / "trastuzumab_expected.tsv", encoding="utf-8") as fp:
        return list(csv.DictReader(fp, delimiter="\t"))


@pytest.fixture(scope="module")
def seed_records():
    return {record["source_key"]: record for record in bibpage.parse(SEED)}


def test_seed_is_detected_from_content():
    assert detect(SEED) == "bibpage"


def test_seed_has_62_references_in_two_sections(seed_records):
    keys = list(seed_records)
    assert len(keys) == 62
    assert sum(k.startswith("top-publications/") for k in keys) == 9
    assert sum(k.startswith("more-information/") for k in keys) == 53
    assert sum(len(r.get("author", [])) for r in seed_records.values()) == 303
    assert len({r["container-title-short"] for r in seed_records.values()}) == 46
    assert sum(1 for r in seed_records.values() if r["context"]) == 45


@pytest.mark.parametrize("row", expected_rows(), ids=lambda row: row["key"])
def test_every_reference_field_by_field(seed_records, row):
    record = seed_records[row["key"]]
    names = [a.get("literal") or f"{a['family']} {a['initials']}" for a in record.get("author", [])]
    assert ";".join(names) == row["authors"]
    assert bool(record.get("_authors_truncated")) == (row["et_al"] == "1")
    assert record["title"] == row["title"]
    assert record["container-title-short"] == row["journal"]
    assert record["issued"]["date-parts"][0][0] == int(row["year"])
    assert record.get("volume", "") == row["volume"]
    assert record.get("issue", "") == row["issue"]
    assert (split_pages(record.get("page"))[0] or "") == row["pages"]
    assert record.get("note", "") == row["note"]
    context = record["context"] or ""
    assert context.startswith(row["excerpt_start"])
    assert context.endswith(row["excerpt_end"])
    assert not context.startswith(("..", "b>", "<"))


def test_names_with_particles_and_accents(seed_records):
    first = seed_records["top-publications/5"]["author"][0]
    assert first == {"family": "von Minckwitz", "given": "G.", "initials": "G"}
    assert seed_records["more-information/46"]["author"][2]["family"] == "Díaz Rodríguez"
    assert seed_records["more-information/25"]["author"][3]["family"] == "Øijordsbakken"


def test_same_line_excerpt_after_markers(seed_records):
    assert seed_records["more-information/40"]["context"].startswith("HER2+ breast cancer patients in the adjuvant")


def test_page_collection_carries_summary_and_mesh_terms(seed_records):
    page, section = seed_records["top-publications/1"]["collections"]
    assert page["key"] == "bibpage:trastuzumab" and page["member"] is False
    assert page["description"].startswith("A humanized monoclonal antibody against the ERBB-2 RECEPTOR")
    assert [t["name"] for t in page["tags"]] == ["ERBB-2 RECEPTOR", "ANTINEOPLASTIC AGENT", "BREAST CANCER"]
    assert section["name"] == "Top Publications" and section["parent_key"] == "bibpage:trastuzumab"
    assert section["position"] == 1 and section["member"] is True


@pytest.fixture(scope="module")
def tricky():
    return list(bibpage.parse(FIXTURES / "bibpage" / "tricky.txt"))


def test_tricky_crlf_bom_file_reads(tricky):
    assert [r["source_key"] for r in tricky] == [
        "key-papers/1", "key-papers/2", "key-papers/3", "other-papers/1", "other-papers/2",
    ]


def test_tricky_group_author_and_internal_full_stops(tricky):
    assert tricky[0]["author"][1] == {"literal": "Breast Cancer Study Group"}
    assert tricky[0]["title"] == "Breast cancer. Clinical practice guidelines. Version 2.2017"
    assert (tricky[0]["volume"], tricky[0]["issue"], tricky[0]["page"]) == ("15", "4", "433-51")
    assert tricky[0]["context"] == "Trastuzumab is used here, e.g. in the adjuvant setting..."


def test_tricky_group_only_question_and_brackets(tricky):
    assert tricky[1]["author"] == [{"literal": "HER2 Testing Consortium"}]
    assert tricky[1]["title"] == "What is new? [A review in German]"
    assert tricky[1]["context"] == "Updated guidance on testing.."


def test_tricky_supplement_month_and_et_al(tricky):
    record = tricky[2]
    assert record["volume"] == "23 Suppl 2" and record["page"] == "S110-2"
    assert record["issued"]["date-parts"] == [[2012, 3]]
    assert record["_authors_truncated"] is True
    assert [a["family"] for a in record["author"]] == ["van der Berg", "Müller-Lüdenscheidt", "O'Brien"]


def test_tricky_author_reply_and_debris(tricky):
    assert tricky[3]["note"] == "author reply 133-4"
    assert tricky[3]["context"] == "Excerpt with debris."
    assert tricky[3]["author"][0]["initials"] == "JH"
    assert tricky[4].get("page") is None and tricky[4]["volume"] == "2014"


@pytest.mark.parametrize("text, expected", [
    ("..b>Trastuzumab (Herceptin, Genentech, Inc...", "Trastuzumab (Herceptin, Genentech, Inc..."),
    ("b>Trastuzumab, a therapeutic", "Trastuzumab, a therapeutic"),
    ("..97, 95% CI = 1.16 to 3.35, P = .01).", "97, 95% CI = 1.16 to 3.35, P = .01)."),
    ("  ", None),
])
def test_clean_excerpt(text, expected):
    assert bibpage.clean_excerpt(text) == expected


@pytest.mark.parametrize("summary, terms", [
    ("against the ERBB-2 RECEPTOR (HER2). As an ANTINEOPLASTIC AGENT", ["ERBB-2 RECEPTOR", "ANTINEOPLASTIC AGENT"]),
    ("An inhibitor of PROTEIN KINASES used in DNA repair", ["PROTEIN KINASES"]),
    ("", []),
])
def test_mesh_terms(summary, terms):
    assert bibpage.mesh_terms(summary) == terms


def test_unreadable_reference_is_an_error_naming_the_line():
    text = "Refs\n\n  1. Smith J. A title. J Foo. 2001;1:1-2 pubmed\n  2. This line is not a citation at all\n"
    with pytest.raises(ParseError) as error:
        list(bibpage.parse(io.BytesIO(text.encode())))
    assert "line 4" in str(error.value) and "reference 2" in str(error.value)


def test_skip_bad_keeps_good_references_and_reports_bad_ones():
    text = "Refs\n\n  1. Smith J. A title. J Foo. 2001;1:1-2 pubmed\n  2. Not a citation\n  3. Doe A. B. J Bar. 2002;2:3 pubmed\n"
    stream = bibpage.parse(io.BytesIO(text.encode()), skip_bad=True)
    assert [r["title"] for r in stream] == ["A title", "B"]
    assert len(stream.errors) == 1 and "line 4" in str(stream.errors[0])


def test_file_without_references_is_an_error():
    with pytest.raises(ParseError, match="no numbered references"):
        list(bibpage.parse(io.BytesIO(b"Just a heading\n")))
