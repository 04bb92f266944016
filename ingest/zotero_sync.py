"""Zotero libraries into the database: Web API v3 sync (also Zotero 7's local API) and zotero.sqlite import.

Sync follows the protocol facts in DESIGN.md ("Zotero Web API v3"): version 3 header, the key in a
header (never ``key=``), pages of ``limit=100`` followed through ``Link: rel="next"``, the library
version from ``Last-Modified-Version`` sent back as ``since=`` and ``If-Modified-Since-Version``
(``304``: nothing changed), ``/deleted?since=`` for deletions, ``Backoff`` and ``429 Retry-After``.

The library's objects are mirrored in ``zotero_items``/``zotero_collections`` (API JSON as served):
a change to a child note or a collection arrives on its own, without its parent, and the parent's
record is rebuilt from the mirror. A library is one source (``zotero:users/475425``); what one sync
changes is written in one transaction, together with the new library version, so an interrupted
sync leaves the previous state and the next run fetches the same changes again.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Set, Tuple
from urllib.parse import urljoin

import httpx
import sqlite_utils

from . import __version__
from .loader import Loader
from .schema import INDEXES, ensure_tables
from .zotero_records import (
    RELATED_PREDICATE,
    attachment_row,
    build_record,
    collection_chain,
    collection_key,
    has_substance,
    is_trashed,
    is_work,
    note_sort_key,
    parse_item_uri,
    relation_uris,
)

API_ROOT = "https://api.zotero.org/"
LOCAL_API_ROOT = "http://127.0.0.1:23119/api/"
PAGE_LIMIT = 100  # the API's maximum; larger values are capped silently
MAX_RETRIES = 5
DEFAULT_RETRY_AFTER = 5.0  # seconds, when a 429/503 names no delay
SYNC_ATTEMPTS = 3  # the library changed between requests: start the fetch again

Progress = Callable[[int, Optional[int]], None]

# Tables of the Zotero side (create-if-missing, explicit columns and keys).
class ZoteroError(Exception):
    """A sync that cannot go on, with a message for the user."""


def ensure_zotero_tables(db: sqlite_utils.Database) -> None:
    # The Zotero tables are declared with the rest of the schema.
    ensure_tables(db)
    for table, columns, unique in INDEXES:
        if table.startswith("zotero_"):
            db[table].create_index(columns, unique=unique, if_not_exists=True)


def now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


def _number(value: Optional[str]) -> Optional[float]:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def _int(value: Optional[str]) -> Optional[int]:
    number = _number(value)
    return int(number) if number is not None else None


# ---- HTTP ----------------------------------------------------------------------------------------


class ZoteroClient:
    """GET requests to the Zotero API with its rate-limit rules; ``sleep`` is injectable for tests."""

    def __init__(self, base_url: str = API_ROOT, api_key: Optional[str] = None,
                 sleep: Callable[[float], None] = time.sleep, timeout: float = 30.0,
                 transport: Optional[httpx.BaseTransport] = None):
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        headers = {"Zotero-API-Version": "3", "User-Agent": f"refsette/{__version__}"}
        if api_key:
            headers["Zotero-API-Key"] = api_key
        self.http = httpx.Client(headers=headers, timeout=timeout, transport=transport)
        self.sleep = sleep
        self.pause = 0.0

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> "ZoteroClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def get(self, url: str, params: Optional[dict] = None, headers: Optional[dict] = None) -> httpx.Response:
        url = urljoin(self.base_url, url)
        for attempt in range(MAX_RETRIES + 1):
            if self.pause > 0:
                self.sleep(self.pause)
                self.pause = 0.0
            try:
                response = self.http.get(url, params=params, headers=headers)
            except httpx.TransportError as error:
                raise ZoteroError(f"cannot reach {self.base_url}: {error}") from None
            backoff = _number(response.headers.get("Backoff"))
            if backoff:
                self.pause = max(self.pause, backoff)
            if response.status_code in (429, 503) and attempt < MAX_RETRIES:
                retry_after = _number(response.headers.get("Retry-After"))
                self.sleep(retry_after if retry_after is not None else DEFAULT_RETRY_AFTER)
                continue
            return response
        return response

    def list_objects(self, path: str, params: dict, since: int, progress: Optional[Progress] = None
                     ) -> Tuple[List[dict], List[Optional[int]], bool]:
        """Every object of a multi-object request: (objects, library versions seen, not modified)."""
        url: Optional[str] = path
        query: Optional[dict] = {"format": "json", "limit": PAGE_LIMIT, **params}
        headers = {"If-Modified-Since-Version": str(since)} if since else None
        objects: List[dict] = []
        versions: List[Optional[int]] = []
        followed: Set[str] = set()
        while url:
            response = self.get(url, params=query, headers=headers)
            raise_for_status(response, path)
            version = _int(response.headers.get("Last-Modified-Version"))
            if response.status_code == 304:
                return [], [version if version is not None else since], True
            versions.append(version)
            page = _json(response, path)
            if not isinstance(page, list):
                raise ZoteroError(f"{path}: expected a list of objects, got {type(page).__name__}")
            objects.extend(page)
            if progress is not None:
                progress(len(objects), _int(response.headers.get("Total-Results")))
            followed.add(str(response.url))
            next_url = response.links.get("next", {}).get("url")
            url = urljoin(str(response.url), next_url) if next_url else None
            if url in followed:
                raise ZoteroError(f"{path}: the server's next page is a page already read ({url})")
            query = None  # the next link carries the whole query
        return objects, versions, False

    def deleted(self, prefix: str, since: int) -> Tuple[dict, Optional[int]]:
        path = f"{prefix}/deleted"
        response = self.get(path, params={"since": since})
        raise_for_status(response, path)
        body = _json(response, path)
        if not isinstance(body, dict):
            raise ZoteroError(f"{path}: expected an object, got {type(body).__name__}")
        return body, _int(response.headers.get("Last-Modified-Version"))


def _json(response: httpx.Response, path: str):
    try:
        return response.json()
    except ValueError:
        raise ZoteroError(f"{path}: the server did not answer JSON (HTTP {response.status_code})") from None


def raise_for_status(response: httpx.Response, path: str) -> None:
    code = response.status_code
    if code in (200, 304):
        return
    detail = " ".join(response.text.split())[:200]
    if code == 403:
        raise ZoteroError(
            f"{path}: access denied (HTTP 403). Set ZOTERO_API_KEY to a key that can read this library."
        )
    if code == 404:
        raise ZoteroError(f"{path}: not found (HTTP 404); check the user or group ID.")
    if code in (429, 503):
        raise ZoteroError(f"{path}: the server is still refusing requests (HTTP {code}) after {MAX_RETRIES} retries.")
    raise ZoteroError(f"{path}: Zotero API error HTTP {code}: {detail}")


@dataclass
class Changes:
    version: int
    collections: List[dict]
    items: List[dict]
    deleted: Dict[str, list]
    not_modified: bool = False

    @property
    def empty(self) -> bool:
        return not (self.collections or self.items or any(self.deleted.get(kind) for kind in
                                                          ("collections", "items", "tags")))


def fetch_changes(client: ZoteroClient, prefix: str, since: int, progress: Optional[Progress] = None) -> Changes:
    """Everything that changed in a library since version ``since`` (everything when 0)."""
    for _ in range(SYNC_ATTEMPTS):
        collections, seen, not_modified = client.list_objects(f"{prefix}/collections", {"since": since}, since)
        items, item_versions, items_not_modified = client.list_objects(
            f"{prefix}/items", {"since": since, "includeTrashed": 1}, since, progress)
        seen += item_versions
        deleted: Dict[str, list] = {}
        # a 304 says the library version has not moved, and every deletion moves it
        if since and not (not_modified and items_not_modified):
            deleted, deleted_version = client.deleted(prefix, since)
            seen.append(deleted_version)
        versions = {version for version in seen if version is not None}
        if len(versions) > 1:
            continue  # someone wrote to the library meanwhile: the pages may disagree
        if versions:
            version = versions.pop()
        else:  # a server that sends no versions: the newest object is the best we know
            version = max([since] + [int(obj.get("version") or 0) for obj in collections + items])
        return Changes(version, collections, items, deleted, not_modified and items_not_modified)
    raise ZoteroError(f"{prefix}: the library kept changing during the sync; try again.")


# ---- the mirror ----------------------------------------------------------------------------------


def _object_data(obj: dict) -> dict:
    data = dict(obj.get("data") or {})
    data.setdefault("key", obj.get("key"))
    data.setdefault("version", obj.get("version"))
    return data


class Mirror:
    """One library's items and collections as last served, loaded in memory for one sync."""

    def __init__(self, db: sqlite_utils.Database, library: str):
        self.db = db
        self.library = library
        self.items: Dict[str, dict] = {}
        self.meta: Dict[str, dict] = {}
        self.collections: Dict[str, dict] = {}
        self.dirty_items: Set[str] = set()
        self.dirty_collections: Set[str] = set()
        for key, data, meta in db.execute(
            "SELECT key, data, meta FROM zotero_items WHERE library = ?", [library]
        ).fetchall():
            self.items[key] = json.loads(data)
            self.meta[key] = json.loads(meta) if meta else {}
        for key, data in db.execute(
            "SELECT key, data FROM zotero_collections WHERE library = ?", [library]
        ).fetchall():
            self.collections[key] = json.loads(data)

    def put_item(self, obj: dict) -> str:
        data = _object_data(obj)
        key = data["key"]
        self.items[key] = data
        self.meta[key] = dict(obj.get("meta") or {})
        self.dirty_items.add(key)
        return key

    def put_collection(self, obj: dict) -> str:
        data = _object_data(obj)
        self.collections[data["key"]] = data
        self.dirty_collections.add(data["key"])
        return data["key"]

    def drop_item(self, key: str) -> None:
        self.items.pop(key, None)
        self.meta.pop(key, None)
        self.dirty_items.add(key)

    def drop_collection(self, key: str) -> None:
        self.collections.pop(key, None)
        self.dirty_collections.add(key)

    def top_level(self, key: Optional[str]) -> Optional[str]:
        """The top-level item above ``key`` (itself when it has no parent)."""
        seen = set()
        while key and key not in seen:
            seen.add(key)
            parent = (self.items.get(key) or {}).get("parentItem")
            if not parent:
                return key
            key = parent
        return key

    def children(self) -> Dict[str, List[dict]]:
        out: Dict[str, List[dict]] = {}
        for data in self.items.values():
            if data.get("parentItem"):
                out.setdefault(data["parentItem"], []).append(data)
        return out

    def live_collections(self) -> Dict[str, dict]:
        """Collections not in the trash and not under a trashed one."""
        parents = {key: data.get("parentCollection") or None for key, data in self.collections.items()}
        live = {}
        for key, data in self.collections.items():
            chain = collection_chain(key, parents)
            if not any(is_trashed(self.collections[k]) for k in chain):
                live[key] = data
        return live

    def subtree(self, root: str) -> Set[str]:
        live = self.live_collections()
        parents = {key: data.get("parentCollection") or None for key, data in live.items()}
        return {key for key in live if root in collection_chain(key, parents)}

    def save(self) -> None:
        for key in sorted(self.dirty_items):
            data = self.items.get(key)
            if data is None:
                self.db.execute("DELETE FROM zotero_items WHERE library = ? AND key = ?", [self.library, key])
                continue
            self.db["zotero_items"].upsert({
                "library": self.library, "key": key, "version": data.get("version"),
                "item_type": data.get("itemType"), "parent_key": data.get("parentItem") or None,
                "trashed": 1 if is_trashed(data) else 0,
                "data": json.dumps(data, ensure_ascii=False, sort_keys=True),
                "meta": json.dumps(self.meta.get(key) or {}, ensure_ascii=False, sort_keys=True),
            }, pk=("library", "key"))
        for key in sorted(self.dirty_collections):
            data = self.collections.get(key)
            if data is None:
                self.db.execute("DELETE FROM zotero_collections WHERE library = ? AND key = ?", [self.library, key])
                continue
            self.db["zotero_collections"].upsert({
                "library": self.library, "key": key, "version": data.get("version"), "name": data.get("name"),
                "parent_key": data.get("parentCollection") or None, "trashed": 1 if is_trashed(data) else 0,
                "data": json.dumps(data, ensure_ascii=False, sort_keys=True),
            }, pk=("library", "key"))
        self.dirty_items.clear()
        self.dirty_collections.clear()


# ---- shared with the zotero.sqlite import ----------------------------------------------------------


def source_id_of(db: sqlite_utils.Database, path: str) -> Optional[int]:
    row = db.execute("SELECT id FROM sources WHERE path = ?", [path]).fetchone()
    return row[0] if row else None


def record_keys(db: sqlite_utils.Database, source_id: Optional[int]) -> Set[str]:
    if source_id is None:
        return set()
    return {row[0] for row in db.execute("SELECT record_key FROM work_sources WHERE source_id = ?", [source_id])}


def work_ids(db: sqlite_utils.Database, source_id: int) -> Dict[str, int]:
    return dict(db.execute("SELECT record_key, work_id FROM work_sources WHERE source_id = ?", [source_id]).fetchall())


def write_attachments(db: sqlite_utils.Database, source_id: int, rows: Iterable[Tuple[str, dict]]) -> int:
    """Replace this source's attachment metadata; ``rows`` are (library, attachment_row)."""
    works = work_ids(db, source_id)
    db.execute("DELETE FROM zotero_attachments WHERE source_id = ?", [source_id])
    out = []
    for library, row in rows:
        out.append({**row, "library": library, "source_id": source_id, "work_id": works.get(row.get("parent_key"))})
    if out:
        db["zotero_attachments"].insert_all(out, pk=("source_id", "key"), replace=True)
    return len(out)


def write_relations(db: sqlite_utils.Database, source_id: int,
                    relations: Iterable[Tuple[str, str, List[str]]]) -> int:
    """Replace the ``dc:relation`` links of this source's works; ``relations`` are (library, key, URIs)."""
    works = work_ids(db, source_id)
    db.execute(
        """DELETE FROM related_works WHERE relation = ? AND work_id IN
           (SELECT work_id FROM work_sources WHERE source_id = ?)""", [RELATED_PREDICATE, source_id])
    count = 0
    for library, key, uris in relations:
        work_id = works.get(key)
        if work_id is None:
            continue
        for uri in uris:
            target = resolve_item_uri(db, works, library, uri)
            if target is not None and target != work_id:
                db.execute(
                    "INSERT OR IGNORE INTO related_works (work_id, related_work_id, relation) VALUES (?, ?, ?)",
                    [work_id, target, RELATED_PREDICATE])
                count += 1
    return count


def resolve_item_uri(db: sqlite_utils.Database, works: Mapping[str, int], library: str, uri: str) -> Optional[int]:
    parsed = parse_item_uri(uri)
    if not parsed:
        return None
    target_library, key = parsed
    if target_library == library or target_library.startswith("users/local"):
        if key in works:
            return works[key]
    row = db.execute("SELECT id FROM works WHERE zotero_key = ? AND zotero_library = ? LIMIT 1",
                     [key, target_library]).fetchone()
    return row[0] if row else None


def remove_records(loader: Loader, source_id: Optional[int], keys: Iterable[str]) -> Tuple[int, Set[str]]:
    """Forget these records of a source; returns (how many existed, keys of records that shared a
    work with a removed one: the loader dropped their tags/notes/collections too)."""
    if source_id is None:
        return 0, set()
    removed, siblings = 0, set()
    for key in sorted(set(keys)):
        work_id = loader.remove_source_record(source_id, key)
        if work_id is None:
            continue
        removed += 1
        siblings.update(row[0] for row in loader.db.execute(
            "SELECT record_key FROM work_sources WHERE work_id = ? AND source_id = ?", [work_id, source_id]))
    return removed, siblings


def merge_duplicate_links(records: List[dict]) -> dict:
    """One record carrying the tags, collections and notes of all ``records`` (the last one's fields).

    Duplicates in one library become one work, and the loader keeps one set of links per work and
    source: without this the last duplicate loaded would take the others' tags and collections."""
    merged = dict(records[-1])
    tags: Dict[Tuple[str, str], dict] = {}
    collections: Dict[str, dict] = {}
    notes: Dict[Tuple[Optional[str], str], dict] = {}
    for record in records:
        for tag in record.get("tags") or []:
            tags.setdefault((tag.get("name"), tag.get("kind")), tag)
        for spec in record.get("collections") or []:
            if spec["key"] in collections:
                collections[spec["key"]] = {**collections[spec["key"]],
                                            "member": collections[spec["key"]].get("member") or spec.get("member")}
            else:
                collections[spec["key"]] = dict(spec)  # parents come first in every list, so in the union
        for note in record.get("notes") or []:
            notes.setdefault((note.get("key"), note.get("content")), note)
    for name, values in (("tags", tags), ("collections", collections), ("notes", notes)):
        if values:
            merged[name] = list(values.values())
    return merged


def load_duplicates_together(loader: Loader, source_id: int, path: str, fmt: str,
                             record_for: Callable[[str], Optional[dict]]) -> int:
    """Give every work that several records of this source describe the union of their links."""
    groups = loader.db.execute(
        """SELECT work_id, json_group_array(record_key) FROM
             (SELECT work_id, record_key FROM work_sources WHERE source_id = ? ORDER BY record_key)
           GROUP BY work_id HAVING COUNT(*) > 1""", [source_id]).fetchall()
    merged = []
    for _, keys in groups:
        records = [record for record in (record_for(key) for key in sorted(json.loads(keys))) if record]
        if len(records) > 1:
            merged.append(merge_duplicate_links(records))
    if merged:
        loader.load_records(merged, path=path, fmt=fmt)
    return len(merged)


def update_record_count(db: sqlite_utils.Database, source_id: int) -> None:
    db.execute(
        "UPDATE sources SET records = (SELECT COUNT(DISTINCT record_key) FROM work_sources WHERE source_id = ?) WHERE id = ?",
        [source_id, source_id])


# ---- sync ------------------------------------------------------------------------------------------


@dataclass
class SyncResult:
    library: str
    since: int
    version: int = 0
    full: bool = False
    unchanged: bool = False
    fetched_items: int = 0
    fetched_collections: int = 0
    loaded: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    attachments: int = 0
    skipped: List[str] = field(default_factory=list)


def library_prefix(user: Optional[int] = None, group: Optional[int] = None) -> str:
    if (user is None) == (group is None):
        raise ZoteroError("give exactly one of a user ID or a group ID")
    return f"groups/{group}" if group is not None else f"users/{user}"


def source_path(library: str) -> str:
    return f"zotero:{library}"


class LibrarySync:
    """One sync of one library (optionally only a collection and its subcollections)."""

    def __init__(self, db: sqlite_utils.Database, client: ZoteroClient, library: str,
                 collection: Optional[str] = None, progress: Optional[Progress] = None):
        self.db = db
        self.client = client
        self.library = library
        self.scope = collection or ""
        self.progress = progress
        self.path = source_path(library)

    def run(self) -> SyncResult:
        ensure_zotero_tables(self.db)
        state = self.db.execute(
            "SELECT version, scope FROM zotero_sync_state WHERE library = ?", [self.library]).fetchone()
        since = int(state[0] or 0) if state else 0
        full = state is None or (state[1] or "") != self.scope
        changes = fetch_changes(self.client, self.library, since, self.progress)
        result = SyncResult(self.library, since, changes.version, full=full,
                            fetched_items=len(changes.items), fetched_collections=len(changes.collections))
        if not full and changes.empty:
            if changes.version != since:
                # settings or saved searches changed: nothing to load, but no need to ask again
                self.db.execute("UPDATE zotero_sync_state SET version = ? WHERE library = ?",
                                [changes.version, self.library])
            result.unchanged = True
            return result
        loader = Loader(self.db)
        with self.db.atomic():
            mirror = Mirror(self.db, self.library)
            affected = self.apply(mirror, changes, since)
            if self.scope and self.scope not in mirror.live_collections():
                raise ZoteroError(f"{self.library}: no collection with key {self.scope}")
            self.write(loader, mirror, affected, full or since == 0, result)
            mirror.save()
            self.db["zotero_sync_state"].upsert({
                "library": self.library, "source_id": source_id_of(self.db, self.path),
                "version": changes.version, "scope": self.scope, "synced_at": now_iso(),
            }, pk="library")
        loader.finish()
        return result

    # -- what changed -------------------------------------------------------------------------------

    def apply(self, mirror: Mirror, changes: Changes, since: int) -> Set[str]:
        """Update the mirror; returns the top-level keys whose records must be rebuilt or removed."""
        affected: Set[str] = set()
        if since == 0:
            # a full listing is the whole library: whatever the mirror has beyond it is gone
            for key in list(mirror.items):
                mirror.drop_item(key)
            for key in list(mirror.collections):
                mirror.drop_collection(key)
        changed_collections = {mirror.put_collection(obj) for obj in changes.collections}
        changed_items = set()
        for obj in changes.items:
            key = (obj.get("data") or {}).get("key") or obj.get("key")
            affected.add(mirror.top_level(key))  # where it hung before (a child can move)
            mirror.put_item(obj)
            changed_items.add(key)
            affected.add(mirror.top_level(key))
        deleted = changes.deleted or {}
        for key in deleted.get("collections") or []:
            if key in changed_collections or key not in mirror.collections:
                continue  # re-created since, or never had it
            mirror.drop_collection(key)
            affected |= self._strip(mirror, "collections", lambda value, gone=key: value == gone)
        for key in deleted.get("items") or []:
            if key in changed_items:
                continue
            affected.add(mirror.top_level(key))
            affected.add(key)
            mirror.drop_item(key)
        for name in deleted.get("tags") or []:
            affected |= self._strip(mirror, "tags", lambda tag, gone=name: _tag_name(tag) == gone)
        if changed_collections and since:
            # renamed, moved or trashed collections: their items' collection lists read differently
            parents = {key: data.get("parentCollection") or None for key, data in mirror.collections.items()}
            touched = {key for key in mirror.collections
                       if changed_collections.intersection(collection_chain(key, parents))}
            affected |= {mirror.top_level(key) for key, data in mirror.items.items()
                         if touched.intersection(data.get("collections") or [])}
        affected.discard(None)
        return affected

    @staticmethod
    def _strip(mirror: Mirror, field_name: str, gone) -> Set[str]:
        """Drop the values of a list field that ``gone`` matches from every mirrored item; returns
        the top-level items touched (a deleted tag or collection does not bump their versions)."""
        touched = set()
        for key, data in mirror.items.items():
            values = data.get(field_name) or []
            kept = [value for value in values if not gone(value)]
            if len(kept) != len(values):
                data[field_name] = kept
                mirror.dirty_items.add(key)
                touched.add(mirror.top_level(key))
        return touched

    # -- what to write ------------------------------------------------------------------------------

    def write(self, loader: Loader, mirror: Mirror, affected: Set[str], full: bool, result: SyncResult) -> None:
        live = mirror.live_collections()
        scope = mirror.subtree(self.scope) if self.scope else None
        children = mirror.children()

        def member_keys(data: dict) -> List[str]:
            keys = [key for key in data.get("collections") or [] if key in live]
            return [key for key in keys if key in scope] if scope is not None else keys

        def wanted(key: str) -> bool:
            data = mirror.items.get(key)
            if data is None or not is_work(data) or is_trashed(data):
                return False
            return scope is None or bool(member_keys(data))

        def record_for(key: str) -> dict:
            data = mirror.items[key]
            notes = sorted((child for child in children.get(key, ())
                            if child.get("itemType") == "note" and not is_trashed(child)), key=note_sort_key)
            return build_record(self.library, data, mirror.meta.get(key), notes, live, member_keys(data))

        source_id = source_id_of(self.db, self.path)
        existing = record_keys(self.db, source_id)
        candidates = set(mirror.items) if full else affected
        load = {key for key in candidates if wanted(key)}
        remove = (existing - load) if full else (affected - load)

        records: Dict[str, dict] = {}
        for key in sorted(load):
            record = record_for(key)
            if has_substance(record):
                records[key] = record
            else:
                result.skipped.append(f"{self.library} item {key}: no title or identifier")
                remove.add(key)
        # attachment rows point at works: clear them before works go
        if source_id is not None:
            self.db.execute("DELETE FROM zotero_attachments WHERE source_id = ?", [source_id])
        result.removed, siblings = remove_records(loader, source_id, remove & existing)
        for key in siblings - set(records):
            if wanted(key):
                record = record_for(key)
                if has_substance(record):
                    records[key] = record

        self._collections(loader, mirror, live, scope)
        outcome = loader.load_records((records[key] for key in sorted(records)), path=self.path, fmt="zotero-api")
        result.loaded, result.added, result.updated = outcome.records, outcome.added, outcome.updated
        source_id = source_id_of(self.db, self.path)
        load_duplicates_together(loader, source_id, self.path, "zotero-api",
                                 lambda key: records.get(key) or (record_for(key) if wanted(key) else None))
        self._drop_collections(mirror, live, scope)

        loaded = record_keys(self.db, source_id)
        attachments = []
        for key, data in sorted(mirror.items.items()):
            if data.get("itemType") != "attachment" or is_trashed(data):
                continue
            parent = data.get("parentItem")
            if (parent and parent in loaded) or (not parent and (scope is None or member_keys(data))):
                attachments.append((self.library, attachment_row(data)))
        result.attachments = write_attachments(self.db, source_id, attachments)
        write_relations(self.db, source_id, (
            (self.library, key, relation_uris(mirror.items[key].get("relations")))
            for key in sorted(loaded) if key in mirror.items))
        update_record_count(self.db, source_id)

    def _collections(self, loader: Loader, mirror: Mirror, live: Dict[str, dict], scope: Optional[Set[str]]) -> None:
        """Collection rows for the whole tree in scope, parents first (renames and moves included)."""
        parents = {key: data.get("parentCollection") or None for key, data in live.items()}
        wanted: List[str] = []
        for key in sorted(scope if scope is not None else live):
            for chain_key in collection_chain(key, parents):
                if chain_key not in wanted:
                    wanted.append(chain_key)
        wanted.sort(key=lambda k: len(collection_chain(k, parents)))
        for key in wanted:
            parent = parents.get(key)
            loader.collection_id({
                "key": collection_key(self.library, key), "name": live[key].get("name") or key,
                "parent_key": collection_key(self.library, parent) if parent else None, "zotero_key": key,
            })

    def _drop_collections(self, mirror: Mirror, live: Dict[str, dict], scope: Optional[Set[str]]) -> None:
        """Rows of collections deleted or trashed in Zotero (with their memberships: a deleted
        collection does not bump its items' versions), and of collections no longer in scope."""
        prefix = collection_key(self.library, "")
        parents = {key: data.get("parentCollection") or None for key, data in live.items()}
        keep: Set[str] = set()
        for key in (scope if scope is not None else live):
            keep.update(collection_chain(key, parents))
        drop = []
        for collection_id, key in self.db.execute(
            "SELECT id, key FROM collections WHERE substr(key, 1, ?) = ?", [len(prefix), prefix]
        ).fetchall():
            zotero_key = key[len(prefix):]
            if zotero_key in keep:
                continue
            if zotero_key not in live:
                self.db.execute("DELETE FROM collection_works WHERE collection_id = ?", [collection_id])
            if not self.db.execute("SELECT 1 FROM collection_works WHERE collection_id = ? LIMIT 1",
                                   [collection_id]).fetchone():
                drop.append(collection_id)
        if drop:
            marks = ",".join("?" for _ in drop)
            self.db.execute(f"UPDATE collections SET parent_id = NULL WHERE parent_id IN ({marks})", drop)
            self.db.execute(f"DELETE FROM collection_tags WHERE collection_id IN ({marks})", drop)
            self.db.execute(f"DELETE FROM collections WHERE id IN ({marks})", drop)


def _tag_name(tag) -> Optional[str]:
    return tag if isinstance(tag, str) else (tag or {}).get("tag")


def sync_library(db: sqlite_utils.Database, client: ZoteroClient, library: str,
                 collection: Optional[str] = None, progress: Optional[Progress] = None) -> SyncResult:
    """Bring ``library`` (``users/<id>`` or ``groups/<id>``) up to date in ``db``."""
    return LibrarySync(db, client, library, collection, progress).run()


# ---- zotero.sqlite import --------------------------------------------------------------------------


@dataclass
class ImportResult:
    path: str
    records: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    attachments: int = 0
    skipped_file: bool = False
    skipped: List[str] = field(default_factory=list)


def prune_collections(db: sqlite_utils.Database, records: List[dict]) -> None:
    """Drop empty collection rows of these libraries that the file no longer has (deleted in Zotero),
    unless a sync of the same library still mirrors them."""
    libraries = {record["zotero_library"] for record in records}
    present = {spec["key"] for record in records for spec in record.get("collections") or []}
    for library in sorted(libraries):
        prefix = collection_key(library, "")
        mirrored = {collection_key(library, row[0]) for row in db.execute(
            "SELECT key FROM zotero_collections WHERE library = ? AND trashed = 0", [library])}
        for collection_id, key in db.execute(
            "SELECT id, key FROM collections WHERE substr(key, 1, ?) = ?", [len(prefix), prefix]
        ).fetchall():
            if key in present or key in mirrored:
                continue
            if db.execute("SELECT 1 FROM collection_works WHERE collection_id = ? LIMIT 1", [collection_id]).fetchone():
                continue
            db.execute("UPDATE collections SET parent_id = NULL WHERE parent_id = ?", [collection_id])
            db.execute("DELETE FROM collection_tags WHERE collection_id = ?", [collection_id])
            db.execute("DELETE FROM collections WHERE id = ?", [collection_id])


def database_digest(path: str) -> str:
    """SHA-256 of a database and its write-ahead log: recent writes may sit only in the log."""
    digest = hashlib.sha256()
    for name in (path, path + "-wal"):
        if os.path.exists(name):
            with open(name, "rb") as fp:
                for chunk in iter(lambda: fp.read(1 << 20), b""):
                    digest.update(chunk)
    return digest.hexdigest()


def import_sqlite(db: sqlite_utils.Database, path: str, force: bool = False) -> ImportResult:
    """Load a ``zotero.sqlite`` (read from a copy) as one source; items gone from it are removed."""
    from .sources import zotero_sqlite

    ensure_zotero_tables(db)
    result = ImportResult(path)
    digest = database_digest(path)
    row = db.execute("SELECT sha256 FROM sources WHERE path = ?", [path]).fetchone() if db["sources"].exists() else None
    if row and row[0] == digest and not force:
        result.skipped_file = True
        return result
    records = list(zotero_sqlite.parse(path, skipped=result.skipped))
    loader = Loader(db)
    with db.atomic():
        source_id = source_id_of(db, path)
        if source_id is not None:
            db.execute("DELETE FROM zotero_attachments WHERE source_id = ?", [source_id])
        keep = {str(record["source_key"]) for record in records}
        result.removed, _ = remove_records(loader, source_id, record_keys(db, source_id) - keep)
        outcome = loader.load_records(records, path=path, fmt="zotero-sqlite", sha256=digest)
        result.records, result.added, result.updated = outcome.records, outcome.added, outcome.updated
        source_id = source_id_of(db, path)
        by_key = {str(record["source_key"]): record for record in records}
        load_duplicates_together(loader, source_id, path, "zotero-sqlite", by_key.get)
        prune_collections(db, records)
        result.attachments = write_attachments(db, source_id, (
            (record["zotero_library"], row) for record in records for row in record.get("_zotero_attachments") or []))
        write_relations(db, source_id, (
            (record["zotero_library"], record["source_key"], (record.get("relations") or {}).get(RELATED_PREDICATE, []))
            for record in records))
        update_record_count(db, source_id)
    loader.finish()
    return result
