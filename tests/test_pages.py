"""refsette's pages through datasette.client: the work, author, journal and collection pages, the
works table (facets, chart, COinS), search, the map, the home page — and markup in the data that
must stay inert everywhere.

The library is tests/pages_library.py: the seeds plus records written for these tests.
"""

import asyncio
import importlib.util
import json
import re
import sqlite3
from urllib.parse import parse_qsl, unquote

import pytest
import sqlite_utils
import yaml
from datasette.app import Datasette
from lxml import html as lxml_html

from conftest import ROOT
from ingest.schema import count_facets
from pages_library import BOOK_ISBN, XSS, XSS_IMG, build_library

EXPORTS_PLUGIN = ROOT / "plugins" / "bibliography_exports.py"


def plugin(name):
    """A plugin module loaded on its own, for its pure functions."""
    spec = importlib.util.spec_from_file_location(f"refsette_test_{name}", ROOT / "plugins" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    path = tmp_path_factory.mktemp("pages") / "library.db"
    ids = build_library(path)
    return path, ids


@pytest.fixture(scope="module")
def ids(library):
    return library[1]


@pytest.fixture(scope="module")
def db(library):
    conn = sqlite3.connect(library[0])
    conn.row_factory = sqlite3.Row
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def ds(library):
    metadata = yaml.safe_load((ROOT / "metadata.yml").read_text())
    return Datasette(
        [], immutables=[str(library[0])], metadata=metadata, plugins_dir=str(ROOT / "plugins"),
        template_dir=str(ROOT / "templates"), static_mounts=[("static", str(ROOT / "static"))],
    )


def get(ds, path):
    async def fetch():
        return await ds.client.get(path)
    return asyncio.run(fetch())


def page(ds, path):
    response = get(ds, path)
    assert response.status_code == 200, (path, response.status_code, response.text[:2000])
    return response.text, lxml_html.fromstring(response.text)


_SIMPLE = re.compile(r"^(?P<tag>[\w*-]*)(?P<classes>(?:\.[\w-]+)*)(?P<attr>\[[\w-]+\])?(?P<first>:first-child)?$")


def xpath_of(selector):
    """XPath for the CSS selectors these tests use (tags, classes, [attr], :first-child, descendant
    and child combinators, commas): lxml's cssselect needs a package the project does not otherwise use."""
    paths = []
    for alternative in selector.split(","):
        path, axis = "", "//"
        for token in alternative.split():
            if token == ">":
                axis = "/"
                continue
            match = _SIMPLE.match(token)
            assert match, token
            tag = match["tag"] or "*"
            tests = [f'contains(concat(" ", normalize-space(@class), " "), " {name} ")'
                     for name in match["classes"].split(".")[1:]]
            if match["attr"]:
                tests.append("@" + match["attr"][1:-1])
            step = f"{tag}" + "".join(f"[{t}]" for t in tests)
            if match["first"]:
                step = f"*[1][self::{tag}]" + "".join(f"[{t}]" for t in tests)
            path += axis + step
            axis = "//"
        paths.append("." + path)
    return " | ".join(paths)


def select(tree, selector):
    return tree.xpath(xpath_of(selector))


def assert_inert(text):
    """No markup from the data made it into the page as markup."""
    assert XSS not in text and XSS_IMG not in text
    tree = lxml_html.fromstring(text)
    for script in tree.iter("script"):
        assert "alert(1)" not in (script.text or "")
    for element in tree.iter():
        if isinstance(element.tag, str):
            assert not [name for name in element.attrib if name.lower().startswith("on")], element.tag
    for link in tree.iter("a"):
        assert not (link.get("href") or "").lower().strip().startswith("javascript:")


def rows(db, sql, params=()):
    return [dict(row) for row in db.execute(sql, params).fetchall()]


def authors_of(db, work_id):
    return rows(db, """select authors.id, authors.family, authors.given, authors.literal from work_authors
        join authors on authors.id = work_authors.author_id
        where work_id = ? and role = 'author' order by position""", [work_id])


def name_of(author):
    if author["literal"] and not author["family"]:
        return author["literal"]
    return f"{author['family']}, {author['given']}" if author["given"] else author["family"]


# --- every page, and markup in the data ------------------------------------------------------

PAGES = [
    "/", "/library", "/library/works", "/library/works_readable", "/library/works/{xss}",
    "/library/works/{chapter}", "/library/works/{book}", "/library/works/{cited}",
    "/library/authors/{xss_author}", "/library/journals/{xss_journal}",
    "/library/collections/{xss_collection}", "/library/collections/{parent_collection}",
    "/library/works?_author={xss_author}", "/library/works?_tag={xss_tag}&year=2021",
    "/library/works?_collection={parent_collection}", "/library/works?_institution={xss_institution}",
    "/library/works?_search=alert", "/-/search?q=alert", "/-/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "/-/search", "/library/map", "/library/institution_map", "/library/institutions/{xss_institution}",
    "/library/tags/{xss_tag}", "/library/collection_excerpts", "/library/works/{xss}?_style=vancouver",
    "/library/works?_col=title", "/library/works_readable?_col=title", "/library/works?_all_columns=1",
]


@pytest.mark.parametrize("path", PAGES)
def test_page_renders_and_markup_in_data_stays_inert(ds, ids, path):
    text, _ = page(ds, path.format(**ids))
    assert_inert(text)


@pytest.mark.parametrize("extension", ["bib", "ris", "csljson", "txt", "html"])
def test_exports_of_a_work_with_markup_are_inert(ds, ids, extension):
    if not EXPORTS_PLUGIN.exists():
        pytest.skip("plugins/bibliography_exports.py (the export renderers) is not there yet")
    response = get(ds, f"/library/works/{ids['xss']}.{extension}")
    assert response.status_code == 200
    content_type = response.headers["content-type"]
    if extension == "html":
        assert_inert(response.text)
    else:
        # Not HTML: a browser shows the text, it does not run it.
        assert "text/html" not in content_type and "alert(1)" in response.text


# --- the work page: Highwire tags, no COinS, <html lang> -------------------------------------

def meta_tags(tree):
    tags = {}
    for meta in tree.iter("meta"):
        if (meta.get("name") or "").startswith("citation_"):
            tags.setdefault(meta.get("name"), []).append(meta.get("content"))
    return tags


def expected_highwire(db, work_id):
    work = dict(db.execute("select * from works where id = ?", [work_id]).fetchone())
    journal = dict(db.execute("select * from journals where id = ?", [work["journal_id"]]).fetchone() or {}) \
        if work["journal_id"] else {}
    parts = re.findall(r"\d+", work["issued"] or "")
    expected = {
        "citation_title": [work["title"]],
        "citation_author": [name_of(a) for a in authors_of(db, work_id)],
        "citation_journal_title": [journal.get("title")],
        "citation_journal_abbrev": [journal.get("abbreviation")],
        "citation_publication_date": ["/".join([parts[0]] + [p.zfill(2) for p in parts[1:]])] if parts else [None],
        "citation_volume": [work["volume"]],
        "citation_issue": [work["issue"]],
        "citation_firstpage": [work["page_first"]],
        "citation_lastpage": [work["page_last"]],
        "citation_doi": [work["doi"]],
        "citation_pmid": [work["pmid"]],
        "citation_issn": [journal.get("issn"), journal.get("eissn")],
        "citation_abstract": [work["abstract"]],
    }
    return {name: [v for v in values if v] for name, values in expected.items() if any(values)}


@pytest.mark.parametrize("which", ["xss", "cited"])
def test_work_page_highwire_tags_are_the_row(ds, db, ids, which):
    _, tree = page(ds, f"/library/works/{ids[which]}")
    tags = meta_tags(tree)
    expected = expected_highwire(db, ids[which])
    assert {name: tags.get(name) for name in expected} == expected
    assert set(tags) <= set(expected)  # nothing the row does not say
    assert not select(tree, "span.Z3988")  # a COinS would win over the tags and lose url, PMID, language


def test_work_page_highwire_values_of_the_markup_work(ds, ids):
    _, tree = page(ds, f"/library/works/{ids['xss']}")
    tags = meta_tags(tree)
    assert tags["citation_title"] == [f'{XSS} & "quoted" <b>title</b>']
    assert tags["citation_author"] == [f"{XSS}, Eve", "Müller, Anna", f"Study Group {XSS_IMG}"]
    assert tags["citation_publication_date"] == ["2021/03/04"]
    assert (tags["citation_firstpage"], tags["citation_lastpage"]) == (["101"], ["109"])
    assert tags["citation_journal_abbrev"] == ["J Xss Tests"] and tags["citation_issn"] == ["1234-5679"]
    assert tags["citation_pmid"] == ["99999999"] and tags["citation_doi"] == ["10.5555/xss.1"]


def test_chapter_page_carries_book_tags(ds, ids):
    _, tree = page(ds, f"/library/works/{ids['chapter']}")
    tags = meta_tags(tree)
    assert tags["citation_inbook_title"] == ["The Handbook of Examples"]
    assert tags["citation_isbn"] == [BOOK_ISBN] and tags["citation_publisher"] == ["Example Press"]
    assert tags["citation_publication_date"] == ["2019"] and "citation_journal_title" not in tags


@pytest.mark.parametrize("which, lang", [("xss", "fr"), ("chapter", "en-GB"), ("cited", "en")])
def test_html_lang_is_the_works_language(ds, ids, which, lang):
    _, tree = page(ds, f"/library/works/{ids[which]}")
    assert tree.get("lang") == lang


def test_html_lang_is_absent_when_the_language_is_unknown(ds, db):
    work_id = db.execute("select id from works where language is null order by id limit 1").fetchone()[0]
    _, tree = page(ds, f"/library/works/{work_id}")
    assert tree.get("lang") is None and meta_tags(tree)["citation_title"]


def test_work_page_links_and_sections(ds, db, ids):
    text, tree = page(ds, f"/library/works/{ids['xss']}")
    author_links = [a.get("href") for a in select(tree, ".work-authors a.author")]
    assert author_links == [f"/library/authors/{a['id']}" for a in authors_of(db, ids["xss"])]
    assert select(tree, "a.journal")[0].get("href") == f"/library/journals/{ids['xss_journal']}"
    hrefs = {a.get("href") for a in tree.iter("a")}
    assert {"https://doi.org/10.5555/xss.1", "https://pubmed.ncbi.nlm.nih.gov/99999999/"} <= hrefs
    assert not any(h.startswith("javascript") for h in hrefs if h)  # the row's URL is javascript:…
    excerpt = select(tree, "section.in-collections blockquote.excerpt")[0].text_content()
    assert excerpt == f"{XSS} quoted excerpt about trastuzumab"
    assert f"/library/collections/{ids['xss_collection']}" in hrefs
    assert f"/library/collections/{ids['parent_collection']}" in hrefs
    cites = select(tree, "ol.cites li")
    assert select(cites[0], "a")[0].get("href") == f"/library/works/{ids['cited']}"
    assert cites[1].text_content().strip() == f"{XSS} an unresolved reference"
    assert [t.text_content() for t in select(tree, "a.tag")] == sorted([XSS, "Trastuzumab"])
    assert [p.text_content() for p in select(tree, ".note p")] == ["A note alert(1)", "second line"]
    assert [p.text_content() for p in select(tree, "section.abstract p")] == [
        f"{XSS_IMG} An abstract about trastuzumab with markup.", "Second paragraph."]
    institutions = [a.text_content() for a in select(tree, "section.affiliations a")]
    assert f"{XSS_IMG} Laboratory" in institutions


def test_cited_work_lists_the_work_citing_it(ds, ids):
    _, tree = page(ds, f"/library/works/{ids['cited']}")
    assert [a.get("href") for a in select(tree, "ul.cited-by a")] == [f"/library/works/{ids['xss']}"]


def test_work_page_export_links(ds, ids):
    if not EXPORTS_PLUGIN.exists():
        pytest.skip("plugins/bibliography_exports.py (the export renderers) is not there yet")
    _, tree = page(ds, f"/library/works/{ids['cited']}")
    links = {a.get("class"): a.get("href") for a in select(tree, "p.exports a[class]")}
    for extension in ("bib", "ris", "csljson"):
        assert links[f"export-{extension}"] == f"/library/works/{ids['cited']}.{extension}"
        assert get(ds, links[f"export-{extension}"]).status_code == 200


@pytest.mark.parametrize("style", ["apa", "vancouver", "chicago-author-date", "harvard1",
                                   "modern-language-association", "american-medical-association", "ieee", "nature"])
def test_every_offered_citation_style_renders(ds, ids, style):
    if not EXPORTS_PLUGIN.exists():
        pytest.skip("plugins/bibliography_exports.py (format_citation) is not there yet")
    _, tree = page(ds, f"/library/works/{ids['cited']}?_style={style}")
    citation = select(tree, ".formatted-citation")[0].text_content()
    assert "Budesonide-Formoterol" in citation
    assert select(tree, "p.styles strong")[0].text_content() == dict(plugin("library_pages").CITATION_STYLES)[style]


def test_citation_styles_differ_and_unknown_style_falls_back(ds, ids):
    if not EXPORTS_PLUGIN.exists():
        pytest.skip("plugins/bibliography_exports.py (format_citation) is not there yet")
    def cite(query):
        return select(page(ds, f"/library/works/{ids['cited']}{query}")[1], ".formatted-citation")[0].text_content()

    assert cite("?_style=vancouver") != cite("?_style=apa")
    assert cite("?_style=no-such-style") == cite("")


# --- COinS on the pages that list works ------------------------------------------------------

def coins_fields(title):
    pairs = parse_qsl(title, keep_blank_values=True)
    fields = {}
    for key, value in pairs:
        fields.setdefault(key, []).append(value)
    return fields


def expected_coins(db, work_id, base):
    work = dict(db.execute("select * from works where id = ?", [work_id]).fetchone())
    journal = dict(db.execute("select * from journals where id = ?", [work["journal_id"]]).fetchone() or {}) \
        if work["journal_id"] else {}
    people = authors_of(db, work_id)
    expected = {
        "ctx_ver": ["Z39.88-2004"],
        "rft.au": [name_of(a) for a in people if not (a["literal"] and not a["family"])],
        "rft.aucorp": [a["literal"] for a in people if a["literal"] and not a["family"]],
        "rft.date": [work["issued"]],
        "rft.volume": [work["volume"]],
        "rft.issue": [work["issue"]],
        "rft.spage": [work["page_first"]],
        "rft.epage": [work["page_last"]],
        "rft.language": [work["language"]],
        "rft_id": [f"info:doi/{work['doi']}" if work["doi"] else None,
                   f"info:pmid/{work['pmid']}" if work["pmid"] else None, f"{base}/library/works/{work_id}"],
    }
    if work["type"] == "chapter":
        expected.update({"rft_val_fmt": ["info:ofi/fmt:kev:mtx:book"], "rft.genre": ["bookitem"],
                         "rft.atitle": [work["title"]], "rft.btitle": [work["container_title"]],
                         "rft.isbn": [work["isbn"]], "rft.pub": [work["publisher"]],
                         "rft.place": [work["publisher_place"]]})
    elif work["type"] == "book":
        expected.update({"rft_val_fmt": ["info:ofi/fmt:kev:mtx:book"], "rft.genre": ["book"],
                         "rft.btitle": [work["title"]], "rft.isbn": [work["isbn"]],
                         "rft.pub": [work["publisher"]], "rft.place": [work["publisher_place"]],
                         "rft.edition": [work["edition"]]})
    else:
        expected.update({"rft_val_fmt": ["info:ofi/fmt:kev:mtx:journal"], "rft.genre": ["article"],
                         "rft.atitle": [work["title"]], "rft.jtitle": [journal.get("title")],
                         "rft.stitle": [journal.get("abbreviation")], "rft.issn": [journal.get("issn")]})
    return {key: [v for v in values if v] for key, values in expected.items() if any(values)}


def spans_by_work(tree):
    found = {}
    for span in select(tree, "span.Z3988"):
        link = select(span.getparent(), "a.work-link, a.result-title")
        href = (link[0] if link else span.getprevious()).get("href")
        found[int(href.rsplit("/", 1)[1])] = span.get("title")
    return found


@pytest.mark.parametrize("path", [
    "/library/works?_size=100", "/library/works_readable?_size=100", "/library/works?_search=trastuzumab",
    "/-/search?q=trastuzumab", "/-/search?q=handbook",
])
def test_lists_of_works_carry_one_coins_per_work_with_the_rows_fields(ds, db, path):
    _, tree = page(ds, path)
    spans = spans_by_work(tree)
    listed = {int(a.get("href").rsplit("/", 1)[1]) for a in select(tree, "a.work-link, a.result-title")}
    assert spans and set(spans) == listed and len(select(tree, "span.Z3988")) == len(listed)
    for work_id, title in spans.items():
        # Zotero splits on & and = before it decodes, and reads + as a space
        assert all(part.count("=") == 1 for part in title.split("&")) and "+" not in title
        assert coins_fields(title) == expected_coins(db, work_id, "http://localhost"), work_id


def test_works_table_lists_the_book_and_chapter_with_book_coins(ds, ids):
    _, tree = page(ds, "/library/works?_size=100")
    spans = spans_by_work(tree)
    assert coins_fields(spans[ids["chapter"]])["rft.genre"] == ["bookitem"]
    assert coins_fields(spans[ids["book"]])["rft.genre"] == ["book"]
    assert unquote(spans[ids["xss"]]).count("<script>") == 3  # title, author and journal, as data


# --- the works table: facets, filters, chart -------------------------------------------------

def facets_of(ds, query=""):
    data = get(ds, f"/library/works.json?_size=0{query}").json()
    return data["filtered_table_rows_count"], data["facet_results"]


def test_works_facets_expected_are_all_there(ds):
    _, facets = facets_of(ds)
    assert {"year", "type", "journal_id", "author", "collection", "tag", "institution", "year_chart"} <= set(facets)


def served(path):
    metadata = yaml.safe_load((ROOT / "metadata.yml").read_text())
    return Datasette(
        [], immutables=[str(path)], metadata=metadata, plugins_dir=str(ROOT / "plugins"),
        template_dir=str(ROOT / "templates"), static_mounts=[("static", str(ROOT / "static"))],
    )


def counts_by_facet(facets):
    return {name: {item["value"]: item["count"] for item in facet["results"]} for name, facet in facets.items()}


STORED_FACETS = ("year", "type", "journal_id", "author", "collection", "tag", "institution", "year_chart")


def test_unfiltered_facets_read_the_counts_stored_at_build_time(ds, library, tmp_path):
    """On the unfiltered works page every facet and the chart show facet_counts' numbers (shown
    here by changing them in a copy); any filter or search counts the rows again."""
    _, facets = facets_of(ds, "&_facet_size=max")
    truth = counts_by_facet(facets)
    assert all(truth[name] for name in STORED_FACETS)
    assert {facets[name]["type"] for name in ("year", "type", "journal_id")} == {"column"}
    copy = tmp_path / "library.db"
    copy.write_bytes(library[0].read_bytes())
    with sqlite3.connect(copy) as conn:
        conn.execute("UPDATE facet_counts SET count = count + 1000")
    altered = served(copy)
    _, facets = facets_of(altered, "&_facet_size=max")
    shown = counts_by_facet(facets)
    for name in STORED_FACETS:
        assert shown[name] == {value: count + 1000 for value, count in truth[name].items()}, name
    _, searched = facets_of(altered, "&_facet_size=max&_search=trastuzumab")
    assert max(counts_by_facet(searched)["type"].values()) < 1000
    year = next(iter(truth["year"]))
    _, two_filters = facets_of(altered, f"&year={year}&type=article-journal")
    assert counts_by_facet(two_filters)["year"] == {year: counts_by_facet(two_filters)["year"][year]} \
        and counts_by_facet(two_filters)["year"][year] < 1000


def shows_stored_counts(copy, given, truth):
    """Adds 1000 to the stored counts of the page ``given`` in ``copy``, serves it and checks that its
    every facet and chart show them: (the Datasette, that page's facets)."""
    with sqlite3.connect(copy) as conn:
        conn.execute("UPDATE facet_counts SET count = count + 1000 WHERE given = ?", [given])
    altered = served(copy)
    _, shown = facets_of(altered, f"&{given}")
    for name in STORED_FACETS:
        expected = {v: count + 1000 for v, count in counts_by_facet(truth)[name].items()}
        assert counts_by_facet(shown)[name] == expected, name
    return altered, shown


@pytest.mark.parametrize("column", ["year", "type", "journal_id"])
def test_pages_filtered_by_one_column_read_stored_counts_too(ds, library, tmp_path, column):
    """``?year=2018`` (or one type, one journal): the 31 values with most works of each facet are
    stored per value of the column; a page that needs more, or has other filters, counts."""
    _, facets = facets_of(ds)
    value = facets[column]["results"][0]["value"]
    _, truth = facets_of(ds, f"&{column}={value}")
    copy = tmp_path / "library.db"
    copy.write_bytes(library[0].read_bytes())
    altered, shown = shows_stored_counts(copy, f"{column}={value}", truth)
    chosen = next(item for item in shown[column]["results"] if item["value"] == value)
    assert chosen["selected"] and f"{column}=" not in chosen["toggle_url"].split("?", 1)[-1]
    assert counts_by_facet(truth)[column] == {value: facets[column]["results"][0]["count"]}
    _, unchanged = facets_of(altered, f"&{column}={value}&_search=trastuzumab")
    assert all(count < 1000 for counts in counts_by_facet(unchanged).values() for count in counts.values())


def test_a_prolific_authors_page_reads_stored_counts(ds, db, library, tmp_path):
    """``?_author=`` of an author with at least FACET_AUTHOR_MIN_WORKS works: every facet and the chart
    come from facet_counts, and are the counts of that author's works; with any other filter, or for
    an author with fewer works, the page counts."""
    author, works = db.execute("""select author_id, count(*) from work_authors where role = 'author'
                                  group by author_id order by count(*) desc, author_id limit 1""").fetchone()
    assert works >= 2
    _, truth = facets_of(ds, f"&_author={author}")
    copy = tmp_path / "library.db"
    copy.write_bytes(library[0].read_bytes())
    count_facets(sqlite_utils.Database(copy), author_min_works=works)
    with sqlite3.connect(copy) as conn:
        stored = {row[0] for row in conn.execute("select distinct given from facet_counts where given like '\\_%' escape '\\'")}
        prolific = {f"_author={row[0]}" for row in conn.execute(
            "select author_id from work_authors where role = 'author' group by author_id having count(*) >= ?", [works])}
        assert stored == prolific and f"_author={author}" in stored
    _, same = facets_of(served(copy), f"&_author={author}")
    assert counts_by_facet(same) == counts_by_facet(truth)
    altered, shown = shows_stored_counts(copy, f"_author={author}", truth)
    assert next(item for item in shown["author"]["results"] if item["value"] == author)["selected"]
    year = next(iter(counts_by_facet(truth)["year"]))
    _, narrowed = facets_of(altered, f"&_author={author}&year={year}")
    assert all(count < 1000 for counts in counts_by_facet(narrowed).values() for count in counts.values())


def test_a_stored_page_without_a_facets_values_shows_it_empty_without_counting(library, db):
    """On ``?type=book`` no work has a journal: nothing is stored for the journal facet, and that is
    its answer (no statement counts it), as it is Datasette's."""
    assert db.execute("select count(*) from works where type = 'book' and journal_id is not null").fetchone()[0] == 0
    assert db.execute("select count(*) from works where type = 'book'").fetchone()[0] > 0
    metadata = yaml.safe_load((ROOT / "metadata.yml").read_text())
    traced = Datasette([], immutables=[str(library[0])], metadata=metadata, plugins_dir=str(ROOT / "plugins"),
                       settings={"trace_debug": True})
    data = get(traced, "/library/works.json?_size=0&type=book&_trace=1").json()
    assert data["facet_results"]["journal_id"]["results"] == []
    assert not [trace["sql"] for trace in data["_trace"]["traces"] if re.search(r"group by \[?journal_id\b", trace["sql"])]
    _, both = facets_of(traced, "&type=book&_facet=journal_id")
    assert both["journal_id"]["results"] == both["journal_id_2"]["results"] == []


def test_without_stored_counts_the_facets_count(ds, library, tmp_path):
    _, facets = facets_of(ds, "&_facet_size=max")
    copy = tmp_path / "library.db"
    copy.write_bytes(library[0].read_bytes())
    with sqlite3.connect(copy) as conn:
        conn.execute("DROP TABLE facet_counts")
    _, counted = facets_of(served(copy), "&_facet_size=max")
    assert counts_by_facet(counted) == counts_by_facet(facets)
    assert counted["year"]["type"] == "column"


SEARCHED_OR_FILTERED = ["&_search=trastuzumab", "&_search=cancer&_facet_size=max", "&year={year}&type=article-journal",
                         "&_search=breast&journal_id={journal}"]


@pytest.mark.parametrize("query", SEARCHED_OR_FILTERED)
def test_counted_facets_agree_with_datasettes_column_facets(ds, db, query):
    """A page whose counts are not stored counts its column facets and chart together, in one
    statement: the same values, counts, labels and links as Datasette's own column facets."""
    year, journal = db.execute("select year, journal_id from works where journal_id is not null "
                               "group by year, journal_id order by count(*) desc limit 1").fetchone()
    query = query.format(year=year, journal=journal)
    _, facets = facets_of(ds, query + "&_facet=year&_facet=type&_facet=journal_id")
    for column in ("year", "type", "journal_id"):
        ours, datasettes = facets[column], facets[f"{column}_2"]
        assert ours["results"] and ours["results"] == datasettes["results"], column
        assert ours["truncated"] == datasettes["truncated"] and ours["type"] == datasettes["type"] == "column"
    chart = {item["value"]: item["count"] for item in facets["year_chart"]["results"]}
    assert list(chart) == sorted(chart)
    if not facets["year_2"]["truncated"]:  # every year shown: the chart has them all
        assert chart == {item["value"]: item["count"] for item in facets["year_2"]["results"]}


def test_a_searched_page_counts_its_column_facets_and_chart_in_one_statement(library):
    metadata = yaml.safe_load((ROOT / "metadata.yml").read_text())
    traced = Datasette([], immutables=[str(library[0])], metadata=metadata, plugins_dir=str(ROOT / "plugins"),
                       settings={"trace_debug": True})
    data = get(traced, "/library/works.json?_search=trastuzumab&_trace=1").json()
    grouping = [trace["sql"] for trace in data["_trace"]["traces"]
                if re.search(r"group by \[?(year|type|journal_id)\b", trace["sql"])]
    assert len(grouping) == 1, grouping
    assert all(re.search(rf"group by \[?{column}\b", grouping[0]) for column in ("year", "type", "journal_id"))
    assert {"year", "type", "journal_id", "year_chart"} <= set(data["facet_results"])
    assert not data.get("facets_timed_out")


def test_column_facets_counted_together_time_out_together(tmp_path):
    """The shared statement has the time limit of the facets it counts (facet_time_limit_ms each):
    past it every one of them is reported timed out, and the page still answers."""
    path = tmp_path / "big.db"
    with sqlite3.connect(path) as conn:
        conn.execute("create table things (id integer primary key, year integer, kind text, size integer)")
        conn.execute("""with recursive n(i) as (select 1 union all select i + 1 from n where i < 400000)
                        insert into things (year, kind, size) select 1900 + i % 120, 'k' || (i % 7), i % 1000 from n""")
    metadata = {"databases": {"big": {"tables": {"things": {"facets": [
        {"year_chart": "year"}, {"counted": "year"}, {"counted": "kind"}]}}}}}
    slow = Datasette([], immutables=[str(path)], metadata=metadata, plugins_dir=str(ROOT / "plugins"),
                     settings={"facet_time_limit_ms": 1})
    text, _ = page(slow, "/big/things?_size=1&size__gt=10&size__lt=990")
    assert sorted(re.search(r"These facets timed out: ([^<]*)<", text).group(1).split(", ")) == ["kind", "year", "year_chart"]
    assert get(slow, "/big/things.json?_size=1&size__gt=10&size__lt=990").json()["facet_results"] == {}
    fast = Datasette([], immutables=[str(path)], metadata=metadata, plugins_dir=str(ROOT / "plugins"))
    counted = get(fast, "/big/things.json?_size=1&size__gt=10&size__lt=990").json()
    assert set(counted["facet_results"]) == {"year", "kind", "year_chart"}
    assert sum(item["count"] for item in counted["facet_results"]["year_chart"]["results"]) == \
        counted["filtered_table_rows_count"] == 400000 * 979 // 1000


def test_facets_of_an_empty_junction_table_are_empty_without_error(ds, library, tmp_path):
    """A library without collections: the collection facet shows nothing, on any page."""
    copy = tmp_path / "library.db"
    copy.write_bytes(library[0].read_bytes())
    with sqlite3.connect(copy) as conn:
        conn.execute("DELETE FROM collection_works")
        conn.execute("DROP TABLE facet_counts")  # so that the unfiltered page counts too
    emptied = served(copy)
    for query in ("", "&_search=trastuzumab", "&year=2018"):
        _, facets = facets_of(emptied, query)
        assert facets["collection"]["results"] == [], query
        _, before = facets_of(ds, query)
        assert counts_by_facet(facets)["author"] == counts_by_facet(before)["author"], query


MILLION_WORKS_STATISTICS = {
    "idx_works_id_year_type_journal_id": "990209 1 1 1 1",
    "idx_works_year_journal_id": "990209 16504 6",
    "idx_works_year": "990209 16504",
    "idx_works_type_year": "990209 198042 3600",
    "idx_works_journal_id_year": "990209 60 2",
    "idx_works_language": "990209 198042",
    "idx_work_authors_work_id_role_author_id": "7320309 8 8 1",
    "idx_work_authors_author_id_work_id": "7320309 6 1",
    "idx_work_authors_role_author_id_work_id": "7320309 7320309 6 1",
    "idx_work_authors_role": "7320309 7320309",
    "sqlite_autoindex_work_authors_1": "7320309 8 8 1",
}
SEARCH_PAGE_SQL = ("select id, type, title, abstract, journal_id, year from works where id in "
                   "(select rowid from works_fts where works_fts match 'trastuzumab')")


@pytest.mark.parametrize("facet_sql, index", [
    (f"select year as value, count(*) as count from ({SEARCH_PAGE_SQL}) group by value",
     "idx_works_id_year_type_journal_id"),
    (f"select journal_id as value, count(*) as count from ({SEARCH_PAGE_SQL}) group by value",
     "idx_works_id_year_type_journal_id"),
    ("select * from works where journal_id = 62 order by year desc, id desc limit 51", "idx_works_journal_id_year"),
    ("select * from works where type = 'book' order by year desc, id desc limit 51", "idx_works_type_year"),
    ("related:author", "idx_work_authors_work_id_role_author_id"),
    ("related:collection", "idx_collection_works_work_id_collection_id"),
    ("related:institution", "idx_affiliations_work_id_institution_id"),
])
def test_facets_of_a_search_read_covering_indexes(library, tmp_path, facet_sql, index):
    """A search's facets count the facet columns of the works found from an index, not from the
    works' whole rows (abstracts included) or the junction tables' rows. The query planner is asked
    with the statistics of a large library (on a small one, reading a whole index is the better
    plan): ANALYZE's of the million-work benchmark library for works and work_authors, and the
    other tables' ten thousand times larger."""
    copy = tmp_path / "library.db"
    copy.write_bytes(library[0].read_bytes())
    with sqlite3.connect(copy) as conn:
        conn.execute("ANALYZE")
        conn.execute("""UPDATE sqlite_stat1 SET stat = (CAST(stat AS INTEGER) * 10000)
                        || substr(stat, length(CAST(CAST(stat AS INTEGER) AS TEXT)) + 1)""")
        conn.executemany("UPDATE sqlite_stat1 SET stat = ? WHERE idx = ?", [
            (stat, index) for index, stat in MILLION_WORKS_STATISTICS.items()])
    db = sqlite3.connect(copy)
    if facet_sql.startswith("related:"):
        related = plugin("related_facets")
        metadata = yaml.safe_load((ROOT / "metadata.yml").read_text())
        configs = {c["name"]: c for c in related.related_configs(metadata["databases"]["library"]["tables"]["works"])}
        facet_sql = related.count_sql(configs[facet_sql.split(":")[1]], SEARCH_PAGE_SQL, 31)
        facet_sql = facet_sql.replace(":facet_m0", "'author'")
    plan = " | ".join(row[-1] for row in db.execute("EXPLAIN QUERY PLAN " + facet_sql))
    if facet_sql.startswith("select * "):  # a journal's or type's page: newest works first, from the index in order
        assert f"USING INDEX {index}" in plan and "TEMP B-TREE" not in plan, plan
    else:
        assert f"COVERING INDEX {index}" in plan, plan


@pytest.mark.parametrize("facet, sql", [
    ("author", """select author_id, count(distinct work_id) from work_authors where role = 'author'
                  group by author_id"""),
    ("tag", "select tag_id, count(distinct work_id) from work_tags group by tag_id"),
    ("institution", """select institution_id, count(distinct work_id) from affiliations
                       where institution_id is not null group by institution_id"""),
])
def test_related_facet_counts_are_the_databases(ds, db, facet, sql):
    _, facets = facets_of(ds, "&_facet_size=max")
    counts = {row[0]: row[1] for row in db.execute(sql)}
    shown = {item["value"]: item["count"] for item in facets[facet]["results"]}
    assert shown and all(counts[value] == count for value, count in shown.items())
    assert sorted(shown.values(), reverse=True) == sorted(counts.values(), reverse=True)[:len(shown)]


@pytest.mark.parametrize("facet, column", [("author", "author_names"), ("tag", "tag_names"),
                                           ("collection", "collection_names")])
def test_related_facets_agree_with_array_facets_over_the_json_columns(ds, facet, column):
    """The junction tables and the JSON columns the loader derives from them tell the same story."""
    _, facets = facets_of(ds, f"&_facet_array={column}&_facet_size=max")
    by_array = {item["value"]: item["count"] for item in facets[column]["results"]}
    by_related = {}
    for item in facets[facet]["results"]:
        by_related[item["label"]] = by_related.get(item["label"], 0) + item["count"]
    assert by_related == by_array and len(by_array) > 2


def test_collection_facet_counts_works_of_sub_collections(ds, ids):
    _, facets = facets_of(ds)
    counts = {item["label"]: item["count"] for item in facets["collection"]["results"]}
    assert counts["Reading list"] == 2  # the chapter directly, the markup work through its sub-collection
    assert counts[f"{XSS} collection"] == 1
    assert counts["Trastuzumab"] == 62


@pytest.mark.parametrize("query, sql", [
    ("_author={xss_author}", "select count(*) from work_authors where author_id = {xss_author} and role = 'author'"),
    ("_author={xss_author}&year=2021", "select count(*) from works where year = 2021 and id in "
                                       "(select work_id from work_authors where author_id = {xss_author})"),
    ("year=2017&_tag={xss_tag}", "select 0"),
    ("_collection={parent_collection}", "select 2"),
    ("_collection={parent_collection}&type=chapter", "select 1"),
    ("_tag={xss_tag}&_author={xss_author}", "select 1"),
    ("_institution={xss_institution}", "select 1"),
    ("journal_id={xss_journal}&_search=trastuzumab", "select 1"),
])
def test_facet_selections_narrow_the_rows(ds, db, ids, query, sql):
    count, _ = facets_of(ds, "&" + query.format(**ids))
    assert count == db.execute(sql.format(**ids)).fetchone()[0]


def test_selected_author_shows_as_selected_with_a_way_back(ds, ids):
    _, facets = facets_of(ds, f"&_author={ids['xss_author']}")
    selected = [item for item in facets["author"]["results"] if item["selected"]]
    assert [item["value"] for item in selected] == [ids["xss_author"]]
    assert "_author" not in selected[0]["toggle_url"]
    unselected = next(item for item in facets["author"]["results"] if not item["selected"])
    assert f"_author={ids['xss_author']}" in unselected["toggle_url"] and f"_author={unselected['value']}" in unselected["toggle_url"]


def chart_bars(tree):
    return {int(rect.get("data-year")): int(rect.get("data-count")) for rect in select(tree, "svg.year-chart rect.bar")}


@pytest.mark.parametrize("query, where", [
    ("", "1"),
    ("?_author={xss_author}", "id in (select work_id from work_authors where author_id = {xss_author})"),
    ("?type=article-journal", "type = 'article-journal'"),
])
def test_works_chart_counts_the_filtered_rows_per_year(ds, db, ids, query, where):
    _, tree = page(ds, "/library/works" + query.format(**ids))
    expected = dict(db.execute(f"select year, count(*) from works where {where.format(**ids)} and year is not null "
                               "group by year").fetchall())
    assert chart_bars(tree) == expected
    first_bar = select(tree, "svg.year-chart a")[0]
    assert "year=" in first_bar.get("href")


# --- author, journal, collection pages -------------------------------------------------------

def test_author_page(ds, db, ids):
    author = db.execute("""select author_id from work_authors group by author_id
                           order by count(*) desc, author_id limit 1""").fetchone()[0]
    _, tree = page(ds, f"/library/authors/{author}")
    listed = [int(a.get("href").rsplit("/", 1)[1]) for a in select(tree, "ol.works-list > li > a:first-child")]
    expected = [r[0] for r in db.execute("""select works.id from work_authors join works on works.id = work_id
        where author_id = ? group by works.id order by works.year desc, works.id desc""", [author])]
    assert listed == expected
    coauthors = {a.get("href"): int(a.getnext().text) for a in select(tree, "section.coauthors li > a")}
    expected_coauthors = {f"/library/authors/{r[0]}": r[1] for r in db.execute("""
        select other.author_id, count(distinct other.work_id) from work_authors mine
        join work_authors other on other.work_id = mine.work_id and other.author_id != mine.author_id
        where mine.author_id = ? group by other.author_id""", [author])}
    assert coauthors == expected_coauthors
    assert chart_bars(tree) == dict(db.execute("""select year, count(distinct works.id) from work_authors
        join works on works.id = work_id where author_id = ? group by year""", [author]).fetchall())
    variants = [li.text_content() for li in select(tree, "section.variants li")]
    assert variants == [r[0] for r in db.execute(
        "select name from author_variants where author_id = ? order by name", [author])]


def test_author_page_affiliations(ds, ids):
    _, tree = page(ds, f"/library/authors/{ids['xss_author']}")
    places = [a.text_content() for a in select(tree, "section.institutions a")]
    assert f"{XSS_IMG} Laboratory" in places and "Example University" in places


def test_journal_page(ds, db):
    journal = db.execute("""select journal_id from works where journal_id is not null group by journal_id
                            order by count(*) desc, journal_id limit 1""").fetchone()[0]
    _, tree = page(ds, f"/library/journals/{journal}")
    listed = [int(a.get("href").rsplit("/", 1)[1]) for a in select(tree, "ol.works-list > li > a:first-child")]
    assert listed == [r[0] for r in db.execute(
        "select id from works where journal_id = ? order by year desc, id desc", [journal])]
    assert sum(chart_bars(tree).values()) == len(listed)
    top = [int(a.getnext().text) for a in select(tree, "section.top-authors li > a")]
    assert top and top == sorted(top, reverse=True)


def test_collection_page_lists_works_with_excerpts(ds, db, ids):
    _, tree = page(ds, f"/library/collections/{ids['xss_collection']}")
    assert [q.text_content() for q in select(tree, "blockquote.excerpt")] == [f"{XSS} quoted excerpt about trastuzumab"]
    _, tree = page(ds, "/library/collections/1")  # the seed page's top collection, excerpts in its sections
    assert "62 works" in select(tree, "p.entity-summary")[0].text_content()


# --- search ----------------------------------------------------------------------------------

def test_search_finds_works_authors_journals_and_excerpts(ds, db):
    _, tree = page(ds, "/-/search?q=trastuzumab")
    titles = select(tree, "ol.search-results .result-title")
    total = db.execute("select count(*) from works_fts where works_fts match 'trastuzumab'").fetchone()[0]
    assert len(titles) == min(total, 50)
    assert any(mark.text.lower() == "trastuzumab" for mark in select(tree, "ol.search-results mark"))
    assert select(tree, "section.search-excerpts blockquote mark")
    _, tree = page(ds, "/-/search?q=andre")
    assert "Andre, F." in [a.text_content() for a in select(tree, "section.search-authors a")]
    _, tree = page(ds, "/-/search?q=oncol")
    assert any("Oncol" in a.text_content() for a in select(tree, "section.search-journals a"))


def test_search_ranks_best_match_first(ds):
    _, tree = page(ds, "/-/search?q=humanized+monoclonal+antibody")
    first = select(tree, "ol.search-results .result-title")[0].text_content()
    assert "humanized monoclonal antibody" in first.lower()


def test_search_highlights_markup_as_text(ds):
    text, tree = page(ds, "/-/search?q=script+alert")
    title = select(tree, "ol.search-results .result-title")[0]
    assert [m.text for m in select(title, "mark")] == ["script", "alert", "script"]
    assert "&lt;<mark>script</mark>&gt;<mark>alert</mark>(1)" in text


@pytest.mark.parametrize("q", ['"', "NEAR(", "*", "a OR", "(", "-trastuzumab", "^x", "title:x", "'", "\x02x\x03"])
def test_search_takes_any_text(ds, q):
    response = get(ds, "/-/search?q=" + q.replace("\x02", "%02").replace("\x03", "%03").replace(" ", "+"))
    assert response.status_code == 200
    assert_inert(response.text)


# --- map, home -------------------------------------------------------------------------------

def test_map_rows_have_coordinates_and_a_popup(ds, db):
    data = get(ds, "/library/map.json?_shape=objects&_size=max").json()
    rows_ = data["rows"]
    assert len(rows_) == db.execute("select count(*) from institution_map").fetchone()[0] >= 2
    for row in rows_:
        popup = json.loads(row["popup"])
        assert popup["title"] == row["name"]
        assert popup["description"].startswith(f"{row['works']} work")
        assert popup["link"] == f"/library/works?_institution={row['id']}"
        assert -90 <= row["latitude"] <= 90 and -180 <= row["longitude"] <= 180
    text, _ = page(ds, "/library/map")
    assert "datasette-cluster-map.js" in text and 'DATASETTE_CLUSTER_MAP_LATITUDE_COLUMN = "latitude"' in text


def test_home_page_counts_and_ways_in(ds, db):
    _, tree = page(ds, "/")
    lede = select(tree, "p.lede")[0].text_content()
    for table in ("works", "authors", "journals"):
        assert f"{db.execute(f'select count(*) from {table}').fetchone()[0]:,} {table}" in " ".join(lede.split())
    first, last = db.execute("select min(year), max(year) from works").fetchone()
    assert f"from {first} to {last}" in lede
    hrefs = {a.get("href") for a in tree.iter("a")}
    assert {"/library/works", "/-/search", "/library/map", "/library/publications_per_year"} <= hrefs
    assert select(tree, "form.home-search")[0].get("action") == "/-/search"
    assert chart_bars(tree)


def test_works_page_links_to_search(ds):
    _, tree = page(ds, "/library/works?_search=trastuzumab")
    assert select(tree, "p.search-everything a")[0].get("href") == "/-/search?q=trastuzumab"
    assert select(tree, "form.site-search")[0].get("action") == "/-/search"


# --- pure functions --------------------------------------------------------------------------

@pytest.mark.parametrize("language, tag", [
    ("eng", "en"), ("ENG", "en"), ("English", "en"), ("fre", "fr"), ("ger", "de"), ("en-GB", "en-GB"),
    ("pt-BR", "pt-BR"), ("eng-US", "en-US"), ("und", None), ("mul", None), ("", None), (None, None),
    ("not a language", None), ('"><script>', None),
])
def test_html_lang(language, tag):
    assert plugin("embedded_metadata").html_lang(language) == tag


@pytest.mark.parametrize("issued, year, expected", [
    ("2018-05-17", 2018, "2018/05/17"), ("2018-5", 2018, "2018/05"), ("2018", 2018, "2018"),
    (None, 1999, "1999"), (None, None, None),
])
def test_highwire_date(issued, year, expected):
    assert plugin("embedded_metadata").highwire_date(issued, year) == expected


def test_kev_round_trips_reserved_characters():
    kev = plugin("embedded_metadata").kev
    pairs = [("rft.atitle", "A & B = C + D; 50% #1 ü/é"), ("rft_id", "info:doi/10.1000/x&y")]
    encoded = kev(pairs)
    assert parse_qsl(encoded) == pairs and "+" not in encoded
    assert [part.split("=", 1)[0] for part in encoded.split("&")] == ["rft.atitle", "rft_id"]


def test_year_chart_draws_gaps_and_a_readable_axis():
    chart = plugin("year_chart")
    svg = str(chart.year_chart([(2001, 3), (2004, 10)], link="/w?year={year}"))
    tree = lxml_html.fromstring(svg)
    assert [(r.get("data-year"), r.get("data-count")) for r in select(tree, "rect.bar")] == [("2001", "3"), ("2004", "10")]
    assert [a.get("href") for a in select(tree, "a")] == ["/w?year=2001", "/w?year=2004"]
    xs = [float(r.get("x")) for r in select(tree, "rect.bar")]
    assert xs[1] - xs[0] > 2.5 * float(select(tree, "rect.bar")[0].get("width"))  # two empty years between
    assert str(chart.year_chart([])) == ""
    assert [chart.nice_ceiling(n) for n in (1, 3, 7, 11, 49, 51, 999)] == [1, 5, 10, 20, 50, 100, 1000]


@pytest.mark.parametrize("snippet, html", [
    ("a \x02b\x03 c", "a <mark>b</mark> c"),
    ("<\x02script\x03>", "&lt;<mark>script</mark>&gt;"),
    ("\x02<b>\x03", "<mark>&lt;b&gt;</mark>"),
    ("stray \x02 marker", "stray  marker"),
    (None, ""),
])
def test_snippets_escape_everything_but_the_marks(snippet, html):
    assert str(plugin("search_page").marked(snippet)) == html


@pytest.mark.parametrize("url, safe", [
    ("https://example.org/a?b=1", True), ("http://x.org", True), ("javascript:alert(1)", False),
    (" JavaScript:alert(1)", False), ("data:text/html,x", False), ("//evil.org", False), ("/local", False), (None, False),
])
def test_safe_url(url, safe):
    assert (plugin("library_pages").safe_url(url) is not None) == safe
