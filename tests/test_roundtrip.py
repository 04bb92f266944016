"""Round trips: the seeds and the export fixtures are loaded, exported as .bib, .ris and .csljson through
datasette.client, and each export is loaded into a fresh library by the project's own loader: the same
works, authors in order, journals and identifiers must come back."""

import asyncio
import importlib.util
import json
import re

import pytest
import sqlite_utils
import yaml
from datasette.app import Datasette

from ingest.loader import Loader

from conftest import FIXTURES, ROOT, SEEDS

EXPORTS = FIXTURES / "exports"

# export extension → (format the loader must detect, the parser module that reads it)
FORMATS = {
    "bib": ("bibtex", "ingest.sources.bibtex"),
    "ris": ("ris", "ingest.sources.ris"),
    "csljson": ("csl-json", "ingest.sources.csljson"),
}

# What a format cannot carry, by design of the format (each checked below, never silently):
# - RIS and BibTeX have no preprint type: CSL "article" comes back as Zotero reads GEN / @misc, and
#   its number (an arXiv or Research Square id) as an issue.
# - RIS has no way to mark an organisation's name: one with a comma ("Genentech, Inc.") is read back
#   as family "Genentech", given "Inc." (Zotero reads it so too); RIS does not carry cite keys either.
# - BibTeX: braces and backslashes in a DOI or URL are percent-encoded (in those verbatim fields they
#   would close the field or start a command).
# - BibTeX and CSL-JSON keep tags as one comma-separated string: a MeSH heading with a comma
#   ("Receptor, ErbB-2") comes back as two tags. RIS has one KW line per tag.
LOSSY_TYPES = {"bib": {"article": "document"}, "ris": {"article": "article-journal"}}

WORK_FIELDS = ("type", "title", "year", "issued", "volume", "issue", "pages", "doi", "pmid", "pmcid", "isbn",
               "url", "publisher", "publisher_place", "edition", "number", "container_title", "language")

SNAPSHOT_SQL = """
    select works.*, journals.title as journal_title, journals.abbreviation as journal_abbreviation,
      journals.issn as journal_issn, journals.eissn as journal_eissn
    from works left join journals on journals.id = works.journal_id"""


def build(path, sources):
    loader = Loader(sqlite_utils.Database(path))
    results = [loader.load_file(str(source)) for source in sources]
    loader.finish()
    return results


def seed_sources():
    seeds = [path for path in sorted(SEEDS.iterdir()) if path.is_file() and not path.name.startswith(".")]
    return seeds + [EXPORTS / "library.json", EXPORTS / "hostile.json"]


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    path = tmp_path_factory.mktemp("roundtrip") / "library.db"
    build(path, seed_sources())
    return path


@pytest.fixture(scope="module")
def ds(original):
    metadata = yaml.safe_load((ROOT / "metadata.yml").read_text())
    return Datasette([str(original)], immutables=[], metadata=metadata, plugins_dir=str(ROOT / "plugins"),
                     settings={"max_returned_rows": 50})  # fewer rows than the library


def export(ds, extension):
    async def fetch():
        return await ds.client.get(f"/library/works.{extension}")
    response = asyncio.run(fetch())
    assert response.status_code == 200, response.text
    return response.text


def snapshot(path):
    """Every work of a library keyed by its normalised title and year, with its creators in order and
    its tags."""
    db = sqlite_utils.Database(path)
    works = {}
    for row in db.query(SNAPSHOT_SQL):
        creators = db.execute(
            """select work_authors.role, work_authors.position, authors.family, authors.given, authors.literal
               from work_authors join authors on authors.id = work_authors.author_id
               where work_id = ? order by role, position""", [row["id"]]).fetchall()
        tags = {r[0] for r in db.execute(
            "select tags.name from work_tags join tags on tags.id = tag_id where work_id = ?", [row["id"]])}
        # title and year: the first author's name is part of title_key, and RIS may split it (see top)
        key = row["title_key"].rsplit("|", 1)[0]
        assert key not in works, f"two works share the title and year {key!r}"
        works[key] = dict(row, creators=[tuple(c) for c in creators], tags=tags)
    return works


def expected_after(extension, work):
    """``work`` as it can come back through ``extension`` (see the comment at the top)."""
    expected = dict(work)
    lossy_type = LOSSY_TYPES.get(extension, {}).get(work["type"])
    if lossy_type:
        expected["type"] = lossy_type
        if work["number"] and not work["issue"]:
            expected["issue"], expected["number"] = work["number"], None
    if extension == "ris":
        expected["creators"] = [
            (role, position, *literal.split(", ", 1), None) if literal and ", " in literal and not family
            else (role, position, family, given, literal)
            for role, position, family, given, literal in work["creators"]
        ]
    if extension in ("bib", "csljson"):
        expected["tags"] = {part for tag in work["tags"] for part in re.split(r"\s*[,;]\s*", tag) if part}
    if extension == "bib":
        for field in ("doi", "url"):
            if work[field]:
                expected[field] = percent_encoded(work[field])
        if work["doi"]:
            expected["doi"] = expected["doi"].lower()  # the loader's DOI form
    return expected


def percent_encoded(text):
    return text.replace("\\", "%5C").replace("{", "%7B").replace("}", "%7D")


@pytest.fixture(scope="module", params=list(FORMATS))
def round_trip(request, ds, original, tmp_path_factory):
    extension = request.param
    fmt, module = FORMATS[extension]
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"no {fmt} parser yet ({module.replace('.', '/')}.py): the {extension} round trip waits for it")
    folder = tmp_path_factory.mktemp(f"back-{extension}")
    exported = folder / f"library.{extension}"
    exported.write_text(export(ds, extension), encoding="utf-8")
    (result,) = build(folder / "back.db", [exported])
    return extension, result, snapshot(original), snapshot(folder / "back.db")


def test_every_work_comes_back_once(round_trip):
    extension, result, before, after = round_trip
    assert result.format == FORMATS[extension][0]  # detected from the content
    assert not result.errors
    assert result.records == len(before) == len(after)
    assert set(after) == set(before)


@pytest.mark.parametrize("field", WORK_FIELDS)
def test_work_fields_come_back(round_trip, field):
    extension, _, before, after = round_trip
    differences = {}
    for key, work in before.items():
        expected = expected_after(extension, work)[field]
        got = after[key][field]
        if extension == "bib" and field == "title" and got:
            # pylatexenc (the BibTeX reader's LaTeX decoder) reads \textasciicircum as U+02C6, not ^.
            got = got.replace("\u02c6", "^")
        if got != expected:
            differences[work["title"][:60]] = (expected, got)
    assert not differences


@pytest.mark.parametrize("field", ["journal_title", "journal_abbreviation", "journal_issn", "journal_eissn"])
def test_journals_come_back(round_trip, field):
    extension, _, before, after = round_trip
    differences = {w["title"][:60]: (w[field], after[k][field]) for k, w in before.items() if after[k][field] != w[field]}
    assert not differences


def test_authors_come_back_in_order(round_trip):
    extension, _, before, after = round_trip
    differences = {}
    for key, work in before.items():
        expected = expected_after(extension, work)["creators"]
        if after[key]["creators"] != expected:
            differences[work["title"][:60]] = (expected, after[key]["creators"])
    assert not differences
    assert sum(len(w["creators"]) for w in before.values()) > 300


def test_cite_keys_and_tags_come_back(round_trip):
    extension, _, before, after = round_trip
    if extension != "ris":  # RIS carries no cite key that Zotero or we read
        assert {k: w["cite_key"] for k, w in before.items()} == {k: w["cite_key"] for k, w in after.items()}
    def folded(tags):  # the library keeps one tag per name whatever its case ("knockout", "Knockout")
        return {tag.casefold() for tag in tags}

    differences = {w["title"][:60]: (expected_after(extension, w)["tags"], after[k]["tags"])
                   for k, w in before.items() if folded(expected_after(extension, w)["tags"]) != folded(after[k]["tags"])}
    assert not differences
    assert sum(len(w["tags"]) for w in before.values()) > 10


def test_hostile_text_comes_back_unchanged(round_trip):
    extension, _, before, after = round_trip
    (key,) = [k for k, w in before.items() if w["title"].startswith("<script>")]
    title = after[key]["title"].replace("\u02c6", "^") if extension == "bib" else after[key]["title"]
    assert title == before[key]["title"]
    assert after[key]["creators"][0][2:4] == ("<script>alert(1)</script>", "{\\input{/etc/passwd}}")
    if extension != "bib":  # BibTeX folds whitespace: its abstract comes back on one line
        assert after[key]["abstract"] == before[key]["abstract"]
    else:
        assert after[key]["abstract"] == " ".join(before[key]["abstract"].split())


def test_extra_fields_come_back(round_trip):
    """CSL-JSON carries every extra CSL variable; BibTeX (type) and RIS (M3) carry the genre."""
    extension, _, before, after = round_trip

    def carried(extra_json):
        extra = json.loads(extra_json or "{}")
        return extra if extension == "csljson" else {k: v for k, v in extra.items() if k == "genre"}

    extras = {k: carried(w["extra"]) for k, w in before.items() if w["extra"]}
    assert any(extras.values())
    assert {k: carried(after[k]["extra"]) for k in extras} == extras
