"""The one loader: canonical records into the normalised schema with sqlite-utils.

One transaction per input file: a file loads completely or not at all. Rows are keyed on
deterministic identities (DOI, PMID, PMCID, Zotero key, or normalised title + year + first author),
so loading the same file twice changes nothing.

Merging (DESIGN.md "Identity"): when a record describes a work already in the library, its values
fill what is missing; where both have a value, the source with the higher rank wins — identifiers
and structured sources beat free text (``SOURCE_RANK``). A reload of the same source wins over
itself, so a corrected file corrects the library.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Tuple

import sqlite_utils

from . import normalize as norm
from .records import CREATOR_ROLES, ParseError, Record, year_of
from .schema import ensure_tables, finalize

# Higher wins when two sources disagree on a value.
SOURCE_RANK = {
    "pubmed-xml": 60,
    "medline": 55,
    "zotero-api": 50,
    "zotero-sqlite": 50,
    "csl-json": 40,
    "bibtex": 35,
    "ris": 30,
    "bibpage": 10,
}

JOURNAL_TYPES = {"article-journal", "article-magazine", "article-newspaper", "review", "review-book"}

# CSL variable -> works column
SCALAR_FIELDS = {
    "type": "type",
    "title": "title",
    "abstract": "abstract",
    "volume": "volume",
    "issue": "issue",
    "ISBN": "isbn",
    "URL": "url",
    "language": "language",
    "note": "note",
    "publisher": "publisher",
    "publisher-place": "publisher_place",
    "edition": "edition",
    "collection-title": "collection_title",
    "number": "number",
}
HANDLED = set(SCALAR_FIELDS) | set(CREATOR_ROLES) | {
    "issued", "page", "DOI", "PMID", "PMCID", "container-title", "container-title-short", "ISSN",
    "tags", "collections", "notes", "references", "affiliations", "context", "source_key", "zotero_key",
    "zotero_library", "cite_key", "id", "relations",
}


@dataclass
class LoadResult:
    path: str
    format: str
    records: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped_file: bool = False
    errors: List[str] = field(default_factory=list)


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fp:
        for chunk in iter(lambda: fp.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _clean(value) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
        if value is None:
            return None
    text = " ".join(str(value).split())
    return text or None


class Loader:
    """Writes records into ``db``; call ``finish()`` once at the end of a run."""

    def __init__(self, db: sqlite_utils.Database):
        self.db = db
        db.execute("PRAGMA foreign_keys = ON")
        ensure_tables(db)
        self._tag_ids: Dict[str, int] = {}
        self._collection_ids: Dict[str, int] = {}
        self._touched_works: set = set()
        self.loaded_any = False

    # ---- files -------------------------------------------------------------------------------

    def load_file(self, path: str, fmt: Optional[str] = None, force: bool = False,
                  skip_bad: bool = False, progress=None) -> LoadResult:
        """Parse and load one file in one transaction; ParseError leaves the database untouched."""
        from .sources import detect, module_for

        fmt = fmt or detect(path)
        digest = sha256_of(path)
        result = LoadResult(path=path, format=fmt)
        existing = self.db.execute(
            "SELECT id, sha256 FROM sources WHERE path = ?", [path]
        ).fetchone()
        if existing and existing[1] == digest and not force:
            result.skipped_file = True
            return result
        module = module_for(fmt)
        if skip_bad:
            try:
                records = module.parse(path, skip_bad=True)
            except TypeError:
                records = module.parse(path)
        else:
            records = module.parse(path)
        self.load_records(records, path=path, fmt=fmt, sha256=digest, result=result,
                          progress=progress)
        errors = getattr(records, "errors", None) or []
        result.errors.extend(str(error) for error in errors)
        return result

    def load_records(self, records: Iterable[Record], path: str, fmt: str, sha256: Optional[str] = None,
                     result: Optional[LoadResult] = None, progress=None) -> LoadResult:
        result = result or LoadResult(path=path, format=fmt)
        try:
            self._load_in_transaction(records, path, fmt, sha256, result, progress)
        except BaseException:
            # The transaction was rolled back: ids cached during it may no longer exist.
            self._tag_ids.clear()
            self._collection_ids.clear()
            self._touched_works.clear()
            raise
        self.loaded_any = True
        return result

    def _load_in_transaction(self, records, path, fmt, sha256, result, progress) -> None:
        with self.db.atomic():
            source_id = self._source(path, fmt, sha256)
            for index, record in enumerate(records, start=1):
                try:
                    outcome = self.load_record(record, source_id, fmt)
                except ParseError:
                    raise
                except (ValueError, TypeError, KeyError) as error:
                    key = record.get("source_key") or f"#{index}"
                    raise ParseError(f"record cannot be loaded: {error}", path, f"record {key}") from error
                result.records += 1
                setattr(result, outcome, getattr(result, outcome) + 1)
                if progress is not None:
                    progress(1)
            self.db["sources"].update(source_id, {"records": result.records})
            self._refresh_touched()

    def finish(self) -> None:
        """Resolve citations, give every work a cite key, rebuild indexes, FTS and views."""
        with self.db.atomic():
            self.resolve_citations()
            self.assign_cite_keys()
        finalize(self.db)

    def _source(self, path: str, fmt: str, sha256: Optional[str]) -> int:
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()
        row = self.db.execute("SELECT id FROM sources WHERE path = ?", [path]).fetchone()
        values = {"path": path, "format": fmt, "sha256": sha256, "imported_at": now}
        if row:
            self.db["sources"].update(row[0], values)
            return row[0]
        return self.db["sources"].insert(values).last_pk

    # ---- works -------------------------------------------------------------------------------

    def find_work(self, columns: dict) -> Optional[int]:
        for column in ("doi", "pmid", "pmcid"):
            if columns.get(column):
                row = self.db.execute(f"SELECT id FROM works WHERE {column} = ? LIMIT 1",
                                      [columns[column]]).fetchone()
                if row:
                    return row[0]
        if columns.get("zotero_key"):
            row = self.db.execute(
                "SELECT id FROM works WHERE zotero_key = ? AND zotero_library IS ? LIMIT 1",
                [columns["zotero_key"], columns.get("zotero_library")],
            ).fetchone()
            if row:
                return row[0]
        if columns.get("title_key"):
            # A title match must not override a different identifier: same title is not same work.
            for row in self.db.execute(
                "SELECT id, doi, pmid, pmcid FROM works WHERE title_key = ?", [columns["title_key"]]
            ).fetchall():
                if all(
                    not columns.get(name) or not other or columns[name] == other
                    for name, other in zip(("doi", "pmid", "pmcid"), row[1:])
                ):
                    return row[0]
        return None

    def work_columns(self, record: Record, fmt: str) -> dict:
        columns = {column: _clean(record.get(variable)) for variable, column in SCALAR_FIELDS.items()}
        columns["abstract"] = _clean_multiline(record.get("abstract"))
        columns["note"] = _clean_multiline(record.get("note"))
        columns["type"] = columns["type"] or "article-journal"
        columns["doi"] = norm.normalize_doi(_clean(record.get("DOI")))
        columns["pmid"] = norm.normalize_pmid(_clean(record.get("PMID")))
        columns["pmcid"] = norm.normalize_pmcid(_clean(record.get("PMCID")))
        parts = ((record.get("issued") or {}).get("date-parts") or [[None]])[0]
        if not parts or parts[0] in (None, ""):
            raw = (record.get("issued") or {}).get("raw") or (record.get("issued") or {}).get("literal")
            parts = norm.parse_date(raw) or [None]
        columns["issued"] = norm.iso_date(parts)
        columns["year"] = year_of({"issued": {"date-parts": [parts]}})
        pages, first, last = norm.split_pages(_clean(record.get("page")))
        columns.update(pages=pages, page_first=first, page_last=last)
        if record.get("zotero_key"):
            columns["zotero_key"] = record["zotero_key"]
            columns["zotero_library"] = record.get("zotero_library")
        if record.get("cite_key"):
            columns["cite_key"] = record["cite_key"]
        first_author = next(iter(record.get("author") or record.get("editor") or []), {})
        first_family = first_author.get("family") or first_author.get("literal") or ""
        if columns["title"]:
            columns["title_key"] = "|".join(
                [norm.title_key(columns["title"]), str(columns["year"] or ""), norm.fold(first_family).strip()]
            )
        extra = {k: v for k, v in record.items() if k not in HANDLED and not k.startswith("_")}
        columns["extra"] = json.dumps(extra, ensure_ascii=False, sort_keys=True) if extra else None
        return columns

    def load_record(self, record: Record, source_id: int, fmt: str) -> str:
        """Insert or merge one record; returns ``added``, ``updated`` or ``unchanged``."""
        if not _clean(record.get("title")) and not any(record.get(k) for k in ("DOI", "PMID", "PMCID")):
            raise ValueError("record has neither a title nor an identifier")
        rank = SOURCE_RANK.get(fmt, 20)
        columns = self.work_columns(record, fmt)
        work_id = self.find_work(columns)
        before = None
        if work_id is None:
            columns["source_rank"] = rank
            columns.update(self._journal_columns(record, columns["type"]))
            work_id = self.db["works"].insert(
                {k: v for k, v in columns.items() if v is not None}, alter=True
            ).last_pk
            outcome = "added"
            authors_win = True
        else:
            before = self._snapshot(work_id)
            current = self.db["works"].get(work_id)
            current_rank = current.get("source_rank") or 0
            wins = rank >= current_rank
            columns.update(self._journal_columns(record, columns["type"], current.get("journal_id")))
            update = {}
            for column, value in columns.items():
                if value is None or column in ("id",):
                    continue
                if current.get(column) in (None, "") or (wins and current.get(column) != value):
                    update[column] = value
            if wins:
                update["source_rank"] = rank
            if update:
                self.db["works"].update(work_id, update, alter=True)
            authors_win = wins
            outcome = None
        self._creators(work_id, record, authors_win)
        self._links(work_id, record, source_id)
        self._touched_works.add(work_id)
        if outcome is None:
            self._refresh_work(work_id)
            outcome = "unchanged" if self._snapshot(work_id) == before else "updated"
        return outcome

    def _snapshot(self, work_id: int):
        """Everything a record can change about a work, to tell "updated" from "unchanged"."""
        query = lambda sql: self.db.execute(sql, [work_id]).fetchall()  # noqa: E731
        return (
            query("SELECT * FROM works WHERE id = ?"),
            query("SELECT author_id, position, role, name_as_written FROM work_authors WHERE work_id = ? ORDER BY role, position"),
            query("SELECT tag_id, kind FROM work_tags WHERE work_id = ? ORDER BY tag_id, kind"),
            query("SELECT collection_id, position, context FROM collection_works WHERE work_id = ? ORDER BY collection_id"),
            query("SELECT content FROM notes WHERE work_id = ? ORDER BY id"),
            query("SELECT position, raw, doi, pmid FROM citations WHERE citing_work_id = ? ORDER BY position"),
            query("SELECT position, raw, institution_id FROM affiliations WHERE work_id = ? ORDER BY position, raw"),
        )

    # ---- journals ----------------------------------------------------------------------------

    def _journal_columns(self, record: Record, work_type: str, current_journal: Optional[int] = None) -> dict:
        title = _clean(record.get("container-title"))
        short = _clean(record.get("container-title-short"))
        issns = record.get("ISSN") or []
        if isinstance(issns, str):
            issns = [part for part in issns.replace(",", " ").replace(";", " ").split()]
        issns = [i for i in (norm.normalize_issn(value) for value in issns) if i]
        if work_type not in JOURNAL_TYPES and not issns:
            return {"container_title": title or short} if (title or short) else {}
        if not (title or short or issns):
            return {}
        journal_id = self.journal_id(title, short, issns, _clean(record.get("publisher")) if work_type in JOURNAL_TYPES else None)
        return {"journal_id": journal_id}

    def journal_id(self, title: Optional[str], abbreviation: Optional[str], issns: List[str],
                   publisher: Optional[str] = None) -> int:
        keys: List[Tuple[str, str, str]] = []
        for issn in issns:
            keys.append((f"issn:{issn}", issn, "issn"))
        if title:
            keys.append((f"name:{norm.journal_key(title)}", title, "title"))
        if abbreviation:
            keys.append((f"name:{norm.journal_key(abbreviation)}", abbreviation, "abbreviation"))
        keys = [k for k in keys if k[0].split(":", 1)[1]]
        journal_id = None
        for key, _, _ in keys:
            row = self.db.execute("SELECT journal_id FROM journal_names WHERE key = ?", [key]).fetchone()
            if row:
                journal_id = row[0]
                break
        if journal_id is None:
            values = {
                "title": title or abbreviation or (issns[0] if issns else None),
                "abbreviation": abbreviation,
                "issn": issns[0] if issns else None,
                "eissn": issns[1] if len(issns) > 1 else None,
                "publisher": publisher,
                "title_key": norm.journal_key(title or abbreviation or ""),
            }
            journal_id = self.db["journals"].insert(values).last_pk
        else:
            current = self.db["journals"].get(journal_id)
            update = {}
            # A full title replaces a title that was only the abbreviation.
            if title and (current["title"] in (None, current["abbreviation"]) or current["title"] == current["issn"]):
                if current["title"] != title and not (abbreviation is None and title == current["abbreviation"]):
                    update["title"] = title
                    update["title_key"] = norm.journal_key(title)
            if abbreviation and not current["abbreviation"]:
                update["abbreviation"] = abbreviation
            if issns and not current["issn"]:
                update["issn"] = issns[0]
            if len(issns) > 1 and not current["eissn"] and issns[1] != (update.get("issn") or current["issn"]):
                update["eissn"] = issns[1]
            elif issns and current["issn"] and not current["eissn"] and issns[0] != current["issn"]:
                update["eissn"] = issns[0]
            if publisher and not current["publisher"]:
                update["publisher"] = publisher
            if update:
                self.db["journals"].update(journal_id, update)
        for key, name, kind in keys:
            self.db.execute(
                "INSERT OR IGNORE INTO journal_names (key, journal_id, name, kind) VALUES (?, ?, ?, ?)",
                [key, journal_id, name, kind],
            )
        return journal_id

    # ---- authors -----------------------------------------------------------------------------

    def _creators(self, work_id: int, record: Record, wins: bool) -> None:
        for role in CREATOR_ROLES:
            people = record.get(role)
            if not people:
                continue
            have = self.db.execute(
                "SELECT COUNT(*) FROM work_authors WHERE work_id = ? AND role = ?", [work_id, role]
            ).fetchone()[0]
            if have and not wins:
                # Keep the better source's list, but remember these spellings as variants.
                continue
            existing = {
                row[0]: row[1]
                for row in self.db.execute(
                    "SELECT position, author_id FROM work_authors WHERE work_id = ? AND role = ?",
                    [work_id, role],
                ).fetchall()
            }
            keys = [self._person_key(person) for person in people]
            rows = []
            for position, person in enumerate(people, start=1):
                coauthor_keys = [k for i, k in enumerate(keys, start=1) if i != position]
                author_id = self.resolve_author(person, coauthor_keys, existing.get(position))
                rows.append({
                    "work_id": work_id, "author_id": author_id, "position": position, "role": role,
                    "name_as_written": _written(person),
                })
            self.db.execute("DELETE FROM work_authors WHERE work_id = ? AND role = ?", [work_id, role])
            self.db["work_authors"].insert_all(rows)

    @staticmethod
    def _person_key(person: dict) -> str:
        if person.get("literal") and not person.get("family"):
            return "literal " + " ".join(norm.fold(person["literal"]).split())
        return norm.name_key(person.get("family"), person.get("given") or person.get("initials"))

    def resolve_author(self, person: dict, coauthor_keys: List[str], same_slot: Optional[int] = None) -> int:
        """One author row per person as far as the evidence allows (see docs/identity.md)."""
        family = _clean(person.get("family"))
        given = _clean(person.get("given"))
        literal = _clean(person.get("literal")) if not family else None
        if literal is None and family is None:
            literal = given or "Anonymous"
            given = None
        orcid = _orcid(person.get("ORCID") or person.get("orcid"))
        initials = person.get("initials") or norm.initials_of(given)
        key = self._person_key({"family": family, "given": given, "literal": literal, "initials": initials})
        chosen = None
        if orcid:
            row = self.db.execute("SELECT id FROM authors WHERE orcid = ?", [orcid]).fetchone()
            if row:
                chosen = row[0]
        if chosen is None:
            candidates = self.db.execute(
                "SELECT id, family, given, initials, literal, orcid FROM authors WHERE name_key = ?", [key]
            ).fetchall()
            for cid, c_family, c_given, c_initials, c_literal, c_orcid in candidates:
                if orcid and c_orcid and c_orcid != orcid:
                    continue  # two ORCIDs are two people, whatever their names
                if literal is not None:
                    chosen = cid
                    break
                if norm.fold(c_family or "") != norm.fold(family or ""):
                    continue
                if (c_initials or "") == (initials or "") and _given_compatible(c_given, given):
                    chosen = cid
                    break
                if norm.initials_compatible(c_initials or "", initials or "") and _given_compatible(c_given, given) and (
                    cid == same_slot or self._shares_coauthor(cid, coauthor_keys)
                ):
                    chosen = cid
                    break
        written = _written(person)
        if chosen is None:
            values = {
                "family": family, "given": given, "initials": initials or None, "literal": literal,
                "orcid": orcid, "name_key": key,
                "name": norm.display_name(family, given, literal),
            }
            chosen = self.db["authors"].insert(values).last_pk
        else:
            current = self.db["authors"].get(chosen)
            update = {}
            if given and len(given.replace(".", "").replace(" ", "")) > len((current["given"] or "").replace(".", "").replace(" ", "")):
                update["given"] = given
                update["name"] = norm.display_name(current["family"] or family, given, current["literal"])
            if initials and len(initials) > len(current["initials"] or ""):
                update["initials"] = initials
            if orcid and not current["orcid"]:
                update["orcid"] = orcid
            if update:
                self.db["authors"].update(chosen, update)
        self.db.execute(
            "INSERT OR IGNORE INTO author_variants (author_id, name, family, given, works) VALUES (?, ?, ?, ?, 0)",
            [chosen, written, family or literal, given],
        )
        return chosen

    def _shares_coauthor(self, author_id: int, coauthor_keys: List[str]) -> bool:
        if not coauthor_keys:
            return False
        marks = ",".join("?" for _ in coauthor_keys)
        row = self.db.execute(
            f"""SELECT 1 FROM work_authors mine
                JOIN work_authors theirs ON theirs.work_id = mine.work_id AND theirs.author_id != mine.author_id
                JOIN authors other ON other.id = theirs.author_id
                WHERE mine.author_id = ? AND other.name_key IN ({marks}) LIMIT 1""",
            [author_id, *coauthor_keys],
        ).fetchone()
        return row is not None

    # ---- tags, collections, notes, citations, affiliations, provenance -------------------------

    def tag_id(self, name: str) -> int:
        if name not in self._tag_ids:
            self.db.execute("INSERT OR IGNORE INTO tags (name) VALUES (?)", [name])
            self._tag_ids[name] = self.db.execute("SELECT id FROM tags WHERE name = ?", [name]).fetchone()[0]
        return self._tag_ids[name]

    def collection_id(self, spec: dict) -> int:
        key = spec["key"]
        if key in self._collection_ids:
            return self._collection_ids[key]
        parent_id = self._collection_ids.get(spec.get("parent_key")) if spec.get("parent_key") else None
        if spec.get("parent_key") and parent_id is None:
            row = self.db.execute("SELECT id FROM collections WHERE key = ?", [spec["parent_key"]]).fetchone()
            parent_id = row[0] if row else None
        values = {
            "key": key, "name": spec.get("name") or key, "parent_id": parent_id,
            "description": spec.get("description"), "zotero_key": spec.get("zotero_key"),
            "position": spec.get("order"),
        }
        row = self.db.execute("SELECT id FROM collections WHERE key = ?", [key]).fetchone()
        if row:
            self.db["collections"].update(row[0], {k: v for k, v in values.items() if v is not None or k == "parent_id"})
            collection_id = row[0]
        else:
            collection_id = self.db["collections"].insert(values).last_pk
        for tag in spec.get("tags") or []:
            self.db.execute(
                "INSERT OR IGNORE INTO collection_tags (collection_id, tag_id, kind) VALUES (?, ?, ?)",
                [collection_id, self.tag_id(tag["name"]), tag.get("kind") or "subject"],
            )
        self._collection_ids[key] = collection_id
        return collection_id

    def _links(self, work_id: int, record: Record, source_id: int) -> None:
        # What one source says about a work replaces what the same source said before.
        for table in ("work_tags", "collection_works", "notes"):
            self.db.execute(f"DELETE FROM {table} WHERE work_id = ? AND source_id = ?", [work_id, source_id])
        for tag in record.get("tags") or []:
            name = _clean(tag.get("name") if isinstance(tag, dict) else tag)
            if name:
                kind = (tag.get("kind") if isinstance(tag, dict) else None) or "keyword"
                self.db.execute(
                    "INSERT OR IGNORE INTO work_tags (work_id, tag_id, kind, source_id) VALUES (?, ?, ?, ?)",
                    [work_id, self.tag_id(name), kind, source_id],
                )
        for spec in record.get("collections") or []:
            collection_id = self.collection_id(spec)
            if spec.get("member", True):
                self.db.execute(
                    """INSERT INTO collection_works (collection_id, work_id, position, context, source_id)
                       VALUES (?, ?, ?, ?, ?)
                       ON CONFLICT (collection_id, work_id) DO UPDATE SET
                         position = excluded.position, context = COALESCE(excluded.context, context),
                         source_id = excluded.source_id""",
                    [collection_id, work_id, spec.get("position"), _clean(spec.get("context")), source_id],
                )
        for note in record.get("notes") or []:
            content = note.get("content") if isinstance(note, dict) else note
            if content and str(content).strip():
                self.db["notes"].insert({
                    "work_id": work_id, "content": content, "source_id": source_id,
                    "zotero_key": note.get("key") if isinstance(note, dict) else None,
                    "key": note.get("key") if isinstance(note, dict) else None,
                })
        record_key = str(record.get("source_key") or record.get("id") or record.get("zotero_key") or "")
        self.db.execute(
            "INSERT OR IGNORE INTO work_sources (work_id, source_id, record_key) VALUES (?, ?, ?)",
            [work_id, source_id, record_key],
        )
        if record.get("references"):
            self._citations(work_id, record["references"])
        if record.get("affiliations"):
            self._affiliations(work_id, record["affiliations"])

    def _citations(self, work_id: int, references: List[dict]) -> None:
        self.db.execute("DELETE FROM citations WHERE citing_work_id = ?", [work_id])
        rows = []
        for position, reference in enumerate(references, start=1):
            doi = norm.normalize_doi(reference.get("DOI"))
            pmid = norm.normalize_pmid(reference.get("PMID"))
            pmcid = norm.normalize_pmcid(reference.get("PMCID")) if reference.get("PMCID") else None
            raw = _clean(reference.get("raw") or reference.get("unstructured") or reference.get("title"))
            rows.append({
                "citing_work_id": work_id, "position": position, "raw": raw, "doi": doi, "pmid": pmid,
                "pmcid": pmcid, "cited_work_id": None,
            })
        if rows:
            self.db["citations"].insert_all(rows)

    def resolve_citations(self) -> None:
        """Point every citation at the work in the library it names, by DOI, PMID or PMCID."""
        for column in ("doi", "pmid", "pmcid"):
            self.db.execute(
                f"""UPDATE citations SET cited_work_id = (
                      SELECT works.id FROM works WHERE works.{column} = citations.{column} LIMIT 1)
                    WHERE cited_work_id IS NULL AND {column} IS NOT NULL"""
            )

    def _affiliations(self, work_id: int, affiliations: List[dict]) -> None:
        try:
            from . import geo
        except ImportError:  # geocoding module absent: keep the raw strings only
            geo = None
        self.db.execute("DELETE FROM affiliations WHERE work_id = ?", [work_id])
        authors = dict(self.db.execute(
            "SELECT position, author_id FROM work_authors WHERE work_id = ? AND role = 'author'", [work_id]
        ).fetchall())
        for affiliation in affiliations:
            raw = _clean(affiliation.get("raw"))
            if not raw:
                continue
            position = affiliation.get("author_position") or 0
            institution_id = None
            if geo is not None:
                place = geo.parse_affiliation(raw)
                if place.get("name"):
                    institution_id = self.institution_id(place)
            self.db.execute(
                """INSERT OR IGNORE INTO affiliations (work_id, author_id, institution_id, raw, position)
                   VALUES (?, ?, ?, ?, ?)""",
                [work_id, authors.get(position), institution_id, raw, position],
            )

    def institution_id(self, place: dict) -> int:
        key = "|".join(norm.fold(place.get(part) or "") for part in ("name", "city", "country"))
        row = self.db.execute("SELECT id FROM institutions WHERE name_key = ?", [key]).fetchone()
        if row:
            return row[0]
        return self.db["institutions"].insert({
            "name": place.get("name"), "city": place.get("city"), "country": place.get("country"),
            "latitude": place.get("latitude"), "longitude": place.get("longitude"), "name_key": key,
        }).last_pk

    # ---- removal (Zotero sync) ------------------------------------------------------------------

    def remove_source_record(self, source_id: int, record_key: str) -> Optional[int]:
        """Forget what one source record said; drop the work when no source is left. Returns work id."""
        row = self.db.execute(
            "SELECT work_id FROM work_sources WHERE source_id = ? AND record_key = ?", [source_id, record_key]
        ).fetchone()
        if not row:
            return None
        work_id = row[0]
        self.db.execute("DELETE FROM work_sources WHERE source_id = ? AND record_key = ?", [source_id, record_key])
        for table in ("work_tags", "collection_works", "notes"):
            self.db.execute(f"DELETE FROM {table} WHERE work_id = ? AND source_id = ?", [work_id, source_id])
        if not self.db.execute("SELECT 1 FROM work_sources WHERE work_id = ?", [work_id]).fetchone():
            self.delete_work(work_id)
        else:
            self._touched_works.add(work_id)
        return work_id

    def delete_work(self, work_id: int) -> None:
        for table, column in (
            ("work_authors", "work_id"), ("work_tags", "work_id"), ("collection_works", "work_id"),
            ("notes", "work_id"), ("work_sources", "work_id"), ("affiliations", "work_id"),
            ("citations", "citing_work_id"), ("related_works", "work_id"), ("related_works", "related_work_id"),
        ):
            self.db.execute(f"DELETE FROM {table} WHERE {column} = ?", [work_id])
        self.db.execute("UPDATE citations SET cited_work_id = NULL WHERE cited_work_id = ?", [work_id])
        self.db.execute("DELETE FROM works WHERE id = ?", [work_id])
        self._touched_works.discard(work_id)

    # ---- denormalised columns --------------------------------------------------------------------

    def _refresh_touched(self) -> None:
        for work_id in sorted(self._touched_works):
            self._refresh_work(work_id)
        self._touched_works.clear()

    def _refresh_work(self, work_id: int) -> None:
        """Authors, tags, collections and excerpts as text/JSON on the work: facets and search."""
        authors = self.db.execute(
            """SELECT authors.name, work_authors.name_as_written FROM work_authors
               JOIN authors ON authors.id = work_authors.author_id
               WHERE work_id = ? AND role = 'author' ORDER BY position""", [work_id]
        ).fetchall()
        tags = [r[0] for r in self.db.execute(
            """SELECT DISTINCT tags.name FROM work_tags JOIN tags ON tags.id = work_tags.tag_id
               WHERE work_id = ? ORDER BY tags.name""", [work_id]).fetchall()]
        collections = [r[0] for r in self.db.execute(
            """WITH RECURSIVE up(id, depth) AS (
                 SELECT collection_id, 0 FROM collection_works WHERE work_id = ?
                 UNION SELECT collections.parent_id, depth + 1 FROM collections JOIN up ON collections.id = up.id
                 WHERE collections.parent_id IS NOT NULL)
               SELECT DISTINCT collections.name FROM up JOIN collections ON collections.id = up.id
               ORDER BY collections.name""", [work_id]).fetchall()]
        excerpts = [r[0] for r in self.db.execute(
            "SELECT context FROM collection_works WHERE work_id = ? AND context IS NOT NULL ORDER BY collection_id",
            [work_id]).fetchall()]
        self.db["works"].update(work_id, {
            "authors_text": "; ".join(written or name for name, written in authors) or None,
            "author_names": json.dumps([name for name, _ in authors], ensure_ascii=False) if authors else None,
            "tag_names": json.dumps(tags, ensure_ascii=False) if tags else None,
            "collection_names": json.dumps(collections, ensure_ascii=False) if collections else None,
            "excerpts": "\n\n".join(excerpts) or None,
        })

    def assign_cite_keys(self) -> None:
        taken = {row[0] for row in self.db.execute("SELECT cite_key FROM works WHERE cite_key IS NOT NULL")}
        missing = self.db.execute(
            """SELECT works.id, works.year, works.title,
                 (SELECT COALESCE(authors.family, authors.literal) FROM work_authors
                  JOIN authors ON authors.id = work_authors.author_id
                  WHERE work_authors.work_id = works.id ORDER BY role != 'author', position LIMIT 1)
               FROM works WHERE cite_key IS NULL ORDER BY id"""
        ).fetchall()
        for work_id, year, title, family in missing:
            base = norm.cite_key_base(family, year, title)
            key, suffix = base, 0
            while key in taken:
                suffix += 1
                key = base + _letters(suffix)
            taken.add(key)
            self.db.execute("UPDATE works SET cite_key = ? WHERE id = ?", [key, work_id])


def _letters(number: int) -> str:
    out = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        out = chr(ord("a") + rest) + out
    return out


def _clean_multiline(value) -> Optional[str]:
    if value is None:
        return None
    text = "\n".join(" ".join(line.split()) for line in str(value).strip().splitlines())
    return text.strip() or None


def _written(person: dict) -> str:
    if person.get("literal") and not person.get("family"):
        return person["literal"]
    if person.get("initials") and person.get("family"):
        return f"{person['family']} {person['initials']}"
    return norm.display_name(person.get("family"), person.get("given"))


def _given_compatible(a: Optional[str], b: Optional[str]) -> bool:
    """``M.`` ~ ``Mark``; ``Mark`` !~ ``Maria``: full given names must agree where both are spelled out."""
    words_a = [w for w in norm.fold(a or "").replace(".", " ").replace("-", " ").split()]
    words_b = [w for w in norm.fold(b or "").replace(".", " ").replace("-", " ").split()]
    for x, y in zip(words_a, words_b):
        if len(x) > 1 and len(y) > 1 and x != y:
            return False
        if x[:1] != y[:1]:
            return False
    return True


def _orcid(value) -> Optional[str]:
    if not value:
        return None
    match = re.search(r"(\d{4}-\d{4}-\d{4}-\d{3}[\dX])", str(value).upper())
    return match.group(1) if match else None


