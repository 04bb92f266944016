"""Zotero desktop database (``zotero.sqlite``) → canonical records.

The user's database is never opened by SQLite: its bytes (and those of its ``-wal``, where the most
recent writes wait for a checkpoint while Zotero runs) are copied to a temporary directory, the copy
is opened read-only, and the copy is removed before the first record is yielded.

Items are rebuilt in the Web API's JSON shape (type-specific field names, creators in order, tags
with their type, collections, relations) and mapped by ``zotero_map``/``zotero_records`` like synced
items. Items in the trash are skipped, so are notes and attachments as works (child notes travel
with their parent; attachment metadata under the record's ``_zotero_attachments``).

Two generations of the schema are read: Zotero 5–7 (``creators`` holds the names, ``itemTags.type``,
``itemRelations``, ``parentItemID``) and older ones (``creatorData``, ``tags.type``, a ``relations``
table of URIs, ``sourceItemID``, ``NULL`` library of the personal library). Field and item-type names
come from ``fieldsCombined``/``itemTypesCombined`` when present (they include custom ones).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import tempfile
from collections import defaultdict
from typing import Dict, Iterator, List, Optional
from urllib.request import pathname2url

from ..records import ParseError, Record, RecordStream
from ..zotero_records import (
    LINK_MODES,
    attachment_row,
    build_record,
    collection_specs,
    has_substance,
    note_sort_key,
    parse_item_uri,
)
from . import SQLITE_MAGIC, Source, source_name

REQUIRED_TABLES = ("items", "itemData", "itemDataValues", "itemCreators", "creatorTypes", "collections", "tags")

# Date fields store "SQL date + space + text as typed" ("2019-08-00 08/2019"); the API shows the text.
DATE_FIELDS = frozenset({"date", "dateDecided", "dateEnacted", "issueDate", "filingDate", "originalDate"})
_MULTIPART_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2}) (.*)$", re.S)
_SQL_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})$")


def sniff(head: str) -> bool:
    return head.startswith(SQLITE_MAGIC.decode("ascii"))


def parse(source: Source, skip_bad: bool = False, errors: Optional[List[ParseError]] = None,
          skipped: Optional[List[str]] = None) -> RecordStream:
    """Records of a ``zotero.sqlite``; items without a title or identifier are not works: their
    descriptions go to ``skipped``. A database that cannot be read raises, ``skip_bad`` or not."""
    name = source_name(source)
    return RecordStream(iter(read_records(source, name, skipped if skipped is not None else [])), errors)


def read_records(source: Source, name: str, skipped: List[str]) -> List[Record]:
    with tempfile.TemporaryDirectory(prefix="refsette-zotero-") as tmp:
        copy = os.path.join(tmp, "zotero.sqlite")
        copy_database(source, copy, name)
        try:
            connection = sqlite3.connect(f"file:{pathname2url(copy)}?mode=ro", uri=True)
        except sqlite3.Error as error:
            raise ParseError(f"cannot open as SQLite: {error}", name) from None
        try:
            return ZoteroDatabase(connection, name).records(skipped)
        except sqlite3.DatabaseError as error:
            raise ParseError(f"cannot read the Zotero database: {error}", name) from None
        except UnicodeDecodeError as error:  # SQLite hands back the bytes of a damaged text value
            raise ParseError(
                f"cannot read the Zotero database: a text value is not UTF-8 ({error.reason}); "
                "the file is damaged", name) from None
        except (TypeError, AttributeError, ValueError, KeyError, IndexError) as error:
            # SQLite keeps any value in any column: a damaged page, or another program's database,
            # hands back a number or NULL where Zotero always writes text (a note, a URI, a key).
            raise ParseError(
                f"cannot read the Zotero database: unexpected data ({type(error).__name__}: {error}); "
                "the file is damaged or was not written by Zotero", name) from None
        finally:
            connection.close()


def copy_database(source: Source, copy: str, name: str) -> None:
    """Copy the database (and its write-ahead log, if any) without ever writing to the original."""
    try:
        if isinstance(source, (str, os.PathLike)):
            shutil.copyfile(source, copy)
            wal = os.fspath(source) + "-wal"
            if os.path.exists(wal):
                shutil.copyfile(wal, copy + "-wal")
        else:
            data = source.read()
            with open(copy, "wb") as fp:
                fp.write(data if isinstance(data, bytes) else data.encode("latin-1"))
    except OSError as error:
        raise ParseError(f"cannot copy the database: {error.strerror or error}", name) from None
    with open(copy, "rb") as fp:
        if fp.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise ParseError("not an SQLite database", name)


def sql_date_to_iso(value: str) -> str:
    """``2022-07-09 03:30:26`` (UTC, as Zotero stores accessDate) → ``2022-07-09T03:30:26Z``."""
    match = _SQL_DATETIME.match(value)
    return f"{match.group(1)}T{match.group(2)}Z" if match else value


def split_multipart_date(value: str):
    """``2019-08-00 08/2019`` → (``08/2019``, ``2019-08``): the text as typed and the parsed date."""
    match = _MULTIPART_DATE.match(value)
    if not match:
        return value, None
    text = match.group(4)
    # a zero part ends the date: "2016-00-00" is 2016, "0000-00-00" no date at all
    parsed = []
    for part in match.groups()[:3]:
        if not part.strip("0"):
            break
        parsed.append(part)
    return text, ("-".join(parsed) or None)


def carry_collection_tree(records: List[Record], collections: Dict[str, Dict[str, dict]]) -> None:
    """The first record of each library also lists every collection of it (``member: False``), so the
    whole tree is loaded, empty collections included."""
    first: Dict[str, Record] = {}
    for record in records:
        first.setdefault(record["zotero_library"], record)
    for library, record in first.items():
        specs = list(record.get("collections") or [])
        have = {spec["key"] for spec in specs}
        for spec in collection_specs(library, sorted(collections.get(library, {})), collections.get(library, {})):
            if spec["key"] not in have:
                specs.append({**spec, "member": False})
        if specs:
            record["collections"] = specs


class ZoteroDatabase:
    """One open (copied) Zotero database."""

    def __init__(self, connection: sqlite3.Connection, name: str):
        self.db = connection
        self.name = name
        self.tables = {row[0] for row in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        missing = [table for table in REQUIRED_TABLES if table not in self.tables]
        if missing:
            raise ParseError(f"not a Zotero database (no {', '.join(missing)} table)", name)

    def table(self, *candidates: str) -> str:
        for candidate in candidates:
            if candidate in self.tables:
                return candidate
        raise ParseError(f"not a Zotero database (no {' or '.join(candidates)} table)", self.name)

    def columns(self, table: str) -> set:
        return {row[1] for row in self.db.execute(f"PRAGMA table_info({table})")}

    def rows(self, sql: str, params=()):
        return self.db.execute(sql, params).fetchall()

    # ---- libraries -------------------------------------------------------------------------------

    def user_id(self) -> int:
        if "settings" in self.tables:
            row = self.db.execute(
                "SELECT value FROM settings WHERE setting = 'account' AND key = 'userID'"
            ).fetchone()
            if row and str(row[0]).isdigit():
                return int(row[0])
        return 0

    def libraries(self) -> Dict[Optional[int], Optional[str]]:
        """libraryID → ``users/<id>`` or ``groups/<id>``; feeds map to None (not a library of works)."""
        user = f"users/{self.user_id()}"
        libraries: Dict[Optional[int], Optional[str]] = {None: user}
        if "libraries" in self.tables:
            type_column = "type" if "type" in self.columns("libraries") else "libraryType"
            for library_id, kind in self.rows(f"SELECT libraryID, {type_column} FROM libraries"):
                libraries[library_id] = user if kind == "user" else None
        if "groups" in self.tables:
            for group_id, library_id in self.rows("SELECT groupID, libraryID FROM groups"):
                libraries[library_id] = f"groups/{group_id}"
        return libraries

    # ---- items -----------------------------------------------------------------------------------

    def records(self, skipped: List[str]) -> List[Record]:
        libraries = self.libraries()
        item_types = self.table("itemTypesCombined", "itemTypes")
        items = {}
        for item_id, type_id, type_name, library_id, key, added, modified in self.rows(
            f"""SELECT items.itemID, items.itemTypeID, types.typeName, items.libraryID, items.key,
                       items.dateAdded, items.dateModified
                FROM items LEFT JOIN {item_types} types ON types.itemTypeID = items.itemTypeID
                ORDER BY items.itemID"""
        ):
            items[item_id] = {
                # an ID the libraries table does not list can only be the personal library
                "type_id": type_id, "library": libraries.get(library_id, libraries[None]),
                "data": {"key": key, "itemType": type_name or "document",
                         "dateAdded": sql_date_to_iso(str(added or "")),
                         "dateModified": sql_date_to_iso(str(modified or ""))},
                "meta": {},
            }
        if not items:
            return []
        trash = {row[0] for row in self.rows("SELECT itemID FROM deletedItems")} if "deletedItems" in self.tables else set()
        self._fields(items)
        self._creators(items)
        self._tags(items)
        notes = self._notes(items)
        attachments = self._attachments(items)
        collections = self._collections(items, libraries)
        self._relations(items)

        records = []
        for item_id, item in items.items():
            data = item["data"]
            if item["library"] is None or item_id in trash or data["itemType"] in ("note", "attachment", "annotation"):
                continue
            child_notes = sorted((items[n]["data"] for n in notes.get(item_id, ()) if n not in trash), key=note_sort_key)
            record = build_record(item["library"], data, item["meta"] or None, child_notes,
                                  collections.get(item["library"], {}))
            files = [attachment_row(items[a]["data"]) for a in attachments.get(item_id, ()) if a not in trash]
            if files:
                record["_zotero_attachments"] = files
            if not has_substance(record):
                skipped.append(f"{item['library']} item {data['key']}: no title or identifier")
                continue
            records.append(record)
        carry_collection_tree(records, collections)
        return records

    def _fields(self, items: dict) -> None:
        fields = self.table("fieldsCombined", "fields")
        base_table = "baseFieldMappingsCombined" if "baseFieldMappingsCombined" in self.tables else (
            "baseFieldMappings" if "baseFieldMappings" in self.tables else None)
        base_of = {}
        if base_table:
            for type_id, base_name, field_name in self.rows(
                f"""SELECT m.itemTypeID, base.fieldName, field.fieldName FROM {base_table} m
                    JOIN {fields} base ON base.fieldID = m.baseFieldID
                    JOIN {fields} field ON field.fieldID = m.fieldID"""
            ):
                base_of[(type_id, field_name)] = base_name
        for item_id, field_name, value in self.rows(
            f"""SELECT itemData.itemID, f.fieldName, v.value FROM itemData
                JOIN {fields} f ON f.fieldID = itemData.fieldID
                JOIN itemDataValues v ON v.valueID = itemData.valueID"""
        ):
            item = items.get(item_id)
            if item is None or value is None:
                continue
            value = str(value)
            base = base_of.get((item["type_id"], field_name))
            if field_name in DATE_FIELDS or base == "date":
                value, parsed = split_multipart_date(value)
                if parsed and (field_name == "date" or base == "date"):
                    item["meta"]["parsedDate"] = parsed
            elif field_name == "accessDate":
                value = sql_date_to_iso(value)
            item["data"][field_name] = value
            if base and not item["data"].get(base):
                # bookTitle *is* a publicationTitle, university a publisher …: the schema says so
                item["data"][base] = value

    def _creators(self, items: dict) -> None:
        if "creatorData" in self.tables:
            names = "JOIN creators c ON c.creatorID = ic.creatorID JOIN creatorData n ON n.creatorDataID = c.creatorDataID"
        else:
            names = "JOIN creators n ON n.creatorID = ic.creatorID"
        for item_id, creator_type, first, last, mode in self.rows(
            f"""SELECT ic.itemID, ct.creatorType, n.firstName, n.lastName, n.fieldMode
                FROM itemCreators ic {names}
                LEFT JOIN creatorTypes ct ON ct.creatorTypeID = ic.creatorTypeID
                ORDER BY ic.itemID, ic.orderIndex"""
        ):
            item = items.get(item_id)
            if item is None:
                continue
            creator = {"creatorType": creator_type or "author"}
            if mode == 1:
                creator["name"] = last or first or ""
            else:
                creator.update(firstName=first or "", lastName=last or "")
            item["data"].setdefault("creators", []).append(creator)

    def _tags(self, items: dict) -> None:
        if "type" in self.columns("itemTags"):
            sql = "SELECT it.itemID, t.name, it.type FROM itemTags it JOIN tags t ON t.tagID = it.tagID"
        else:
            sql = "SELECT it.itemID, t.name, t.type FROM itemTags it JOIN tags t ON t.tagID = it.tagID"
        for item_id, name, kind in self.rows(sql + " ORDER BY it.itemID, t.name"):
            item = items.get(item_id)
            if item is None or not name:
                continue
            tag = {"tag": name}
            if kind == 1:
                tag["type"] = 1
            item["data"].setdefault("tags", []).append(tag)

    def _parent_column(self, table: str) -> str:
        return "parentItemID" if "parentItemID" in self.columns(table) else "sourceItemID"

    def _notes(self, items: dict) -> Dict[int, List[int]]:
        if "itemNotes" not in self.tables:
            return {}
        children: Dict[int, List[int]] = defaultdict(list)
        parent = self._parent_column("itemNotes")
        for item_id, parent_id, note in self.rows(f"SELECT itemID, {parent}, note FROM itemNotes"):
            item = items.get(item_id)
            # attachments keep their own note in itemNotes too: only note items are notes
            if item is None or item["data"]["itemType"] != "note":
                continue
            item["data"]["note"] = note or ""
            if parent_id is not None:
                item["data"]["parentItem"] = items.get(parent_id, {}).get("data", {}).get("key")
                children[parent_id].append(item_id)
        return children

    def _attachments(self, items: dict) -> Dict[int, List[int]]:
        if "itemAttachments" not in self.tables:
            return {}
        columns = self.columns("itemAttachments")
        parent = self._parent_column("itemAttachments")
        content_type = "contentType" if "contentType" in columns else "mimeType"
        children: Dict[int, List[int]] = defaultdict(list)
        for item_id, parent_id, link_mode, mime, path in self.rows(
            f"SELECT itemID, {parent}, linkMode, {content_type}, path FROM itemAttachments"
        ):
            item = items.get(item_id)
            if item is None or item["data"]["itemType"] != "attachment":
                continue
            data = item["data"]
            data.update(linkMode=LINK_MODES.get(link_mode, str(link_mode)), contentType=mime or "")
            if path:
                data["path"] = path
            if parent_id is not None:
                data["parentItem"] = items.get(parent_id, {}).get("data", {}).get("key")
                children[parent_id].append(item_id)
        return children

    def _collections(self, items: dict, libraries: dict) -> Dict[str, Dict[str, dict]]:
        """Per library, collection key → API-shaped data; members recorded on the items."""
        rows = self.rows("SELECT collectionID, collectionName, parentCollectionID, libraryID, key FROM collections")
        trashed = set()
        if "deletedCollections" in self.tables:
            trashed = {row[0] for row in self.rows("SELECT collectionID FROM deletedCollections")}
        parent_of = {row[0]: row[2] for row in rows}

        def in_trash(collection_id):
            seen = set()
            while collection_id is not None and collection_id not in seen:
                if collection_id in trashed:
                    return True
                seen.add(collection_id)
                collection_id = parent_of.get(collection_id)
            return False

        keys = {row[0]: row[4] for row in rows}
        by_library: Dict[str, Dict[str, dict]] = defaultdict(dict)
        for collection_id, name, parent_id, library_id, key in rows:
            library = libraries.get(library_id, libraries[None])
            if library is None or in_trash(collection_id):
                continue
            by_library[library][key] = {"name": name, "parentCollection": keys.get(parent_id) or False}
        live = {cid for cid in keys if not in_trash(cid)}
        for collection_id, item_id in self.rows(
            "SELECT collectionID, itemID FROM collectionItems ORDER BY collectionID, orderIndex"
        ):
            item = items.get(item_id)
            if item is not None and collection_id in live:
                item["data"].setdefault("collections", []).append(keys[collection_id])
        return by_library

    def _relations(self, items: dict) -> None:
        if "itemRelations" in self.tables and "relationPredicates" in self.tables:
            rows = self.rows(
                """SELECT r.itemID, p.predicate, r.object FROM itemRelations r
                   JOIN relationPredicates p ON p.predicateID = r.predicateID ORDER BY r.itemID, r.object"""
            )
        elif "relations" in self.tables:
            by_key = {(item["library"], item["data"]["key"]): item_id for item_id, item in items.items()}
            by_bare_key: Dict[str, List[int]] = defaultdict(list)
            for (_, key), item_id in by_key.items():
                by_bare_key[key].append(item_id)
            rows = []
            for subject, predicate, obj in self.rows(
                "SELECT subject, predicate, object FROM relations ORDER BY subject, object"
            ):
                parsed = parse_item_uri(subject)
                if parsed:
                    # old local libraries name themselves users/local/<id>: the key decides
                    candidates = by_bare_key.get(parsed[1], [])
                    rows.extend((item_id, predicate, obj) for item_id in candidates[:1])
        else:
            rows = []
        for item_id, predicate, obj in rows:
            item = items.get(item_id)
            if item is None or not predicate or not obj:
                continue
            relations = item["data"].setdefault("relations", {})
            relations.setdefault(predicate, []).append(obj)
