"""The benchmark's library generator and the loader's parallel parsing, at a size tests can afford.

The benchmarks themselves (bench/ingest.py, bench/serve.py at 10k–1M works) are not run here.
"""

import hashlib
import json
import shutil
import sqlite3
from collections import Counter

import pytest
import sqlite_utils

from bench.generate import Library, csl_item, library_dir, write
from ingest import loader as loader_module
from ingest.loader import Loader, _ParsedInChild
from ingest.records import ParseError
from ingest.sources import csljson, pubmed_xml


def digest(paths):
    sha = hashlib.sha256()
    for path in paths:
        sha.update(path.read_bytes())
    return sha.hexdigest()


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """The same 1,000-work library as CSL-JSON Lines and PubMed XML, in shards of 400."""
    data = tmp_path_factory.mktemp("bench-data")
    return {fmt: write(1000, fmt, seed=3, shard_size=400, data=data) for fmt in ("csl-json", "pubmed-xml")}


def first_shards(library):
    """The first shard of each format: 400 works as CSL-JSON, the same 400 as PubMed XML."""
    return [library["csl-json"][0], library["pubmed-xml"][0]]


def test_generator_is_deterministic(tmp_path, library):
    again = write(1000, "csl-json", seed=3, shard_size=400, data=tmp_path)
    assert [p.name for p in again] == ["part-0001.jsonl", "part-0002.jsonl", "part-0003.jsonl"]
    assert digest(again) == digest(library["csl-json"])
    other_seed = write(1000, "csl-json", seed=4, shard_size=400, data=tmp_path)
    assert digest(other_seed) != digest(again)


def test_generated_library_has_the_promised_shape():
    works = list(Library(2000, seed=1).works())
    authors = [len(w["authors"]) for w in works]
    assert min(authors) >= 1 and max(authors) <= 30
    assert sum(1 for w in works if w.get("abstract")) / len(works) == pytest.approx(0.5, abs=0.05)
    assert max(len(w["references"]) for w in works) <= 40
    journals = {w["journal"] for w in works}
    assert 20 <= len(journals) <= 2000 // 50
    # Zipf-like reuse: a few people sign many works, most sign a few.
    counts = sorted(Counter(person for w in works for person in w["authors"]).values(), reverse=True)
    assert counts[0] >= 15 and counts[len(counts) // 2] <= 2
    # 1% of records repeat an earlier work (same identifiers).
    assert 5 <= sum(1 for i, w in enumerate(works) if w["index"] != i) <= 40


def test_both_formats_parse_to_the_same_works(library):
    csl = [r for path in library["csl-json"] for r in csljson.parse(str(path))]
    xml = [r for path in library["pubmed-xml"] for r in pubmed_xml.parse(str(path))]
    assert len(csl) == len(xml) == 1000
    assert [r["PMID"] for r in csl] == [r["PMID"] for r in xml]
    assert [r["author"][0]["family"] for r in csl] == [r["author"][0]["family"] for r in xml]


def test_a_thousand_works_load(tmp_path, library):
    db = sqlite_utils.Database(tmp_path / "library.db")
    loader = Loader(db)
    results = [loader.load_file(str(path)) for path in library["csl-json"]]
    loader.finish()
    assert sum(r.records for r in results) == 1000
    works = db["works"].count
    assert 980 <= works <= 995  # the repeated records merged
    assert sum(r.added for r in results) == works
    resolved = db.execute("select count(*) from citations where cited_work_id is not null").fetchone()[0]
    assert resolved > 1000  # about half of the references point inside the library
    assert db.execute("select count(*) from works_fts where works_fts match 'cancer'").fetchone()[0] > 100
    assert db.execute("select count(*) from works where cite_key is null").fetchone()[0] == 0


def test_loading_pubmed_xml_over_csl_json_merges_every_work(tmp_path, library):
    db = sqlite_utils.Database(tmp_path / "library.db")
    loader = Loader(db)
    csl, xml = first_shards(library)
    loader.load_file(str(csl))
    works = db["works"].count
    result = loader.load_file(str(xml))
    assert result.records == 400 and result.added == 0
    assert db["works"].count == works


def dump(path):
    conn = sqlite3.connect(path)
    tables = [r[0] for r in conn.execute(
        "select name from sqlite_master where type = 'table' and name not like '%fts%' and name != 'sources'")]
    return {t: sorted(map(repr, conn.execute(f"select * from [{t}]"))) for t in tables}


def test_parsing_in_a_child_process_loads_the_same_rows(tmp_path, library, monkeypatch):
    monkeypatch.setattr(loader_module, "PARALLEL_PARSE_BYTES", 0)
    monkeypatch.setattr(loader_module, "_can_fork", lambda: True)
    builds = {}
    for parallel in (False, True):
        path = tmp_path / f"{parallel}.db"
        loader = Loader(sqlite_utils.Database(path))
        loader.parallel_parse = parallel
        for file in first_shards(library):
            shutil.copy(file, tmp_path / file.name)  # the same path in both builds
            loader.load_file(str(tmp_path / file.name))
        loader.finish()
        builds[parallel] = dump(path)
    assert builds[True] == builds[False]


def build_in_process(path, files):
    """The rows of ``files`` loaded into a new database at ``path``, parsed in this process."""
    loader = Loader(sqlite_utils.Database(path))
    loader.parallel_parse = False
    for file in files:
        loader.load_file(str(file))
    loader.finish()
    return dump(path)


def test_shortcuts_choose_what_the_identity_rules_choose(tmp_path, library, monkeypatch):
    """The same-spelling index and the journal cache are shortcuts: without them, the same rows."""
    def build(name):
        return build_in_process(tmp_path / f"{name}.db", library["csl-json"])

    with_shortcuts = build("shortcuts")
    monkeypatch.setattr(loader_module, "SPELLING_SHORTCUT", False)
    monkeypatch.setattr(Loader, "_journal_columns_for", lambda self, args: (
        {} if args is None else {"container_title": args[1]} if args[0] == "container"
        else {"journal_id": self.journal_id(*args[1:])}))
    assert build("walks") == with_shortcuts


def test_tiny_caches_load_the_same_rows(tmp_path, library, monkeypatch):
    """Caches only make the loader faster: evicting namesakes after every few authors (the regime
    of a million-work library, where people are looked up by spelling in the table) changes nothing."""
    def build(name):
        return build_in_process(tmp_path / f"{name}.db", library["csl-json"])

    roomy = build("roomy")
    monkeypatch.setattr(loader_module, "AUTHOR_GENERATION", 50)
    monkeypatch.setattr(loader_module, "CACHE_LIMIT", 100)
    assert build("tiny") == roomy


def test_child_process_reports_parse_errors_where_they_happen(tmp_path):
    good = csl_item(next(Library(10, seed=1).works()))
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(good) + "\n" + json.dumps({**good, "author": "Smith, J."}) + "\n")
    stream = _ParsedInChild("ingest.sources.csljson", str(bad), False, "csl-json")
    first = next(stream)
    assert first["title"] == good["title"] and "_prepared" in first
    with pytest.raises(ParseError, match="record 2"):
        next(stream)
    stream.close()
    skipping = _ParsedInChild("ingest.sources.csljson", str(bad), True, "csl-json")
    assert len(list(skipping)) == 1
    assert len(skipping.errors) == 1 and "record 2" in str(skipping.errors[0])
    skipping.close()


def test_ingest_writes_the_inspect_file_that_serve_passes_on(tmp_path, library):
    from click.testing import CliRunner

    from ingest.cli import cli, datasette_args

    database = tmp_path / "library.db"
    result = CliRunner().invoke(cli, ["ingest", str(database), str(library["csl-json"][0]), "-q"])
    assert result.exit_code == 0, result.output
    inspect_file = tmp_path / "library.db.inspect.json"
    data = json.loads(inspect_file.read_text())["library"]
    assert data["tables"]["works"]["count"] == sqlite_utils.Database(database)["works"].count
    assert len(data["hash"]) == 64 and data["size"] == database.stat().st_size
    args = datasette_args(database)
    assert args[args.index("--inspect-file") + 1] == str(inspect_file)
    # A later ingest changes the database: the file is rewritten, never left stale.
    CliRunner().invoke(cli, ["ingest", str(database), str(library["csl-json"][1]), "-q"])
    assert json.loads(inspect_file.read_text())["library"]["tables"]["works"]["count"] > data["tables"]["works"]["count"]
    CliRunner().invoke(cli, ["ingest", str(database), str(library["csl-json"][2]), "-q", "--no-inspect"])
    assert not inspect_file.exists()
