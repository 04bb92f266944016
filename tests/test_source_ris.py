"""RIS parser: real exports, Zotero's own test cases, tricky inputs of our own, bad input."""

from __future__ import annotations

import io
import json

import pytest

from conftest import FIXTURES
from ingest.records import ParseError
from ingest.sources import detect, ris

RIS_FIXTURES = FIXTURES / "ris"


def records_of(path):
    return list(ris.parse(path))


def records_from(text: str, **options):
    return list(ris.parse(io.StringIO(text), **options))


def value_at(record, path: str):
    """``author.0.family`` → record["author"][0]["family"]; None when any step is missing."""
    value = record
    for step in path.split("."):
        if isinstance(value, list):
            value = value[int(step)] if int(step) < len(value) else None
        elif isinstance(value, dict):
            value = value.get(step)
        else:
            return None
    return value


# ---------------------------------------------------------------------------------------------
# Real exports (../shared/corpus/samples/exports)


@pytest.mark.parametrize(
    "name, count",
    [
        ("rispy-example_empty_tag.ris", 1),
        ("rispy-example_extraneous_data.ris", 2),
        ("rispy-example_starting_newlines.ris", 1),
        ("searchbuildR-testset_ris.txt", 32),
    ],
)
def test_real_exports_parse_completely(corpus, name, count):
    path = corpus / "samples" / "exports" / "ris" / name
    assert detect(path) == "ris"
    records = records_of(path)
    assert len(records) == count
    assert all(record.get("title") for record in records)


@pytest.mark.parametrize(
    "name, index, path, expected",
    [
        # Embase: Y1 with empty parts, DOI as a dx.doi.org link, an empty SP, JF/JA, "Last F." names.
        ("rispy-example_empty_tag.ris", 0, "issued.date-parts.0", [2020]),
        ("rispy-example_empty_tag.ris", 0, "DOI", "10.1177/2325967120950040"),
        ("rispy-example_empty_tag.ris", 0, "ISSN", ["2325-9671"]),
        ("rispy-example_empty_tag.ris", 0, "container-title", "Orthopaedic Journal of Sports Medicine"),
        ("rispy-example_empty_tag.ris", 0, "container-title-short", "Orthop. J. Sports Med."),
        ("rispy-example_empty_tag.ris", 0, "author.0", {"family": "Fanning", "given": "E."}),
        ("rispy-example_empty_tag.ris", 0, "page", None),
        ("rispy-example_empty_tag.ris", 0, "tags.0", {"name": "*athlete", "kind": "keyword"}),
        ("rispy-example_empty_tag.ris", 0, "source_key", "2006713348"),
        # An untagged continuation line of N2 is a second paragraph of the abstract.
        ("rispy-example_empty_tag.ris", 0, "abstract",
         "Background: Athletic endeavor can require the \"athletic shoulder\" to tolerate significant "
         "load through supraphysiological range and often under considerable repetition.\n"
         "Outcome measures are valuable when determining an athlete's safe return to sport..."),
        # Header lines before each record ("Record #2 of 2", "Provider: …") are skipped.
        ("rispy-example_extraneous_data.ris", 1, "title", "The title of the reference"),
        ("rispy-example_extraneous_data.ris", 1, "author.0", {"family": "Marxus", "given": "Karlus"}),
        ("rispy-example_extraneous_data.ris", 1, "editor.0", {"family": "Glattauer", "given": "Daniel"}),
        ("rispy-example_extraneous_data.ris", 1, "page", "e0815341"),
        ("rispy-example_extraneous_data.ris", 1, "issued.date-parts.0", [2006]),
        ("rispy-example_extraneous_data.ris", 1, "publisher-place", "Germany"),
        ("rispy-example_starting_newlines.ris", 0, "page", "379-423"),
        ("rispy-example_starting_newlines.ris", 0, "issued.date-parts.0", [1948, 7]),
        ("rispy-example_starting_newlines.ris", 0, "author.0", {"family": "Shannon", "given": "Claude E."}),
        # EndNote export of PubMed records: T2 holds the abbreviation, J2 the full title.
        ("searchbuildR-testset_ris.txt", 0, "container-title",
         "Scandinavian journal of respiratory diseases. Supplementum"),
        ("searchbuildR-testset_ris.txt", 0, "container-title-short", "Scand J Respir Dis Suppl"),
        ("searchbuildR-testset_ris.txt", 0, "PMID", "5317633"),
        ("searchbuildR-testset_ris.txt", 0, "ISSN", ["0080-6730"]),
        ("searchbuildR-testset_ris.txt", 0, "page", "1-24"),
        ("searchbuildR-testset_ris.txt", 0, "tags.3", {"name": "physiology", "kind": "keyword"}),
        ("searchbuildR-testset_ris.txt", 0, "source_key", "18"),
        ("searchbuildR-testset_ris.txt", 1, "issued.date-parts.0", [1974, 5]),  # DA "May" + PY
        ("searchbuildR-testset_ris.txt", 5, "title",
         "Intrahypothalamic injection of the HIV-1 envelope glycoprotein induces fever via "
         "interaction with the chemokine system"),
        ("searchbuildR-testset_ris.txt", 5, "PMCID", "PMC2812112"),
        ("searchbuildR-testset_ris.txt", 5, "DOI", "10.1124/jpet.109.160309"),
        ("searchbuildR-testset_ris.txt", 5, "page", "549-53"),
        ("searchbuildR-testset_ris.txt", 5, "author.5", {"family": "Adler", "given": "M. W."}),
        ("searchbuildR-testset_ris.txt", 5, "affiliations.0.raw",
         "Center for Substance Abuse Research, Temple University School of Medicine, "
         "Philadelphia, PA 19140, USA. kbenamar@temple.edu"),
    ],
)
def test_real_export_fields(corpus, name, index, path, expected):
    records = records_of(corpus / "samples" / "exports" / "ris" / name)
    assert value_at(records[index], path) == expected


def test_endnote_notes_and_affiliation_lines(corpus):
    records = records_of(corpus / "samples" / "exports" / "ris" / "searchbuildR-testset_ris.txt")
    florence = next(r for r in records if r.get("PMCID") == "PMC7059152")
    assert [a["raw"] for a in florence["affiliations"]][:2] == [
        "Department of Scienze della Salute, University of Florence, Florence, Italy.",
        "Department of Psychiatry and Behavioral Sciences, Albert Einstein College of Medicine, "
        "Bronx, NY, United States.",
    ]
    # Several authors, so RIS cannot say whose address each line is.
    assert {a["author_position"] for a in florence["affiliations"]} == {None}
    first = records[0]
    assert first["notes"] == [
        {"content": "Journal Article\nDenmark\nScand J Respir Dis Suppl. 1970;74:1-24.", "key": None}
    ]


def test_web_of_science_file_is_a_clear_error(corpus):
    path = corpus / "samples" / "exports" / "bad" / "rispy-example_wos.ris"
    with pytest.raises(ParseError) as caught:
        records_of(path)
    assert "rispy-example_wos.ris" in str(caught.value)
    assert "Web of Science" in caught.value.message
    assert not ris.sniff(path.read_text(encoding="utf-8")[:4000])
    with pytest.raises(ParseError):  # not even skip_bad salvages a file that is not RIS
        list(ris.parse(path, skip_bad=True))


def test_endnote_type_name_and_title_only_in_short_title(corpus):
    """BOM, ``TY  - Journal Article`` and no TI: the title comes from ST, as Zotero does."""
    [record] = records_of(corpus / "samples" / "exports" / "bad" / "rispy-example_utf_chars.ris")
    assert record["type"] == "article-journal"
    assert record["title"].startswith("Состояние рецепторного аппарата эндометрия")
    assert [a["family"] for a in record["author"]] == [
        "Dobrokhotova", "Yusupova", "Ozerova", "Fayzullin", "Karnaukhov",
    ]
    assert record["page"] == "52-57"
    assert record["issued"] == {"date-parts": [[2009]]}
    assert record["container-title"] == "Gynecology, Obstetrics and Perinatology"
    assert record["notes"][0]["content"] == "Ä,Ö,Ü,ä,ö,ü,ß"


# ---------------------------------------------------------------------------------------------
# Our own tricky inputs (tests/fixtures/ris)


@pytest.mark.parametrize(
    "name, index, path, expected",
    [
        # BOM, CRLF, a header before the first record, `ER  -` with and without a trailing space.
        ("embase_bom_crlf.ris", 0, "title",
         "Outcome measures after shoulder stabilization: a systematic review"),
        ("embase_bom_crlf.ris", 0, "abstract", "Background: athletes.\n\nResults: many."),
        ("embase_bom_crlf.ris", 0, "page", "122-131"),
        ("embase_bom_crlf.ris", 0, "DOI", "10.1177/2325967120950040"),  # from L3
        ("embase_bom_crlf.ris", 0, "ISSN", ["2325-9671"]),  # two SN lines, one ISSN
        ("embase_bom_crlf.ris", 0, "author.1", {"family": "Maher", "given": "C. G."}),
        ("embase_bom_crlf.ris", 0, "author.2", {"literal": "World Health Organization"}),
        ("embase_bom_crlf.ris", 0, "affiliations.1",
         {"author_position": None, "raw": "Institute for Musculoskeletal Health, Sydney, Australia"}),
        ("embase_bom_crlf.ris", 0, "source_key", "L2006713348"),
        ("embase_bom_crlf.ris", 1, "DOI", "10.1002/j.1538-7305.1948.tb01338.x"),  # DO as a URL
        ("embase_bom_crlf.ris", 1, "page", "379-423"),
        ("embase_bom_crlf.ris", 1, "author.0", {"family": "Smith", "given": "J."}),
        ("embase_bom_crlf.ris", 1, "affiliations", None),
        # EndNote, PubMed-derived: swapped T2/J2, PMID from AN (DB Medline), PMCID from C2,
        # ET (the e-pub date) is no edition of an article, DA month + PY year.
        ("endnote_pubmed.txt", 0, "container-title", "Contemporary clinical dentistry"),
        ("endnote_pubmed.txt", 0, "container-title-short", "Contemp Clin Dent"),
        ("endnote_pubmed.txt", 0, "PMID", "25191084"),
        ("endnote_pubmed.txt", 0, "PMCID", "PMC4147824"),
        ("endnote_pubmed.txt", 0, "ISSN", ["0976-237X", "0976-2361"]),
        ("endnote_pubmed.txt", 0, "edition", None),
        ("endnote_pubmed.txt", 0, "issued.date-parts.0", [2014, 7]),
        ("endnote_pubmed.txt", 0, "page", "309-18"),
        ("endnote_pubmed.txt", 0, "tags.2", {"name": "diagnosis", "kind": "keyword"}),
        ("endnote_pubmed.txt", 0, "abstract",
         "First paragraph of a long abstract that runs well past the eighty-five character mark so "
         "that the file is not considered hard-wrapped.\nSecond paragraph."),
        ("endnote_pubmed.txt", 0, "title-short", "Short"),
        # Names: Zotero's comma rule, PubMed's "Last FM", organisations, suffixes.
        ("names_dates.ris", 0, "author.0", {"family": "Baldwin", "given": "S.A."}),
        ("names_dates.ris", 0, "author.3", {"family": "de Hoon", "given": "M. J."}),
        ("names_dates.ris", 0, "author.4", {"family": "Fanning", "given": "E."}),
        ("names_dates.ris", 0, "author.5", {"literal": "Cancer Research UK"}),
        ("names_dates.ris", 0, "author.7", {"family": "Smith", "given": "John", "suffix": "Jr."}),
        ("names_dates.ris", 0, "editor.0", {"family": "Glattauer", "given": "Daniel"}),
        # Dates: DA wins over PY; a season survives; DA month + PY year; Y1 wins over PY.
        ("names_dates.ris", 0, "issued", {"date-parts": [[2017, 3, 5]]}),
        ("names_dates.ris", 1, "issued", {"date-parts": [[2017]], "season": "Spring"}),
        ("names_dates.ris", 2, "issued", {"date-parts": [[1974, 5]]}),
        ("names_dates.ris", 3, "issued", {"date-parts": [[1990, 2, 27]]}),
        # A book: T2 is its series, SP its number of pages, SN (ISBN-13) its ISBN.
        ("names_dates.ris", 4, "collection-title", "Lecture Notes in Physics"),
        ("names_dates.ris", 4, "number-of-pages", "350"),
        ("names_dates.ris", 4, "ISBN", "978-3-642-00230-4"),
        ("names_dates.ris", 4, "edition", "2nd"),
        ("names_dates.ris", 4, "publisher-place", "Berlin"),
        # EndNote's edited book: its AU are editors; an ISSN-shaped SN is the series ISSN.
        ("names_dates.ris", 5, "editor.0", {"family": "Editor", "given": "Eva"}),
        ("names_dates.ris", 5, "author", None),
        ("names_dates.ris", 5, "ISSN", ["0302-9743"]),
        ("names_dates.ris", 5, "ISBN", None),
        # A chapter: T2 is the book; an ISBN-10 with a wrong check digit stays as written.
        ("names_dates.ris", 6, "container-title", "The book it is in"),
        ("names_dates.ris", 6, "ISBN", "3642002304"),
        ("names_dates.ris", 6, "editor.0", {"family": "Editor", "given": "Eva"}),
        # Only JA: it is the journal title too (Zotero's rule); SP + EP joined; C7 ignored.
        ("names_dates.ris", 7, "container-title", "Nature"),
        ("names_dates.ris", 7, "page", "737-738"),
        # Scopus: article number in C7, DOI in an URL-encoded doi.org link, first UR kept.
        ("names_dates.ris", 8, "page", "e0215341"),
        ("names_dates.ris", 8, "DOI", "10.1371/journal.pone.0215341"),
        ("names_dates.ris", 8, "URL", "https://www.scopus.com/inward/record.uri?eid=2-s2.0-1"),
        ("names_dates.ris", 8, "tags",
         [{"name": n, "kind": "keyword"} for n in ("single", "semicolon", "list")]),
        # One keyword line with commas is a list (Zotero's guess); Reference Manager's PM: in UR.
        ("names_dates.ris", 9, "tags", [{"name": n, "kind": "keyword"} for n in ("alpha", "beta", "gamma")]),
        ("names_dates.ris", 9, "PMID", "12345678"),
        ("names_dates.ris", 9, "URL", None),
    ],
)
def test_fixture_fields(name, index, path, expected):
    records = records_of(RIS_FIXTURES / name)
    assert value_at(records[index], path) == expected


def test_record_types_as_zotero_maps_them():
    expected = {
        "JOUR": "article-journal", "JFULL": "article-journal", "MGZN": "article-magazine",
        "NEWS": "article-newspaper", "BOOK": "book", "CHAP": "chapter", "EBOOK": "book",
        "ECHAP": "chapter", "CONF": "paper-conference", "CPAPER": "paper-conference",
        "THES": "thesis", "RPRT": "report", "ELEC": "webpage", "WEB": "webpage",
        "GEN": "article-journal", "UNPB": "article-journal", "PAT": "patent", "DATA": "dataset",
        "COMP": "software", "Journal Article": "article-journal", "Book Section": "chapter",
        "Conference Proceedings": "paper-conference", "Thesis": "thesis",
    }
    records = records_of(RIS_FIXTURES / "types.ris")
    got = {r["title"].split(" of type ", 1)[1]: r["type"] for r in records}
    assert got == expected
    assert [r["source_key"] for r in records] == [str(n) for n in range(1, len(expected) + 1)]


@pytest.mark.parametrize(
    "ris_type, field, expected",
    [
        # Zotero's quirk, copied: the abbreviation becomes the container of these types...
        ("CHAP", "container-title", "Abbrev"),
        ("BLOG", "container-title", "Abbrev"),
        ("DICT", "container-title", "Abbrev"),
        ("ENCYC", "container-title", "Abbrev"),
        ("ELEC", "container-title", "Abbrev"),
        # ...and the short title the title of these.
        ("CASE", "title", "Short"),
        ("STAT", "title", "Short"),
        # Other types keep T2 and TI.
        ("JOUR", "container-title", "Container"),
        ("MGZN", "container-title", "Container"),
        ("CONF", "title", "Full title"),
        ("RPRT", "title", "Full title"),
        ("JOUR", "title", "Full title"),
    ],
)
def test_abbreviation_and_short_title_win_where_zotero_lets_them(ris_type, field, expected):
    text = f"TY  - {ris_type}\nTI  - Full title\nST  - Short\nT2  - Container\nJ2  - Abbrev\nER  - \n"
    (record,) = records_from(text)
    assert record[field] == expected


@pytest.mark.parametrize(
    "ris_date, zotero_date",
    [
        ("2019//", "2019"),
        ("1948/07//", "1948-07"),
        ("2017/03/05/", "2017-03-05"),
        ("2017///Spring", "2017"),
        ("1990/2/27", "1990-02-27"),
        ("2014/06/01", "2014-06-01"),
        ("0000", ""),
        ("May", "0000 May"),
        ("Jan-Feb", "0000 Jan"),
        ("March 5, 2011", "March 5, 2011"),
    ],
)
def test_ris_dates(ris_date, zotero_date):
    assert ris.ris_date(ris_date) == zotero_date


def test_a_month_without_any_year_is_no_date():
    [record] = records_from("TY  - JOUR\nTI  - Undated\nDA  - May\nER  - \n")
    assert "issued" not in record


@pytest.mark.parametrize(
    "written, person",
    [
        ("Light, Janice", {"family": "Light", "given": "Janice"}),
        ("Shannon,Claude E.", {"family": "Shannon", "given": "Claude E."}),
        ("KONING, A. P. JASON de", {"family": "KONING", "given": "A. P. JASON de"}),
        ("Smith JA", {"family": "Smith", "given": "J. A."}),
        ("van der Berg H", {"family": "van der Berg", "given": "H."}),
        ("Consortium for Genomics", {"literal": "Consortium for Genomics"}),
        ("Plato", {"literal": "Plato"}),
        ("Smith, John, III", {"family": "Smith", "given": "John", "suffix": "III"}),
        ("  ", None),
    ],
)
def test_names(written, person):
    assert ris.parse_name(written) == person


@pytest.mark.parametrize(
    "short, full, expected",
    [
        ("Scand J Respir Dis Suppl", "Scandinavian journal of respiratory diseases. Supplementum", True),
        ("J Natl Cancer Inst", "Journal of the National Cancer Institute", True),
        ("Orthop. J. Sports Med.", "Orthopaedic Journal of Sports Medicine", True),
        ("Secondary Title", "Periodical Title", False),
        ("Journal", "Periodical Title", False),
        ("Nature", "Nature", False),
    ],
)
def test_abbreviations(short, full, expected):
    assert ris.abbreviates(short, full) is expected


@pytest.mark.parametrize(
    "head, expected",
    [
        ("TY  - JOUR\nTI  - x\n", True),
        ("\ufeffTY  - JOUR\n", True),
        ("TY - JOUR\nAU - x\n", True),  # one space before the dash, as Zotero allows
        ("Record #1 of 2\nProvider: x\nContent: text/plain\n1.\nTY  - JOUR\n", True),
        ("\n\nTY  - JOUR\n", True),
        ("PMID- 123\nTI  - A MEDLINE record\n", False),
        ("FN Clarivate Analytics Web of Science\nVR 1.0\nPT J\n", False),
        ("@article{x, title={TY  - JOUR}}\n", False),
        ("TY  -\n", False),
    ],
)
def test_sniff(head, expected):
    assert ris.sniff(head) is expected


# ---------------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize(
    "name, location, words",
    [
        ("bad_missing_er.ris", "record 2 (line 5)",
         "no 'ER  - ' line before the next record starts at line 8"),
        ("bad_unterminated.ris", "record 2 (line 5)", "the file ends inside it"),
        ("bad_tag_outside.ris", "line 4, after record 1", "'AU  - Stray, Author' is outside any record"),
    ],
)
def test_bad_records_are_errors_naming_file_record_and_line(name, location, words):
    with pytest.raises(ParseError) as caught:
        records_of(RIS_FIXTURES / name)
    error = caught.value
    assert error.path.endswith(name)
    assert error.location == location
    assert words in error.message


@pytest.mark.parametrize(
    "name, titles",
    [
        ("bad_missing_er.ris", ["First", "Third"]),
        ("bad_unterminated.ris", ["First"]),
        ("bad_tag_outside.ris", ["First", "Second"]),
    ],
)
def test_skip_bad_keeps_the_good_records_and_collects_errors(name, titles):
    stream = ris.parse(RIS_FIXTURES / name, skip_bad=True)
    assert [record["title"] for record in stream] == titles
    assert len(stream.errors) == 1 and isinstance(stream.errors[0], ParseError)
    mine: list = []
    assert len(list(ris.parse(RIS_FIXTURES / name, skip_bad=True, errors=mine))) == len(titles)
    assert mine and str(mine[0]) == str(stream.errors[0])


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "empty file"),
        ("PMID- 123\nOWN - NLM\nTI  - A MEDLINE record\n", "MEDLINE"),
        ("just some text\nand more\n", "no RIS record found"),
    ],
)
def test_text_that_is_not_ris(text, words):
    with pytest.raises(ParseError) as caught:
        records_from(text)
    assert words in caught.value.message


def test_bad_utf8_is_a_parse_error(tmp_path):
    path = tmp_path / "latin1.ris"
    path.write_bytes("TY  - JOUR\nTI  - Caf\u00e9\nER  - \n".encode("latin-1"))
    with pytest.raises(ParseError) as caught:
        records_of(path)
    assert "latin1.ris" in str(caught.value) and "line 2" in str(caught.value)


# ---------------------------------------------------------------------------------------------
# Zotero's own import cases (../shared/corpus/zotero-translators/ris.json)


def zotero_case(corpus, number):
    cases = json.loads((corpus / "zotero-translators" / "ris.json").read_text(encoding="utf-8"))
    return records_from(cases[number]["input"]), cases[number]["items"]


@pytest.mark.parametrize(
    "case, index, path, expected",
    [
        # A title wrapped onto an untagged line; JO alone is the journal; SP + EP.
        (0, 0, "title", "Blood-brain barrier breach following cortical contusion in the rat"),
        (0, 0, "container-title", "J.Neurosurg."),
        (0, 0, "page", "476-481"),
        (0, 0, "author.4", {"family": "Scheff", "given": "S.W."}),
        (0, 0, "issued.date-parts.0", [1996]),
        # A patent: inventors are its authors, A2 its issuing authority.
        (1, 0, "type", "patent"),
        (1, 0, "author.1", {"family": "Goldstein", "given": "A.S."}),
        (1, 0, "issued.date-parts.0", [1990, 2, 27]),
        (1, 0, "authority", "Epitope,I."),
        # EndNote's export of every reference type with its field names as values.
        (2, 6, "type", "book"),
        (2, 6, "collection-title", "Series Title"),
        (2, 29, "container-title", "Journal"),
        (2, 29, "container-title-short", "Periodical Title"),
        (2, 39, "type", "patent"),
        (2, 45, "genre", "Thesis Type"),
        (2, 45, "publisher", "University"),
        # `TY - JOUR` with one space; the DOI in N1 stays a note, the dx.doi.org link gives the DOI.
        (3, 0, "type", "article-journal"),
        (3, 0, "author.3", {"family": "KONING", "given": "A. P. JASON de"}),
        (3, 0, "container-title", "Molecular Ecology Resources"),
        (3, 0, "DOI", "10.1111/j.1755-0998.2009.02750.x"),
        # ProCite: fields written as "N1  - Label: value" notes.
        (4, 0, "container-title", "Code"),
        (4, 0, "number", "Bill/Res Number"),
        (4, 0, "notes", [{"content": "Notes", "key": None}]),
        (4, 3, "edition", "Edition"),
        (4, 3, "volume", "Volume ID"),
        (4, 10, "container-title", "Proceedings Title"),
        # DA wins over Y1 and PY; T2 over JF; JO is the abbreviation.
        (5, 0, "issued.date-parts.0", [2014, 6, 1]),
        (5, 0, "container-title", "Augmentative and Alternative Communication"),
        (5, 0, "container-title-short", "Augment Altern Commun"),
        (5, 0, "page", "99-105"),
        (5, 0, "DOI", "10.3109/07434618.2014.906498"),
        # A book: T2 is its series; Citavi's first H1/H2 pair is its catalogue and call number.
        (6, 0, "collection-title", "Bibliothek des Eigentums"),
        (6, 0, "ISBN", "9783642002304"),
        (6, 0, "call-number", "300 QN 100 D419"),
        (6, 0, "source", "UB Mannheim"),
        # The deprecated Y1 loses to DA even when it comes first.
        (7, 0, "issued.date-parts.0", [1950, 1, 1]),
        # A1 and AU together keep their order.
        (8, 0, "author", [{"family": f, "given": g} for f, g in (
            ("Georgiev", "Danko"), ("Bello", "Leon"), ("Carmi", "Avishy"), ("Cohen", "Eliahu"))]),
        # Scopus: two notes; a record with no title and year 0000 has no date.
        (9, 0, "notes", [{"content": "Cited By :10", "key": None},
                         {"content": "Export Date: 13 July 2022", "key": None}]),
        (9, 1, "issued", None),
        (9, 1, "title", None),
        (10, 0, "type", "dataset"),
        (10, 0, "DOI", "10.17910/b7.1322"),
        (11, 0, "call-number", "Call Number"),
        (11, 0, "tags", [{"name": "Tag", "kind": "keyword"}]),
    ],
)
def test_zotero_cases(corpus, case, index, path, expected):
    records, _ = zotero_case(corpus, case)
    assert value_at(records[index], path) == expected


def test_procite_book_volume_is_its_edition_once_the_file_is_known_to_be_procite():
    text = (
        "TY  - JOUR\nN1  - Record ID: 1\nT1  - An article\nVL  - 12\nER  - \n\n"
        "TY  - BOOK\nN1  - Record ID: 2\nT1  - A book\nVL  - 2nd ed.\nER  - \n"
    )
    article, book = records_from(text)
    assert article["volume"] == "12" and book["edition"] == "2nd ed." and "volume" not in book
    assert [article["source_key"], book["source_key"]] == ["1", "2"]
    [plain_book] = records_from("TY  - BOOK\nT1  - A book\nVL  - 3\nER  - \n")
    assert plain_book["volume"] == "3"


@pytest.mark.parametrize(
    "name", ["embase_bom_crlf.ris", "endnote_pubmed.txt", "types.ris", "names_dates.ris"]
)
def test_fixtures_are_detected_as_ris(name):
    assert detect(RIS_FIXTURES / name) == "ris"


@pytest.mark.parametrize("case", range(12))
def test_zotero_cases_give_as_many_records_and_tags(corpus, case):
    records, items = zotero_case(corpus, case)
    assert len(records) == len(items)
    for record, item in zip(records, items):
        assert sorted(t["name"] for t in record.get("tags", [])) == sorted(t["tag"] for t in item["tags"])
        assert len(record.get("notes", [])) == len(item["notes"])
