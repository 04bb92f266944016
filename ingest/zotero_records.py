"""What the Zotero sync and the ``zotero.sqlite`` reader add to ``zotero_map.item_to_record``.

Both read Zotero items in the Web API's JSON shape (the sqlite reader rebuilds that shape from the
tables) and turn one top-level item, its child notes and the library's collection tree into one
canonical record: ``zotero_library``, ``zotero_key``, child notes, collection specs with their
parents, relations. Pure functions only.
"""

from __future__ import annotations

import re
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from .records import Record
from .zotero_map import item_to_record

# Item types that are never works: they hang under a work (or stand alone) in Zotero's tree.
NON_WORK_TYPES = frozenset({"note", "attachment", "annotation"})

# Relations kept as related works. owl:sameAs points at copies in other libraries, not at
# another work, so only the "Related" pane's predicate counts.
RELATED_PREDICATE = "dc:relation"

# itemAttachments.linkMode integers → the names the Web API uses.
LINK_MODES = {0: "imported_file", 1: "imported_url", 2: "linked_file", 3: "linked_url", 4: "embedded_image"}

_ITEM_URI = re.compile(r"zotero\.org/((?:users|groups)/[^/]+(?:/[^/]+)?)/items/([A-Z0-9]{8})/?$")


def collection_key(library: str, key: str) -> str:
    """The ``collections.key`` of a Zotero collection: unique across libraries."""
    return f"zotero:{library}/{key}"


def is_work(data: Mapping) -> bool:
    """A top-level regular item (not a note, attachment or annotation, not a child)."""
    return not data.get("parentItem") and data.get("itemType") not in NON_WORK_TYPES


def is_trashed(data: Mapping) -> bool:
    return bool(data.get("deleted"))


def collection_chain(key: str, parents: Mapping[str, Optional[str]]) -> List[str]:
    """``key`` and its ancestors, root first; stops at a missing parent or a cycle."""
    chain: List[str] = []
    while key and key in parents and key not in chain:
        chain.append(key)
        key = parents[key]
    return list(reversed(chain))


def collection_specs(library: str, member_keys: Iterable[str],
                     collections: Mapping[str, Mapping]) -> List[dict]:
    """Loader collection specs for an item's collections, each parent listed before its children.

    ``collections`` maps a collection key to ``{"name", "parentCollection"}`` (API data shape).
    Unknown keys are skipped: an item may still name a collection deleted since.
    """
    parents = {key: (data.get("parentCollection") or None) for key, data in collections.items()}
    members = [key for key in member_keys if key in collections]
    specs: Dict[str, dict] = {}
    for member in members:
        for key in collection_chain(member, parents):
            spec = specs.get(key)
            if spec is None:
                parent = parents.get(key)
                spec = specs[key] = {
                    "key": collection_key(library, key),
                    "name": collections[key].get("name") or key,
                    "parent_key": collection_key(library, parent) if parent else None,
                    "zotero_key": key,
                    "member": False,
                }
            if key == member:
                spec["member"] = True
    return list(specs.values())


def note_spec(data: Mapping) -> Optional[dict]:
    content = (data.get("note") or "").strip()
    return {"content": content, "key": data.get("key")} if content else None


def relation_uris(relations: Optional[Mapping], predicate: str = RELATED_PREDICATE) -> List[str]:
    """The objects of one predicate: Zotero writes a single one as a string, several as a list."""
    value = (relations or {}).get(predicate)
    if not value:
        return []
    values = [value] if isinstance(value, str) else list(value)
    return [uri for uri in values if isinstance(uri, str) and uri]


def parse_item_uri(uri: str) -> Optional[Tuple[str, str]]:
    """``http://zotero.org/users/475425/items/ABCD1234`` → ``("users/475425", "ABCD1234")``.

    Local libraries that never synced use ``users/local/<id>``; that library part is kept as is.
    """
    match = _ITEM_URI.search(uri or "")
    return (match.group(1), match.group(2)) if match else None


def has_substance(record: Record) -> bool:
    """What the loader needs to make a work: a title or an identifier."""
    return bool(str(record.get("title") or "").strip()) or any(record.get(k) for k in ("DOI", "PMID", "PMCID"))


def build_record(library: str, data: Mapping, meta: Optional[Mapping] = None,
                 notes: Sequence[Mapping] = (), collections: Optional[Mapping[str, Mapping]] = None,
                 member_keys: Optional[Iterable[str]] = None) -> Record:
    """One top-level item, its child notes (API data of the notes) and its collections as a record.

    ``member_keys`` defaults to the item's own ``collections``; a scoped sync passes a subset.
    """
    record = item_to_record(dict(data), dict(meta) if meta else None)
    key = data.get("key")
    record["zotero_key"] = key
    record["source_key"] = key
    record["zotero_library"] = library
    record.pop("collections", None)
    note_list = list(record.pop("notes", None) or [])
    for note in notes:
        spec = note_spec(note)
        if spec:
            note_list.append(spec)
    if note_list:
        record["notes"] = note_list
    keys = (data.get("collections") or []) if member_keys is None else member_keys
    specs = collection_specs(library, keys, collections or {})
    if specs:
        record["collections"] = specs
    relations = {predicate: relation_uris(data.get("relations"), predicate)
                 for predicate in (data.get("relations") or {})}
    relations = {predicate: uris for predicate, uris in relations.items() if uris}
    if relations:
        record["relations"] = relations
    return record


def attachment_row(data: Mapping) -> dict:
    """Metadata of an attachment item (files are never downloaded)."""
    filename = data.get("filename") or None
    if not filename and data.get("path"):
        # linked files carry a path on the user's machine; the name alone is what is useful here
        filename = re.split(r"[\\/:]", str(data["path"]))[-1] or None
    return {
        "key": data.get("key"),
        "parent_key": data.get("parentItem") or None,
        "title": data.get("title") or None,
        "content_type": data.get("contentType") or None,
        "link_mode": data.get("linkMode") or None,
        "url": data.get("url") or None,
        "filename": filename,
    }


def note_sort_key(data: Mapping) -> Tuple[str, str]:
    return (str(data.get("dateAdded") or ""), str(data.get("key") or ""))
