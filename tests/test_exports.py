"""Bibliography exports (plugins/bibliography_exports.py) through datasette.client, with the project's
metadata.yml and plugins/, on the seeds plus tests/fixtures/exports/ (library.json, hostile.json)."""

import asyncio
import importlib.util
import json
import re

import bibtexparser
import pytest
import rispy
import sqlite_utils
import yaml
from datasette.app import Datasette
from datasette.plugins import pm

from ingest.loader import Loader

from conftest import FIXTURES, ROOT, SEEDS

EXPORTS = FIXTURES / "exports"
PAGE = 50  # max_returned_rows in these tests, and the works table's page size in metadata.yml

# A canned query with a work_id column, and one without.
TEST_QUERIES = {
    "works_in_year": {"sql": "select id as work_id, title from works where year = :year order by title"},
}


def load_plugin_module():
    """The plugin's pure functions, from its file (plugins are not a package)."""
    spec = importlib.util.spec_from_file_location("bibliography_exports_under_test",
                                                  ROOT / "plugins" / "bibliography_exports.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


plugin = load_plugin_module()


def build_library(path):
    loader = Loader(sqlite_utils.Database(path))
    for source in sorted(SEEDS.iterdir()) + [EXPORTS / "library.json", EXPORTS / "hostile.json"]:
        if source.is_file() and not source.name.startswith("."):
            loader.load_file(str(source))
    loader.finish()
    return path


def make_datasette(path, plugin_config=None, template_dir=None):
    metadata = yaml.safe_load((ROOT / "metadata.yml").read_text())
    metadata["databases"]["library"].setdefault("queries", {}).update(TEST_QUERIES)
    if plugin_config is not None:
        metadata.setdefault("plugins", {})["bibliography_exports"] = plugin_config
    return Datasette(
        [str(path)], immutables=[], metadata=metadata, plugins_dir=str(ROOT / "plugins"),
        template_dir=str(template_dir or ROOT / "templates"), settings={"max_returned_rows": PAGE},
    )


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    return build_library(tmp_path_factory.mktemp("exports") / "library.db")


@pytest.fixture(scope="module")
def ds(library):
    return make_datasette(library)


@pytest.fixture(scope="module")
def db(library):
    return sqlite_utils.Database(library)


def get(ds, path):
    async def fetch():
        return await ds.client.get(path)
    return asyncio.run(fetch())


def work_id(db, title_start):
    return db.execute("select id from works where title like ? || '%'", [title_start]).fetchone()[0]


def work_count(db, where="1 = 1", params=()):
    return db.execute(f"select count(*) from works where {where}", params).fetchone()[0]


def bib_entries(text):
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks
    return library.entries


# ---- every format, whole table ----------------------------------------------------------------

FORMATS = [
    ("bib", "application/x-bibtex; charset=utf-8"),
    ("ris", "application/x-research-info-systems; charset=utf-8"),
    ("csljson", "application/vnd.citationstyles.csl+json; charset=utf-8"),
    ("txt", "text/plain; charset=utf-8"),
    ("html", "text/html; charset=utf-8"),
]


def count_exported(extension, text):
    if extension == "bib":
        return len(bib_entries(text))
    if extension == "ris":
        return len(rispy.loads(text))
    if extension == "csljson":
        return len(json.loads(text))
    if extension == "txt":
        return len(text.splitlines())
    return text.count('<div class="csl-entry">')


@pytest.mark.parametrize("extension, content_type", FORMATS)
def test_whole_table_exports_every_row_not_one_page(ds, db, extension, content_type):
    total = work_count(db)
    assert total > PAGE
    page = get(ds, "/library/works.json?_shape=objects")
    assert len(page.json()["rows"]) == PAGE  # what Datasette hands the renderer
    response = get(ds, f"/library/works.{extension}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == content_type
    assert response.headers["x-content-type-options"] == "nosniff"
    assert count_exported(extension, response.text) == total


@pytest.mark.parametrize("extension", [f for f, _ in FORMATS])
def test_filters_search_and_facets_select_the_exported_works(ds, db, extension):
    assert count_exported(extension, get(ds, f"/library/works.{extension}?year=1999").text) == 2
    expected = work_count(db, "author_names like '%\"Andre, F.\"%'")
    facet = get(ds, f"/library/works.{extension}?author_names__arraycontains=Andre%2C+F.")
    assert count_exported(extension, facet.text) == expected == 2
    searched = get(ds, f"/library/works.{extension}?_search=nanosilica").text
    assert count_exported(extension, searched) == 1 and "anosilica" in searched


def test_export_from_a_later_page_still_exports_every_row(ds, db):
    first = get(ds, "/library/works.json?_size=10&_sort=title").json()
    assert first["next"]
    response = get(ds, f"/library/works.csljson?_size=10&_sort=title&_next={first['next']}")
    items = response.json()
    assert len(items) == work_count(db)
    titles = [row[0] for row in db.execute("select cite_key from works order by title, id")]
    assert [item["id"] for item in items] == titles  # in the page's sort order


def test_readable_view_row_page_view_and_sql_query(ds, db):
    readable = get(ds, "/library/works_readable.ris?year=2017")
    assert len(rispy.loads(readable.text)) == work_count(db, "year = 2017")
    slamon = work_id(db, "Use of chemotherapy")
    row = get(ds, f"/library/works/{slamon}.bib")
    (entry,) = bib_entries(row.text)
    assert entry.key == db["works"].get(slamon)["cite_key"]
    collection = db.execute("select id from collections where name = 'Top Publications'").fetchone()[0]
    in_collection = work_count(db, "id in (select work_id from collection_works where collection_id = ?)",
                               [collection])
    sql = get(ds, f"/library.csljson?sql=select+work_id+from+collection_works+where+collection_id+%3D+{collection}")
    assert sql.status_code == 200 and len(sql.json()) == in_collection == 9
    view = get(ds, "/library/collection_excerpts.ris")
    assert len(rispy.loads(view.text)) == work_count(
        db, "id in (select work_id from collection_works where context is not null)")
    pair = db.execute("select collection_id, work_id from collection_works limit 1").fetchone()
    compound = get(ds, f"/library/collection_works/{pair[0]},{pair[1]}.csljson")
    assert [item["id"] for item in compound.json()] == [db["works"].get(pair[1])["cite_key"]]


def test_canned_query_with_work_id_exports_all_its_rows(ds, db):
    response = get(ds, "/library/works_in_year.ris?year=2017")
    assert response.status_code == 200
    assert len(rispy.loads(response.text)) == work_count(db, "year = 2017") > PAGE // 2


# ---- what cannot be exported --------------------------------------------------------------------

@pytest.mark.parametrize("path, missing", [
    ("/library/authors.bib", "'work_id'"),
    ("/library/journals.ris", "'work_id'"),
    ("/library/publications_per_year.csljson", "'work_id'"),
    ("/library/citations.txt", "'work_id'"),
    ("/library.bib?sql=select+id+from+works", "'work_id'"),
    ("/library/works.csljson?_col=title", None),  # the primary key stays: still exportable
    ("/library/works_readable.bib?_nocol=id", "'id'"),
])
def test_pages_without_a_work_id_column_answer_400_naming_it(ds, path, missing):
    response = get(ds, path)
    if missing is None:
        assert response.status_code == 200
        return
    assert response.status_code == 400
    assert missing in response.text and "column" in response.text


@pytest.mark.parametrize("style", ["nope", "../../../../etc/passwd", "apa.csl", "APA/../ieee"])
def test_unknown_style_is_400_listing_valid_ones(ds, style):
    response = get(ds, f"/library/works.html?year=1999&_style={style}")
    assert response.status_code == 400
    assert "unknown citation style" in response.text
    assert "apa" in response.text and "vancouver" in response.text and "chicago-author-date" in response.text


def test_links_only_where_works_can_be_exported(ds):
    works_page = get(ds, "/library/works").text
    for extension in ("bib", "ris", "csljson", "txt", "html"):
        assert f'href="/library/works.{extension}' in works_page
    assert 'href="/library/authors.bib' not in get(ds, "/library/authors").text


def test_formatted_bibliography_has_a_size_limit(library):
    limited = make_datasette(library, plugin_config={"max_formatted_works": 5, "default_style": "vancouver"})
    response = get(limited, "/library/works.html")
    assert response.status_code == 400
    assert "at most 5" in response.text and ".bib" in response.text
    small = get(limited, "/library/works.txt?year=1999")
    assert small.status_code == 200 and small.text.startswith("1. ")  # the configured default style
    assert get(limited, "/library/works.bib").status_code == 200  # no limit on file exports


# ---- content of each format -------------------------------------------------------------------

def journal_of(db, work):
    """(title, abbreviation, ISSNs as exported) of a work's journal."""
    title, abbreviation, issn, eissn = db.execute(
        "select title, abbreviation, issn, eissn from journals where id = ?",
        [db["works"].get(work)["journal_id"]]).fetchone()
    return title, abbreviation, ", ".join(i for i in (issn, eissn) if i)


def test_bibtex_content(ds, db):
    # bibtexparser hands values without their enclosing braces (or quotes)
    entries = {e.key: e for e in bib_entries(get(ds, "/library/works.bib").text)}
    assert set(entries) == {row[0] for row in db.execute("select cite_key from works")}
    slamon_id = work_id(db, "Use of chemotherapy")
    slamon = entries[db["works"].get(slamon_id)["cite_key"]]
    fields = {k: f.value for k, f in slamon.fields_dict.items()}
    assert slamon.entry_type == "article"
    assert fields["author"].startswith("Slamon, Dennis J. and Leyland-Jones, Brian and Shak, Steven")
    assert fields["author"].count(" and ") == 11
    assert fields["title"] == ("Use of chemotherapy plus a monoclonal antibody against {HER2} for metastatic "
                               "breast cancer that overexpresses {HER2}")
    journal, abbreviation, issn = journal_of(db, slamon_id)
    assert (fields["journal"], fields["shortjournal"], fields["issn"]) == (journal, abbreviation, issn)
    assert (fields["year"], fields["month"], fields["date"]) == ("2001", "mar", "2001-03-15")
    assert (fields["volume"], fields["number"], fields["pages"]) == ("344", "11", "783--792")
    assert (fields["doi"], fields["pmid"]) == ("10.1056/nejm200103153441101", "11248153")
    muller = entries[db["works"].get(work_id(db, "Résistance"))["cite_key"]]
    assert muller.fields_dict["title"].value == (
        r"Résistance au trastuzumab: 50\% of tumours \& the role of p95\textsuperscript{{HER2}} in "
        r"\textit{in vivo} models")
    assert muller.fields_dict["author"].value == (
        "Müller, Jörg and van der Berg, Anneke and de la Cruz, María José and Wójcik, Łukasz "
        "and O'Brien, Siobhán")
    assert muller.fields_dict["url"].value == "https://example.org/articles/jco_2019?id=e12045&v=1%202"
    assert muller.fields_dict["pmcid"].value == "PMC6500001"
    report = entries[db["works"].get(work_id(db, "Global cancer observatory"))["cite_key"]]
    assert report.entry_type == "techreport"
    assert report.fields_dict["author"].value == (
        "{World Health Organization} and {International Agency for Research on Cancer}")
    assert report.fields_dict["title"].value == (
        r"Global cancer observatory: breast cancer fact sheet \#3 (cost of care in \${US})")
    assert report.fields_dict["institution"].value == "WHO Press"
    chapter = entries[db["works"].get(work_id(db, "Trastuzumab in the treatment"))["cite_key"]]
    assert chapter.entry_type == "incollection"
    assert chapter.fields_dict["editor"].value == "Harris, Jay R. and Lippman, Marc E."
    assert chapter.fields_dict["booktitle"].value == "Diseases of the {Breast}"
    assert chapter.fields_dict["publisher"].value == r"Lippincott Williams \& Wilkins"


def test_ris_content(ds, db):
    records = rispy.loads(get(ds, "/library/works.ris").text)
    by_title = {r.get("title"): r for r in records}
    slamon_id = work_id(db, "Use of chemotherapy")
    slamon = by_title[db["works"].get(slamon_id)["title"]]
    assert slamon["type_of_reference"] == "JOUR"
    assert slamon["authors"][:3] == ["Slamon, Dennis J.", "Leyland-Jones, Brian", "Shak, Steven"]
    assert len(slamon["authors"]) == 12
    assert (slamon["doi"], slamon["accession_number"], slamon["name_of_database"]) == (
        "10.1056/nejm200103153441101", "11248153", "PubMed")
    assert (slamon["start_page"], slamon["end_page"], slamon["volume"], slamon["number"]) == (
        "783", "792", "344", "11")
    journal, abbreviation, issn = journal_of(db, slamon_id)
    assert (slamon["secondary_title"], slamon["alternate_title1"], slamon["issn"]) == (
        journal, abbreviation, issn.replace(", ", "; "))
    assert (slamon["year"], slamon["date"]) == ("2001", "2001/03/15/")
    assert slamon["keywords"] == ["breast neoplasms", "trastuzumab"]
    types = {r["title"][:20]: r["type_of_reference"] for r in records}
    assert types["Global cancer observ"] == "RPRT" and types["Trastuzumab in the t"] == "CHAP"
    assert types["Deep learning for HE"] == "CPAPER" and types["The drug that change"] == "MGZN"
    assert types["Herceptin (trastuzum"] == "ELEC" and types["Mechanisms of resist"] == "THES"
    chapter = by_title["Trastuzumab in the treatment of breast cancer"]
    assert chapter["secondary_authors"] == ["Harris, Jay R.", "Lippman, Marc E."]
    conference = by_title["Deep learning for HER2 scoring in whole-slide images"]
    assert conference["custom3"] == "Proceedings of the MICCAI Workshop on Computational Pathology"
    assert conference["authors"] == ["Nakamura, Hiroshi", "李, 小龙"]
    muller = by_title[db["works"].get(work_id(db, "Résistance"))["title"]]
    assert muller["custom2"] == "PMC6500001"
    report = by_title["Global cancer observatory: breast cancer fact sheet #3 (cost of care in $US)"]
    assert report["authors"] == ["World Health Organization", "International Agency for Research on Cancer"]


def test_csljson_is_valid_csl_1_0_2_with_every_field(ds, db):
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema validates the CSL-JSON export")
    items = get(ds, "/library/works.csljson").json()
    jsonschema.validate(items, json.loads((EXPORTS / "csl-data-1.0.2.json").read_text()))
    ids = [item["id"] for item in items]
    assert len(set(ids)) == len(ids) == work_count(db)
    by_id = {item["id"]: item for item in items}
    slamon_id = work_id(db, "Use of chemotherapy")
    slamon = by_id[db["works"].get(slamon_id)["cite_key"]]
    assert slamon["citation-key"] == slamon["id"]
    assert slamon["issued"] == {"date-parts": [[2001, 3, 15]]}
    assert slamon["author"][:2] == [{"family": "Slamon", "given": "Dennis J."},
                                    {"family": "Leyland-Jones", "given": "Brian"}]
    assert (slamon["container-title"], slamon["container-title-short"], slamon["ISSN"]) == journal_of(db, slamon_id)
    assert (slamon["DOI"], slamon["PMID"], slamon["page"], slamon["volume"], slamon["issue"]) == (
        "10.1056/nejm200103153441101", "11248153", "783-792", "344", "11")
    assert slamon["abstract"].startswith("Background: The HER2 gene")
    assert slamon["keyword"] == "breast neoplasms, trastuzumab"
    muller = by_id[db["works"].get(work_id(db, "Résistance"))["cite_key"]]
    assert muller["PMCID"] == "PMC6500001" and muller["URL"].endswith("&v=1%202")
    assert muller["title"] == ("Résistance au trastuzumab: 50% of tumours & the role of p95<sup>HER2</sup> in "
                               "<i>in vivo</i> models")
    report = by_id[db["works"].get(work_id(db, "Global cancer observatory"))["cite_key"]]
    assert report["author"] == [{"literal": "World Health Organization"},
                                {"literal": "International Agency for Research on Cancer"}]
    assert (report["type"], report["publisher"], report["publisher-place"]) == ("report", "WHO Press", "Geneva")
    thesis = by_id[db["works"].get(work_id(db, "Mechanisms of resistance"))["cite_key"]]
    assert thesis["genre"] == "PhD Thesis"  # from works.extra
    chapter = by_id[db["works"].get(work_id(db, "Trastuzumab in the treatment"))["cite_key"]]
    assert chapter["editor"] == [{"family": "Harris", "given": "Jay R."}, {"family": "Lippman", "given": "Marc E."}]
    assert (chapter["container-title"], chapter["ISBN"], chapter["edition"]) == (
        "Diseases of the Breast", "978-0-7817-4619-3", "3")


def test_formatted_bibliographies(ds, db):
    apa = get(ds, "/library/works.html?year=2001")
    assert apa.status_code == 200
    assert "default-src 'none'" in apa.headers["content-security-policy"]
    entries = re.findall(r'<div class="csl-entry">(.*?)</div>', apa.text)
    assert len(entries) == work_count(db, "year = 2001")
    slamon = next(e for e in entries if "Slamon" in e)
    assert "Slamon, D. J., Leyland-Jones, B." in slamon and "(2001)" in slamon
    assert f"<i>{journal_of(db, work_id(db, 'Use of chemotherapy'))[0]}</i>" in slamon
    assert "https://doi.org/10.1056/nejm200103153441101" in slamon
    vancouver = get(ds, "/library/works.txt?year=1999&_style=vancouver").text.splitlines()
    assert vancouver == [
        "1. Sliwkowski M, Lofgren J, Lewis G, Hotaling T, Fendly B, Fox J. Nonclinical studies addressing "
        "the mechanism of action of trastuzumab (Herceptin). Semin Oncol. 1999;26:60–70.",
        "2. Goldenberg M. Trastuzumab, a recombinant DNA-derived humanized monoclonal antibody, a novel "
        "agent for the treatment of metastatic breast cancer. Clin Ther. 1999;21:309–18.",
    ]
    ieee = get(ds, "/library/works.txt?year=1999&_style=ieee").text
    assert ieee.startswith("[1] M. Sliwkowski, J. Lofgren")
    rich = get(ds, "/library/works.html?_search=Résistance").text
    assert "p95<sup>HER2</sup> in <i>in vivo</i> models" in rich  # CSL rich text kept as markup
    for style in ("chicago-author-date", "nature", "harvard1", "modern-language-association"):
        response = get(ds, f"/library/works.txt?year=2012&_style={style}")
        assert response.status_code == 200 and "pertuzumab plus trastuzumab" in response.text.lower(), style


def test_format_citation_for_templates(library, db, tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    slamon = work_id(db, "Use of chemotherapy")
    hostile = work_id(db, "<script>")
    (pages / "cite.html").write_text(
        f'<p id="v">{{{{ format_citation({slamon}, style="vancouver") }}}}</p>'
        f'<p id="t">{{{{ format_citation({slamon}, fmt="text") }}}}</p>'
        f'<p id="h">{{{{ format_citation({hostile}) }}}}</p>'
        '<p id="none">{{ format_citation(987654321) }}</p>'
    )
    response = get(make_datasette(library, template_dir=tmp_path), "/cite")
    assert response.status_code == 200
    parts = dict(re.findall(r'<p id="(\w+)">(.*?)</p>', response.text, re.S))
    assert parts["v"].startswith("1. Slamon DJ, Leyland-Jones B, Shak S")
    assert parts["t"].startswith("Slamon, D. J., Leyland-Jones, B.") and "<i>" not in parts["t"]
    assert "&lt;script&gt;" in parts["h"] and "<script" not in parts["h"].lower()
    assert parts["none"] == ""


def test_batches_join_into_one_valid_file(ds, db, monkeypatch):
    registered = [m for m in pm.get_plugins() if getattr(m, "__name__", "") == "bibliography_exports.py"]
    assert registered, "the plugin module Datasette loaded from plugins/"
    total = work_count(db)
    batch = next(size for size in (7, 8, 9, 11, 13) if total % size)
    monkeypatch.setattr(registered[0], "BATCH", batch)
    assert len(get(ds, "/library/works.csljson").json()) == total
    assert len(bib_entries(get(ds, "/library/works.bib").text)) == total
    assert len(rispy.loads(get(ds, "/library/works.ris").text)) == total


# ---- hostile input: every export inert ---------------------------------------------------------

# Commands the BibTeX writer itself emits; any other command in an export came from the data.
OWN_COMMANDS = re.compile(r"\\(textbackslash|textasciitilde|textasciicircum|vphantom|textit|textbf|"
                          r"textsuperscript|textsubscript|textsc)(?![A-Za-z])|\\[{}%&$#_]")


@pytest.fixture(scope="module")
def hostile(db):
    return db.execute("select id, title from works where title like '<script>%'").fetchone()


def test_bibtex_of_hostile_work_runs_no_latex(ds, hostile):
    text = get(ds, f"/library/works.bib?id={hostile[0]}").text
    (entry,) = bib_entries(text)  # the fake @article in the abstract made no entry
    assert set(entry.fields_dict) >= {"title", "author", "abstract", "note", "doi", "url"}
    for field in entry.fields:
        leftover = OWN_COMMANDS.sub("", field.value)
        assert "\\" not in leftover, (field.key, field.value)
        assert field.value.count("{") == field.value.count("}"), field.key  # BibTeX counts \{ too
    assert "\\input" not in text and "\\write18" not in text and "\\def" not in text
    whole_library = get(ds, "/library/works.bib").text
    assert whole_library.count("\n@") + 1 == len(bib_entries(whole_library))


def test_html_bibliography_of_hostile_work_is_escaped(ds, hostile):
    response = get(ds, f"/library/works.html?id={hostile[0]}")
    assert response.status_code == 200
    body = response.text
    assert "<script" not in body.lower() and "<b onmouseover" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "&lt;b onmouseover=alert(1)&gt;Hostile&lt;/b&gt;" in body
    tags = set(re.findall(r"</?([a-zA-Z0-9]+)", body))
    assert tags <= {"html", "head", "meta", "title", "style", "body", "h1", "p", "div", "i", "b", "span"}


def test_ris_and_csljson_of_hostile_work_keep_the_text_as_data(ds, hostile):
    ris = get(ds, f"/library/works.ris?id={hostile[0]}")
    (record,) = rispy.loads(ris.text)  # "ER  - " / "TY  - " lines in the abstract ended nothing
    assert record["title"] == hostile[1]
    assert "ER -" in record["abstract"] and "TY - JOUR" in record["abstract"]
    csl = get(ds, f"/library/works.csljson?id={hostile[0]}").json()
    assert csl[0]["title"] == hostile[1]
    assert csl[0]["author"][0] == {"family": "<script>alert(1)</script>", "given": "{\\input{/etc/passwd}}"}
    text = get(ds, f"/library/works.txt?id={hostile[0]}")
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert text.headers["x-content-type-options"] == "nosniff"


# ---- the pure functions -------------------------------------------------------------------------

@pytest.mark.parametrize("text, latex", [
    ("plain words", "plain words"),
    ("50% & $5 #1 a_b ~ ^", r"50\% \& \$5 \#1 a\_b \textasciitilde{} \textasciicircum{}"),
    (r"\input{/etc/passwd}", r"\textbackslash{}input\{/etc/passwd\}"),
    ("{a}", r"\{a\}"),
    ("}{", r"\vphantom{\{}\}\{\vphantom{\}}"),
    ("a { b", r"a \{\vphantom{\}} b"),
    ("Müller ≥ 5", "Müller ≥ 5"),
])
def test_escape_latex(text, latex):
    assert plugin.escape_latex(text) == latex


@pytest.mark.parametrize("title, latex", [
    ("Nonclinical studies of trastuzumab (Herceptin)", "Nonclinical studies of trastuzumab ({Herceptin})"),
    ("HER2 testing in mRNA assays", "{HER2} testing in {mRNA} assays"),
    ("Gastric cancer: Trastuzumab trial", "Gastric cancer: {Trastuzumab} trial"),
    ("p-NO2-Bn-H4neunpa and ErbB2", "p-{NO2}-{Bn}-{H4neunpa} and {ErbB2}"),
    ("Étude of Ångström units", "Étude of {Ångström} units"),
    ("<i>E. coli</i> in vivo", r"\textit{{E}. coli} in vivo"),
    ('<span class="nocase">iPhone</span> apps', "{iPhone} apps"),
    ("<script>x</script>", "<script>x</script>"),
    ("a_b {C}", r"a\_b \{{C}\}"),
])
def test_title_latex_protects_capitals(title, latex):
    assert plugin.latex_text(title, protect=True) == latex


@pytest.mark.parametrize("text, segments", [
    ("plain", [("text", "", "plain")]),
    ("a <i>b</i> c", [("text", "", "a "), ("open", "i", "<i>"), ("text", "", "b"), ("close", "i", "</i>"),
                      ("text", "", " c")]),
    ("<i>open only", [("text", "", "<i>"), ("text", "", "open only")]),
    ("<b><i>x</b></i>", [("text", "", "<b>"), ("open", "i", "<i>"), ("text", "", "x"), ("text", "", "</b>"),
                         ("close", "i", "</i>")]),
    ("<script>", [("text", "", "<script>")]),
])
def test_rich_text(text, segments):
    assert plugin.rich_text(text) == segments


@pytest.mark.parametrize("sql, stripped", [
    ("select id from works where year = :p0 order by year desc, id limit 51",
     "select id from works where year = :p0 order by year desc, id"),
    ("select * from works_readable  limit 101 offset 200", "select * from works_readable"),
])
def test_sql_without_limit(sql, stripped):
    assert plugin.sql_without_limit(sql) == stripped


def test_ids_query_survives_comments_and_semicolons():
    assert plugin.ids_query("select 1 as work_id -- note\n;", "work_id") == (
        'select "work_id" from (\nselect 1 as work_id -- note\n)')


@pytest.mark.parametrize("page, parts", [
    ("60-70", ("60", "70")), ("309–318", ("309", "318")), ("e0173593", ("e0173593", "")),
    ("e369-70; author reply e371", ("e369-70; author reply e371", "")),
])
def test_split_page(page, parts):
    assert plugin.split_page(page) == parts


def test_cite_keys_are_unique_and_bibtex_safe():
    keys = plugin.CiteKeys()
    assert keys.key({"id": 1, "cite_key": "smith2019"}) == "smith2019"
    assert keys.key({"id": 2, "cite_key": "smith2019"}) == "smith2019-2"
    assert keys.key({"id": 3, "cite_key": "Smith 2019, {x}"}) == "Smith_2019___x"
    assert keys.key({"id": 4, "cite_key": None}) == "work4"


@pytest.mark.parametrize("extra, variables, custom", [
    ({"genre": "PhD Thesis", "event-title": "ASCO"}, {"genre": "PhD Thesis", "event": "ASCO"}, {}),
    ({"accessed": {"date-parts": [[2020, 1, 2]]}, "original-date": {"bad": 1}},
     {"accessed": {"date-parts": [[2020, 1, 2]]}}, {"original-date": {"bad": 1}}),
    ({"translator": [{"family": "Ng"}], "suffix": "Jr", "license": "CC-BY"},
     {"translator": [{"family": "Ng"}]}, {"suffix": "Jr", "license": "CC-BY"}),
])
def test_extra_fields_split_into_csl_variables_and_custom(extra, variables, custom):
    assert plugin.csl_extra(extra) == (variables, custom)
