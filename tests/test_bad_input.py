"""Bad input, for every format, through ``refsette ingest``.

Each case is a file that is broken in one way (truncated, not UTF-8, Latin-1, UTF-16 with or without a
byte-order mark, binary junk, empty, one bad record among good ones, enormous fields, records with
nothing but a title) loaded in one command with a good file of another format. The rules checked:

- the error names the file and, where the file has records or lines, the record or the line;
- the good file of the same command still loads;
- the bad file leaves nothing in the database (no ``sources`` row, no work): one transaction per file;
- the exit code is non-zero when anything failed;
- ``--skip-bad`` loads the good records of a file with a bad one and reports the bad one;
- a record with nothing but a title loads; enormous fields load, in seconds.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple

import pytest
import sqlite_utils
from click.testing import CliRunner

from ingest.cli import cli
from ingest.loader import Loader

ROOT = Path(__file__).resolve().parents[1]

# The good file loaded beside every bad one: two works that no bad file shares.
COMPANION_TITLES = ("Companion work about otters", "Companion work about herons")
COMPANION = json.dumps([
    {"id": "c1", "type": "article-journal", "title": COMPANION_TITLES[0], "DOI": "10.9999/companion.1",
     "author": [{"family": "Otter", "given": "Olive"}], "issued": {"date-parts": [[2011]]}},
    {"id": "c2", "type": "article-journal", "title": COMPANION_TITLES[1], "DOI": "10.9999/companion.2",
     "author": [{"family": "Heron", "given": "Hugo"}], "issued": {"date-parts": [[2012]]}},
]).encode("utf-8")

# Two good records and, between them, one bad record, per format: (text, where the bad one is).
# The good records are titled ALPHA and OMEGA; every other file of a case is derived from these.
ALPHA, OMEGA = "Alpha trial of something", "Omega trial of something"
FILES = {
    "ris": (
        f"TY  - JOUR\nTI  - {ALPHA}\nAU  - Smith, John\nPY  - 2001\nER  - \n\n"
        "TY  - JOUR\nTI  - A record that lost its end\nAU  - Doe, Jane\n\n"
        f"TY  - JOUR\nTI  - {OMEGA}\nAU  - Roe, Richard\nPY  - 2003\nER  - \n",
        "record 2 (line 7)",
    ),
    "bibtex": (
        f"@article{{alpha,\n  title = {{{ALPHA}}},\n  author = {{Smith, John}},\n  year = {{2001}},\n}}\n\n"
        "@article{broken,\n  title = {An {unbalanced title,\n  year = {2002},\n}\n\n"
        f"@article{{omega,\n  title = {{{OMEGA}}},\n  author = {{Roe, Richard}},\n  year = {{2003}},\n}}\n",
        "line 7",
    ),
    "csl-json": (
        json.dumps([
            {"id": "alpha", "type": "article-journal", "title": ALPHA, "author": [{"family": "Smith", "given": "John"}],
             "issued": {"date-parts": [[2001]]}},
            {"id": "broken", "type": "article-journal", "title": "Names that are not names", "author": "Doe, Jane"},
            {"id": "omega", "type": "article-journal", "title": OMEGA, "author": [{"family": "Roe", "given": "Richard"}],
             "issued": {"date-parts": [[2003]]}},
        ], indent=1),
        "record 2",
    ),
    "medline": (
        f"PMID- 31000001\nTI  - {ALPHA}\nFAU - Smith, John\nDP  - 2001\n\n"
        "PMID- 31000002\nTI  - A record broken by a line\nthat lost its indentation.\nDP  - 2002\n\n"
        f"PMID- 31000003\nTI  - {OMEGA}\nFAU - Roe, Richard\nDP  - 2003\n",
        "line 8 (record PMID 31000002)",
    ),
    "pubmed-xml": (
        "<?xml version=\"1.0\"?>\n<PubmedArticleSet>\n"
        f"<PubmedArticle><MedlineCitation><PMID>31000001</PMID><Article><ArticleTitle>{ALPHA}</ArticleTitle>"
        "</Article></MedlineCitation></PubmedArticle>\n"
        "<PubmedArticle><MedlineCitation><Article><ArticleTitle>No PMID here</ArticleTitle></Article>"
        "</MedlineCitation></PubmedArticle>\n"
        f"<PubmedArticle><MedlineCitation><PMID>31000003</PMID><Article><ArticleTitle>{OMEGA}</ArticleTitle>"
        "</Article></MedlineCitation></PubmedArticle>\n"
        "</PubmedArticleSet>\n",
        "line 4",
    ),
    "bibpage": (
        "Summary: A page about trials.\n\nTop Publications\n\n"
        f"  1. Smith J. {ALPHA}. J Trials. 2001;1:1-2 pubmed\n"
        "  2. Doe J. A reference without its journal block pubmed\n"
        f"  3. Roe R. {OMEGA}. J Trials. 2003;3:5-6 pubmed\n",
        "line 6",
    ),
}
TEXT_FORMATS = tuple(FILES)
SUFFIX = {"ris": ".ris", "bibtex": ".bib", "csl-json": ".json", "medline": ".nbib", "pubmed-xml": ".xml",
          "bibpage": ".txt"}


def good_text(fmt: str) -> str:
    """The format's file without its bad record: two good records."""
    text, _ = FILES[fmt]
    if fmt == "csl-json":
        items = json.loads(text)
        return json.dumps([items[0], items[2]], indent=1)
    if fmt == "bibpage":
        return text.replace("  2. Doe J. A reference without its journal block pubmed\n", "")
    blocks = text.split("\n\n") if fmt != "pubmed-xml" else None
    if fmt == "pubmed-xml":
        lines = text.split("\n")
        return "\n".join(lines[:3] + lines[4:])
    return "\n\n".join(blocks[:1] + blocks[2:])


def cut_inside_second_record(fmt: str) -> Tuple[bytes, str]:
    """The good file cut in the middle of its second record, and what the error must say."""
    text = good_text(fmt)
    cut = text.index(OMEGA) + 5
    return text[:cut].encode("utf-8"), {
        "ris": "the file ends inside it",
        "bibtex": "line",
        "csl-json": "not valid JSON",
        "medline": None,  # no end marker: see test_medline_and_pages_cut_at_a_value_load_what_is_there
        "pubmed-xml": "truncated or damaged",
        "bibpage": "line 6",
    }[fmt]


@dataclass
class Result:
    exit_code: int
    output: str
    db: sqlite_utils.Database

    def titles(self) -> set:
        return {row["title"] for row in self.db.query("SELECT title FROM works")}

    def source_paths(self) -> set:
        return {row["path"] for row in self.db.query("SELECT path FROM sources")}


@pytest.fixture(scope="session")
def empty_library(tmp_path_factory) -> Path:
    """A library with its schema and nothing in it. Creating the schema commits (and syncs to disk)
    dozens of times; a copy of this file is a fresh library at no cost."""
    path = tmp_path_factory.mktemp("template") / "empty.db"
    Loader(sqlite_utils.Database(path)).finish()
    return path


@pytest.fixture(autouse=True)
def _template(empty_library, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "TEMPLATE", empty_library)


TEMPLATE: Optional[Path] = None


def fresh_library(path: Path) -> Path:
    shutil.copyfile(TEMPLATE, path)
    return path


def ingest(tmp_path: Path, *files: Path, options: Tuple[str, ...] = ()) -> Result:
    companion = tmp_path / "companion.json"
    companion.write_bytes(COMPANION)
    db_path = fresh_library(tmp_path / "library.db")
    result = CliRunner().invoke(cli, ["ingest", str(db_path), *options, *map(str, files), str(companion)])
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), (
        f"uncaught {result.exception!r}\n{result.output}"
    )
    return Result(result.exit_code, result.output, sqlite_utils.Database(db_path))


def assert_refused(result: Result, bad: Path, *fragments: str) -> None:
    """The bad file is named with the fragments, left nothing behind, the companion loaded, exit ≠ 0."""
    error_lines = [line for line in result.output.splitlines() if line.startswith("error: ") and str(bad) in line]
    assert error_lines, result.output
    for fragment in fragments:
        assert any(fragment in line for line in error_lines), (fragment, result.output)
    assert result.exit_code != 0
    assert str(bad) not in result.source_paths()
    assert result.titles() == set(COMPANION_TITLES)
    assert result.db["work_sources"].count == 2


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# ---- every text format, every class of bad file ------------------------------------------------


def _invalid_utf8(fmt: str) -> Tuple[bytes, Tuple[str, ...]]:
    data = good_text(fmt).encode("utf-8").replace(OMEGA.encode(), b"Om\xffega" + OMEGA[5:].encode())
    line = good_text(fmt)[: good_text(fmt).index(OMEGA)].count("\n") + 1
    return data, ("not UTF-8 text: byte 0xff", f"line {line}")


def _latin1(fmt: str) -> Tuple[bytes, Tuple[str, ...]]:
    text = good_text(fmt).replace(OMEGA, "Omega caf\u00e9 trial")
    line = text[: text.index("caf")].count("\n") + 1
    return text.encode("latin-1"), ("not UTF-8 text: byte 0xe9", f"line {line}", "save the file as UTF-8")


def _utf16_without_bom(fmt: str) -> Tuple[bytes, Tuple[str, ...]]:
    return good_text(fmt).encode("utf-16-le"), ("NUL bytes", "UTF-16", "line 1")


def _junk(fmt: str) -> Tuple[bytes, Tuple[str, ...]]:
    return b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, ("not UTF-8 text: byte 0x89 at offset 0", "line 1")


BAD_FILES: dict = {
    "invalid-utf8": _invalid_utf8,
    "latin-1": _latin1,
    "utf16-no-bom": _utf16_without_bom,
    "binary-junk": _junk,
    "empty": lambda fmt: (b"", ("empty file",)),
    "blank": lambda fmt: (b" \n\n\t\r\n", ("empty file",)),
}


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_unreadable_files_are_named_and_leave_nothing(tmp_path, fmt):
    """Every class of unreadable file of one format, in one command with the good companion."""
    files = {}
    for kind, make in BAD_FILES.items():
        data, fragments = make(fmt)
        if kind == "latin-1" and fmt == "pubmed-xml":
            fragments = fragments[:1]  # the test's XML has its records on one line each
        files[kind] = (write(tmp_path, f"{kind}{SUFFIX[fmt]}", data), fragments)
    result = ingest(tmp_path, *(path for path, _ in files.values()))
    for kind, (path, fragments) in files.items():
        assert_refused(result, path, *fragments)


# Forced with --format, some classes are read by the parser itself, and stop being errors:
# an empty .bib is an empty bibliography (the BibTeX reader's own tests want that), and libxml2 reads
# UTF-16 XML without a byte-order mark (it recognises ``<?xml`` in UTF-16).
FORCED_LOADS = {("bibtex", "empty"): 0, ("bibtex", "blank"): 0, ("pubmed-xml", "utf16-no-bom"): 2}


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_a_forced_format_gets_the_parsers_own_error(tmp_path, fmt):
    """With ``--format`` detection is skipped: the parser itself must refuse the file, by name."""
    files = {kind: write(tmp_path, f"{kind}{SUFFIX[fmt]}", BAD_FILES[kind](fmt)[0])
             for kind in ("invalid-utf8", "binary-junk", "empty", "blank", "utf16-no-bom")}
    result = ingest(tmp_path, *files.values(), options=("--format", fmt))
    assert result.exit_code != 0  # the CSL-JSON companion is not of the forced format (but CSL-JSON's)
    for kind, path in files.items():
        if (fmt, kind) in FORCED_LOADS:
            assert f"{path} [{fmt}]: {FORCED_LOADS[fmt, kind]} records" in result.output, result.output
            continue
        assert f"error: {path}" in result.output, (kind, result.output)
        assert str(path) not in result.source_paths()
    assert result.db["works"].count == (2 if fmt == "csl-json" else 0) + sum(
        n for (forced, _), n in FORCED_LOADS.items() if forced == fmt)


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_utf16_and_utf8_with_a_byte_order_mark_load(tmp_path, fmt):
    text = good_text(fmt)
    if fmt == "pubmed-xml":
        text = text.replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
    files = [write(tmp_path, f"utf16{SUFFIX[fmt]}", text.encode("utf-16")),
             write(tmp_path, f"utf8bom{SUFFIX[fmt]}", b"\xef\xbb\xbf" + good_text(fmt).encode("utf-8"))]
    result = ingest(tmp_path, *files)
    assert result.exit_code == 0, result.output
    assert result.titles() >= {ALPHA, OMEGA} | set(COMPANION_TITLES)


def test_latin1_xml_that_says_so_loads(tmp_path):
    text = good_text("pubmed-xml").replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="ISO-8859-1"?>')
    xml = write(tmp_path, "latin1.xml", text.replace(OMEGA, "Omega caf\u00e9 trial").encode("latin-1"))
    result = ingest(tmp_path, xml)
    assert result.exit_code == 0, result.output
    assert "Omega caf\u00e9 trial" in result.titles()


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_a_file_cut_inside_a_record(tmp_path, fmt):
    data, fragment = cut_inside_second_record(fmt)
    cut = write(tmp_path, f"cut{SUFFIX[fmt]}", data)
    result = ingest(tmp_path, cut)
    if fragment is None:
        # MEDLINE has no end-of-record marker: a cut inside a value is a shorter value.
        assert result.exit_code == 0 and ALPHA in result.titles()
        return
    assert_refused(result, cut, fragment)


@pytest.mark.parametrize("fmt", ["medline", "bibpage"])
def test_medline_and_pages_cut_inside_a_tag_or_reference_are_refused(tmp_path, fmt):
    text = good_text(fmt)
    cut_at = text.index("FAU - Roe") + 2 if fmt == "medline" else text.index(OMEGA) + 5
    cut = write(tmp_path, f"cut{SUFFIX[fmt]}", text[:cut_at].encode("utf-8"))
    line = text[:cut_at].count("\n") + 1
    assert_refused(ingest(tmp_path, cut), cut, f"line {line}")


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_one_bad_record_fails_the_file_and_skip_bad_loads_the_rest(tmp_path, fmt):
    text, where = FILES[fmt]
    mixed = write(tmp_path, f"mixed{SUFFIX[fmt]}", text.encode("utf-8"))
    refused = ingest(tmp_path, mixed)
    assert_refused(refused, mixed, where)

    (tmp_path / "library.db").unlink()
    skipped = ingest(tmp_path, mixed, options=("--skip-bad",))
    assert skipped.titles() == {ALPHA, OMEGA} | set(COMPANION_TITLES), skipped.output
    reports = [line for line in skipped.output.splitlines() if line.startswith("skipped: ")]
    assert len(reports) == 1 and str(mixed) in reports[0] and where in reports[0], skipped.output
    assert str(mixed) in skipped.source_paths()
    # Something was left out, so the run still says it failed.
    assert skipped.exit_code != 0


# ---- records missing everything but a title ----------------------------------------------------

TITLE_ONLY = {
    "ris": "TY  - JOUR\nTI  - Only a title\nER  - \n",
    "bibtex": "@misc{lonely,\n  title = {Only a title}\n}\n",
    "csl-json": json.dumps([{"title": "Only a title"}]),
    # MEDLINE and PubMed XML records are keyed by their PMID: a record has one whatever else it lacks.
    "medline": "PMID- 31000009\nTI  - Only a title\n",
    "pubmed-xml": "<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>31000009</PMID><Article>"
                  "<ArticleTitle>Only a title</ArticleTitle></Article></MedlineCitation></PubmedArticle>"
                  "</PubmedArticleSet>",
    # A page's reference is told apart from prose by its journal and year.
    "bibpage": "Top Publications\n\n  1. Only a title. J Trials. 2001 pubmed\n",
}


def test_records_with_nothing_but_a_title_load(tmp_path):
    files = [write(tmp_path, f"title-only{SUFFIX[fmt]}", text.encode("utf-8")) for fmt, text in TITLE_ONLY.items()]
    result = ingest(tmp_path, *files)
    assert result.exit_code == 0, result.output
    for path in files:
        assert f"{path} [" in result.output and ": 1 records" in result.output
    titles = [row["title"] for row in result.db.query("SELECT title FROM works WHERE title LIKE 'Only%'")]
    assert set(titles) == {"Only a title"}
    # No year and no author: the same title is the same work, except on the page (it has a year).
    assert len(titles) == 2
    assert result.db["work_sources"].count == len(files) + 2


def test_skip_bad_also_skips_a_record_with_neither_title_nor_identifier(tmp_path):
    ris = write(tmp_path, "untitled.ris", (
        f"TY  - JOUR\nTI  - {ALPHA}\nER  - \nTY  - JOUR\nAU  - Nobody, Anne\nER  - \n"
        f"TY  - JOUR\nTI  - {OMEGA}\nER  - \n").encode("utf-8"))
    result = ingest(tmp_path, ris, options=("--skip-bad",))
    assert {ALPHA, OMEGA} <= result.titles(), result.output
    assert "record #2" in result.output and "neither a title nor an identifier" in result.output


# ---- enormous fields -----------------------------------------------------------------------------

HUGE = 5_000_000


def _huge_words(size: int) -> str:
    words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()
    out = " ".join(words[i % len(words)] for i in range(size // 5 + 1))
    return out[:size]


def enormous_files(tmp_path: Path) -> dict:
    """One file per text format whose record carries a 5 MB abstract (or excerpt)."""
    text = _huge_words(HUGE)
    lines = [text[i:i + 70] for i in range(0, len(text), 70)]
    latex = r"Ionic strength 50\% at {$\alpha$} and {\"o}ther \emph{terms}. " * 3_000  # ~180 KB of LaTeX
    contents = {
        "ris": f"TY  - JOUR\nTI  - Huge RIS abstract\nAB  - {text}\nER  - \n",
        "bibtex": (f"@article{{huge,\n  title = {{Huge BibTeX abstract}},\n  abstract = {{{text}}}\n}}\n"
                   f"@article{{latex,\n  title = {{LaTeX-heavy BibTeX abstract}},\n  abstract = {{{latex}}}\n}}\n"),
        "csl-json": json.dumps([{"title": "Huge CSL abstract", "abstract": text}]),
        "medline": "PMID- 31000010\nTI  - Huge MEDLINE abstract\nAB  - " + "\n      ".join(lines) + "\n",
        "pubmed-xml": ("<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>31000011</PMID><Article>"
                       "<ArticleTitle>Huge PubMed abstract</ArticleTitle><Abstract><AbstractText>" + text +
                       "</AbstractText></Abstract></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>"),
        "bibpage": f"Top Publications\n\n  1. Smith J. Huge page excerpt. J Trials. 2001;1:1-2 pubmed\n    ..{text}\n",
    }
    return {fmt: write(tmp_path, f"huge{SUFFIX[fmt]}", body.encode("utf-8")) for fmt, body in contents.items()}


def run_ingest(args, timeout: float) -> subprocess.CompletedProcess:
    """``python -m ingest`` in a child process, so that a hang fails the test instead of the run."""
    return subprocess.run([sys.executable, "-m", "ingest", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def test_five_megabyte_fields_load_in_seconds(tmp_path):
    files = enormous_files(tmp_path)
    db_path = fresh_library(tmp_path / "huge.db")
    done = run_ingest(["ingest", str(db_path), *map(str, files.values())], timeout=120)
    assert done.returncode == 0, done.stderr
    db = sqlite_utils.Database(db_path)
    lengths = {row["title"]: row["length"] for row in db.query(
        "SELECT title, length(coalesce(abstract, excerpts)) AS length FROM works")}
    for title in ("Huge RIS abstract", "Huge BibTeX abstract", "Huge CSL abstract", "Huge MEDLINE abstract",
                  "Huge PubMed abstract", "Huge page excerpt"):
        assert lengths[title] >= HUGE - 10, (title, lengths)
    assert lengths["LaTeX-heavy BibTeX abstract"] > 100_000
    latex = db.execute("SELECT abstract FROM works WHERE title = 'LaTeX-heavy BibTeX abstract'").fetchone()[0]
    assert latex.startswith("Ionic strength 50% at α and öther <i>terms</i>.")


AUTHORS = 100_000


def test_a_hundred_thousand_authors_load_in_seconds(tmp_path):
    """A consortium paper's author list, and more (the largest real ones have about 15,000)."""
    authors = [{"family": f"Member{i}", "given": "Consortium"} for i in range(AUTHORS)]
    path = write(tmp_path, "consortium.json", json.dumps([{"title": "A very large consortium", "author": authors}])
                 .encode("utf-8"))
    done = run_ingest(["ingest", str(fresh_library(tmp_path / "big.db")), str(path)], timeout=60)
    assert done.returncode == 0, done.stderr
    db = sqlite_utils.Database(tmp_path / "big.db")
    assert db["work_authors"].count == AUTHORS


# ---- hostile XML ---------------------------------------------------------------------------------


def test_an_entity_bomb_is_refused_quickly(tmp_path):
    declarations = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "' + f"&lol{i - 1};" * 10 + '">' for i in range(1, 11)]
    bomb = write(tmp_path, "bomb.xml", (
        '<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet [\n' + "\n".join(declarations) + "\n]>\n"
        "<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID><Article><ArticleTitle>&lol10;"
        "</ArticleTitle></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>\n").encode("ascii"))
    assert_refused(ingest(tmp_path, bomb), bomb, "amplification", "record PMID 1")
    assert "line 1," not in ingest(tmp_path, bomb).output  # a line of the entity's text, not of the file


def test_one_entity_repeated_past_the_parsers_limit_names_its_record(tmp_path):
    """No nesting, just one entity used until its text outgrows the file: libxml2's own limit stops it."""
    bomb = write(tmp_path, "repeated.xml", (
        '<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet [\n<!ENTITY big "' + "x" * 2000 + '">\n]>\n'
        "<PubmedArticleSet>\n<PubmedArticle><MedlineCitation><PMID>7</PMID><Article><ArticleTitle>"
        + "&big;" * 100_000 + "</ArticleTitle></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>\n"
    ).encode("ascii"))
    assert_refused(ingest(tmp_path, bomb), bomb, "amplification", "line 6", "record PMID 7")


def test_records_made_of_entity_text_are_refused(tmp_path):
    """An internal entity that holds markup: lxml would report its elements as records of the file."""
    xml = write(tmp_path, "entity-records.xml", (
        '<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet [\n'
        '  <!ENTITY rec "<PubmedArticle><MedlineCitation><PMID>5</PMID></MedlineCitation></PubmedArticle>">\n'
        "]>\n<PubmedArticleSet>&rec;</PubmedArticleSet>\n").encode("ascii"))
    assert_refused(ingest(tmp_path, xml), xml, "line 3", "entity 'rec'")


# ---- corpus: the real broken exports ---------------------------------------------------------------


@pytest.mark.corpus
def test_real_bad_exports_get_a_clear_error_or_load(corpus, tmp_path):
    bad = corpus / "samples" / "exports" / "bad"
    wos = bad / "rispy-example_wos.ris"
    utf_chars = bad / "rispy-example_utf_chars.ris"
    result = ingest(tmp_path, wos, utf_chars)
    assert_refused_only = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(assert_refused_only) == 1 and str(wos) in assert_refused_only[0]
    assert "Web of Science" in assert_refused_only[0] and "RIS or BibTeX" in assert_refused_only[0]
    # BOM, a TY that is an EndNote type name, the title only in ST: Zotero reads it, so do we.
    assert f"{utf_chars} [ris]: 1 records" in result.output
    assert str(wos) not in result.source_paths() and str(utf_chars) in result.source_paths()
    assert result.exit_code != 0


# ---- zotero.sqlite -------------------------------------------------------------------------------


def _zotero_copy(corpus: Path, tmp_path: Path) -> bytes:
    return (corpus / "samples" / "zotero-sqlite" / "engineering-library.zotero.sqlite").read_bytes()


def _damaged(corpus: Path, name: str, source_page: int, target_page: int) -> bytes:
    data = (corpus / "samples" / "zotero-sqlite" / f"{name}.zotero.sqlite").read_bytes()
    page = data[source_page * 4096:(source_page + 1) * 4096]
    return data[:target_page * 4096] + page + data[(target_page + 1) * 4096:]


def _not_zotero(tmp_path: Path) -> bytes:
    path = tmp_path / "other.sqlite"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
    connection.execute("INSERT INTO items (name) VALUES ('a cat photo')")
    connection.commit()
    connection.close()
    return path.read_bytes()


def _with_note(corpus: Path, tmp_path: Path, statement: str) -> bytes:
    """The engineering library with one SQL statement applied."""
    path = tmp_path / "edited.sqlite"
    path.write_bytes(_zotero_copy(corpus, tmp_path))
    connection = sqlite3.connect(path)
    connection.execute(statement)
    connection.commit()
    connection.close()
    return path.read_bytes()


ZOTERO_CASES: dict = {
    "cut-in-half": (lambda corpus, tmp: (lambda data: data[: len(data) // 2])(_zotero_copy(corpus, tmp)),
                    "cannot read the Zotero database"),
    "header-only": (lambda corpus, tmp: _zotero_copy(corpus, tmp)[:100], "cannot"),
    "zeroed-pages": (lambda corpus, tmp: (lambda data: data[:4096 * 40] + bytes(4096 * 20) + data[4096 * 60:])(
        _zotero_copy(corpus, tmp)), "cannot read the Zotero database"),
    "not-zotero": (lambda corpus, tmp: _not_zotero(tmp), "not a Zotero database"),
    # A page copied over another leaves numbers or NULL where Zotero writes text: crashes that
    # bench/fuzz.py found (TypeError in zotero_records.parse_item_uri, in sorting collection keys).
    "page-copied-int-uri": (lambda corpus, tmp: _damaged(corpus, "older-schema-library", 14, 93),
                            "unexpected data"),
    "page-copied-null-key": (lambda corpus, tmp: _damaged(corpus, "trash-library", 57, 80),
                             "unexpected data"),
    "text-not-utf8": (lambda corpus, tmp: _with_note(corpus, tmp, (
        "UPDATE itemDataValues SET value = CAST(x'ff00fe41' AS TEXT) "
        "WHERE valueID = (SELECT MIN(valueID) FROM itemDataValues)")), "decode to UTF-8"),
}


@pytest.mark.corpus
@pytest.mark.parametrize("kind", sorted(ZOTERO_CASES))
def test_a_damaged_or_foreign_sqlite_file_is_refused(corpus, tmp_path, kind):
    make, fragment = ZOTERO_CASES[kind]
    bad = write(tmp_path, "zotero.sqlite", make(corpus, tmp_path))
    result = ingest(tmp_path, bad)
    assert_refused(result, bad, fragment)
