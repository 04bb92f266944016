"""MEDLINE / .nbib parser: tricky fixtures, real PubMed and PMC exports, Zotero's test cases, bad input."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from ingest.records import ParseError
from ingest.sources import detect, medline
from ingest.zotero_map import item_to_record

from conftest import value_at

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "medline"


def records_of(path) -> list:
    return list(medline.parse(path))


def records_of_text(text: str) -> list:
    return list(medline.parse(io.BytesIO(text.encode("utf-8"))))


# --- our own tricky fixtures -----------------------------------------------------------------------

TRICKY = records_of(FIXTURES / "tricky.nbib")


def test_tricky_file_has_four_records_one_glued_without_blank_line():
    assert [r["source_key"] for r in TRICKY] == ["28000001", "9000002", "9000003", "21249999"]


@pytest.mark.parametrize(
    "index, path, expected",
    [
        # PMC export order (PMC before PMID), leading blank lines
        (0, "PMCID", "PMC1234567"),
        (0, "PMID", "28000001"),
        (0, "type", "article-journal"),
        # continuation lines joined with one space, trailing spaces gone
        (0, "title", "Clustering of gene expression data: a method with a title that wraps over two "
                     "lines and keeps its trailing space."),
        (0, "abstract", "First line of the abstract and its second line."),
        # particles stay with the family name; lone initials get full stops
        (0, "author.0", {"family": "de Hoon", "given": "M. J. L.", "ORCID": "0000-0001-2345-678X"}),
        (0, "author.1", {"family": "van der Berg", "given": "Anna-Maria"}),
        # CN is a literal author in its place in the list
        (0, "author.2", {"literal": "The FANTOM Consortium"}),
        # ORCID written as a URL
        (0, "author.3", {"family": "O'Neil", "given": "Seán", "ORCID": "0000-0002-1825-0097"}),
        # AD lines belong to the author before them, wrapped lines joined
        (0, "affiliations", [
            {"author_position": 1, "raw": "RIKEN Center for Integrative Medical Sciences, Yokohama, Japan."},
            {"author_position": 2, "raw": "Department of Genetics, University Medical Center Groningen, "
                                          "Groningen, The Netherlands."},
            {"author_position": 2, "raw": "Second affiliation of the second author, Leiden, The Netherlands."},
        ]),
        # print, electronic and linking ISSNs, each once
        (0, "ISSN", ["1367-4811", "1367-4803"]),
        # NLM's place qualifier leaves the journal title
        (0, "container-title", "Bioinformatics"),
        (0, "publisher-place", "Oxford, England"),
        (0, "container-title-short", "Bioinformatics"),
        # LID without [doi] and no PG: the article number is the page
        (0, "page", "e1002345"),
        # DOI from AID [doi], as written
        (0, "DOI", "10.1093/bioinformatics/BTW123"),
        (0, "issued", {"date-parts": [[2016, 11]], "raw": "2016 Nov-Dec"}),
        (0, "volume", "33"),
        (0, "issue", "6"),
        (0, "language", "eng"),
        # MeSH: the descriptor alone, without * or /subheadings; OT keywords as they are
        (0, "tags", [
            {"name": "Cluster Analysis", "kind": "mesh"},
            {"name": "Gene Expression Profiling", "kind": "mesh"},
            {"name": "Humans", "kind": "mesh"},
            {"name": "clustering", "kind": "keyword"},
            {"name": "gene expression", "kind": "keyword"},
        ]),
        # translated title: brackets dropped, the original kept
        (1, "title", "Shared decision-making in general practice."),
        (1, "original-title", "Partizipative Entscheidungsfindung in der Hausarztpraxis."),
        # AU without FAU (old records) is a person of its own; "et al." is not
        (1, "author", [{"family": "Neuner-Jehle", "given": "Stefan"}, {"family": "Gout", "given": "I."}]),
        (1, "issued", {"date-parts": [[1998]], "season": "Spring", "raw": "1998 Spring"}),
        # abbreviated range kept raw (the loader expands it)
        (1, "page", "e369-70"),
        # a journal's PL is its country, not a place of publication
        (1, "publisher-place", None),
        # page numbers with leading zeros are text
        (2, "page", "0012-0019"),
        (2, "author", [{"family": "Smith", "given": "J. A."}, {"family": "Kowalski-Nowak", "given": "B."}]),
        (2, "DOI", "10.1000/xyz.123"),
        (2, "issued", {"date-parts": [[2005, 3, 5]]}),
        # a book chapter: BTI is the book, FED/ED editors, PB/PL the publisher
        (3, "type", "chapter"),
        (3, "title", "A chapter of an NCBI bookshelf book"),
        (3, "container-title", "An Example Handbook"),
        (3, "editor", [{"family": "Riegert-Johnson", "given": "Douglas L."},
                       {"family": "Boardman", "given": "Lisa A."}]),
        (3, "author", [{"family": "Westra", "given": "Wytske"}]),
        (3, "publisher", "National Center for Biotechnology Information (US)"),
        (3, "publisher-place", "Bethesda (MD)"),
        (3, "license", "Copyright (c) 2009-, The Authors"),
    ],
)
def test_tricky_fields(index, path, expected):
    assert value_at(TRICKY[index], path) == expected


def test_crlf_and_byte_order_mark():
    [record] = records_of(FIXTURES / "crlf-bom.nbib")
    assert record["PMID"] == "31000001"
    assert record["title"] == "A record with Windows line ends and a byte order mark."
    assert record["author"] == [{"family": "Lee", "given": "Kim"}]


def test_text_and_binary_streams_give_the_same_records():
    text = (FIXTURES / "tricky.nbib").read_text(encoding="utf-8")
    assert list(medline.parse(io.StringIO(text))) == TRICKY


@pytest.mark.parametrize(
    "text, path, expected",
    [
        # no DP: the electronic publication date
        ("PMID- 1\nTI  - t\nDEP - 20211227\n", "issued", {"date-parts": [[2021, 12, 27]]}),
        # a known tag written with one space before the dash
        ("PMID- 1\nTI - a tag written with one space\n", "title", "a tag written with one space"),
        # "AB  - " with nothing after it is no abstract
        ("PMID- 1\nTI  - t\nAB  - \nOAB - Publisher: Abstract available.\n", "abstract", None),
        # book records put ISBNs in IS
        ("PMID- 1\nTI  - t\nIS  - 978-0-12-345678-9 (Print)\n", "ISBN", "9780123456789"),
        # PG wins over an article number in LID
        ("PMID- 1\nTI  - t\nPG  - 1306-7\nLID - e5 [pii]\n", "page", "1306-7"),
        # ERIC records have no PMID: the ERIC number is the key
        ("OWN - ERIC\nTI  - t\nOID - ED602023\nPT  - Reports - Research\nJT  - ACT, Inc.\n", "source_key",
         "ED602023"),
        # ERIC gives DOIs as links
        ("OWN - ERIC\nTI  - t\nAID - http://dx.doi.org/10.1007/s11423-019-09653-8\nOID - EJ1\n", "DOI",
         "10.1007/s11423-019-09653-8"),
        ("PMID- 1\nTI  - t\nCN  - ALLHAT Collaborative Research Group.\n", "author",
         [{"literal": "ALLHAT Collaborative Research Group"}]),
    ],
)
def test_small_records(text, path, expected):
    [record] = records_of_text(text)
    assert value_at(record, path) == expected


# --- bad input -------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "fixture, fragments, kept_with_skip_bad",
    [
        ("bad-line.nbib", ["bad-line.nbib", "line 8", "record PMID 32000002", "not a MEDLINE tag line"],
         ["32000001", "32000003"]),
        ("bad-pmid.nbib", ["bad-pmid.nbib", "line 5", "3300000X", "PMID is not a number"], ["33000001"]),
        ("orphan-continuation.nbib", ["line 1", "continuation line with no tag before it"], ["34000001"]),
    ],
)
def test_bad_input_names_file_line_and_record(fixture, fragments, kept_with_skip_bad):
    path = FIXTURES / fixture
    with pytest.raises(ParseError) as caught:
        records_of(path)
    for fragment in fragments:
        assert fragment in str(caught.value)
    stream = medline.parse(path, skip_bad=True)
    assert [r["PMID"] for r in stream] == kept_with_skip_bad
    # the loader reads the skipped records' errors from the stream once it is read
    assert [str(e) for e in stream.errors] == [str(caught.value)]
    passed_in: list = []
    list(medline.parse(path, skip_bad=True, errors=passed_in))
    assert [str(e) for e in passed_in] == [str(caught.value)]


def test_records_before_a_bad_line_are_yielded_before_the_error():
    seen = []
    with pytest.raises(ParseError):
        for record in medline.parse(FIXTURES / "bad-line.nbib"):
            seen.append(record["PMID"])
    assert seen == ["32000001"]


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("OWN - NLM\nSTAT- MEDLINE\n", "no title and no identifier"),
        ("Just some prose\nthat is not MEDLINE.\n", "line 1"),
    ],
)
def test_other_bad_records(text, fragment):
    with pytest.raises(ParseError, match=fragment):
        records_of_text(text)


def test_undecodable_bytes_are_a_parse_error():
    with pytest.raises(ParseError, match="not UTF-8"):
        list(medline.parse(io.BytesIO(b"PMID- 1\nTI  - caf\xe9\n")))


# --- sniff -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "head, expected",
    [
        ("PMID- 123\nOWN - NLM\nTI  - A title.\n", True),
        ("PMC - PMC6055010\nPMID- 30042925\nIS  - 2215-0161 (Electronic)\n", True),
        ("\nOWN - ERIC\nTI  - Educational Test Approaches\nAU  - van Groen, Maaike M.\n", True),
        ("TY  - JOUR\nTI  - A title\nAU  - Smith, J\nER  - \n", False),
        ("@article{key,\n  title = {A title}\n}\n", False),
        ('<?xml version="1.0"?>\n<PubmedArticleSet>\n', False),
        ("Some prose.\nPMID- 1\n", False),
        ("", False),
    ],
)
def test_sniff(head, expected):
    assert medline.sniff(head) is expected


# --- real exports ----------------------------------------------------------------------------------

SAMPLES = {
    "nbib-pmc_medlars.txt": 5,
    "searchbuildR-testset_pubmed.txt": 10,
    "searchbuildR-testset_pubmed_hyphen_decision.txt": 20,
}


@pytest.mark.corpus
@pytest.mark.parametrize("name, count", sorted(SAMPLES.items()))
def test_real_exports_parse_whole(corpus, name, count):
    path = corpus / "samples" / "exports" / "medline" / name
    assert detect(path) == "medline"
    records = records_of(path)
    assert len(records) == count
    assert len({r["source_key"] for r in records}) == count
    for record in records:
        assert record["PMID"].isdigit() and record["title"] and record.get("author")
        assert record["issued"]["date-parts"][0][0] > 1900


@pytest.mark.corpus
@pytest.mark.parametrize(
    "name, pmid, path, expected",
    [
        # PMC export: PMC first, empty AB with the abstract in OAB, wrapped affiliations
        ("nbib-pmc_medlars.txt", "30042925", "PMCID", "PMC6055010"),
        ("nbib-pmc_medlars.txt", "30042925", "abstract", None),
        ("nbib-pmc_medlars.txt", "30042925", "page", "283-98"),
        ("nbib-pmc_medlars.txt", "30042925", "DOI", "10.1016/j.mex.2018.03.007"),
        ("nbib-pmc_medlars.txt", "30042925", "affiliations.2",
         {"author_position": 3, "raw": "Department of Plastic and Reconstructive Surgery, Tokyo Women’s "
                                       "Medical University, Tokyo, Japan"}),
        # LID without [doi] in a PMC export: the article number
        ("nbib-pmc_medlars.txt", "30123504", "page", "18"),
        ("nbib-pmc_medlars.txt", "30123504", "author.0.ORCID", "0000-0001-6664-9126"),
        ("nbib-pmc_medlars.txt", "30123504", "ISSN", ["2050-2974"]),
        ("searchbuildR-testset_pubmed.txt", "32355269", "title", "Vulvodynia."),
        ("searchbuildR-testset_pubmed.txt", "32355269", "page", "36"),
        ("searchbuildR-testset_pubmed.txt", "32355269", "ISSN", ["2056-676X"]),
        ("searchbuildR-testset_pubmed.txt", "32355269", "issued", {"date-parts": [[2020, 4, 30]]}),
        ("searchbuildR-testset_pubmed_hyphen_decision.txt", "25251484", "container-title-short",
         "Annu Rev Psychol"),
        ("searchbuildR-testset_pubmed_hyphen_decision.txt", "35063699", "issued",
         {"date-parts": [[2022, 1]], "raw": "2022 Jan-Feb"}),
        ("searchbuildR-testset_pubmed_hyphen_decision.txt", "35063699", "affiliations.0.author_position", 1),
        # TI in brackets with TT: a translated German title
        ("searchbuildR-testset_pubmed_hyphen_decision.txt", "36164734", "title",
         "Shared Decision-Making in Preventive Activities."),
        ("searchbuildR-testset_pubmed_hyphen_decision.txt", "36164734", "original-title",
         "Shared Decision-Making in der Prävention."),
        ("searchbuildR-testset_pubmed_hyphen_decision.txt", "36164734", "language", "ger"),
    ],
)
def test_real_export_fields(corpus, name, pmid, path, expected):
    records = {r["PMID"]: r for r in records_of(corpus / "samples" / "exports" / "medline" / name)}
    assert value_at(records[pmid], path) == expected


@pytest.mark.corpus
def test_real_exports_authors_orcids_affiliations(corpus):
    folder = corpus / "samples" / "exports" / "medline"
    records = [r for name in SAMPLES for r in records_of(folder / name)]
    assert sum(len(r["author"]) for r in records) == 95  # one per FAU line
    assert sum(1 for r in records for a in r["author"] if "ORCID" in a) == 11  # one per AUID line
    assert sum(len(r.get("affiliations", [])) for r in records) == 91  # one per AD line
    assert all(
        1 <= a["author_position"] <= len(r["author"]) for r in records for a in r.get("affiliations", [])
    )


# --- Zotero's own test cases -----------------------------------------------------------------------

def zotero_cases(corpus):
    return json.loads((corpus / "zotero-translators" / "medline-nbib.json").read_text(encoding="utf-8"))


@pytest.mark.corpus
def test_zotero_cases_item_counts_and_types(corpus):
    for case in zotero_cases(corpus):
        ours = records_of_text(case["input"])
        theirs = [item_to_record(item) for item in case["items"]]
        assert [r["type"] for r in ours] == [r["type"] for r in theirs]


@pytest.mark.corpus
@pytest.mark.parametrize(
    "case, item, fields",
    [
        (0, 0, {"title": "Mickey Mouse had an O-some day!", "author": [{"family": "Mouse", "given": "Mickey"}]}),
        (1, 0, {"ISSN": ["0027-8424"], "PMCID": "PMC38908", "page": "6913-7",
                "container-title": "Proceedings of the National Academy of Sciences of the United States "
                                   "of America",
                "container-title-short": "Proc Natl Acad Sci U S A",
                "issued": {"date-parts": [[1996, 7, 9]]},
                "affiliations": [{"author_position": 1, "raw": "Medical Research Council Laboratory of "
                                  "Molecular Biology, Cambridge, United Kingdom."}]}),
        (1, 1, {"type": "chapter", "container-title": "Cancer Syndromes", "publisher-place": "Bethesda (MD)",
                "publisher": "National Center for Biotechnology Information (US)",
                "license": "Copyright (c) 2009-, Douglas L Riegert-Johnson"}),
        (2, 0, {"author.9": {"family": "Booker", "given": "G. W."}, "page": "25-36"}),
        (3, 0, {"ISSN": ["1476-5616", "0033-3506"], "DOI": "10.1016/j.puhe.2015.01.018"}),
        (4, 0, {"note": "ERIC Number: EJ1227990", "ISSN": ["2375-5636"], "page": "12-24",
                "author.0": {"family": "van Groen", "given": "Maaike M."}}),
        (4, 2, {"type": "report", "publisher": "ACT, Inc.", "container-title": None}),
        (5, 0, {"page": "1042", "PMCID": "PMC8816568", "author.4": {"family": "Ming Choi", "given": "Yuk"}}),
        (7, 0, {"type": "thesis", "publisher": "Drexel University", "archive": "ProQuest LLC"}),
        (7, 1, {"type": "book", "ISBN": "9781598571929", "publisher": "Brookes Publishing Company"}),
        (8, 0, {"page": "S1080-6032(22)00139-9", "ISSN": ["1545-1534", "1080-6032"],
                "issued": {"date-parts": [[2022, 10, 7]]}}),
    ],
)
def test_zotero_case_fields(corpus, case, item, fields):
    record = records_of_text(zotero_cases(corpus)[case]["input"])[item]
    for path, expected in fields.items():
        assert value_at(record, path) == expected, path


@pytest.mark.corpus
def test_zotero_case_abstracts_and_keywords_match(corpus):
    """Abstracts (whitespace aside) and OT keywords as Zotero reads them; MeSH headings lose the
    subheadings Zotero's MEDLINE import keeps (``Brain/*enzymology`` → ``Brain``)."""
    for case in zotero_cases(corpus):
        for ours, item in zip(records_of_text(case["input"]), case["items"]):
            theirs = item_to_record(item)
            squeeze = lambda text: " ".join((text or "").split())  # noqa: E731
            assert squeeze(ours.get("abstract")) == squeeze(theirs.get("abstract"))
            our_tags = sorted(t["name"] for t in ours.get("tags", []))
            their_tags = sorted({t["name"].split("/")[0].lstrip("*") for t in theirs.get("tags", [])})
            assert sorted(set(our_tags)) == their_tags
