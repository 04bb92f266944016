"""zotero.sqlite import: the real desktop databases of the corpus (samples/zotero-sqlite, see its
PROVENANCE.md), and copies of one with rows added through Zotero's own table layout."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner

from ingest.loader import Loader
from ingest.records import ParseError
from ingest.sources import detect
from ingest.sources import zotero_sqlite
from ingest.zotero_cli import zotero
from ingest.zotero_sync import import_sqlite

SAMPLES = "samples/zotero-sqlite"


def sample(corpus: Path, name: str) -> Path:
    return corpus / SAMPLES / f"{name}.zotero.sqlite"


def fingerprint(path: Path):
    return hashlib.sha256(path.read_bytes()).hexdigest(), os.stat(path).st_mtime_ns


def fast_db(path: Path) -> sqlite_utils.Database:
    db = sqlite_utils.Database(path)
    db.execute("PRAGMA synchronous = OFF")  # tests only: no fsync per commit
    return db


def source_rows(path: Path, sql: str, params=()):
    connection = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


REGULAR_ITEMS_KEPT = """
    SELECT COUNT(*) FROM items i JOIN itemTypesCombined t ON t.itemTypeID = i.itemTypeID
    WHERE t.typeName NOT IN ('note', 'attachment', 'annotation')
      AND i.itemID NOT IN (SELECT itemID FROM deletedItems)
      AND EXISTS (SELECT 1 FROM itemData d WHERE d.itemID = i.itemID)"""
ATTACHMENTS_OF_KEPT_ITEMS = """
    SELECT COUNT(*) FROM itemAttachments a JOIN items i ON i.itemID = a.itemID
    WHERE a.{parent} IN (SELECT itemID FROM items) AND a.{parent} NOT IN (SELECT itemID FROM deletedItems)
      AND a.itemID NOT IN (SELECT itemID FROM deletedItems)"""

# Counts from samples/PROVENANCE.md (item types as Zotero stores them) and what the import makes of them.
CASES = {
    "engineering-library": dict(
        items=58, types={"book": 19, "journalArticle": 5, "conferencePaper": 5, "computerProgram": 4,
                         "preprint": 2, "document": 2, "thesis": 1, "attachment": 18, "note": 2},
        record_types={"book": 19, "article-journal": 5, "paper-conference": 5, "software": 4, "article": 2,
                      "document": 2, "thesis": 1},
        records=38, works=38, notes=2, attachments=18, collections=1, memberships=20, tags=66, authors=41,
        library="users/10936023", skipped=[]),
    "older-schema-library": dict(
        items=161, types={"conferencePaper": 31, "journalArticle": 22, "book": 6, "thesis": 2, "webpage": 1,
                          "attachment": 98, "note": 1},
        record_types={"paper-conference": 31, "article-journal": 22, "book": 6, "thesis": 2, "webpage": 1},
        # four pairs/triples of duplicates (same DOI or title, year and first author) are one work each
        records=62, works=57, notes=1, attachments=88, collections=14, memberships=52, tags=553, authors=121,
        library="users/0", skipped=[]),
    "trash-library": dict(
        items=8, types={"journalArticle": 3, "webpage": 1, "attachment": 4},
        record_types={"article-journal": 1},
        records=1, works=1, notes=0, attachments=2, collections=2, memberships=2, tags=6, authors=15,
        library="users/9720857", skipped=["users/9720857 item XGMPBU84: no title or identifier"]),
    "empty-library": dict(
        items=0, types={}, record_types={}, records=0, works=0, notes=0, attachments=0, collections=0,
        memberships=0, tags=0, authors=0, library=None, skipped=[]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_real_zotero_databases(corpus, tmp_path, name):
    case = CASES[name]
    path = sample(corpus, name)
    before = fingerprint(path)
    wal_existed = os.path.exists(str(path) + "-wal")

    # the sample is what its provenance says
    types = dict(source_rows(path, """SELECT t.typeName, COUNT(*) FROM items i
                                      JOIN itemTypesCombined t ON t.itemTypeID = i.itemTypeID GROUP BY 1"""))
    assert sum(types.values()) == case["items"] and types == case["types"]

    skipped = []
    records = list(zotero_sqlite.parse(path, skipped=skipped))
    assert len(records) == case["records"] == source_rows(path, REGULAR_ITEMS_KEPT)[0][0]
    assert skipped == case["skipped"]
    assert Counter(record["type"] for record in records) == case["record_types"]
    assert {record["zotero_library"] for record in records} == ({case["library"]} if records else set())

    db = fast_db(tmp_path / "library.db")
    result = import_sqlite(db, str(path))
    counts = {
        "works": db["works"].count, "notes": db["notes"].count, "attachments": db["zotero_attachments"].count,
        "collections": db["collections"].count, "memberships": db["collection_works"].count,
        "tags": db["tags"].count, "authors": db["authors"].count,
    }
    assert counts == {key: case[key] for key in counts}
    assert result.records == case["records"] and result.attachments == case["attachments"]
    assert counts["collections"] == source_rows(path, "SELECT COUNT(*) FROM collections")[0][0]
    parent = "parentItemID" if name != "older-schema-library" else "sourceItemID"
    assert counts["attachments"] == source_rows(path, ATTACHMENTS_OF_KEPT_ITEMS.format(parent=parent))[0][0]
    # every work knows it came from this file
    assert db.execute("SELECT COUNT(DISTINCT work_id) FROM work_sources").fetchone()[0] == case["works"]

    # the user's file was only read
    assert fingerprint(path) == before
    assert os.path.exists(str(path) + "-wal") == wal_existed
    assert not os.path.exists(str(path) + "-shm") or wal_existed


def test_creators_keep_their_order(corpus):
    path = sample(corpus, "engineering-library")
    records = {record["zotero_key"]: record for record in zotero_sqlite.parse(path)}
    expected = {}
    for key, creator_type, last in source_rows(path, """
            SELECT i.key, ct.creatorType, c.lastName FROM itemCreators ic JOIN items i ON i.itemID = ic.itemID
            JOIN creators c ON c.creatorID = ic.creatorID JOIN creatorTypes ct ON ct.creatorTypeID = ic.creatorTypeID
            ORDER BY ic.itemID, ic.orderIndex"""):
        role = "editor" if creator_type == "editor" else "author"  # programmers are a program's authors
        expected.setdefault((key, role), []).append(last)
    assert expected
    for (key, role), families in expected.items():
        assert [person.get("family") or person.get("literal") for person in records[key][role]] == families
    assert [p["family"] for p in records["DGWB2C6B"]["author"]] == ["Stein Shiromoto", "Feketa", "Dashkovskiy"]


def test_trash_collections_tags_and_extra(corpus, tmp_path):
    path = sample(corpus, "trash-library")
    db = fast_db(tmp_path / "library.db")
    import_sqlite(db, str(path))
    work = db.execute("SELECT zotero_key, pmid, pmcid, doi, issued, zotero_library FROM works").fetchall()
    assert work == [("CQZ9PAZV", "31210616", "PMC6677285", "10.1148/radiol.2019182646", "2019-08", "users/9720857")]
    # HIRFMHYE (the same paper, in the trash) and XZ6HYA5X are not loaded, nor their attachments
    assert db.execute("SELECT key FROM zotero_attachments ORDER BY key").fetchall() == [("397YTEBN",), ("S6ZPV7PT",)]
    assert db.execute("""SELECT c.name, p.name FROM collections c LEFT JOIN collections p ON p.id = c.parent_id
                         ORDER BY c.name""").fetchall() == [("Radiology", None), ("renal", "Radiology")]
    assert db.execute("SELECT collection_names FROM works").fetchone()[0] == '["Radiology", "renal"]'
    assert db.execute("SELECT DISTINCT kind FROM work_tags").fetchall() == [("automatic",)]


def test_older_schema_hierarchy_notes_and_base_fields(corpus, tmp_path):
    path = sample(corpus, "older-schema-library")
    db = fast_db(tmp_path / "library.db")
    import_sqlite(db, str(path))
    chain = db.execute("""SELECT c.name, p.name, g.name FROM collections c JOIN collections p ON p.id = c.parent_id
                          JOIN collections g ON g.id = p.parent_id""").fetchall()
    assert chain == [("desempenho", "Requisitos Não Funcionais", "Requisitos")]
    note = db.execute("SELECT w.zotero_key, n.zotero_key, n.content FROM notes n JOIN works w ON w.id = n.work_id").fetchall()
    assert len(note) == 1 and note[0][:2] == ("ABCD2345", "ABCD3456") and "Bem-vindo(a) a Zotero!" in note[0][2]
    # type-specific fields through the database's own base-field mappings
    for key, column, value in (
        ("KD44IPZX", "publisher", "Universidade de São Paulo"),  # university
        ("M7KXIT5N", "container_title",  # proceedingsTitle
         "2011 3rd International Conference on Trendz in Information Sciences and Computing (TISC)"),
    ):
        row = db.execute(f"SELECT {column} FROM works w JOIN work_sources s ON s.work_id = w.id "
                         "WHERE s.record_key = ?", [key]).fetchone()
        assert row == (value,)
    # duplicates inside the library are one work carrying both records' tags and collections
    both = db.execute("""SELECT w.tag_names FROM works w JOIN work_sources s ON s.work_id = w.id
                         WHERE s.record_key IN ('AQICKXFC', 'QPMFCMAF') GROUP BY w.id""").fetchall()
    assert len(both) == 1
    for key in ("AQICKXFC", "QPMFCMAF"):
        own = {row[0] for row in source_rows(path, """SELECT t.name FROM itemTags it JOIN tags t ON t.tagID = it.tagID
                                                      JOIN items i ON i.itemID = it.itemID WHERE i.key = ?""", [key])}
        assert own and own <= set(json.loads(both[0][0]))


# ---- copies of a real database with rows written through Zotero's table layout ---------------------------


class ZoteroWriter:
    """Writes a Zotero 6 database the way the desktop app lays it out (its triggers still run)."""

    def __init__(self, path: Path):
        self.db = sqlite3.connect(path)

    def id_of(self, sql: str, *params):
        return self.db.execute(sql, params).fetchone()[0]

    def value_id(self, value: str) -> int:
        self.db.execute("INSERT OR IGNORE INTO itemDataValues (value) VALUES (?)", [value])
        return self.id_of("SELECT valueID FROM itemDataValues WHERE value = ?", value)

    def add_item(self, type_name: str, key: str, fields: dict, library_id: int = 1, creators=(), parent=None) -> int:
        type_id = self.id_of("SELECT itemTypeID FROM itemTypesCombined WHERE typeName = ?", type_name)
        item_id = self.db.execute("INSERT INTO items (itemTypeID, libraryID, key) VALUES (?, ?, ?)",
                                  [type_id, library_id, key]).lastrowid
        for name, value in fields.items():
            field_id = self.id_of("SELECT fieldID FROM fieldsCombined WHERE fieldName = ?", name)
            self.db.execute("INSERT INTO itemData (itemID, fieldID, valueID) VALUES (?, ?, ?)",
                            [item_id, field_id, self.value_id(value)])
        for index, (creator_type, first, last) in enumerate(creators):
            self.db.execute("INSERT OR IGNORE INTO creators (firstName, lastName, fieldMode) VALUES (?, ?, 0)",
                            [first, last])
            creator_id = self.id_of("SELECT creatorID FROM creators WHERE firstName = ? AND lastName = ?", first, last)
            type_id = self.id_of("SELECT creatorTypeID FROM creatorTypes WHERE creatorType = ?", creator_type)
            self.db.execute("INSERT INTO itemCreators (itemID, creatorID, creatorTypeID, orderIndex) VALUES (?, ?, ?, ?)",
                            [item_id, creator_id, type_id, index])
        return item_id

    def add_note(self, key: str, parent_id: int, html: str, library_id: int = 1) -> int:
        item_id = self.add_item("note", key, {}, library_id)
        self.db.execute("INSERT INTO itemNotes (itemID, parentItemID, note, title) VALUES (?, ?, ?, '')",
                        [item_id, parent_id, html])
        return item_id

    def relate(self, item_id: int, uri: str) -> None:
        self.db.execute("INSERT OR IGNORE INTO relationPredicates (predicate) VALUES ('dc:relation')")
        predicate = self.id_of("SELECT predicateID FROM relationPredicates WHERE predicate = 'dc:relation'")
        self.db.execute("INSERT INTO itemRelations (itemID, predicateID, object) VALUES (?, ?, ?)", [item_id, predicate, uri])

    def add_library(self, kind: str) -> int:
        return self.db.execute("INSERT INTO libraries (type, editable, filesEditable) VALUES (?, 1, 1)", [kind]).lastrowid

    def commit(self):
        self.db.commit()

    def close(self):
        self.db.close()


@pytest.fixture
def library_copy(corpus, tmp_path) -> Path:
    copy = tmp_path / "zotero.sqlite"
    shutil.copyfile(sample(corpus, "engineering-library"), copy)
    os.chmod(copy, 0o644)
    return copy


def test_groups_relations_base_fields_trash_and_feeds(library_copy, tmp_path):
    writer = ZoteroWriter(library_copy)
    chapter = writer.add_item("bookSection", "CHAPTER1", {
        "title": "Small-gain theorems revisited", "bookTitle": "Handbook of Nonlinear Control",
        "date": "2021-00-00 2021", "pages": "101-130", "extra": "PMID: 12345678",
    }, creators=[("editor", "Ada", "Editor"), ("author", "Bea", "Author"), ("bookAuthor", "Cy", "Whole")])
    other = writer.add_item("journalArticle", "RELATED1", {"title": "A related article", "date": "2020-05-00 May 2020"})
    writer.relate(chapter, "http://zotero.org/users/10936023/items/RELATED1")
    writer.relate(other, "http://zotero.org/users/10936023/items/CHAPTER1")
    writer.add_note("NOTEKEEP", chapter, "<p>kept</p>")
    trashed_note = writer.add_note("NOTETRSH", chapter, "<p>in the trash</p>")
    writer.db.execute("INSERT INTO deletedItems (itemID) VALUES (?)", [trashed_note])
    group_library = writer.add_library("group")
    writer.db.execute("INSERT INTO groups (groupID, libraryID, name, description, version) VALUES (169947, ?, 'g', '', 0)",
                      [group_library])
    writer.add_item("report", "GROUPREP", {"title": "A group report", "institution": "Some Institute"},
                    library_id=group_library)
    feed_library = writer.add_library("feed")
    writer.add_item("journalArticle", "FEEDITEM", {"title": "An unread feed item"}, library_id=feed_library)
    writer.add_item("note", "LONENOTE", {})
    trashed_collection = writer.db.execute(
        "INSERT INTO collections (collectionName, libraryID, key) VALUES ('Old stuff', 1, 'TRASHCOL')").lastrowid
    writer.db.execute("INSERT INTO deletedCollections (collectionID) VALUES (?)", [trashed_collection])
    writer.commit()
    writer.close()

    records = {record["zotero_key"]: record for record in zotero_sqlite.parse(library_copy)}
    chapter_record = records["CHAPTER1"]
    assert chapter_record["type"] == "chapter"
    assert chapter_record["container-title"] == "Handbook of Nonlinear Control"
    assert chapter_record["issued"] == {"date-parts": [[2021]]}
    assert chapter_record["PMID"] == "12345678"
    assert chapter_record["editor"] == [{"family": "Editor", "given": "Ada"}]
    assert chapter_record["author"] == [{"family": "Author", "given": "Bea"}]
    assert chapter_record["container-author"] == [{"family": "Whole", "given": "Cy"}]
    assert chapter_record["notes"] == [{"content": "<p>kept</p>", "key": "NOTEKEEP"}]
    assert records["RELATED1"]["issued"] == {"date-parts": [[2020, 5]]}
    assert records["GROUPREP"]["zotero_library"] == "groups/169947"
    assert records["GROUPREP"]["publisher"] == "Some Institute"
    assert "FEEDITEM" not in records and "LONENOTE" not in records
    assert not any(spec["zotero_key"] == "TRASHCOL" for r in records.values() for spec in r.get("collections") or [])

    db = fast_db(tmp_path / "library.db")
    import_sqlite(db, str(library_copy))
    assert sorted(db.execute("""SELECT a.zotero_key, b.zotero_key, r.relation FROM related_works r
                                JOIN works a ON a.id = r.work_id JOIN works b ON b.id = r.related_work_id""").fetchall()) == [
        ("CHAPTER1", "RELATED1", "dc:relation"), ("RELATED1", "CHAPTER1", "dc:relation")]
    assert db.execute("SELECT zotero_library FROM works WHERE zotero_key = 'GROUPREP'").fetchone() == ("groups/169947",)


def test_recent_writes_in_the_wal_are_read_and_the_file_is_left_alone(library_copy, tmp_path):
    writer = ZoteroWriter(library_copy)
    writer.db.execute("PRAGMA journal_mode = WAL")
    writer.db.execute("PRAGMA wal_autocheckpoint = 0")
    writer.add_item("journalArticle", "WALITEM1", {"title": "Only in the write-ahead log"})
    writer.commit()  # committed to the -wal; Zotero keeps the connection open, so do we
    try:
        wal = Path(str(library_copy) + "-wal")
        assert wal.stat().st_size > 0
        before = {path: fingerprint(path) for path in (library_copy, wal)}
        db = fast_db(tmp_path / "library.db")
        result = import_sqlite(db, str(library_copy))
        assert result.records == 39
        assert db.execute("SELECT title FROM works WHERE zotero_key = 'WALITEM1'").fetchone() == (
            "Only in the write-ahead log",)
        assert {path: fingerprint(path) for path in before} == before
    finally:
        writer.close()


def test_reimport_skips_an_unchanged_file_and_removes_deleted_items(library_copy, tmp_path):
    db = fast_db(tmp_path / "library.db")
    assert import_sqlite(db, str(library_copy)).records == 38
    assert import_sqlite(db, str(library_copy)).skipped_file
    writer = ZoteroWriter(library_copy)
    doomed = writer.id_of("SELECT itemID FROM items WHERE key = 'DGWB2C6B'")
    writer.db.execute("INSERT INTO deletedItems (itemID) VALUES (?)", [doomed])  # moved to the trash
    writer.commit()
    writer.close()
    result = import_sqlite(db, str(library_copy))
    assert (result.records, result.removed) == (37, 1)
    assert db["works"].count == 37
    assert not db.execute("SELECT 1 FROM works WHERE zotero_key = 'DGWB2C6B'").fetchone()
    assert not db.execute("SELECT 1 FROM zotero_attachments WHERE parent_key = 'DGWB2C6B'").fetchone()
    assert db.execute("SELECT records FROM sources").fetchone() == (37,)


def test_generic_ingest_detects_a_zotero_database(corpus, tmp_path):
    path = sample(corpus, "engineering-library")
    assert detect(str(path)) == "zotero-sqlite"
    assert zotero_sqlite.sniff(path.read_bytes()[:100].decode("latin-1"))
    db = fast_db(tmp_path / "library.db")
    loader = Loader(db)
    result = loader.load_file(str(path))
    assert (result.format, result.records) == ("zotero-sqlite", 38)


def test_cli_import(corpus, tmp_path):
    path = sample(corpus, "trash-library")
    db_path = tmp_path / "library.db"
    runner = CliRunner()
    result = runner.invoke(zotero, ["import", str(db_path), str(path)])
    assert result.exit_code == 0, result.output
    assert "1 works loaded (1 added, 0 updated), 0 removed, 2 attachments" in result.output
    assert "skipped: users/9720857 item XGMPBU84: no title or identifier" in result.output
    result = runner.invoke(zotero, ["import", str(db_path), str(path)])
    assert "unchanged since the last import" in result.output


@pytest.mark.parametrize("content, message", [
    (b"not a database at all", "not an SQLite database"),
    (None, "not a Zotero database"),
])
def test_bad_files_are_clear_errors(tmp_path, content, message):
    path = tmp_path / "zotero.sqlite"
    if content is None:
        sqlite_utils.Database(path)["something"].insert({"a": 1})
    else:
        path.write_bytes(content)
    with pytest.raises(ParseError) as error:
        list(zotero_sqlite.parse(path))
    assert message in str(error.value) and str(path) in str(error.value)
    result = CliRunner().invoke(zotero, ["import", str(tmp_path / "library.db"), str(path)])
    assert result.exit_code == 1 and message in result.output


@pytest.mark.parametrize("stored, text, parsed", [
    ("2019-08-00 08/2019", "08/2019", "2019-08"),
    ("2016-00-00 2016", "2016", "2016"),
    ("2016-06-07 2016-06-07", "2016-06-07", "2016-06-07"),
    ("0000-00-00 Spring term", "Spring term", None),
    ("just text", "just text", None),
])
def test_multipart_dates(stored, text, parsed):
    assert zotero_sqlite.split_multipart_date(stored) == (text, parsed)
