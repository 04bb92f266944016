"""BibTeX/BibLaTeX parser (ingest.sources.bibtex): tricky inputs, fixtures, Zotero's cases, bad input."""

from __future__ import annotations

import io
import json
import random

import pytest

from ingest.records import ParseError
from ingest.sources import bibtex, detect

from conftest import FIXTURES

BIB = FIXTURES / "bibtex"


def parse_text(text: str, **options):
    return list(bibtex.parse(io.BytesIO(text.encode("utf-8")), **options))


def one(text: str) -> dict:
    (record,) = parse_text(text)
    return record


# --- tricky inputs, one field at a time ------------------------------------------------------------

TRICKY = [
    # @string macros, concatenation, month macros
    ('@string{jcl = "J Clin Oncol"}\n@article{k, journal = jcl, title = {T}}', "container-title", "J Clin Oncol"),
    ('@string{a = "Part"}\n@article{k, title = a # " one" # { and two}}', "title", "Part one and two"),
    ('@string{b = "Base"}\n@string{c = b # " plus"}\n@article{k, title = c}', "title", "Base plus"),
    ("@article{k, title = {T}, year = 2001, month = mar}", "issued", {"date-parts": [[2001, 3]]}),
    ("@article{k, title = {T}, year = 2001, month = {December}}", "issued", {"date-parts": [[2001, 12]]}),
    ('@article{k, title = {T}, year = 2001, month = jul # "~4"}', "issued", {"date-parts": [[2001, 7, 4]]}),
    ("@article{k, title = {T}, year = 2021, month = jun, day = 18}", "issued", {"date-parts": [[2021, 6, 18]]}),
    ("@article{k, title = {T}, year = {in press}}", "issued", {"literal": "in press"}),
    ("@article{k, title = {T}, year = {2010a}}", "issued", {"date-parts": [[2010]]}),
    # BibLaTeX dates (EDTF)
    ("@article{k, title = {T}, date = {2010-03}}", "issued", {"date-parts": [[2010, 3]]}),
    ("@article{k, title = {T}, date = {2010/2011}}", "issued", {"date-parts": [[2010], [2011]]}),
    ("@article{k, title = {T}, date = {2010-03-05/2010-03-07}}", "issued",
     {"date-parts": [[2010, 3, 5], [2010, 3, 7]]}),
    ("@article{k, title = {T}, date = {2010/..}}", "issued", {"date-parts": [[2010]]}),
    ("@article{k, title = {T}, date = {2010-22}}", "issued", {"date-parts": [[2010]], "season": 2}),
    ("@article{k, title = {T}, date = {1999~}}", "issued", {"date-parts": [[1999]], "circa": True}),
    ("@article{k, title = {T}, date = {2012}, year = {1999}}", "issued", {"date-parts": [[2012]]}),
    ("@online{k, title = {T}, urldate = {2024-01-05}}", "accessed", {"date-parts": [[2024, 1, 5]]}),
    # titles: subtitle, casing braces, LaTeX, markup, math
    ("@article{k, title = {Main}, subtitle = {Sub}}", "title", "Main: Sub"),
    ("@article{k, title = {Main?}, subtitle = {Sub}}", "title", "Main? Sub"),
    ("@article{k, title = {The {HER2} Story of {DNA}}}", "title", "The HER2 Story of DNA"),
    ("@article{k, title = {Ca\\~{n}ada, {\\\"u}ber, \\'{e}t\\'e, {\\ss}, \\o, \\c{c}, \\v{s}, {\\aa}}}", "title",
     "Cañada, über, été, ß, ø, ç, š, å"),
    ("@article{k, title = {Salt \\& Pepper --- a \\textit{vivo} \\textbf{bold} \\emph{it}}}", "title",
     "Salt & Pepper — a <i>vivo</i> <b>bold</b> <i>it</i>"),
    ("@article{k, title = {\\textsc{Caps}}}", "title", '<span style="font-variant:small-caps;">Caps</span>'),
    ("@article{k, title = {H$_2$O and CO$_{2}$ at 10$^{-3}$ and 4$^{\\textrm{th}}$}}", "title",
     "H₂O and CO₂ at 10⁻³ and 4<sup>th</sup>"),
    ("@article{k, title = {$\\alpha$-synuclein}}", "title", "α-synuclein"),
    ("@article{k, title = {A\ttitle\n  wrapped   over lines}}", "title", "A title wrapped over lines"),
    ("@article{k, title = {``Quoted'' text}}", "title", "\u201cQuoted\u201d text"),
    # % is a percent sign and an unpaired $ a dollar sign in a .bib field, not LaTeX syntax
    ("@article{k, title = {T}, abstract = {Up 50% (P<0.01); cost $12.}}", "abstract",
     "Up 50% (P<0.01); cost $12."),
    ("@article{k, title = {50\\% of \\#1 in a\\_b}}", "title", "50% of #1 in a_b"),
    ("@article{k, title = {Tom & Jerry}}", "title", "Tom & Jerry"),
    # pages
    ("@article{k, title = {T}, pages = {493--518}}", "page", "493–518"),
    ("@article{k, title = {T}, pages = {71-80}}", "page", "71-80"),
    ("@article{k, title = {T}, pages = {e1234}}", "page", "e1234"),
    ("@book{k, title = {T}, pages = {350}}", "number-of-pages", "350"),
    # containers
    ("@article{k, title = {T}, journaltitle = {Journal of Things}, shortjournal = {J Things}}",
     "container-title-short", "J Things"),
    ("@article{k, title = {T}, journal = {Adv. Math.}, fjournal = {Advances in Mathematics}}",
     "container-title", "Advances in Mathematics"),
    ("@article{k, title = {T}, journal = {Adv. Math.}, fjournal = {Advances in Mathematics}}",
     "container-title-short", "Adv. Math."),
    ("@inproceedings{k, title = {T}, booktitle = {Proc. of X}}", "container-title", "Proc. of X"),
    ("@article{k, title = {T}, journal = {Oil \\& Gas Journal}}", "container-title", "Oil & Gas Journal"),
    # identifiers
    ("@article{k, title = {T}, doi = {10.1000/ABC.123}}", "DOI", "10.1000/abc.123"),
    ("@article{k, title = {T}, url = {https://doi.org/10.1056/NEJMoa1}}", "DOI", "10.1056/nejmoa1"),
    ("@article{k, title = {T}, url = {https://example.org/a\\_b%20c}}", "URL", "https://example.org/a_b%20c"),
    ("@article{k, title = {T}, url = {\\url{https://example.org/x}}}", "URL", "https://example.org/x"),
    ("@article{k, title = {T}, pmid = {12345678}}", "PMID", "12345678"),
    ("@article{k, title = {T}, eprint = {12345678}, eprinttype = {pubmed}}", "PMID", "12345678"),
    ("@article{k, title = {T}, pmcid = {PMC123}}", "PMCID", "PMC123"),
    ("@article{k, title = {T}, note = {{PMID:} 23439512}}", "PMID", "23439512"),
    ("@article{k, title = {T}, eprint = {12345678}, eprinttype = {pmid}}", "PMID", "12345678"),
    ("@article{k, title = {T}, eprint = {arXiv:2101.00001}, archiveprefix = {arXiv}}", "note", "arXiv: 2101.00001"),
    # NASA ADS exports: AAS journal macros, {Family} braces
    ("@article{k, title = {T}, journal = {\\mnras}}", "container-title", "Monthly Notices of the Royal Astronomical Society"),
    ("@article{k, title = {T}, author = {{van der Berg}, A.}}", "author", [{"family": "van der Berg", "given": "A."}]),
    ("@article{k, title = {T}, issn = {0732183x}}", "ISSN", ["0732-183X"]),
    ("@book{k, title = {T}, isbn = {978-0-19-852663-6}}", "ISBN", "978-0-19-852663-6"),
    # other fields
    ("@book{k, title = {T}, address = {New York}, publisher = {Dover}}", "publisher-place", "New York"),
    ("@book{k, title = {T}, location = {Berlin}}", "publisher-place", "Berlin"),
    ("@inproceedings{k, title = {T}, location = {San Jose}, address = {New York}}", "event-place", "San Jose"),
    ("@book{k, title = {T}, series = {Lecture Notes}, number = {12}}", "collection-title", "Lecture Notes"),
    ("@book{k, title = {T}, series = {Lecture Notes}, number = {12}}", "collection-number", "12"),
    ("@techreport{k, title = {T}, number = {TR-7}, institution = {MIT}}", "number", "TR-7"),
    ("@techreport{k, title = {T}, number = {TR-7}, institution = {MIT}}", "publisher", "MIT"),
    ("@article{k, title = {T}, number = {4}}", "issue", "4"),
    ("@article{k, title = {T}, issue = {Spring}}", "issue", "Spring"),
    ("@phdthesis{k, title = {T}, school = {Univ}}", "genre", "PhD Thesis"),
    ("@thesis{k, title = {T}, type = {mathesis}}", "genre", "Master's Thesis"),
    ("@book{k, title = {T}, edition = {2}}", "edition", "2"),
    ("@article{k, title = {T}, langid = {german}}", "language", "german"),
    ("@article{k, title = {T}, language = {eng}, langid = {english}}", "language", "eng"),
    ("@article{k, title = {T}, abstract = {An {abstract}.}}", "abstract", "An abstract."),
    ("@misc{k, title = {T}, howpublished = {Blog post}}", "note", "Published: Blog post"),
    ("@misc{k, title = {T}, howpublished = {\\url{http://example.org/p}}}", "URL", "http://example.org/p"),
    ("@article{k, title = {T}, note = {Accepted}}", "notes", [{"content": "Accepted", "key": None}]),
    ("@article{k, title = {T}, annote = {Read it}}", "notes", [{"content": "Read it", "key": None}]),
    ("@article{k, title = {T}, keywords = {a;b , c}}", "tags",
     [{"name": "a", "kind": "keyword"}, {"name": "b", "kind": "keyword"}, {"name": "c", "kind": "keyword"}]),
    ("@article{k, title = {T}, keywords = {M{\\\"u}ller cells, {\\ss}}}", "tags",
     [{"name": "Müller cells", "kind": "keyword"}, {"name": "ß", "kind": "keyword"}]),
    ("@article{Key:2001/x, title = {T}}", "cite_key", "Key:2001/x"),
    ("@article{Key:2001/x, title = {T}}", "source_key", "Key:2001/x"),
    ("@article(paren, title = {T}, year = 2000)", "issued", {"date-parts": [[2000]]}),
    ("@ARTICLE{k, TITLE = {Upper}, YeAr = 1999}", "title", "Upper"),
]


@pytest.mark.parametrize("text, field, expected", TRICKY)
def test_tricky_field(text, field, expected):
    assert one(text).get(field) == expected


NAMES = [
    ("{Smith, John}", {"literal": "Smith, John"}),  # one braced token: a literal
    ("Smith, John", {"family": "Smith", "given": "John"}),
    ("John Smith", {"family": "Smith", "given": "John"}),
    ("von Hicks, III, Michael", {"family": "von Hicks", "given": "Michael, III"}),
    ("Knuth, Jr., Donald E.", {"family": "Knuth", "given": "Donald E., Jr."}),
    ("Ludwig van Beethoven", {"family": "van Beethoven", "given": "Ludwig"}),
    ("Jean de la Fontaine", {"family": "de la Fontaine", "given": "Jean"}),
    ("de Azambuja, Evandro", {"family": "de Azambuja", "given": "Evandro"}),
    ("Milton {Abramowitz}", {"family": "Abramowitz", "given": "Milton"}),
    ("{World Health Organization}", {"literal": "World Health Organization"}),
    ("{Barnes and Noble}", {"literal": "Barnes and Noble"}),
    ("Aristotle", {"literal": "Aristotle"}),
    ("P\\\"{a}ckert, M.", {"family": "Päckert", "given": "M."}),
    ("{\\\"O}nnud{\\'o}ttir, Eva H.", {"family": "Önnudóttir", "given": "Eva H."}),
    ("He{\\ss}, Moritz", {"family": "Heß", "given": "Moritz"}),
    ("Dvo{\\v{r}}{\\'a}k, Anton{\\'\\i}n", {"family": "Dvořák", "given": "Antonín"}),
    ("{\\O}stergaard, S{\\o}ren", {"family": "Østergaard", "given": "Søren"}),
    ("J.~R.~R. Tolkien", {"family": "Tolkien", "given": "J. R. R."}),
    # An unbraced organisation: lowercase words that are no particle do not make a family name.
    ("American Rights at Work", {"family": "Work", "given": "American Rights at"}),
]


@pytest.mark.parametrize("written, expected", NAMES)
def test_names(written, expected):
    record = one(f"@article{{k, title = {{T}}, author = {{{written}}}}}")
    assert record["author"] == [expected]


def test_and_others_adds_no_person():
    record = one("@article{k, title = {T}, author = {Doe, J. and Roe, R. and others}}")
    assert record["author"] == [{"family": "Doe", "given": "J."}, {"family": "Roe", "given": "R."}]


def test_editors_translators_and_corporate_authors_in_one_list():
    record = one(
        "@book{k, title = {T}, author = {Smith, A. and {Cochrane Collaboration} AND Jones, B.},"
        " editor = {Roe, R.}, translator = {Poe, P.}}"
    )
    assert record["author"] == [
        {"family": "Smith", "given": "A."}, {"literal": "Cochrane Collaboration"}, {"family": "Jones", "given": "B."},
    ]
    assert record["editor"] == [{"family": "Roe", "given": "R."}]
    assert record["translator"] == [{"family": "Poe", "given": "P."}]


# --- entry types -------------------------------------------------------------------------------

TYPES = [
    ("article", "article-journal"), ("inproceedings", "paper-conference"), ("conference", "paper-conference"),
    ("incollection", "chapter"), ("inbook", "chapter"), ("book", "book"), ("proceedings", "book"),
    ("phdthesis", "thesis"), ("mastersthesis", "thesis"), ("thesis", "thesis"), ("techreport", "report"),
    ("report", "report"), ("misc", "document"), ("online", "webpage"), ("electronic", "webpage"),
    ("www", "webpage"), ("unpublished", "manuscript"), ("patent", "patent"), ("software", "software"),
    ("dataset", "dataset"), ("inreference", "entry-encyclopedia"), ("booklet", "book"),
    ("somethingnew", "document"),
]


@pytest.mark.parametrize("entry_type, csl_type", TYPES)
def test_entry_types(entry_type, csl_type):
    assert one(f"@{entry_type}{{k, title = {{T}}}}")["type"] == csl_type


def test_article_entrysubtype_magazine():
    assert one("@article{k, title = {T}, entrysubtype = {magazine}}")["type"] == "article-magazine"


def test_comments_preambles_strings_sets_and_xdata_are_not_works():
    records = parse_text(
        "Free text before the first entry is a comment.\n"
        "@comment{@article{hidden, title = {Not a work}}}\n"
        '@preamble{"\\newcommand{\\noop}[1]{}"}\n'
        '@string{x = "y"}\n'
        "@set{s, entryset = {a,b}}\n"
        "@xdata{d, publisher = {P}}\n"
        "@article{a, title = {A}, xdata = {d}}\n"
        "@article{b, title = {B}}\n"
    )
    assert [r["cite_key"] for r in records] == ["a", "b"]
    assert records[0]["publisher"] == "P"


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def biblatex():
    return {r["cite_key"]: r for r in bibtex.parse(BIB / "biblatex.bib")}


@pytest.fixture(scope="module")
def classic():
    return {r["cite_key"]: r for r in bibtex.parse(BIB / "classic.bib")}


def test_biblatex_article(biblatex):
    r = biblatex["vonminckwitz2017"]
    assert r["title"] == "Adjuvant Pertuzumab and Trastuzumab in Early HER2-Positive Breast Cancer: The APHINITY Trial"
    assert r["container-title"] == "Journal of Clinical Oncology"  # @string macro
    assert r["container-title-short"] == "J Clin Oncol"
    assert r["issued"] == {"date-parts": [[2017, 7, 13]]}
    assert r["author"][0] == {"family": "von Minckwitz", "given": "Gunter"}
    assert len(r["author"]) == 4  # "and others" is not a person
    assert (r["DOI"], r["PMID"], r["page"], r["language"]) == ("10.1056/nejmoa1703643", "28581356", "122–131", "english")
    assert [t["name"] for t in r["tags"]] == ["breast cancer", "HER2", "pertuzumab"]


def test_biblatex_corporate_author_from_macro_and_date_range(biblatex):
    r = biblatex["who2019"]
    assert r["author"] == [{"literal": "World Health Organization"}]
    assert r["issued"] == {"date-parts": [[2019], [2020]]}
    assert (r["type"], r["number"], r["publisher-place"]) == ("report", "WHO/CDS/TB/2019.15", "Geneva")


def test_crossref_inheritance(biblatex):
    child = biblatex["kulis2010"]
    assert child["container-title"] == "Proceedings of the 27th International Conference on Machine Learning"
    assert child["editor"] == [{"family": "Fürnkranz", "given": "Johannes"}, {"family": "Joachims", "given": "Thorsten"}]
    assert child["issued"] == {"date-parts": [[2010, 6]]}
    assert child["publisher"] == "Omnipress"
    assert child["title"] == "Revisiting k-means: New Algorithms via Bayesian Nonparametrics"  # its own title
    parent = biblatex["icml2010"]
    assert parent["type"] == "book" and "container-title" not in parent
    assert "kulis-set" not in biblatex


def test_xdata_and_circa(biblatex):
    r = biblatex["mvbook-child"]
    assert (r["publisher"], r["publisher-place"]) == ("Springer", "Berlin and Heidelberg")
    assert r["issued"] == {"date-parts": [[1999]], "circa": True}
    assert r["title"] == "Große Werke"
    assert r["translator"] == [{"family": "Smith", "given": "Jane"}]


def test_online_entry(biblatex):
    r = biblatex["ctan"]
    assert r["type"] == "webpage"
    assert r["title"] == "CTAN: The Comprehensive TeX Archive Network"
    assert r["URL"] == "https://www.ctan.org/pkg/biblatex_x%20y"
    assert r["issued"] == {"date-parts": [[2006]]}


def test_classic_concatenation_and_others(classic):
    r = classic["Slamon2001"]
    assert [a["family"] for a in r["author"]] == ["Slamon", "Leyland-Jones", "Shak"]
    assert r["container-title"] == "New England Journal of Medicine"
    assert r["issued"] == {"date-parts": [[2001, 3, 15]]}
    assert r["PMID"] == "11248153" and "notes" not in r
    assert r["abstract"].endswith("by 50% (P<0.001); costs were $12,000 per patient.")


def test_classic_names_and_latex(classic):
    r = classic["knuth-names"]
    assert r["title"] == "Names & <i>Accents</i> — a Test: ß, ç, š, å, ł"
    assert [name.get("family") or name.get("literal") for name in r["author"]] == [
        "Knuth", "de la Fontaine", "Zola", "van Beethoven", "World Health Organization", "Barnes and Noble",
        "Müller-Lüdenscheidt", "Østergaard", "Schönberg", "Dvořák",
    ]
    assert r["author"][2] == {"family": "Zola", "given": "Émile"}
    assert r["editor"] == [{"family": "Dürer", "given": "Albrecht"}]
    assert (r["container-title"], r["collection-title"], r["chapter-number"]) == ("The Art of Names", "Studies in LaTeX", "3")


def test_missing_comma_between_fields_is_read(classic):
    r = classic["missing-comma"]
    assert (r["title"], r["issued"], r["URL"]) == ("Fields run together", {"date-parts": [[2005]]}, "http://example.org/page")


def test_repeated_field_first_wins_and_keywords_join(classic):
    r = classic["repeated"]
    assert r["title"] == "First Title Wins"
    assert [t["name"] for t in r["tags"]] == ["alpha", "beta", "gamma"]
    assert (r["genre"], r["number"]) == ("Working Paper", "42")


def test_sniff_and_detect():
    assert bibtex.sniff("% comment\n@article{key,\n title={x}}")
    assert bibtex.sniff("  @Book (key, title = {x})")
    assert not bibtex.sniff("TY  - JOUR\nTI  - x\nER  - \n")
    assert not bibtex.sniff("write to me@example.org{not an entry}")
    assert not bibtex.sniff("<html><pre>\n@article{key, title={x}}\n</pre></html>")
    assert detect(BIB / "classic.bib") == "bibtex"


# --- Zotero's own cases -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def zotero_cases():
    from conftest import need_corpus

    return json.loads((need_corpus() / "zotero-translators" / "bibtex.json").read_text(encoding="utf-8"))


def case_records(cases, index):
    return parse_text(cases[index]["input"])


def test_zotero_case_corporate_authors_keywords_and_pmid_note(zotero_cases):
    (r,) = case_records(zotero_cases, 10)
    assert r["author"][15] == {"literal": "American Heart Association Council on Quality of Care and Outcomes Research"}
    assert r["author"][18] == {"literal": "Council on Clinical Cardiology"}
    assert len(r["author"]) == 20
    assert r["issued"] == {"date-parts": [[2013, 3]]}
    assert (r["PMID"], r["ISSN"], r["page"], r["issue"]) == ("23439512", ["1524-4539"], "1342–1350", "12")
    assert r["title-short"].startswith("Increasing cardiopulmonary resuscitation provision")
    assert len(r["tags"]) == 10 and r["tags"][0] == {"name": "Administrative Personnel", "kind": "keyword"}


def test_zotero_case_strings_and_electronic(zotero_cases):
    (r,) = case_records(zotero_cases, 17)
    assert r["type"] == "webpage"
    assert r["URL"] == "https://www.zotero.org/"
    assert r["author"] == [{"family": "Scholarship", "given": "Corporation for Digital"}]


def test_zotero_case_accents_and_fjournal(zotero_cases):
    first, second = case_records(zotero_cases, 15)
    assert first["author"][1] == {"family": "Heß", "given": "Moritz"}
    assert first["container-title"] == "Zeitschrift für Soziologie : ZfS"
    assert first["publisher"] == "Lucius & Lucius"
    assert second["title"] == "Higher-order Erdős-Szekeres theorems"
    assert second["author"] == [{"family": "Eliáš", "given": "Marek"}, {"family": "Matoušek", "given": "Jiří"}]
    assert (second["container-title"], second["container-title-short"]) == ("Advances in Mathematics", "Adv. Math.")
    assert second["note"] == "MR: 3077863"


def test_zotero_case_markup_and_math(zotero_cases):
    (r,) = case_records(zotero_cases, 6)
    assert "Mitochondrial DNA₂ sequences" in r["title"]
    assert "(<i>Natrix cetti</i>) and <b>do not</b> support" in r["title"]
    assert r["container-title"] == "Actes du 4<sup>ème</sup> Congrès Français d'Acoustique"
    (r,) = case_records(zotero_cases, 22)
    assert r["title"] == "Production of Σ⁰ Hyperon and Search of Σ⁰ Hypernuclei at LHC with ALICE"


def test_zotero_case_crossref_parent_fills_child(zotero_cases):
    child, parent = case_records(zotero_cases, 2)
    assert child["type"] == "paper-conference" and parent["type"] == "book"
    assert child["container-title"] == parent["title"] == "Proceedings of the Xth Conference on XYZ"
    assert child["issued"] == parent["issued"] == {"date-parts": [[2006, 10]]}
    assert child["page"] == "330—331"


def test_zotero_case_jr_and_von(zotero_cases):
    (r,) = case_records(zotero_cases, 3)
    assert r["author"] == [{"family": "von Hicks", "given": "Michael, III"}]
    assert (r["ISBN"], r["edition"], r["publisher-place"]) == ("0-69-697269-4", "1st,", "Palo Alto")


def test_zotero_case_identifiers(zotero_cases):
    (article,) = case_records(zotero_cases, 11)
    (chapter,) = case_records(zotero_cases, 12)
    for r in (article, chapter):
        assert r["DOI"] == "10.12345/123456"
        assert r["PMCID"] == "PMC123456"
        # "P123456" is no PMID: kept where Zotero keeps it (Extra, CSL's note), not invented into one.
        assert "PMID" not in r
        assert r["note"].split("\n") == ["LCCN: L123456", "MR: MR123456", "Zbl: ZM123456", "PMID: P123456", "arXiv: AX123456"]
    assert chapter["type"] == "chapter"


def test_zotero_case_missing_comma_recovered(zotero_cases):
    records = case_records(zotero_cases, 8)
    assert len(records) == 7
    assert records[5]["title"] == "Mendeley: escaped characters"


def test_zotero_case_thesis_and_report(zotero_cases):
    masters, phd = case_records(zotero_cases, 13)
    assert (masters["genre"], masters["publisher"]) == ("Master's Thesis", "Diplomarbeit, Universität Trier, FB IV, DBIS/DBLP")
    assert phd["genre"] == "PhD Thesis"
    (report,) = case_records(zotero_cases, 20)
    assert (report["type"], report["number"], report["genre"]) == ("report", "draft-ietf-bmwg-evpntest-09", "Internet-Draft")
    assert report["issued"] == {"date-parts": [[2021, 6, 18]]}
    assert report["notes"] == [{"content": "Work in Progress", "key": None}]


def test_zotero_case_conference_places(zotero_cases):
    (r,) = case_records(zotero_cases, 14)
    assert (r["publisher-place"], r["event-place"]) == ("New York, NY, USA", "San Jose, California, USA")
    assert r["collection-title"] == "KDD '07"


# --- bad input -------------------------------------------------------------------------------

BAD = [
    ("unbalanced.bib", "line 6", "'broken'"),
    ("extra_brace.bib", "line 1", "'early-close'"),
    ("duplicate_key.bib", "line 6", "already used by the entry on line 1"),
    ("only_bad.bib", "line 1", "'nothing-good'"),
    ("junk.bib", None, "no BibTeX entries"),
]


@pytest.mark.parametrize("name, location, words", BAD)
def test_bad_file_raises_parse_error_naming_file_and_line(name, location, words):
    with pytest.raises(ParseError) as raised:
        list(bibtex.parse(BIB / name))
    error = raised.value
    assert error.path.endswith(name)
    assert error.location == location
    assert words in error.message


@pytest.mark.parametrize(
    "name, good",
    [("unbalanced.bib", ["good1", "good2"]), ("extra_brace.bib", ["fine"]), ("duplicate_key.bib", ["same"])],
)
def test_skip_bad_yields_good_entries_and_lists_errors(name, good):
    collected = []
    records = bibtex.parse(BIB / name, skip_bad=True, errors=collected)
    assert [r["cite_key"] for r in records] == good
    assert len(collected) == 1 and isinstance(collected[0], ParseError)
    assert records.errors is collected


def test_repeated_cite_key_keeps_the_first_entry():
    (record,) = bibtex.parse(BIB / "duplicate_key.bib", skip_bad=True)
    assert record["title"] == "The First One"


def test_skip_bad_still_raises_when_nothing_is_good():
    with pytest.raises(ParseError):
        list(bibtex.parse(BIB / "only_bad.bib", skip_bad=True))


@pytest.mark.parametrize(
    "text, words",
    [
        ("@article{k, title = {T} {U}, year = 2000}", "unexpected text after the value"),
        ("@article{k, title = {An {unmatched brace}}", "unbalanced"),
        ('@article{k, title = "unclosed, year = 2000}\n@book{b, title = {B}}', "'k'"),
    ],
)
def test_invalid_values_are_errors(text, words):
    with pytest.raises(ParseError) as raised:
        parse_text(text)
    assert words in str(raised.value)
    assert raised.value.location == "line 1"


def test_error_is_raised_before_any_record():
    records = bibtex.parse(BIB / "unbalanced.bib")
    with pytest.raises(ParseError):
        next(records)


@pytest.mark.parametrize("text", ["", "   \n\n", "@comment{nothing here}", '@string{a = "b"}'])
def test_files_without_works_yield_nothing(text):
    assert parse_text(text) == []


def test_not_utf8_is_a_parse_error(tmp_path):
    path = tmp_path / "latin1.bib"
    path.write_bytes("@article{k, title = {Caf\u00e9}}".encode("latin-1"))
    with pytest.raises(ParseError) as raised:
        list(bibtex.parse(path))
    assert "UTF-8" in raised.value.message


def test_random_bibtex_like_text_never_crashes():
    pieces = list('@{}()"#=,%$\\~^_ &\n') + [
        "article", "string", "comment", "title", "author", " and ", "year", "2001", "crossref", "date",
        "--", "month", "jan", '\\"', "\\'", "set", "xdata", "others", "{\\ss}", "$^{2}$",
    ]
    rng = random.Random(20240105)
    for _ in range(300):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 60)))
        if rng.random() < 0.5:
            text = "@article{k,\n" + text
        for skip_bad in (False, True):
            try:
                parse_text(text, skip_bad=skip_bad)
            except ParseError:
                pass
