"""Loader output on the seed page: tables, foreign keys, rows, idempotence, atomicity."""

import io
import json
import shutil

import pytest
import sqlite_utils

from ingest.loader import Loader
from ingest.records import ParseError

from conftest import FIXTURES, SEEDS

SEED = str(SEEDS / "trastuzumab.txt")


def build(path, *files, force=False):
    db = sqlite_utils.Database(path)
    loader = Loader(db)
    results = [loader.load_file(str(f), force=force) for f in files]
    loader.finish()
    return db, results


@pytest.fixture(scope="module")
def seed_db(tmp_path_factory):
    db, _ = build(tmp_path_factory.mktemp("seed") / "library.db", SEED)
    return db


def test_counts_of_the_seed_page(seed_db):
    assert seed_db["works"].count == 62
    assert seed_db["work_authors"].count == 303
    assert seed_db["journals"].count == 46
    assert seed_db.execute("select count(*) from collection_works where context is not null").fetchone()[0] == 45
    assert seed_db["collections"].count == 3
    assert seed_db["work_sources"].count == 62
    assert seed_db["sources"].count == 1


def test_schema_contract_columns(seed_db):
    contract = {
        "works": "id type title abstract journal_id year issued volume issue pages page_first page_last doi pmid "
                 "pmcid isbn url language note cite_key zotero_key",
        "authors": "id name family given initials orcid name_key",
        "work_authors": "work_id author_id position role name_as_written",
        "journals": "id title abbreviation issn eissn publisher",
        "citations": "citing_work_id cited_work_id position raw doi pmid",
        "collections": "id name parent_id description zotero_key",
        "collection_works": "collection_id work_id position context",
        "tags": "id name", "work_tags": "work_id tag_id kind", "notes": "id work_id content",
        "sources": "id path format sha256 imported_at records", "work_sources": "work_id source_id record_key",
        "institutions": "id name city country latitude longitude",
        "affiliations": "work_id author_id institution_id raw",
    }
    for table, columns in contract.items():
        assert set(columns.split()) <= set(seed_db[table].columns_dict), table
    assert seed_db["work_authors"].pks == ["work_id", "role", "position"]
    assert seed_db["works"].columns_dict["year"] is int


def test_foreign_keys_declared_and_satisfied(seed_db):
    fks = {(fk.table, fk.column, fk.other_table) for fk in seed_db["works"].foreign_keys}
    assert ("works", "journal_id", "journals") in fks
    fks = {(fk.column, fk.other_table) for fk in seed_db["work_authors"].foreign_keys}
    assert fks == {("work_id", "works"), ("author_id", "authors")}
    assert seed_db.execute("PRAGMA foreign_key_check").fetchall() == []


def test_indexes_on_facet_columns_and_foreign_keys(seed_db):
    indexed = {(idx.table if hasattr(idx, "table") else t, tuple(idx.columns))
               for t in seed_db.table_names() for idx in seed_db[t].indexes}
    for table, column in [("works", "year"), ("works", "journal_id"), ("works", "type"),
                          ("work_authors", "author_id"), ("collection_works", "work_id"), ("work_tags", "tag_id")]:
        assert any(cols[0] == column for t, cols in indexed if t == table), (table, column)


def test_a_work_row_in_full(seed_db):
    work = seed_db.execute(
        "select * from works where title like 'Cellular adaptive immune system%'"
    ).fetchone()
    row = dict(zip([d[0] for d in seed_db.execute("select * from works limit 0").description], work))
    assert row["pages"] == "e369–e370" and row["page_first"] == "e369" and row["page_last"] == "e370"
    assert row["year"] == 2010 and row["issued"] == "2010" and row["volume"] == "28"
    assert row["note"] == "author reply e371"
    assert row["type"] == "article-journal"
    assert row["cite_key"] == "bellati2010cellular"
    journal = seed_db["journals"].get(row["journal_id"])
    assert journal["abbreviation"] == "J Clin Oncol"
    assert row["authors_text"] == "Bellati F; Napoletano C; Ruscito I; Liberati M; Panici P; Nuti M"


def test_authors_in_order_with_initials(seed_db):
    rows = seed_db.execute(
        """select authors.family, authors.given, authors.initials, work_authors.position, work_authors.name_as_written
           from work_authors join authors on authors.id = work_authors.author_id
           join works on works.id = work_authors.work_id
           where works.title like 'Adjuvant Pertuzumab%' order by position"""
    ).fetchall()
    assert rows[0] == ("von Minckwitz", "G.", "G", 1, "von Minckwitz G")
    assert [r[0] for r in rows] == ["von Minckwitz", "Procter", "de Azambuja", "Zardavas", "Benyunes", "Viale"]


def test_same_name_on_two_works_is_one_author(seed_db):
    # "Andre F" wrote two of the listed works; "Black J" too.
    for family in ("Andre", "Black"):
        ids = seed_db.execute("select id from authors where family = ?", [family]).fetchall()
        assert len(ids) == 1
        works = seed_db.execute("select count(*) from work_authors where author_id = ?", ids[0]).fetchone()[0]
        assert works == 2


def test_collections_hierarchy_positions_and_tags(seed_db):
    page = seed_db.execute("select id, description from collections where parent_id is null").fetchone()
    assert page[1].startswith("A humanized monoclonal antibody")
    sections = seed_db.execute(
        "select name, (select count(*) from collection_works where collection_id = c.id) from collections c "
        "where parent_id = ? order by position", [page[0]]).fetchall()
    assert sections == [("Top Publications", 9), ("More Information", 53)]
    tags = [r[0] for r in seed_db.execute(
        "select tags.name from collection_tags join tags on tags.id = tag_id where collection_id = ?", [page[0]])]
    assert sorted(tags) == ["ANTINEOPLASTIC AGENT", "BREAST CANCER", "ERBB-2 RECEPTOR"]
    first = seed_db.execute(
        "select works.title, cw.position, cw.context from collection_works cw join works on works.id = cw.work_id "
        "join collections on collections.id = cw.collection_id where collections.name = 'Top Publications' "
        "order by cw.position limit 1").fetchone()
    assert first[0].startswith("Nonclinical studies") and first[1] == 1
    assert first[2].startswith("One of these antibodies, 4D5")


def test_full_text_search_covers_title_abstract_and_excerpts(seed_db):
    def search(q):
        return seed_db.execute(
            "select count(*) from works where rowid in (select rowid from works_fts where works_fts match ?)", [q]
        ).fetchone()[0]
    assert search("nanosilica") == 1  # title and excerpt
    assert search("Genentech") == 2   # excerpts only
    assert search("Sliwkowski") == 1  # author
    assert search("trastuzumab") == 49  # counted by hand with a regex over title + excerpt


def test_readable_view(seed_db):
    row = seed_db.execute(
        "select authors, journal, year, pages from works_readable where title like 'Nonclinical%'").fetchone()
    assert row == ("Sliwkowski M; Lofgren J; Lewis G; Hotaling T; Fendly B; Fox J", "Semin Oncol", 1999, "60–70")


def dump(db):
    return {t: sorted(map(repr, db[t].rows)) for t in db.table_names() if not t.endswith(("_fts", "_data", "_idx",
            "_docsize", "_config")) and t != "sources"}


def test_loading_twice_changes_nothing(tmp_path):
    db, _ = build(tmp_path / "a.db", SEED)
    before = dump(db)
    _, (result,) = build(tmp_path / "a.db", SEED, force=True)
    assert (result.added, result.updated, result.unchanged) == (0, 0, 62)
    assert dump(sqlite_utils.Database(tmp_path / "a.db")) == before
    _, (again,) = build(tmp_path / "a.db", SEED)
    assert again.skipped_file


def test_same_page_under_two_names_merges_into_the_same_works(tmp_path):
    copy = tmp_path / "copy-of-trastuzumab.txt"
    shutil.copy(SEED, copy)
    db, _ = build(tmp_path / "b.db", SEED, copy)
    assert db["works"].count == 62
    assert db["work_sources"].count == 124
    assert db["sources"].count == 2


def test_a_bad_file_leaves_nothing_half_written(tmp_path):
    bad = tmp_path / "bad.txt"
    good = "Refs\n\n  1. Smith J. A title. J Foo. 2001;1:1-2 pubmed\n"
    bad.write_text(good + "  2. Doe A. Another title. J Foo. 2002;2:5 pubmed\n  3. broken reference line\n")
    db = sqlite_utils.Database(tmp_path / "c.db")
    loader = Loader(db)
    with pytest.raises(ParseError, match="line 5"):
        loader.load_file(str(bad))
    assert db["works"].count == 0 and db["sources"].count == 0
    result = loader.load_file(str(bad), skip_bad=True)
    assert result.records == 2 and len(result.errors) == 1
    assert db["works"].count == 2


def test_record_without_title_or_identifier_names_the_record(tmp_path):
    db = sqlite_utils.Database(tmp_path / "d.db")
    with pytest.raises(ParseError, match="record #2"):
        Loader(db).load_records([{"title": "Fine"}, {"type": "book"}], path="x.json", fmt="csl-json")
    assert db["works"].count == 0


def test_long_author_and_reference_lists_keep_their_order(tmp_path):
    """A work's authorships and references are written many rows to a statement: past one statement's
    worth, and in any number, they still come out whole and in order."""
    path = tmp_path / "long.json"
    authors = [{"family": f"Member{i:03d}", "given": "Consortium"} for i in range(1, 131)]
    references = [{"raw": f"Reference {i}", "DOI": f"10.1000/ref.{i}"} for i in range(1, 151)]
    path.write_text(json.dumps([{"title": "A consortium paper", "type": "article-journal",
                                 "author": authors, "references": references}]))
    db = sqlite_utils.Database(tmp_path / "long.db")
    db.execute("PRAGMA temp_store = FILE")
    Loader(db).load_file(str(path))
    assert db.execute(
        "select group_concat(name_as_written, '|') from (select name_as_written from work_authors order by position)"
    ).fetchone()[0] == "|".join(f"Member{i:03d}, Consortium" for i in range(1, 131))
    assert [tuple(row) for row in db.execute("select position, raw, doi from citations order by rowid")] == [
        (i, f"Reference {i}", f"10.1000/ref.{i}") for i in range(1, 151)]
    # The load keeps a statement's undo copy in memory, and gives the connection back as it was.
    assert db.execute("PRAGMA temp_store").fetchone()[0] == 1


def test_namesakes_are_read_from_one_index_that_replaces_the_old_one(tmp_path):
    from ingest.loader import _NAMESAKES_SQL

    db = sqlite_utils.Database(tmp_path / "library.db")
    Loader(db)
    db.execute("CREATE INDEX idx_authors_name_key_id ON authors (name_key, id)")  # as earlier builds had it
    db, _ = build(tmp_path / "library.db", SEED)
    names = {index.name for index in db["authors"].indexes}
    assert "idx_authors_name_key_id" not in names
    plan = " ".join(row[3] for row in db.execute("EXPLAIN QUERY PLAN " + _NAMESAKES_SQL, ["slamon d"]))
    assert "COVERING INDEX idx_authors_name_key_id_family_given_initials_literal_orcid_name" in plan
    assert "TEMP B-TREE" not in plan  # id order comes from the index
