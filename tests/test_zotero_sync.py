"""Zotero Web API v3 sync against a fake server speaking the real protocol (tests/zotero_fake_server.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner

from ingest import zotero_cli
from ingest.zotero_cli import zotero
from ingest.zotero_records import attachment_row, collection_specs, parse_item_uri, relation_uris
from ingest.zotero_sync import ZoteroClient, fetch_changes, sync_library
from zotero_fake_server import FakeLibrary, FakeZoteroServer, load_library

API_KEY = "Zk3yS3cr3tF0rT3st1ngOnly"
USER = "users/475425"
GROUP = "groups/169947"


@pytest.fixture
def user_library(corpus) -> FakeLibrary:
    return load_library(corpus, "user")


@pytest.fixture
def group_library(corpus) -> FakeLibrary:
    return load_library(corpus, "group")


@pytest.fixture
def server(user_library, group_library):
    # a page cap below the library size makes the client follow Link headers, as it must
    with FakeZoteroServer([user_library, group_library], api_key=API_KEY, max_limit=25) as running:
        yield running


def run_sync(db_path: Path, *args: str, key: str = API_KEY):
    result = CliRunner().invoke(zotero, ["sync", str(db_path), *args], env={"ZOTERO_API_KEY": key},
                                catch_exceptions=False)
    return result


def sync(db_path: Path, server: FakeZoteroServer, library: str = USER, collection=None, sleep=None):
    """A sync through the Python API (the CLI is exercised below): no fsync per commit, for speed."""
    db = sqlite_utils.Database(db_path)
    db.execute("PRAGMA synchronous = OFF")
    try:
        with ZoteroClient(server.url, api_key=API_KEY, sleep=sleep or (lambda seconds: None)) as client:
            return sync_library(db, client, library, collection=collection)
    finally:
        db.close()


def rows(db_path: Path, sql: str, params=()):
    db = sqlite_utils.Database(db_path)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def snapshot(db_path: Path) -> dict:
    """The library as content, without row ids or times: two databases that say the same compare equal."""
    queries = {
        "works": """SELECT zotero_key, zotero_library, type, title, year, issued, doi, container_title,
                           (SELECT title FROM journals WHERE journals.id = works.journal_id), volume, pages,
                           authors_text, tag_names, collection_names, note, extra FROM works""",
        "authors": """SELECT w.zotero_key, wa.role, wa.position, a.name, wa.name_as_written FROM work_authors wa
                      JOIN works w ON w.id = wa.work_id JOIN authors a ON a.id = wa.author_id""",
        "tags": """SELECT w.zotero_key, t.name, wt.kind FROM work_tags wt JOIN works w ON w.id = wt.work_id
                   JOIN tags t ON t.id = wt.tag_id""",
        "collections": """SELECT c.key, c.name, c.zotero_key, p.key FROM collections c
                          LEFT JOIN collections p ON p.id = c.parent_id""",
        "memberships": """SELECT c.key, w.zotero_key FROM collection_works cw
                          JOIN collections c ON c.id = cw.collection_id JOIN works w ON w.id = cw.work_id""",
        "notes": "SELECT w.zotero_key, n.zotero_key, n.content FROM notes n JOIN works w ON w.id = n.work_id",
        "related": """SELECT a.zotero_key, b.zotero_key, r.relation FROM related_works r
                      JOIN works a ON a.id = r.work_id JOIN works b ON b.id = r.related_work_id""",
        "attachments": """SELECT z.key, z.parent_key, w.zotero_key, z.title, z.content_type, z.link_mode, z.url,
                                 z.filename, z.library FROM zotero_attachments z LEFT JOIN works w ON w.id = z.work_id""",
        "mirror": "SELECT library, key, version, item_type, parent_key, trashed, data FROM zotero_items",
        "mirror_collections": "SELECT library, key, version, name, parent_key, trashed, data FROM zotero_collections",
        "sources": "SELECT path, format, records FROM sources",
        "state": "SELECT library, version, scope FROM zotero_sync_state",
        "work_sources": """SELECT w.zotero_key, s.path, ws.record_key FROM work_sources ws
                           JOIN works w ON w.id = ws.work_id JOIN sources s ON s.id = ws.source_id""",
    }
    return {name: sorted(rows(db_path, sql), key=repr) for name, sql in queries.items()}


def table_dump(db_path: Path) -> dict:
    """Every row of every table, ids and times included: a re-run must not change a byte of it."""
    db = sqlite_utils.Database(db_path)
    try:
        return {name: db.execute(f"SELECT * FROM [{name}]").fetchall() for name in db.table_names()}
    finally:
        db.close()


def keys_of(db_path: Path, library: str = USER) -> set:
    return {row[0] for row in rows(db_path, "SELECT zotero_key FROM works WHERE zotero_library = ?", [library])}


def expected_works(library: FakeLibrary, collections=None) -> set:
    """Top-level regular items not in the trash (and in ``collections`` when given), from the server's data."""
    out = set()
    for key, obj in library.items.items():
        data = obj["data"]
        if data.get("parentItem") or data["itemType"] in ("note", "attachment") or data.get("deleted"):
            continue
        if collections is not None and not set(data.get("collections") or []) & collections:
            continue
        out.add(key)
    return out


# ---- a full sync -----------------------------------------------------------------------------------


def test_cli_full_sync_speaks_the_protocol_and_keeps_the_key_secret(server, user_library, tmp_path, monkeypatch):
    monkeypatch.setattr(zotero_cli, "PROGRESS_MIN_ITEMS", 50)  # a "long" sync: 60 items
    db_path = tmp_path / "library.db"
    result = run_sync(db_path, "--user", "475425", "--base-url", server.url)
    assert result.exit_code == 0, result.output
    assert "users/475425 items" in result.stderr  # the progress bar
    assert "users/475425: library version 0 → 31 (full sync): 60 items and 19 collections fetched; " \
           "40 works loaded (40 added, 0 updated), 0 removed, 11 attachments" in result.output
    assert keys_of(db_path) == expected_works(user_library)

    assert server.requests
    for request in server.requests:
        assert request["headers"]["zotero-api-version"] == "3"
        assert request["headers"]["zotero-api-key"] == API_KEY
        assert "key" not in request["query"]
        assert int(request["query"].get("limit", 0)) <= 100
    item_pages = [r["query"] for r in server.requests if r["path"].endswith("/items")]
    # 60 items (trash included), 25 a page: three pages, reached through Link rel="next"
    assert [page.get("start") for page in item_pages] == [None, "25", "50"]
    assert all(page["includeTrashed"] == "1" and page["since"] == "0" for page in item_pages)
    assert not any(r["path"].endswith("/deleted") for r in server.requests)  # nothing to delete on a first run
    # the key is never stored or printed
    assert API_KEY not in result.output
    for path in tmp_path.iterdir():
        assert API_KEY.encode() not in path.read_bytes()


def test_full_sync_loads_the_whole_library(server, user_library, tmp_path):
    db_path = tmp_path / "library.db"
    result = sync(db_path, server)
    assert (result.since, result.version, result.full, result.loaded, result.removed) == (0, 31, True, 40, 0)

    assert keys_of(db_path) == expected_works(user_library)
    counts = {table: rows(db_path, f"SELECT COUNT(*) FROM {table}")[0][0]
              for table in ("works", "notes", "collections", "zotero_attachments", "related_works", "zotero_items")}
    assert counts == {"works": 40, "notes": 7, "collections": 19, "zotero_attachments": 11,
                      "related_works": 3, "zotero_items": 60}
    assert rows(db_path, "SELECT library, version, scope FROM zotero_sync_state") == [(USER, 31, "")]
    assert rows(db_path, "SELECT path, format, records FROM sources") == [("zotero:users/475425", "zotero-api", 40)]
    assert rows(db_path, "SELECT DISTINCT zotero_library FROM works") == [(USER,)]

    # the trash and a standalone note are not works
    assert "V4HQ9XNB" not in keys_of(db_path) and "Y2MFB9TE" not in keys_of(db_path)
    # child notes hang under their parent
    notes = rows(db_path, "SELECT n.zotero_key, w.zotero_key FROM notes n JOIN works w ON w.id = n.work_id")
    assert sorted(notes) == sorted(
        (key, obj["data"]["parentItem"]) for key, obj in user_library.items.items()
        if obj["data"]["itemType"] == "note" and obj["data"].get("parentItem"))
    # creators in order; manual and automatic tags
    assert rows(db_path, """SELECT wa.position, a.family, a.given FROM work_authors wa
                            JOIN authors a ON a.id = wa.author_id JOIN works w ON w.id = wa.work_id
                            WHERE w.zotero_key = 'K7QJ3M2A' AND wa.role = 'author' ORDER BY wa.position""") == [
        (1, "Müller", "Jürgen"), (2, "Ødegård", "Siri"), (3, "Sánchez-Ruiz", "María José")]
    assert sorted(rows(db_path, """SELECT t.name, wt.kind FROM work_tags wt JOIN tags t ON t.id = wt.tag_id
                                   JOIN works w ON w.id = wt.work_id WHERE w.zotero_key = 'K7QJ3M2A'""")) == [
        ("Neural Networks, Computer", "automatic"), ("machine learning", "manual"), ("spectroscopy", "manual")]
    # the collection tree, three levels deep
    tree = dict(rows(db_path, "SELECT c.name, p.name FROM collections c LEFT JOIN collections p ON p.id = c.parent_id"))
    assert tree["Bayesian"] == "Statistics" and tree["Statistics"] == "Methods" and tree["Methods"] is None
    assert rows(db_path, "SELECT key, zotero_key FROM collections WHERE name = 'Bayesian'") == [
        ("zotero:users/475425/BZ3H6WQT", "BZ3H6WQT")]
    assert rows(db_path, """SELECT COUNT(*) FROM collection_works cw JOIN collections c ON c.id = cw.collection_id
                            WHERE c.zotero_key = '9KH9TNSJ'""") == [(21,)]
    # dc:relation as related works (string and list forms)
    assert sorted(rows(db_path, """SELECT a.zotero_key, b.zotero_key FROM related_works r
                                   JOIN works a ON a.id = r.work_id JOIN works b ON b.id = r.related_work_id""")) == [
        ("K7QJ3M2A", "PR3VZ8KD"), ("PR3VZ8KD", "C7YVR5HA"), ("PR3VZ8KD", "K7QJ3M2A")]
    # attachment metadata, never files
    assert rows(db_path, """SELECT z.link_mode, z.content_type, z.filename, z.url, w.zotero_key
                            FROM zotero_attachments z JOIN works w ON w.id = z.work_id WHERE z.key = '6HIELD8E'""") == [
        ("imported_url", "text/html", "earthquake.html",
         "http://science.howstuffworks.com/nature/natural-disasters/earthquake.htm", "NM66T6EF")]
    assert rows(db_path, "SELECT link_mode, filename FROM zotero_attachments WHERE key = 'LHI2Y7DG'") == [
        ("linked_file", "DeLyria 2010.pdf")]
    # raw titles stay raw (escaping is the web side's job); a book section's bookTitle is its container
    assert rows(db_path, "SELECT title FROM works WHERE zotero_key = 'X9TNE4WB'")[0][0].startswith("<script>")
    assert rows(db_path, "SELECT type, container_title FROM works WHERE zotero_key = 'B5HZC7RN'") == [
        ("chapter", user_library.items["B5HZC7RN"]["data"]["bookTitle"])]


# ---- incremental sync --------------------------------------------------------------------------------

NEW_ITEM = {
    "key": "N8EWQ2RT", "itemType": "journalArticle", "title": "A newly added paper on Raman baselines",
    "creators": [{"creatorType": "author", "firstName": "Ana", "lastName": "Costa"}],
    "publicationTitle": "Applied Spectroscopy", "date": "2024-01-15", "DOI": "10.9999/as.2024.015",
    "tags": [{"tag": "spectroscopy"}], "collections": ["7PXA2R9M"],
    "relations": {"dc:relation": ["http://zotero.org/users/475425/items/K7QJ3M2A"]},
    "dateAdded": "2024-02-01T10:00:00Z", "dateModified": "2024-02-01T10:00:00Z",
}
NEW_NOTE = {
    "key": "N8EWNOTE", "itemType": "note", "parentItem": "N8EWQ2RT", "note": "<p>Compare with Müller 2019.</p>",
    "tags": [], "relations": {}, "dateAdded": "2024-02-01T10:05:00Z", "dateModified": "2024-02-01T10:05:00Z",
}


def edit_library(library: FakeLibrary) -> None:
    """Edits, deletions and trash moves, as another Zotero client would make them."""
    library.change_setting("tagColors", [])  # versions are not consecutive
    k7 = library.items["K7QJ3M2A"]["data"]
    library.edit_item("K7QJ3M2A", title="Neuronale Netze in der Raman-Spektroskopie",
                      tags=[t for t in k7["tags"] if t["tag"] != "machine learning"] + [{"tag": "deep learning"}])
    library.edit_item("857AIS3Q", note="<p>Revised summary.</p>")
    library.delete_item("PQKBRC33")  # with its two attachments
    library.trash_item("S8GDK2VM")  # and its note and attachment go with it
    library.restore_item("V4HQ9XNB")
    library.delete_collection("BZ3H6WQT")  # H2RAZ9VC leaves it without a new version
    library.delete_tag("security")  # X9TNE4WB loses it without a new version
    library.edit_collection("4KDX8QZE", name="Research methods")
    library.edit_collection("HV5S9NKC", parentCollection="WI2VHT9X")
    library.add_item(NEW_ITEM, {"creatorSummary": "Costa", "parsedDate": "2024-01-15"})
    library.add_item(NEW_NOTE)


def test_incremental_sync_leaves_exactly_the_rows_of_a_fresh_full_sync(server, user_library, tmp_path):
    db_path = tmp_path / "library.db"
    sync(db_path, server)
    edit_library(user_library)
    first_new_request = len(server.requests)

    result = run_sync(db_path, "--user", "475425", "--base-url", server.url)
    assert result.exit_code == 0, result.output
    version = user_library.version
    assert f"library version 31 → {version}: " in result.output
    assert "2 removed" in result.output

    incremental = server.requests[first_new_request:]
    assert {r["path"].rsplit("/", 1)[1] for r in incremental} == {"collections", "items", "deleted"}
    for request in incremental:
        assert request["query"]["since"] == "31"
        if not request["path"].endswith("/deleted"):
            assert request["headers"]["if-modified-since-version"] == "31"

    keys = keys_of(db_path)
    assert keys == expected_works(user_library)
    assert {"PQKBRC33", "S8GDK2VM"}.isdisjoint(keys)
    assert {"V4HQ9XNB", "N8EWQ2RT"} <= keys
    assert rows(db_path, "SELECT title FROM works WHERE zotero_key = 'K7QJ3M2A'") == [
        ("Neuronale Netze in der Raman-Spektroskopie",)]
    assert rows(db_path, """SELECT tag_names FROM works WHERE zotero_key = 'K7QJ3M2A'""") == [
        ('["Neural Networks, Computer", "deep learning", "spectroscopy"]',)]
    assert rows(db_path, "SELECT content FROM notes WHERE zotero_key = '857AIS3Q'") == [("<p>Revised summary.</p>",)]
    assert rows(db_path, "SELECT COUNT(*) FROM notes WHERE zotero_key = '4BPPSL7B'") == [(0,)]
    assert rows(db_path, "SELECT COUNT(*) FROM zotero_attachments WHERE key IN ('JNPLS2JY', '7E7AA96H', 'URVDJW9B')") == [(0,)]
    assert rows(db_path, "SELECT COUNT(*) FROM collections WHERE zotero_key = 'BZ3H6WQT'") == [(0,)]
    assert rows(db_path, "SELECT collection_names FROM works WHERE zotero_key = 'H2RAZ9VC'") == [(None,)]
    assert rows(db_path, "SELECT tag_names FROM works WHERE zotero_key = 'X9TNE4WB'") == [('["<b>xss</b>"]',)]
    assert rows(db_path, "SELECT p.name FROM collections c JOIN collections p ON p.id = c.parent_id "
                         "WHERE c.zotero_key = 'HV5S9NKC'") == [("Zotero features",)]
    assert rows(db_path, "SELECT name FROM collections WHERE zotero_key = '4KDX8QZE'") == [("Research methods",)]
    assert rows(db_path, """SELECT b.zotero_key FROM related_works r JOIN works a ON a.id = r.work_id
                            JOIN works b ON b.id = r.related_work_id WHERE a.zotero_key = 'N8EWQ2RT'""") == [
        ("K7QJ3M2A",)]
    assert rows(db_path, "SELECT w.zotero_key FROM notes n JOIN works w ON w.id = n.work_id "
                         "WHERE n.zotero_key = 'N8EWNOTE'") == [("N8EWQ2RT",)]
    assert rows(db_path, "SELECT version FROM zotero_sync_state") == [(version,)]

    fresh = tmp_path / "fresh.db"
    sync(fresh, server)
    assert snapshot(db_path) == snapshot(fresh)

    # and a run with nothing new changes nothing at all
    before = table_dump(db_path)
    first_rerun_request = len(server.requests)
    result = run_sync(db_path, "--user", "475425", "--base-url", server.url)
    assert result.exit_code == 0, result.output
    assert f"up to date at library version {version}" in result.output
    statuses = dict(zip((r["path"].rsplit("/", 1)[1] for r in server.requests[first_rerun_request:]),
                        server.responses[first_rerun_request:]))
    assert statuses == {"collections": 304, "items": 304}  # no deletion without a new library version
    assert table_dump(db_path) == before


def test_rerun_after_a_full_sync_changes_nothing(server, tmp_path):
    db_path = tmp_path / "library.db"
    sync(db_path, server)
    before = table_dump(db_path)
    assert sync(db_path, server).unchanged
    assert table_dump(db_path) == before


def test_settings_change_only_moves_the_version(server, user_library, tmp_path):
    db_path = tmp_path / "library.db"
    sync(db_path, server)
    before = snapshot(db_path)
    version = user_library.change_setting("tagColors", [])
    assert sync(db_path, server).unchanged
    after = snapshot(db_path)
    assert after.pop("state") == [(USER, version, "")]
    before.pop("state")
    assert after == before


# ---- rate limits and a library that changes under the sync ---------------------------------------------


def test_429_retry_after_and_backoff_are_honoured(server):
    waits = []
    server.fail_with_429(retry_after=2)
    server.send_backoff(seconds=1)
    with ZoteroClient(server.url, api_key=API_KEY, sleep=waits.append) as client:
        changes = fetch_changes(client, USER, 0)
    assert waits == [2, 1]  # Retry-After before the retry, Backoff before the next request
    assert server.responses[:2] == [429, 200]
    assert server.requests[0]["path"] == server.requests[1]["path"]
    assert changes.version == 31 and len(changes.items) == 60


def test_a_library_changed_between_pages_is_fetched_again(server, user_library):
    state = {"pages": 0}

    def edit_during_paging(request):
        if request["path"].endswith("/items"):
            state["pages"] += 1
            if state["pages"] == 2:
                user_library.edit_item("R6PWA3ZK", title="Sherlock Holmes and the scientific method")

    server.on_request = edit_during_paging
    with ZoteroClient(server.url, api_key=API_KEY) as client:
        changes = fetch_changes(client, USER, 0)
    assert state["pages"] == 6  # three pages, then all three again
    assert changes.version == 32
    titles = {obj["key"]: obj["data"].get("title") for obj in changes.items}
    assert len(titles) == 60 and titles["R6PWA3ZK"] == "Sherlock Holmes and the scientific method"


# ---- groups, collections, the local API, errors -----------------------------------------------------------


def test_group_library(server, group_library, tmp_path):
    db_path = tmp_path / "library.db"
    sync(db_path, server, GROUP)
    assert keys_of(db_path, GROUP) == expected_works(group_library) == {"GA4TQ7MX", "GB8RZ3KW", "GD5NPE2H", "GE7XWK4S"}
    assert rows(db_path, """SELECT c.name, p.name FROM collections c JOIN collections p ON p.id = c.parent_id""") == [
        ("Cycling", "Mobility")]
    assert rows(db_path, "SELECT w.zotero_key FROM notes n JOIN works w ON w.id = n.work_id") == [("GA4TQ7MX",)]
    assert {row[0] for row in rows(db_path, "SELECT key FROM collections")} == {
        "zotero:groups/169947/GC2M5B7Y", "zotero:groups/169947/GC3CYC9Z"}
    assert rows(db_path, "SELECT path FROM sources") == [("zotero:groups/169947",)]


def test_collection_scope_and_widening_it(server, user_library, tmp_path):
    db_path = tmp_path / "library.db"
    result = sync(db_path, server, collection="4KDX8QZE")
    subtree = {"4KDX8QZE", "7PXA2R9M", "BZ3H6WQT"}
    assert keys_of(db_path) == expected_works(user_library, subtree)
    assert result.loaded == len(keys_of(db_path)) == 7
    assert {row[0] for row in rows(db_path, "SELECT zotero_key FROM collections")} == subtree
    # a scoped work keeps only its memberships inside the scope
    assert not rows(db_path, """SELECT 1 FROM collection_works cw JOIN collections c ON c.id = cw.collection_id
                                WHERE c.zotero_key NOT IN ('4KDX8QZE', '7PXA2R9M', 'BZ3H6WQT')""")
    assert rows(db_path, "SELECT scope FROM zotero_sync_state") == [("4KDX8QZE",)]

    scoped = snapshot(db_path)

    result = sync(db_path, server)  # the whole library now: rebuilt from the mirror, nothing refetched
    assert result.full and result.fetched_items == 0
    fresh = tmp_path / "fresh.db"
    sync(fresh, server)
    assert snapshot(db_path) == snapshot(fresh)

    result = sync(db_path, server, collection="4KDX8QZE")  # and narrowed again
    assert result.removed == 40 - 7
    assert snapshot(db_path) == scoped


def test_local_api_sends_no_key(user_library, tmp_path):
    user_library.id = 0  # the local API's name for the signed-in user
    with FakeZoteroServer([user_library], root="/api/") as local:
        result = run_sync(tmp_path / "library.db", "--local", "--base-url", local.url)
        assert result.exit_code == 0, result.output
        assert all("zotero-api-key" not in r["headers"] for r in local.requests)
        assert all(r["path"].startswith("/api/users/0/") for r in local.requests)
    assert keys_of(tmp_path / "library.db", "users/0") == expected_works(user_library)


@pytest.mark.parametrize("args, key, message, code", [
    (["--user", "475425"], "WrongKeyWrongKeyWrongKey", "access denied", 1),
    (["--user", "999"], API_KEY, "not found", 1),
    (["--user", "475425", "--collection", "NOPE1234"], API_KEY, "no collection with key NOPE1234", 1),
    (["--user", "1", "--group", "2"], API_KEY, "not both", 2),
    ([], API_KEY, "--user ID or --group ID", 2),
])
def test_user_errors(server, tmp_path, args, key, message, code):
    result = run_sync(tmp_path / "library.db", *args, "--base-url", server.url, key=key)
    assert result.exit_code == code
    assert message in result.output
    assert key not in result.output


def test_unreachable_server_is_a_clear_error(tmp_path):
    result = run_sync(tmp_path / "library.db", "--local", "--base-url", "http://127.0.0.1:9/api/")
    assert result.exit_code == 1
    assert "cannot reach http://127.0.0.1:9/api/" in result.output and "local API" in result.output


def test_deleted_requires_since(server):
    with ZoteroClient(server.url, api_key=API_KEY) as client:
        response = client.get(f"{USER}/deleted")
    assert response.status_code == 400


# ---- pure helpers --------------------------------------------------------------------------------------


@pytest.mark.parametrize("uri, expected", [
    ("http://zotero.org/users/475425/items/PR3VZ8KD", ("users/475425", "PR3VZ8KD")),
    ("http://zotero.org/groups/36222/items/U3GSEBPW", ("groups/36222", "U3GSEBPW")),
    ("http://zotero.org/users/local/aBcD1234/items/ABCD2345", ("users/local/aBcD1234", "ABCD2345")),
    ("https://example.org/items/PR3VZ8KD", None),
    ("http://zotero.org/users/475425/collections/9KH9TNSJ", None),
])
def test_parse_item_uri(uri, expected):
    assert parse_item_uri(uri) == expected


@pytest.mark.parametrize("relations, expected", [
    ({"dc:relation": "http://zotero.org/users/1/items/AAAAAAAA"}, ["http://zotero.org/users/1/items/AAAAAAAA"]),
    ({"dc:relation": ["u1", "u2"]}, ["u1", "u2"]),
    ({"owl:sameAs": "u3"}, []),
    ({}, []),
    (None, []),
])
def test_relation_uris(relations, expected):
    assert relation_uris(relations) == expected


def test_collection_specs_list_parents_first():
    collections = {
        "ROOT0001": {"name": "Methods", "parentCollection": False},
        "MID00002": {"name": "Statistics", "parentCollection": "ROOT0001"},
        "LEAF0003": {"name": "Bayesian", "parentCollection": "MID00002"},
    }
    specs = collection_specs("users/1", ["LEAF0003", "ROOT0001", "GONE0004"], collections)
    assert [(s["zotero_key"], s["member"], s["parent_key"]) for s in specs] == [
        ("ROOT0001", True, None),
        ("MID00002", False, "zotero:users/1/ROOT0001"),
        ("LEAF0003", True, "zotero:users/1/MID00002"),
    ]


@pytest.mark.parametrize("data, filename", [
    ({"key": "A", "filename": "earthquake.html"}, "earthquake.html"),
    ({"key": "B", "path": "attachments:DeLyria/DeLyria 2010.pdf"}, "DeLyria 2010.pdf"),
    ({"key": "C", "path": "C:\\Users\\me\\paper.pdf"}, "paper.pdf"),
    ({"key": "D", "url": "http://example.org/"}, None),
])
def test_attachment_filename(data, filename):
    assert attachment_row(data)["filename"] == filename
