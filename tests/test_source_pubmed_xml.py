"""PubMed XML parser: tricky fixtures, the real sample, Zotero's test cases, bad input, no DTD fetch."""

from __future__ import annotations

import gzip
import http.server
import io
import json
import threading
from pathlib import Path

import pytest

from ingest.records import ParseError
from ingest.sources import detect, pubmed_xml
from ingest.zotero_map import item_to_record

from conftest import value_at

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "pubmed_xml"


def records_of(source) -> list:
    return list(pubmed_xml.parse(source))


def records_of_text(text: str) -> list:
    return records_of(io.BytesIO(text.encode("utf-8")))


# --- our own tricky fixture ------------------------------------------------------------------------

TRICKY = records_of(FIXTURES / "tricky.xml")


def test_deleted_citations_are_not_works():
    # The DOCTYPE points at an address where nothing listens: parsing never goes there.
    assert [r["source_key"] for r in TRICKY] == ["10000001", "10000002", "10000003", "10000006"]


@pytest.mark.parametrize(
    "index, path, expected",
    [
        # inline <i>/<sup>/<sub> dropped, their text kept; layout whitespace around a tag is not a
        # space; &nbsp; (declared only in the DTD we never read) is a space; NLM's final full
        # stop goes
        (0, "title", "Role of Escherichia coli in Ca2+ uptake by CO2-fixing β2-cells"),
        # structured abstract: labels kept, UNLABELLED not
        (0, "abstract", "BACKGROUND: Background with bold text.\nMETHODS: We used CO2.\nAn unlabelled paragraph."),
        (0, "license", "© 1998 The Authors."),
        (0, "author.0", {"family": "de Hoon", "given": "M. J. L.", "ORCID": "0000-0002-1825-0097"}),
        # ValidYN="N" (a misspelling NLM keeps beside the correction) is skipped; capitals recased
        (0, "author.1", {"family": "Smith", "given": "John", "suffix": "Jr"}),
        (0, "author.2", {"literal": "SYGMA 1 Investigators"}),
        # initials only
        (0, "author.3", {"family": "Ng", "given": "K. W."}),
        (0, "affiliations", [
            {"author_position": 1, "raw": "RIKEN, Yokohama, Japan."},
            {"author_position": 1, "raw": "University of Tokyo, Tokyo, Japan."},
            {"author_position": 3, "raw": "Group affiliation."},
        ]),
        (0, "issued", {"date-parts": [[1998, 12]], "raw": "1998 Dec-1999 Jan"}),
        (0, "page", "0012-0019"),
        (0, "DOI", "10.1000/ABC.def"),
        (0, "PMCID", "PMC7654321"),
        (0, "ISSN", ["0028-4793", "0036-8075"]),
        (0, "container-title", "Science"),
        (0, "publisher-place", "New York, N.Y."),
        (0, "container-title-short", "Science"),  # MedlineTA when there is no ISOAbbreviation
        (0, "tags", [
            {"name": "Escherichia coli", "kind": "mesh"},
            {"name": "Humans", "kind": "mesh"},
            {"name": "calcium uptake", "kind": "keyword"},
        ]),
        (0, "references", [
            {"raw": "Doe J. A cited paper. J Cited. 1990;1:1-2.", "DOI": "10.1000/cited.1",
             "PMID": "2000001", "PMCID": "PMC111"},
            {"raw": "A reference with no identifiers."},
        ]),
        # a translated title loses its brackets; the original is kept
        (1, "title", "Translated title of a German paper"),
        (1, "original-title", "Ein deutscher Titel."),
        (1, "issued", {"date-parts": [[2017]], "season": "Spring"}),
        # no MedlinePgn: the pii is the article number, leading zeros and all
        (1, "page", "00123"),
        (1, "container-title", "Scientific Reports"),
        # numeric month; ArticleDate adds the day it agrees on
        (2, "issued", {"date-parts": [[2020, 3, 17]]}),
        (2, "title", "A title with no full stop?"),
        # a qualifier that names a body is part of the title
        (2, "container-title", "Proceedings (Baylor University. Medical Center)"),
        (2, "ISSN", None),
        # a book chapter
        (3, "type", "chapter"),
        (3, "title", "MECP2 Disorders"),
        (3, "container-title", "GeneReviews®"),
        (3, "author", [{"family": "Kaur", "given": "Simranpreet"}]),
        (3, "editor", [{"family": "Adam", "given": "Margaret P."}]),
        (3, "publisher", "University of Washington, Seattle"),
        (3, "call-number", "NBK1116"),
        (3, "URL", "https://www.ncbi.nlm.nih.gov/books/NBK1116/"),
        (3, "abstract", "CLINICAL CHARACTERISTICS: Chapter abstract."),
    ],
)
def test_tricky_fields(index, path, expected):
    assert value_at(TRICKY[index], path) == expected


def test_gzip_and_text_streams_give_the_same_records(tmp_path):
    data = (FIXTURES / "tricky.xml").read_bytes()
    compressed = tmp_path / "baseline.xml.gz"
    compressed.write_bytes(gzip.compress(data))
    assert records_of(compressed) == TRICKY
    assert records_of(io.BytesIO(gzip.compress(data))) == TRICKY
    assert records_of(io.StringIO(data.decode("utf-8"))) == TRICKY


# --- never a DTD, never an entity, never the network -----------------------------------------------

class CountingHandler(http.server.BaseHTTPRequestHandler):
    hits: list = []

    def do_GET(self):  # noqa: N802
        CountingHandler.hits.append(self.path)
        body = b'<!ENTITY served "TEXT FROM THE DTD">'
        self.send_response(200)
        self.send_header("Content-Type", "application/xml-dtd")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_the_declared_dtd_is_never_fetched():
    """A DTD served on 127.0.0.1 would be fetched if the parser ever went to the network."""
    server = http.server.HTTPServer(("127.0.0.1", 0), CountingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    CountingHandler.hits.clear()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/pubmed_250101.dtd"
        document = (
            '<?xml version="1.0"?>\n'
            f'<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle//EN" "{url}">\n'
            "<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID><Article>"
            "<ArticleTitle>Before &served; after.</ArticleTitle></Article></MedlineCitation>"
            "</PubmedArticle></PubmedArticleSet>"
        )
        [record] = records_of_text(document)
    finally:
        server.shutdown()
        server.server_close()
    assert CountingHandler.hits == []
    assert record["title"] == "Before &served; after"


def test_a_local_dtd_file_is_not_read_either(tmp_path):
    (tmp_path / "pubmed.dtd").write_text('<!ENTITY local "TEXT FROM THE DTD">', encoding="utf-8")
    path = tmp_path / "article.xml"
    path.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet SYSTEM "pubmed.dtd">\n'
        "<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>2</PMID><Article>"
        "<ArticleTitle>A &local; title</ArticleTitle></Article></MedlineCitation>"
        "</PubmedArticle></PubmedArticleSet>",
        encoding="utf-8",
    )
    [record] = records_of(path)
    assert "TEXT FROM THE DTD" not in record["title"]


def test_entities_of_an_internal_subset_are_not_expanded():
    """No external entity (a local file) and no entity bomb is ever expanded."""
    [record] = records_of(FIXTURES / "xxe.xml")
    assert record["title"] == "Before &secret; after &lol3; end"


# --- bad input -------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "fixture, fragments, yielded_first",
    [
        ("truncated.xml", ["truncated.xml", "line 72", "record PMID 10000001", "truncated or damaged"], []),
        ("truncated-second.xml", ["line 143", "record PMID 10000003", "Premature end of data"],
         ["10000001", "10000002"]),
        ("mismatched.xml", ["line 7", "record PMID 10000010", "tag mismatch"], []),
        ("no-pmid.xml", ["no-pmid.xml", "line 3", "without a numeric PMID"], []),
    ],
)
def test_bad_xml_names_file_line_and_record(fixture, fragments, yielded_first):
    seen = []
    with pytest.raises(ParseError) as caught:
        for record in pubmed_xml.parse(FIXTURES / fixture):
            seen.append(record["source_key"])
    for fragment in fragments:
        assert fragment in str(caught.value)
    # Records come one by one as the file is read: the ones before the damage were already out.
    assert seen == yielded_first


@pytest.mark.parametrize("cut", [lambda data: data[: len(data) // 2], lambda data: data[:10] + b"garbage" * 20])
def test_damaged_gzip_is_a_parse_error(cut):
    data = gzip.compress((FIXTURES / "tricky.xml").read_bytes())
    with pytest.raises(ParseError, match="cannot read the file"):
        records_of(io.BytesIO(cut(data)))


def test_skip_bad_skips_unusable_records_but_not_broken_xml():
    stream = pubmed_xml.parse(FIXTURES / "no-pmid.xml", skip_bad=True)
    assert [r["source_key"] for r in stream] == ["10000030"]
    assert len(stream.errors) == 1 and "line 3" in str(stream.errors[0])
    with pytest.raises(ParseError, match="truncated"):
        list(pubmed_xml.parse(FIXTURES / "truncated-second.xml", skip_bad=True, errors=[]))


@pytest.mark.parametrize(
    "data, fragment",
    [
        (b"", "truncated or damaged"),
        (b'<?xml version="1.0"?>', "truncated or damaged"),
        (b"<foo><bar/></foo>", "root element is <foo>"),
        (b"not xml at all", "line 1"),
    ],
)
def test_not_pubmed_xml(data, fragment):
    with pytest.raises(ParseError, match=fragment):
        records_of(io.BytesIO(data))


@pytest.mark.parametrize(
    "data, count",
    [
        (b"<PubmedArticleSet></PubmedArticleSet>", 0),  # efetch found nothing
        (b"<PubmedArticleSet><DeleteCitation><PMID>1</PMID></DeleteCitation></PubmedArticleSet>", 0),
    ],
)
def test_empty_sets_are_not_errors(data, count):
    assert len(records_of(io.BytesIO(data))) == count


# --- sniff -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "head, expected",
    [
        ('<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet PUBLIC "x" "y">\n<PubmedArticleSet>', True),
        ("<PubmedArticleSet>\n<PubmedArticle>", True),
        ('<?xml version="1.0"?>\n<PubmedBookArticleSet>', True),
        ('\ufeff<?xml version="1.0"?>\n<!-- a comment -->\n<PubmedArticle>', True),
        ('<?xml version="1.0"?>\n<xml><records><record>', False),  # EndNote XML
        ("PMID- 1\nTI  - title\n", False),
        ("[]", False),
    ],
)
def test_sniff(head, expected):
    assert pubmed_xml.sniff(head) is expected


# --- the real sample -------------------------------------------------------------------------------

@pytest.mark.corpus
def test_real_sample(corpus):
    path = corpus / "samples" / "pubmed-xml" / "pubmed-29768149.xml"
    assert detect(path) == "pubmed-xml"
    [record] = records_of(path)
    assert record["PMID"] == record["source_key"] == "29768149"
    assert record["title"] == "Inhaled Combined Budesonide-Formoterol as Needed in Mild Asthma"
    # "fast-acting &#946;\n\t\t\t<sub>2</sub>-agonist": the layout around <sub> is not a space
    assert record["abstract"].startswith(
        "BACKGROUND: In patients with mild asthma, as-needed use of an inhaled glucocorticoid plus a "
        "fast-acting β2-agonist may be an alternative"
    )
    assert [line.split(":")[0] for line in record["abstract"].split("\n")] == [
        "BACKGROUND", "METHODS", "RESULTS", "CONCLUSIONS"
    ]
    assert len(record["author"]) == 10
    assert record["author"][0] == {"family": "O'Byrne", "given": "Paul M."}
    assert len(record["affiliations"]) == 10
    assert [a["author_position"] for a in record["affiliations"]] == list(range(1, 11))
    assert record["container-title"] == "The New England Journal of Medicine"
    assert record["container-title-short"] == "N Engl J Med"
    assert record["ISSN"] == ["1533-4406", "0028-4793"]
    assert (record["volume"], record["issue"], record["page"]) == ("378", "20", "1865-1876")
    assert record["issued"] == {"date-parts": [[2018, 5, 17]]}
    assert record["DOI"] == "10.1056/NEJMoa1715274"
    assert len([t for t in record["tags"] if t["kind"] == "mesh"]) == 23


# --- Zotero's own test cases -----------------------------------------------------------------------

def zotero_cases(corpus):
    return json.loads((corpus / "zotero-translators" / "pubmed-xml.json").read_text(encoding="utf-8"))


@pytest.mark.corpus
def test_zotero_cases_match_on_fields_beyond_the_bench(corpus):
    """What bench/conformance.py does not compare: abstracts, journal abbreviations, language,
    PMCID, publisher and place, rights, tags (names)."""
    for index, case in enumerate(zotero_cases(corpus)):
        ours = records_of_text(case["input"])
        assert len(ours) == len(case["items"]), index
        for record, item in zip(ours, case["items"]):
            theirs = item_to_record(item)
            assert record["type"] == theirs["type"]
            for key in ("abstract", "container-title-short", "language", "publisher", "publisher-place",
                        "number", "call-number"):
                assert " ".join((record.get(key) or "").split()) == " ".join((theirs.get(key) or "").split()), (index, key)
            if theirs.get("PMCID"):
                assert record["PMCID"] == theirs["PMCID"]
            if theirs.get("license"):
                assert record["license"] == theirs["license"]
            assert sorted(t["name"] for t in record.get("tags", [])) == sorted(t["name"] for t in theirs.get("tags", []))


@pytest.mark.corpus
@pytest.mark.parametrize(
    "case, item, fields",
    [
        (0, 0, {"title": "High-content single-cell drug screening with phosphospecific flow cytometry",
                "container-title": "Nature Chemical Biology", "page": "132-42",
                "issued": {"date-parts": [[2008, 2]]}}),
        (1, 0, {"type": "book", "title": "Endocrinology: An Integrated Approach", "ISBN": "1859962521",
                "call-number": "NBK22", "publisher-place": "Oxford"}),
        (2, 1, {"issued": {"date-parts": [[2015, 8, 1]]}, "PMCID": "PMC4495770", "language": "ENG",
                "container-title": "Journal of the Royal Statistical Society. Series C, Applied Statistics"}),
        (3, 0, {"issued": {"date-parts": [[2010, 9]], "raw": "2010 Sep-Oct"}, "container-title": "Nurse Educator"}),
        (4, 0, {"issued": {"date-parts": [[2018, 11]]}, "page": "e12516",
                "author.0.ORCID": "0000-0002-4461-6128"}),
        (5, 0, {"page": "e42692", "title": "Stereotyped terminal axon branching of leg motor neurons "
                                          "mediated by IgSF proteins DIP-α and Dpr10"}),
        # an empty ArticleTitle: the vernacular title stands in
        (6, 0, {"title": "Psykisk ohälsa, radikalisering och terrorism - Inget säkert samband har kunnat påvisas",
                "page": "EWLS"}),
        (7, 0, {"container-title": "Arthritis & Rheumatology", "publisher-place": "Hoboken, N.J.",
                "abstract": None}),  # checked against Zotero above; here only that it exists
        (8, 0, {"type": "article", "publisher": "bioRxiv: The Preprint Server for Biology",
                "number": "2023.02.07.527548", "ISSN": None, "container-title": None}),
        (9, 0, {"type": "article", "number": "arXiv:2304.02112v2", "DOI": None}),
    ],
)
def test_zotero_case_fields(corpus, case, item, fields):
    record = records_of_text(zotero_cases(corpus)[case]["input"])[item]
    for path, expected in fields.items():
        if path == "abstract":
            assert record.get("abstract"), path
            continue
        assert value_at(record, path) == expected, path
