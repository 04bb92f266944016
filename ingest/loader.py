"""The one loader: canonical records into the normalised schema.

One transaction per input file: a file loads completely or not at all. Rows are keyed on
deterministic identities (DOI, PMID, PMCID, Zotero key, or normalised title + year + first author),
so loading the same file twice changes nothing.

Merging (DESIGN.md "Identity"): when a record describes a work already in the library, its values
fill what is missing; where both have a value, the source with the higher rank wins — identifiers
and structured sources beat free text (``SOURCE_RANK``). A reload of the same source wins over
itself, so a corrected file corrects the library.

Speed (bench/README.md): rows are written with plain prepared SQL on the sqlite3 connection rather
than through sqlite-utils' per-row helpers; every lookup the loader makes is served by an index that
exists before the first record (``schema.LOOKUP_INDEXES``); authors, journals, tags and institutions
are cached in bounded write-through caches (emptied when full, on a rolled-back file and after any
write made outside ``load_records``); a new work gets its denormalised columns when it is inserted,
and the end of a file only rewrites those that changed since.
"""

from __future__ import annotations

import bisect
import datetime
import functools
import gc
import hashlib
import heapq
import importlib
import json
import multiprocessing
import os
import pickle
import re
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, NamedTuple, Optional, Tuple

import sqlite_utils

from . import normalize as norm
from .records import CREATOR_ROLES, ParseError, Record, year_of
from .schema import ensure_lookup_indexes, ensure_tables, finalize

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

# Entries per cache (journal keys, tags, institutions, ORCIDs). A full cache is emptied and refills
# from the indexed tables: memory stays bounded whatever the size of the library (bench/README.md).
CACHE_LIMIT = 200_000
# Authors are cached by name key in two generations: a key used again moves to the young one; when
# the young one holds this many authors, the old one is dropped and the young one becomes old. The
# people who sign many works (and whose name keys gather many candidates) stay; the rest come and go.
AUTHOR_GENERATION = 150_000
# SQLite page cache for a loading connection (KiB, as PRAGMA cache_size takes it when negative):
# the identity indexes of a million works fit; the default 2 MB spills dirty pages mid-transaction.
LOAD_CACHE_KIB = 256 * 1024
# Denormalised columns refreshed at the end of a file, in chunks of this many works.
REFRESH_CHUNK = 500
DENORMALISED = ("authors_text", "author_names", "tag_names", "collection_names", "excerpts")

# Files at least this big are parsed in a child process while this one writes: on two cores the two
# halves overlap (parsing a record costs about as much as storing it). Smaller files are parsed here.
PARALLEL_PARSE_BYTES = 2 << 20
# Off only in the test that proves the shortcut chooses what the walk through a bucket chooses.
SPELLING_SHORTCUT = True
# Records per message from the parser process, and the bytes it may write ahead of this process's
# reading: several messages, so that it parses on while this process is busy with slow records
# instead of waiting for each message to be read (Linux's default pipe holds 64 KiB, a twentieth of
# a batch of 256). 1 MiB is the most an unprivileged process may ask for (/proc/sys/fs/pipe-max-size).
PARSE_BATCH = 64
PIPE_BYTES = 1 << 20
# Spellings (author_variants rows) written together, at most this many records apart.
VARIANT_BATCH = 2048

# json.dumps(value, ensure_ascii=False), without building an encoder for every call.
_json_text = json.JSONEncoder(ensure_ascii=False).encode

# Pure and called with the same few thousand strings over and over: names, journal titles.
_fold = functools.lru_cache(maxsize=1 << 17)(norm.fold)
_journal_key = functools.lru_cache(maxsize=1 << 16)(norm.journal_key)
_name_key = functools.lru_cache(maxsize=1 << 17)(norm.name_key)
_initials_of = functools.lru_cache(maxsize=1 << 16)(norm.initials_of)


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


NOT_A_WORK = "record has neither a title nor an identifier"


def is_a_work(record: Record) -> bool:
    return bool(_clean(record.get("title")) or any(record.get(k) for k in ("DOI", "PMID", "PMCID")))


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fp:
        for chunk in iter(lambda: fp.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _clean(value) -> Optional[str]:
    if value is None:
        return None
    if type(value) is str and value and value.isprintable() and value[0] != " " and value[-1] != " " and "  " not in value:
        return value  # already clean: whitespace other than single inner spaces is not printable
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
        if value is None:
            return None
    text = " ".join(str(value).split())
    return text or None


class _Author:
    """A cached row of ``authors``, with what identity matching compares precomputed."""

    __slots__ = ("id", "family", "given", "initials", "literal", "orcid", "name", "name_key",
                 "folded_family", "given_words", "given_length")

    def __init__(self, id, family, given, initials, literal, orcid, name, name_key):
        self.id, self.family, self.initials, self.literal = id, family, initials, literal
        self.orcid, self.name, self.name_key = orcid, name, name_key
        self.folded_family = _fold(family or "")
        self.set_given(given)

    def set_given(self, given: Optional[str]) -> None:
        self.given = given
        self.given_words = _given_words(given)
        self.given_length = _given_length(given)

    @classmethod
    def written_for(cls, author_id: int, person: tuple, name: str) -> "_Author":
        """The author just written for ``person`` (a ``_person`` tuple), with what the tuple computed
        already: what ``__init__`` would compute from the row, without computing it again."""
        author = cls.__new__(cls)
        author.id, author.family, author.given, author.initials, author.literal, author.orcid = (
            author_id, person[0], person[1], person[4] or None, person[2], person[3])
        author.name, author.name_key = name, person[5]
        author.folded_family, author.given_words, author.given_length = person[8], person[9], person[11]
        return author


AUTHOR_COLUMNS = "id, family, given, initials, literal, orcid, name, name_key"
# Answered from one index (schema.AUTHORS_BY_NAME_KEY holds these columns), not the table's rows.
_NAMESAKES_SQL = f"SELECT {AUTHOR_COLUMNS} FROM authors WHERE name_key = ? ORDER BY id"


class _Bucket:
    """The authors sharing a name key, in id order, indexed by what the identity rules compare.

    The rules (``Loader._resolve_person``) take the first author in id order that passes them. A name
    key ("wang j") gathers thousands of people in a large library; only those with the same folded
    family name, compatible initials and a compatible first given name can pass, and ``candidates``
    yields just those, still in id order, so the rules pick the same author as a walk through all.
    """

    __slots__ = ("all", "groups", "spellings")

    def __init__(self):
        self.all: List[_Author] = []
        # (folded family, initials) -> first given word ("" for none) -> authors in id order
        self.groups: Dict[Tuple[str, str], Dict[str, List[_Author]]] = {}
        # (folded family, initials, given words spelled out) -> authors in id order: the rules take
        # the first same-spelled author outright, so most people are found without walking the rest.
        self.spellings: Dict[str, List[_Author]] = {}

    def add(self, author: _Author, spelling: Optional[str] = None) -> None:
        """An author with a higher id than any here (``spelling``: theirs, if known already)."""
        self.all.append(author)
        self._slot(author).append(author)
        self.spellings.setdefault(spelling or _spelling(author), []).append(author)

    def _slot(self, author: _Author) -> List[_Author]:
        words = self.groups.setdefault((author.folded_family, author.initials or ""), {})
        return words.setdefault(author.given_words[0] if author.given_words else "", [])

    def reslot(self, author: _Author, old_initials: Optional[str], old_words: Tuple[str, ...]) -> None:
        """After ``author``'s initials or given name changed."""
        old = self.groups[(author.folded_family, old_initials or "")][old_words[0] if old_words else ""]
        old.remove(author)
        slot = self._slot(author)
        slot.insert(bisect.bisect([a.id for a in slot], author.id), author)
        self.spellings[_spelling_of(author.folded_family, old_initials, old_words)].remove(author)
        same = self.spellings.setdefault(_spelling(author), [])
        same.insert(bisect.bisect([a.id for a in same], author.id), author)

    def candidates(self, folded: str, initials: str, words: Tuple[str, ...]) -> Iterable[_Author]:
        slots = []
        for (family, theirs), by_word in self.groups.items():
            if family != folded or not norm.initials_compatible(theirs, initials):
                continue
            if words and len(words[0]) > 1:
                # A spelled-out first name meets the same name, its initial, or no given name at all.
                slots += [by_word[w] for w in (words[0], words[0][0], "") if w in by_word]
            else:
                slots += by_word.values()
        if len(slots) == 1:
            return slots[0]
        return heapq.merge(*slots, key=_author_id)


def _author_id(author: _Author) -> int:
    return author.id


def _completion(author: _Author, person: tuple) -> dict:
    """What a person (a ``_person`` tuple) found to be ``author`` adds to the author's row: a given
    name written more fully (and the display name with it), more initials, an ORCID."""
    family, given, orcid, initials, given_length = person[0], person[1], person[3], person[4], person[11]
    update = {}
    if given_length > author.given_length:
        update["given"] = given
        update["name"] = norm.display_name(author.family or family, given, author.literal)
    if initials and len(initials) > len(author.initials or ""):
        update["initials"] = initials
    if orcid and not author.orcid:
        update["orcid"] = orcid
    return update


def _given_agrees(author: _Author, words: Tuple[str, ...]) -> bool:
    """Whether the given names of a same-spelled author agree with ``words``: the shortcut's check."""
    return author.given_words == words or _words_compatible(author.given_words, words)


def _spelling(author: _Author) -> str:
    return _spelling_of(author.folded_family, author.initials, author.given_words)


def _spelling_of(folded_family: str, initials: Optional[str], given_words: Tuple[str, ...]) -> str:
    """What the identity rules call the same spelling of a name (authors.spelling): the folded
    family name, the initials and the given names written out, "wang|JA|jing"."""
    return f"{folded_family}|{initials or ''}|{' '.join(_spelled(given_words))}"


class _WorkKeys:
    """The name keys of one work's people, position by position. "The others" of each position are
    its co-authors; they are not copied out per position (a consortium paper lists thousands of
    people): the work's distinct keys are written once, and each position names the key to leave out."""

    __slots__ = ("keys", "_counts", "_json")

    def __init__(self, keys: List[str]):
        self.keys = keys
        self._counts: Optional[Counter] = None
        self._json: Optional[str] = None

    def others_of(self, position: Optional[int]) -> Tuple[Optional[str], Optional[str]]:
        """The keys of the people other than the one at ``position``, as a JSON list of every key
        and one key to leave out (the person's own, when no one else holds it); (None, None) when
        there is no one else."""
        if self._counts is None:
            self._counts = Counter(self.keys)
        own = self.keys[position - 1] if position else None
        unless = own if own is not None and self._counts[own] == 1 else None
        if len(self._counts) == (1 if unless is not None else 0):
            return None, None
        if self._json is None:
            self._json = _json_text(list(self._counts))
        return self._json, unless


class Loader:
    """Writes records into ``db``; call ``finish()`` once at the end of a run."""

    def __init__(self, db: sqlite_utils.Database):
        self.db = db
        self.conn = db.conn
        db.execute("PRAGMA foreign_keys = ON")
        # Durability is untouched (journal mode and synchronous stay SQLite's defaults, so a killed
        # run keeps every committed file): only the page cache grows, for this connection.
        db.execute(f"PRAGMA cache_size = -{LOAD_CACHE_KIB}")
        ensure_tables(db)
        ensure_lookup_indexes(db)
        self._fill_spellings()
        self._work_columns = [c for c in db["works"].columns_dict if c != "id"]
        self._insert_work_sql = "INSERT INTO works ({}) VALUES ({})".format(
            ", ".join(f"[{c}]" for c in self._work_columns), ", ".join("?" for _ in self._work_columns))
        self._tag_ids: Dict[str, int] = {}
        self._collection_ids: Dict[str, int] = {}
        self._touched_works: set = set()
        # Works inserted by this run whose denormalised columns may have gone stale since (an
        # author's display name changed, collections were involved): refreshed at the end of the file.
        self._stale = False
        # Authors whose display name changed during this file: only the touched works listing them
        # need rewriting (a name filled out in full is common; a changed collection is not).
        self._renamed_authors: set = set()
        self._in_load = False
        self._external_writes = False
        self._clear_caches()
        self._variant_rows: List[tuple] = []
        # Parse big files in a child process (see PARALLEL_PARSE_BYTES); REFSETTE_PARALLEL_PARSE=0 turns it off.
        self.parallel_parse = os.environ.get("REFSETTE_PARALLEL_PARSE", "1") != "0"
        self.loaded_any = False

    def _fill_spellings(self) -> None:
        """Authors written before ``authors.spelling`` existed get theirs, once: the same-spelling
        shortcut must find every one of them."""
        while True:
            rows = self.conn.execute(
                "SELECT id, family, given, initials FROM authors WHERE spelling IS NULL AND literal IS NULL LIMIT 50000"
            ).fetchall()
            if not rows:
                return
            with self.db.atomic():
                self.conn.executemany("UPDATE authors SET spelling = ? WHERE id = ?", [
                    (_spelling_of(_fold(family or ""), initials, _given_words(given)), author_id)
                    for author_id, family, given, initials in rows])

    def _clear_caches(self) -> None:
        self._tag_ids.clear()
        self._collection_ids.clear()
        self._authors_by_key: Dict[str, _Bucket] = {}       # the young generation
        self._authors_by_key_old: Dict[str, _Bucket] = {}   # the old one
        self._young_authors = 0
        # Every author in a cached bucket, by id (and only those: one object per author).
        self._authors_by_id: Dict[int, _Author] = {}
        self._author_by_orcid: Dict[str, Optional[int]] = {}
        self._journal_by_key: Dict[str, Optional[int]] = {}
        self._journal_rows: Dict[int, dict] = {}
        self._journal_by_args: Dict[tuple, int] = {}
        self._institution_ids: Dict[str, int] = {}
        self._known_variants: set = set()

    def _trim_caches(self) -> None:
        if self._young_authors > AUTHOR_GENERATION:
            for bucket in self._authors_by_key_old.values():
                for author in bucket.all:
                    del self._authors_by_id[author.id]
            self._authors_by_key_old, self._authors_by_key = self._authors_by_key, {}
            self._young_authors = 0
        if len(self._author_by_orcid) > CACHE_LIMIT:
            self._author_by_orcid = {}
        if len(self._known_variants) > CACHE_LIMIT:
            self._known_variants = set()

        if len(self._journal_by_key) > CACHE_LIMIT or len(self._journal_rows) > CACHE_LIMIT \
                or len(self._journal_by_args) > CACHE_LIMIT:
            self._journal_by_key, self._journal_rows, self._journal_by_args = {}, {}, {}
        if len(self._tag_ids) > CACHE_LIMIT:
            self._tag_ids.clear()
        if len(self._institution_ids) > CACHE_LIMIT:
            self._institution_ids.clear()

    # ---- plain SQL helpers (sqlite-utils' table helpers cost more than the row they write) ------

    def _insert(self, table: str, values: dict) -> int:
        columns = list(values)
        sql = "INSERT INTO [{}] ({}) VALUES ({})".format(
            table, ", ".join(f"[{c}]" for c in columns), ", ".join("?" for _ in columns))
        return self.conn.execute(sql, [values[c] for c in columns]).lastrowid

    def _update(self, table: str, row_id: int, values: dict) -> None:
        if values:
            sql = "UPDATE [{}] SET {} WHERE id = ?".format(table, ", ".join(f"[{c}] = ?" for c in values))
            self.conn.execute(sql, [*values.values(), row_id])

    def _get(self, table: str, row_id: int) -> dict:
        cursor = self.conn.execute(f"SELECT * FROM [{table}] WHERE id = ?", [row_id])
        row = cursor.fetchone()
        if row is None:
            raise sqlite_utils.db.NotFoundError(f"{table} {row_id}")
        return dict(zip([d[0] for d in cursor.description], row))

    # ---- files -------------------------------------------------------------------------------

    def load_file(self, path: str, fmt: Optional[str] = None, force: bool = False,
                  skip_bad: bool = False, progress=None) -> LoadResult:
        """Parse and load one file in one transaction; ParseError leaves the database untouched."""
        from .sources import detect, module_for

        fmt = fmt or detect(path)
        module = module_for(fmt)
        result = LoadResult(path=path, format=fmt)
        existing = self.db.execute(
            "SELECT id, sha256 FROM sources WHERE path = ?", [path]
        ).fetchone()
        in_child = self.parallel_parse and _can_fork() and os.path.getsize(path) >= PARALLEL_PARSE_BYTES
        if in_child:
            # Started first: while it parses its first records, this process hashes the file and
            # readies the ISO 4 word list, instead of making it wait for them.
            records = _ParsedInChild(module.__name__, path, skip_bad, fmt)
            norm.warm_up()
        digest = sha256_of(path)
        if existing and existing[1] == digest and not force:
            if in_child:
                records.close()
            result.skipped_file = True
            return result
        if not in_child:
            records = _parse(module, path, skip_bad)
        try:
            self.load_records(records, path=path, fmt=fmt, sha256=digest, result=result,
                              progress=progress, skip_bad=skip_bad)
        finally:
            if isinstance(records, _ParsedInChild):
                records.close()
        errors = getattr(records, "errors", None) or []
        result.errors.extend(str(error) for error in errors)
        return result

    def load_records(self, records: Iterable[Record], path: str, fmt: str, sha256: Optional[str] = None,
                     result: Optional[LoadResult] = None, progress=None, skip_bad: bool = False) -> LoadResult:
        """Load ``records`` as one transaction; with ``skip_bad``, records that are not works (neither
        a title nor an identifier) are left out and reported in ``result.errors`` instead of failing."""
        result = result or LoadResult(path=path, format=fmt)
        if self._external_writes or self.db.conn.in_transaction:
            # Rows written outside a load (or inside a caller's transaction that may yet roll back)
            # are not known to the caches: start them afresh, from the tables.
            self._clear_caches()
            self._external_writes = self.db.conn.in_transaction
        self._in_load = True
        collecting = gc.isenabled()
        # A load allocates millions of objects that live on (caches) and makes no reference cycles:
        # the cyclic collector would walk the growing heap over and over for nothing.
        gc.disable()
        temp_store = None
        if not self.conn.in_transaction:
            # A statement that writes several rows (a work's authorships, its references) keeps a
            # copy of each page it changes, to undo itself should it fail halfway; past 64 KiB SQLite
            # writes that copy to a temporary file: ten times the library's bytes over a load. In
            # memory it is one statement's pages at a time. (Sorting in ``finish`` keeps its files.)
            temp_store = self.conn.execute("PRAGMA temp_store").fetchone()[0]
            self.conn.execute("PRAGMA temp_store = MEMORY")
        try:
            self._load_in_transaction(records, path, fmt, sha256, result, progress, skip_bad)
        except BaseException:
            # The transaction was rolled back: ids cached during it may no longer exist.
            self._clear_caches()
            self._touched_works.clear()
            self._renamed_authors.clear()
            self._variant_rows = []  # their authors were rolled back with the file
            raise
        finally:
            self._in_load = False
            if temp_store is not None:
                self.conn.execute(f"PRAGMA temp_store = {int(temp_store)}")
            if collecting:
                # What the load left alive (caches, above all) is long-lived and acyclic: kept out of
                # the cyclic collector's reach, or its next full pass would walk all of it, file after file.
                gc.freeze()
                gc.enable()
        self.loaded_any = True
        return result

    def _load_in_transaction(self, records, path, fmt, sha256, result, progress, skip_bad=False) -> None:
        with self.db.atomic():
            source_id = self._source(path, fmt, sha256)
            for index, record in enumerate(records, start=1):
                if skip_bad and not is_a_work(record):
                    key = record.get("source_key") or f"#{index}"
                    result.errors.append(str(ParseError(NOT_A_WORK, path, f"record {key}")))
                    continue
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
            self._write_variants()
            self.conn.execute("UPDATE sources SET records = ? WHERE id = ?", [result.records, source_id])
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
            self._update("sources", row[0], values)
            return row[0]
        return self._insert("sources", values)

    # ---- works -------------------------------------------------------------------------------

    def find_work(self, columns: dict) -> Optional[int]:
        """The work these columns describe, if the library has it (DESIGN.md "Identity")."""
        # One statement asks every question at once: most records are new works, for which each
        # question would otherwise be a statement of its own that finds nothing.
        by_identifier, by_title = {}, []
        for kind, work_id, doi, pmid, pmcid in self.conn.execute(_FIND_WORK_SQL, (
                columns.get("doi"), columns.get("pmid"), columns.get("pmcid"), columns.get("title_key"))):
            if kind == "title":
                by_title.append((work_id, doi, pmid, pmcid))
            else:
                by_identifier.setdefault(kind, work_id)
        for column in _IDENTIFIERS:
            if column in by_identifier:
                return by_identifier[column]
        if columns.get("zotero_key"):
            row = self.conn.execute(
                "SELECT id FROM works WHERE zotero_key = ? AND zotero_library IS ? LIMIT 1",
                [columns["zotero_key"], columns.get("zotero_library")],
            ).fetchone()
            if row:
                return row[0]
        # A title match must not override a different identifier: same title is not same work.
        for row in by_title:
            if all(
                not columns.get(name) or not other or columns[name] == other
                for name, other in zip(("doi", "pmid", "pmcid"), row[1:])
            ):
                return row[0]
        return None

    def work_columns(self, record: Record, fmt: str) -> dict:
        return _work_columns(record, fmt)

    def load_record(self, record: Record, source_id: int, fmt: str) -> str:
        """Insert or merge one record; returns ``added``, ``updated`` or ``unchanged``."""
        if not self._in_load:
            # Called on its own, inside a transaction of the caller's that may still roll back.
            self._clear_caches()
            self._external_writes = True
        else:
            self._trim_caches()
        if not is_a_work(record):
            raise ValueError(NOT_A_WORK)
        rank = SOURCE_RANK.get(fmt, 20)
        prepared = record.get("_prepared") or _prepare(record, fmt)
        columns = prepared.columns
        work_id = self.find_work(columns)
        if work_id is None:
            columns["source_rank"] = rank
            columns.update(self._journal_columns_for(prepared.journal))
            outcome = self._add_work(record, prepared, source_id)
            if not self._in_load or len(self._variant_rows) >= VARIANT_BATCH:
                self._write_variants()  # in a load, the rest at the end of the file
            return outcome
        self._write_variants()  # before this record's, in the order they came
        before = self._snapshot(work_id)
        current = self._get("works", work_id)
        current_rank = current.get("source_rank") or 0
        wins = rank >= current_rank
        columns.update(self._journal_columns_for(prepared.journal))
        update = {}
        for column, value in columns.items():
            if value is None or column in ("id",):
                continue
            if current.get(column) in (None, "") or (wins and current.get(column) != value):
                update[column] = value
        if wins:
            update["source_rank"] = rank
        self._update("works", work_id, update)
        self._creators(work_id, record, wins, prepared=prepared)
        self._links(work_id, record, source_id, prepared=prepared)
        self._touched_works.add(work_id)
        self._write_variants()
        self._refresh_work(work_id)
        return "unchanged" if self._snapshot(work_id) == before else "updated"

    def _add_work(self, record: Record, prepared: "_Prepared", source_id: int) -> str:
        """A work the library does not have: authors first, so that the row is written once, whole."""
        columns = prepared.columns
        creators = self._resolve_creators(prepared.people.get("author"))
        authors = [(author.name, written) for role, _, author, written in creators if role == "author"]
        tags = prepared.tags
        columns["authors_text"] = "; ".join(written or name for name, written in authors) or None
        columns["author_names"] = _json_text([name for name, _ in authors]) if authors else None
        names = sorted({name for name, _ in tags})
        columns["tag_names"] = _json_text(names) if names else None
        work_id = self.conn.execute(self._insert_work_sql, list(map(columns.get, self._work_columns))).lastrowid
        if creators:
            _insert_rows(self.conn, _AUTHORSHIP_INSERT, work_id, [
                value for _, position, author, written in creators for value in (author.id, position, written)
            ], 3)
        self._creators(work_id, record, True, new=True, prepared=prepared)  # editors …: after
        self._links(work_id, record, source_id, new=True, prepared=prepared)
        self._touched_works.add(work_id)
        if record.get("collections"):
            self._stale = True  # collection names and excerpts are filled in at the end of the file
        return "added"

    def _snapshot(self, work_id: int):
        """Everything a record can change about a work, to tell "updated" from "unchanged"."""
        query = lambda sql: self.conn.execute(sql, [work_id]).fetchall()  # noqa: E731
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

    def _journal_columns_for(self, args) -> dict:
        """``_journal_args``' verdict as works columns: a container title, or the journal row's id."""
        if args is None:
            return {}
        if args[0] == "container":
            return {"container_title": args[1]}
        # The same title, abbreviation, ISSNs and publisher come with every paper of a journal: once
        # they have been through ``journal_id``, going through again finds the same row and changes nothing.
        key = (args[1], args[2], tuple(args[3]), args[4])
        journal = self._journal_by_args.get(key)
        if journal is None:
            journal = self._journal_by_args[key] = self.journal_id(*args[1:])
        return {"journal_id": journal}

    def _journal_for_key(self, key: str) -> Optional[int]:
        if key in self._journal_by_key:
            return self._journal_by_key[key]
        row = self.conn.execute("SELECT journal_id FROM journal_names WHERE key = ?", [key]).fetchone()
        self._journal_by_key[key] = row[0] if row else None
        return self._journal_by_key[key]

    def _journal_row(self, journal_id: int) -> dict:
        row = self._journal_rows.get(journal_id)
        if row is None:
            row = self._journal_rows[journal_id] = self._get("journals", journal_id)
        return row

    def journal_id(self, title: Optional[str], abbreviation: Optional[str], issns: List[str],
                   publisher: Optional[str] = None) -> int:
        """The journal row for these names and ISSNs; rows that turn out to be one journal are merged."""
        iso4 = norm.iso4_abbreviation(title) if title else None
        keys: List[Tuple[str, str, str]] = [(f"issn:{issn}", issn, "issn") for issn in issns]
        if title:
            keys.append((f"name:{_journal_key(title)}", title, "title"))
        if abbreviation:
            keys.append((f"name:{_journal_key(abbreviation)}", abbreviation, "abbreviation"))
        if iso4:
            # ISO 4 of the full title is how "Journal of Clinical Oncology" meets "J Clin Oncol".
            keys.append((f"name:{_journal_key(iso4)}", iso4, "iso4"))
        keys = [k for k in keys if k[0].split(":", 1)[1]]
        found: List[int] = []
        for key, _, _ in keys:
            journal = self._journal_for_key(key)
            if journal is not None and journal not in found:
                found.append(journal)
        if not found:
            journal_id = self._insert("journals", {
                "title": title or abbreviation or (issns[0] if issns else None),
                "abbreviation": abbreviation or iso4,
                "issn": issns[0] if issns else None,
                "eissn": issns[1] if len(issns) > 1 else None,
                "publisher": publisher,
                "title_key": _journal_key(title or abbreviation or ""),
            })
        else:
            journal_id = min(found)
            for other in found:
                if other != journal_id:
                    self._merge_journals(journal_id, other)
            self._complete_journal(journal_id, title, abbreviation, issns, publisher)
        for key, name, kind in keys:
            known = self._journal_by_key.get(key, _UNKNOWN)
            if known is not None and known is not _UNKNOWN:
                continue  # the key has its row already: INSERT OR IGNORE would change nothing
            self.conn.execute(
                "INSERT OR IGNORE INTO journal_names (key, journal_id, name, kind) VALUES (?, ?, ?, ?)",
                [key, journal_id, name, kind],
            )
            if known is None:  # known to be absent: the row just written is this journal's
                self._journal_by_key[key] = journal_id
        return journal_id

    def _complete_journal(self, journal_id: int, title, abbreviation, issns, publisher) -> None:
        current = self._journal_row(journal_id)
        update = {}
        derived_abbreviation = norm.iso4_abbreviation(current["title"]) if current["title"] else None
        title_is_a_stand_in = current["title"] in (None, current["abbreviation"], current["issn"])
        # A full title replaces a title that was only the abbreviation or the ISSN.
        if title and title_is_a_stand_in and title != current["title"] and title != abbreviation:
            if not (abbreviation is None and title == current["abbreviation"]):
                update["title"] = title
                update["title_key"] = _journal_key(title)
        # A given abbreviation (NLM's) replaces none or the one computed from the title.
        if abbreviation and (not current["abbreviation"] or (
                current["abbreviation"] == derived_abbreviation and abbreviation != derived_abbreviation
                and "." not in abbreviation)):
            if abbreviation != (update.get("title") or current["title"]) or not current["abbreviation"]:
                update["abbreviation"] = abbreviation
        known = [i for i in (current["issn"], current["eissn"]) if i]
        for issn in issns:
            if issn in known:
                continue
            if not current["issn"] and "issn" not in update:
                update["issn"] = issn
            elif not current["eissn"] and "eissn" not in update:
                update["eissn"] = issn
            known.append(issn)
        if publisher and not current["publisher"]:
            update["publisher"] = publisher
        if update:
            self._update("journals", journal_id, update)
            current.update(update)

    def _merge_journals(self, keep: int, drop: int) -> None:
        """Two rows were one journal all along (an ISSN or a name now links them): fold ``drop`` into ``keep``."""
        dropped = self._journal_row(drop)
        self.conn.execute("UPDATE works SET journal_id = ? WHERE journal_id = ?", [keep, drop])
        self.conn.execute("UPDATE journal_names SET journal_id = ? WHERE journal_id = ?", [keep, drop])
        self.conn.execute("DELETE FROM journals WHERE id = ?", [drop])
        # Keys pointing at the dropped row now point at the kept one.
        self._journal_by_key = {k: (keep if v == drop else v) for k, v in self._journal_by_key.items()}
        self._journal_by_args = {}  # the merged row may now be completed differently
        self._journal_rows.pop(drop, None)
        self._complete_journal(
            keep, dropped["title"], dropped["abbreviation"],
            [i for i in (dropped["issn"], dropped["eissn"]) if i], dropped["publisher"],
        )

    # ---- authors -----------------------------------------------------------------------------

    def _resolve_creators(self, people: Optional[List[tuple]]) -> List[Tuple[str, int, "_Author", str]]:
        """(role, position, author, written) of a new work's authors (``_person`` tuples), resolved."""
        if not people:
            return []
        keys = _WorkKeys([person[_RAW_KEY] for person in people])
        creators = []
        for position, person in enumerate(people, start=1):
            creators.append(("author", position, self._resolve_person(person, keys, position, None), person[_WRITTEN]))
        return creators

    def _creators(self, work_id: int, record: Record, wins: bool, new: bool = False,
                  prepared: Optional["_Prepared"] = None) -> None:
        prepared = prepared or _prepare(record, None)
        for role, persons in prepared.people.items():  # in CREATOR_ROLES order, only those present
            if new and role == "author":
                continue  # written with the work itself (``_add_work``)
            existing = {}
            if not new:
                have = self.conn.execute(
                    "SELECT COUNT(*) FROM work_authors WHERE work_id = ? AND role = ?", [work_id, role]
                ).fetchone()[0]
                if have and not wins:
                    # Keep the better source's list, but remember these spellings as variants.
                    self._record_variants(work_id, role, persons)
                    continue
                existing = dict(self.conn.execute(
                    "SELECT position, author_id FROM work_authors WHERE work_id = ? AND role = ?",
                    [work_id, role],
                ).fetchall())
            preludes = prepared.people[role]
            keys = _WorkKeys([person[_RAW_KEY] for person in preludes])
            rows = []
            for position, person in enumerate(preludes, start=1):
                author = self._resolve_person(person, keys, position, existing.get(position))
                rows.append((work_id, author.id, position, role, person[_WRITTEN]))
            if not new:
                self.conn.execute("DELETE FROM work_authors WHERE work_id = ? AND role = ?", [work_id, role])
            self.conn.executemany(
                "INSERT INTO work_authors (work_id, author_id, position, role, name_as_written) VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    def _record_variants(self, work_id: int, role: str, people: List[tuple]) -> None:
        """A lower-ranked source's spelling of the same people (``_person`` tuples), position by position."""
        slots = dict(self.conn.execute(
            """SELECT work_authors.position, authors.id FROM work_authors JOIN authors ON authors.id = author_id
               WHERE work_id = ? AND role = ?""", [work_id, role]).fetchall())
        for position, person in enumerate(people, start=1):
            author_id = slots.get(position)
            if author_id is None:
                continue
            author = self._author_entry(author_id)
            family, given, initials, written, folded = person[0], person[1], person[4], person[_WRITTEN], person[8]
            same_family = family and folded == _fold(author.family or "")
            if same_family and norm.initials_compatible(initials or "", author.initials or ""):
                self.conn.execute(
                    "INSERT OR IGNORE INTO author_variants (author_id, name, family, given, works) VALUES (?, ?, ?, ?, 0)",
                    [author_id, written, family, given],
                )

    @staticmethod
    def _person_key(person: dict) -> str:
        if person.get("literal") and not person.get("family"):
            return "literal " + " ".join(_fold(person["literal"]).split())
        return _name_key(person.get("family"), person.get("given") or person.get("initials"))

    def _cached_bucket(self, key: str) -> Optional[_Bucket]:
        bucket = self._authors_by_key.get(key)
        if bucket is None:
            bucket = self._authors_by_key_old.pop(key, None)
            if bucket is not None:
                self._authors_by_key[key] = bucket
                self._young_authors += len(bucket.all)
        return bucket

    def _authors_named(self, key: str) -> _Bucket:
        """The authors whose name key is ``key``."""
        bucket = self._cached_bucket(key)
        if bucket is None:
            bucket = _Bucket()
            for row in self.conn.execute(_NAMESAKES_SQL, [key]):
                author = self._authors_by_id[row[0]] = _Author(*row)
                bucket.add(author)
            self._authors_by_key[key] = bucket
            self._young_authors += len(bucket.all)
        return bucket

    def _author_entry(self, author_id: int) -> _Author:
        author = self._authors_by_id.get(author_id)
        if author is None:
            # Cached with all who share its name key, as every cached author is.
            key = self.conn.execute("SELECT name_key FROM authors WHERE id = ?", [author_id]).fetchone()[0]
            self._authors_named(key)
            author = self._authors_by_id[author_id]
        return author

    def _author_with_orcid(self, orcid: str, person: Optional[tuple] = None) -> Optional[_Author]:
        """The author with this ORCID; read alone from the table (not cached, with all namesakes) when
        ``person``, as written here, adds nothing to them (``_completion``)."""
        if orcid not in self._author_by_orcid:
            row = self.conn.execute("SELECT id FROM authors WHERE orcid = ? ORDER BY id LIMIT 1", [orcid]).fetchone()
            self._author_by_orcid[orcid] = row[0] if row else None
        author_id = self._author_by_orcid[orcid]
        if author_id is None:
            return None
        cached = self._authors_by_id.get(author_id)
        if cached is not None:
            return cached
        if SPELLING_SHORTCUT:
            alone = _Author(*self.conn.execute(f"SELECT {AUTHOR_COLUMNS} FROM authors WHERE id = ?", [author_id]).fetchone())
            if person is None or not _completion(alone, person):
                return alone
        return self._author_entry(author_id)

    def _stored_same_spelling(self, key: str, spelling: str, words: Tuple[str, ...]) -> Optional[_Author]:
        """The author the same-spelling shortcut would choose from the bucket of ``key``, read from the
        table by ``authors.spelling`` instead of loading the bucket. The object is not cached: it
        stands for its row only until the record is written (nothing changes it)."""
        for row in self.conn.execute(
                f"SELECT {AUTHOR_COLUMNS} FROM authors WHERE spelling = ? AND name_key = ? ORDER BY id", [spelling, key]):
            candidate = _Author(*row)
            if _given_agrees(candidate, words):
                return candidate
        return None

    def resolve_author(self, person: dict, coauthor_keys: List[str], same_slot: Optional[int] = None) -> int:
        """One author row per person as far as the evidence allows (see docs/identity.md)."""
        return self._resolve(person, coauthor_keys, same_slot).id

    def _resolve(self, person: dict, coauthor_keys: List[str], same_slot: Optional[int]) -> _Author:
        return self._resolve_person(_person(person), _WorkKeys(list(coauthor_keys)), None, same_slot)

    def _resolve_person(self, person: tuple, work_keys: "_WorkKeys", position: Optional[int],
                        same_slot: Optional[int]) -> _Author:
        """``resolve_author`` for a ``_person`` tuple at ``position`` (1-based) among ``work_keys``
        (the name keys of the work's people: the others are its co-authors)."""
        family, given, literal, orcid, initials, key, written, _, folded, words, spelling, _ = person
        chosen = None
        if orcid:
            chosen = self._author_with_orcid(orcid, person)
        elif literal is None and SPELLING_SHORTCUT and key not in self._authors_by_key \
                and key not in self._authors_by_key_old:
            # Namesakes not in memory: the table's index of spellings finds a name seen before and
            # spelled the same (most people, most of the time) without reading them all in; only a
            # person met for the first time, or spelled another way, needs them all (the walk).
            stored = self._stored_same_spelling(key, spelling, words)
            if stored is not None and not _completion(stored, person):
                self._note_variant(stored.id, written, family, given)
                return stored
        if chosen is None:
            mine = initials or ""
            bucket = self._authors_by_key.get(key) or self._authors_named(key)
            if literal is None and SPELLING_SHORTCUT:
                # The walk below would stop at the first same-spelled author it meets: look there first.
                for candidate in bucket.spellings.get(spelling, ()):
                    if not (orcid and candidate.orcid and candidate.orcid != orcid) and _given_agrees(candidate, words):
                        chosen = candidate
                        break
        if chosen is None and bucket.all:  # a name key met for the first time has no one to compare
            supported = []  # compatible spellings with shared evidence: the same work, or a co-author
            for candidate in (bucket.all if literal is not None else bucket.candidates(folded, mine, words)):
                if orcid and candidate.orcid and candidate.orcid != orcid:
                    continue  # two ORCIDs are two people, whatever their names
                if literal is not None:
                    chosen = candidate
                    break
                if candidate.folded_family != folded or not _words_compatible(candidate.given_words, words):
                    continue
                theirs = candidate.initials or ""
                if theirs == mine and _spelled(candidate.given_words) == _spelled(words):
                    chosen = candidate  # the same name, spelled the same way
                    break
                if norm.initials_compatible(theirs, mine) and (
                    candidate.id == same_slot or self._shares_coauthor(candidate.id, work_keys, position)
                ):
                    supported.append(candidate)
            if chosen is None and supported:
                in_slot = [candidate for candidate in supported if candidate.id == same_slot]
                # Two candidates would be a guess: "Maria" beside both "M. X." and "M. Y." stays apart.
                chosen = in_slot[0] if in_slot else (supported[0] if len(supported) == 1 else None)
        if chosen is None:
            name = norm.display_name(family, given, literal)
            author_id = self.conn.execute(
                "INSERT INTO authors (family, given, initials, literal, orcid, name_key, name, spelling) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [family, given, initials or None, literal, orcid, key, name, spelling if literal is None else None],
            ).lastrowid
            bucket = self._cached_bucket(key)  # loaded above, for the rules
            chosen = self._authors_by_id[author_id] = _Author.written_for(author_id, person, name)
            bucket.add(chosen, spelling)
            self._young_authors += 1
            if orcid and orcid in self._author_by_orcid and self._author_by_orcid[orcid] is None:
                self._author_by_orcid[orcid] = author_id
            self._variant_rows.append((author_id, written, family or literal, given))  # new: not known
            return chosen
        else:
            update = _completion(chosen, person)
            if ("given" in update or "initials" in update) and chosen.literal is None:
                update["spelling"] = _spelling_of(chosen.folded_family, update.get("initials", chosen.initials),
                                                  _given_words(update.get("given", chosen.given)))
            if update:
                self._update("authors", chosen.id, update)
                old_initials, old_words = chosen.initials, chosen.given_words
                if "given" in update:
                    chosen.set_given(update["given"])
                if "name" in update and update["name"] != chosen.name:
                    chosen.name = update["name"]
                    self._renamed_authors.add(chosen.id)  # their works show the old name until refreshed
                if "initials" in update:
                    chosen.initials = update["initials"]
                if "given" in update or "initials" in update:
                    self._cached_bucket(chosen.name_key).reslot(chosen, old_initials, old_words)
                if "orcid" in update:
                    chosen.orcid = orcid
                    if orcid in self._author_by_orcid:
                        known = self._author_by_orcid[orcid]
                        self._author_by_orcid[orcid] = chosen.id if known is None else min(known, chosen.id)
        self._note_variant(chosen.id, written, family or literal, given)
        return chosen

    def _note_variant(self, author_id: int, written: str, family: Optional[str], given: Optional[str]) -> None:
        """An author's spelling, to be written with the next batch unless already in the table."""
        if (author_id, written) not in self._known_variants:
            self._variant_rows.append((author_id, written, family, given))

    def _write_variants(self) -> None:
        if self._variant_rows:
            self.conn.executemany(
                "INSERT OR IGNORE INTO author_variants (author_id, name, family, given, works) VALUES (?, ?, ?, ?, 0)",
                self._variant_rows,
            )
            # Each (author, spelling) is in the table now: the next INSERT OR IGNORE of it can be skipped.
            self._known_variants.update((row[0], row[1]) for row in self._variant_rows)
            self._variant_rows = []

    def _shares_coauthor(self, author_id: int, work_keys: "_WorkKeys", position: Optional[int]) -> bool:
        """Whether the author has written a work with someone whose name key is among ``work_keys``
        but the one at ``position``."""
        keys, unless = work_keys.others_of(position)
        if not keys:
            return False
        # Asked of the indexes alone: the authors bearing those keys (name_key, id), the candidate's
        # works and their people (work_id, role, author_id); it stops at the first co-author found.
        return bool(self.conn.execute(_SHARES_COAUTHOR_SQL, (author_id, keys, unless)).fetchone()[0])

    # ---- tags, collections, notes, citations, affiliations, provenance -------------------------

    def tag_id(self, name: str) -> int:
        if name not in self._tag_ids:
            self.conn.execute("INSERT OR IGNORE INTO tags (name) VALUES (?)", [name])
            self._tag_ids[name] = self.conn.execute("SELECT id FROM tags WHERE name = ?", [name]).fetchone()[0]
        return self._tag_ids[name]

    def collection_id(self, spec: dict) -> int:
        key = spec["key"]
        if key in self._collection_ids:
            return self._collection_ids[key]
        self._stale = True  # a collection's name may change: so do its works' collection names
        if not self._in_load:
            self._external_writes = True
        parent_id = self._collection_ids.get(spec.get("parent_key")) if spec.get("parent_key") else None
        if spec.get("parent_key") and parent_id is None:
            row = self.conn.execute("SELECT id FROM collections WHERE key = ?", [spec["parent_key"]]).fetchone()
            parent_id = row[0] if row else None
        values = {
            "key": key, "name": spec.get("name") or key, "parent_id": parent_id,
            "description": spec.get("description"), "zotero_key": spec.get("zotero_key"),
            "position": spec.get("order"),
        }
        row = self.conn.execute("SELECT id FROM collections WHERE key = ?", [key]).fetchone()
        if row:
            self._update("collections", row[0], {k: v for k, v in values.items() if v is not None or k == "parent_id"})
            collection_id = row[0]
        else:
            collection_id = self._insert("collections", values)
        for tag in spec.get("tags") or []:
            self.conn.execute(
                "INSERT OR IGNORE INTO collection_tags (collection_id, tag_id, kind) VALUES (?, ?, ?)",
                [collection_id, self.tag_id(tag["name"]), tag.get("kind") or "subject"],
            )
        self._collection_ids[key] = collection_id
        return collection_id

    def _links(self, work_id: int, record: Record, source_id: int, new: bool = False,
               prepared: Optional["_Prepared"] = None) -> None:
        execute = self.conn.execute
        if not new:
            # What one source says about a work replaces what the same source said before.
            for table in ("work_tags", "collection_works", "notes"):
                execute(f"DELETE FROM {table} WHERE work_id = ? AND source_id = ?", [work_id, source_id])
        prepared = prepared or _prepare(record, None)
        tags = prepared.tags
        if tags:
            self.conn.executemany(
                "INSERT OR IGNORE INTO work_tags (work_id, tag_id, kind, source_id) VALUES (?, ?, ?, ?)",
                [(work_id, self.tag_id(name), kind, source_id) for name, kind in tags],
            )
        for spec in record.get("collections") or []:
            collection_id = self.collection_id(spec)
            if spec.get("member", True):
                execute(
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
                self._insert("notes", {
                    "work_id": work_id, "content": content, "source_id": source_id,
                    "zotero_key": note.get("key") if isinstance(note, dict) else None,
                    "key": note.get("key") if isinstance(note, dict) else None,
                })
        record_key = str(record.get("source_key") or record.get("id") or record.get("zotero_key") or "")
        execute(
            "INSERT OR IGNORE INTO work_sources (work_id, source_id, record_key) VALUES (?, ?, ?)",
            [work_id, source_id, record_key],
        )
        if prepared.citations:
            self._write_citations(work_id, prepared.citations, new)
        if record.get("affiliations"):
            self._affiliations(work_id, record["affiliations"], new)

    def _write_citations(self, work_id: int, values: Optional[tuple], new: bool = False) -> None:
        """``values``: ``_citation_values`` of the work's ``_citation_rows``."""
        if not new:
            self.conn.execute("DELETE FROM citations WHERE citing_work_id = ?", [work_id])
        if values:
            _insert_rows(self.conn, _CITATION_INSERT, work_id, values, _CITATION_WIDTH)

    def resolve_citations(self) -> None:
        """Point every citation at the work in the library it names, by DOI, PMID or PMCID (in that
        order of preference).

        One pass over the unresolved citations, in rowid batches, rewriting only the rows that find
        their work: at a million works the table holds tens of millions of rows, most of which cite
        works outside the library."""
        last = 0
        while True:
            batch = self.conn.execute(
                """SELECT rowid, COALESCE(
                     (SELECT works.id FROM works WHERE works.doi = citations.doi LIMIT 1),
                     (SELECT works.id FROM works WHERE works.pmid = citations.pmid LIMIT 1),
                     (SELECT works.id FROM works WHERE works.pmcid = citations.pmcid LIMIT 1))
                   FROM citations
                   WHERE rowid > ? AND cited_work_id IS NULL
                     AND (doi IS NOT NULL OR pmid IS NOT NULL OR pmcid IS NOT NULL)
                   ORDER BY rowid LIMIT 50000""", [last]).fetchall()
            if not batch:
                return
            last = batch[-1][0]
            self.conn.executemany("UPDATE citations SET cited_work_id = ? WHERE rowid = ?",
                                  [(work_id, rowid) for rowid, work_id in batch if work_id is not None])

    def _affiliations(self, work_id: int, affiliations: List[dict], new: bool = False) -> None:
        from . import geo

        if not new:
            self.conn.execute("DELETE FROM affiliations WHERE work_id = ?", [work_id])
        authors = dict(self.conn.execute(
            "SELECT position, author_id FROM work_authors WHERE work_id = ? AND role = 'author'", [work_id]
        ).fetchall())
        for affiliation in affiliations:
            raw = _clean(affiliation.get("raw"))
            if not raw:
                continue
            position = affiliation.get("author_position") or 0
            places = geo.parse_affiliations(raw) or [{}]
            for part, place in enumerate(places):
                institution_id = self.institution_id(place) if (place.get("name") or place.get("city")) else None
                self.conn.execute(
                    """INSERT OR IGNORE INTO affiliations (work_id, author_id, institution_id, raw, position, part)
                       VALUES (?, ?, ?, ?, ?, ?)""",
                    [work_id, authors.get(position), institution_id, raw, position, part],
                )

    def institution_id(self, place: dict) -> int:
        """One row per institution and place; spelling differences ("Charité - Universitätsmedizin",
        "Charité-Universitätsmedizin") meet in the key."""
        # A place without a recognisable organisation still belongs on the map, under its city's name.
        name = place.get("name") or place.get("city")
        key = "|".join(_journal_key(part or "") for part in (name, place.get("city"), place.get("country")))
        if key in self._institution_ids:
            return self._institution_ids[key]
        row = self.conn.execute("SELECT id FROM institutions WHERE name_key = ?", [key]).fetchone()
        if row:
            institution_id = row[0]
        else:
            institution_id = self._insert("institutions", {
                "name": name, "city": place.get("city"), "country": place.get("country"),
                "country_code": place.get("country_code"), "latitude": place.get("latitude"),
                "longitude": place.get("longitude"), "precision": place.get("precision"), "name_key": key,
            })
        self._institution_ids[key] = institution_id
        return institution_id

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
            self._stale = True
        return work_id

    def delete_work(self, work_id: int) -> None:
        for table, column in (
            ("work_authors", "work_id"), ("work_tags", "work_id"), ("collection_works", "work_id"),
            ("notes", "work_id"), ("work_sources", "work_id"), ("affiliations", "work_id"),
            ("citations", "citing_work_id"), ("related_works", "work_id"), ("related_works", "related_work_id"),
            ("zotero_attachments", "work_id"),
        ):
            self.db.execute(f"DELETE FROM {table} WHERE {column} = ?", [work_id])
        self.db.execute("UPDATE citations SET cited_work_id = NULL WHERE cited_work_id = ?", [work_id])
        self.db.execute("DELETE FROM works WHERE id = ?", [work_id])
        self._touched_works.discard(work_id)

    # ---- denormalised columns --------------------------------------------------------------------

    def _refresh_touched(self) -> None:
        touched, self._touched_works = sorted(self._touched_works), set()
        stale, self._stale = self._stale, False
        renamed, self._renamed_authors = self._renamed_authors, set()
        if not stale and renamed:
            listing = set()
            renamed_ids = sorted(renamed)
            for start in range(0, len(renamed_ids), REFRESH_CHUNK):
                chunk = renamed_ids[start:start + REFRESH_CHUNK]
                listing.update(row[0] for row in self.conn.execute(
                    f"SELECT work_id FROM work_authors WHERE author_id IN ({','.join('?' for _ in chunk)})", chunk))
            touched = [work_id for work_id in touched if work_id in listing]
        elif not stale:
            # Each touched work was written whole (added) or refreshed as it was merged, and no
            # author or collection name has changed since: nothing to rewrite.
            return
        for start in range(0, len(touched), REFRESH_CHUNK):
            self._refresh_works(touched[start:start + REFRESH_CHUNK])

    def _refresh_works(self, work_ids: List[int]) -> None:
        """``_refresh_work`` for many works at once; rewrites only the rows whose values changed."""
        marks = ",".join("?" for _ in work_ids)
        authors: Dict[int, list] = {work_id: [] for work_id in work_ids}
        for work_id, name, written in self.conn.execute(
            f"""SELECT work_authors.work_id, authors.name, work_authors.name_as_written FROM work_authors
                JOIN authors ON authors.id = work_authors.author_id
                WHERE work_authors.work_id IN ({marks}) AND role = 'author'
                ORDER BY work_authors.work_id, position""", work_ids):
            authors[work_id].append((name, written))
        tags: Dict[int, list] = {work_id: [] for work_id in work_ids}
        for work_id, name in self.conn.execute(
            f"""SELECT DISTINCT work_tags.work_id, tags.name FROM work_tags JOIN tags ON tags.id = work_tags.tag_id
                WHERE work_tags.work_id IN ({marks}) ORDER BY work_tags.work_id, tags.name""", work_ids):
            tags[work_id].append(name)
        in_collections = {row[0] for row in self.conn.execute(
            f"SELECT DISTINCT work_id FROM collection_works WHERE work_id IN ({marks})", work_ids)}
        updates = []
        for work_id, *current in self.conn.execute(
            f"SELECT id, {', '.join(DENORMALISED)} FROM works WHERE id IN ({marks})", work_ids
        ).fetchall():
            collections, excerpts = self._collections_of(work_id) if work_id in in_collections else ([], [])
            values = _denormalised(authors[work_id], tags[work_id], collections, excerpts)
            if list(values) != current:
                updates.append((*values, work_id))
        if updates:
            self.conn.executemany(
                f"UPDATE works SET {', '.join(f'{c} = ?' for c in DENORMALISED)} WHERE id = ?", updates)

    def _collections_of(self, work_id: int) -> Tuple[List[str], List[str]]:
        collections = [r[0] for r in self.conn.execute(
            """WITH RECURSIVE up(id, depth) AS (
                 SELECT collection_id, 0 FROM collection_works WHERE work_id = ?
                 UNION SELECT collections.parent_id, depth + 1 FROM collections JOIN up ON collections.id = up.id
                 WHERE collections.parent_id IS NOT NULL)
               SELECT DISTINCT collections.name FROM up JOIN collections ON collections.id = up.id
               ORDER BY collections.name""", [work_id]).fetchall()]
        excerpts = [r[0] for r in self.conn.execute(
            "SELECT context FROM collection_works WHERE work_id = ? AND context IS NOT NULL ORDER BY collection_id",
            [work_id]).fetchall()]
        return collections, excerpts

    def _refresh_work(self, work_id: int) -> None:
        """Authors, tags, collections and excerpts as text/JSON on the work: facets and search."""
        authors = self.conn.execute(
            """SELECT authors.name, work_authors.name_as_written FROM work_authors
               JOIN authors ON authors.id = work_authors.author_id
               WHERE work_id = ? AND role = 'author' ORDER BY position""", [work_id]
        ).fetchall()
        tags = [r[0] for r in self.conn.execute(
            """SELECT DISTINCT tags.name FROM work_tags JOIN tags ON tags.id = work_tags.tag_id
               WHERE work_id = ? ORDER BY tags.name""", [work_id]).fetchall()]
        collections, excerpts = self._collections_of(work_id)
        self._update("works", work_id, dict(zip(DENORMALISED, _denormalised(authors, tags, collections, excerpts))))

    def assign_cite_keys(self) -> None:
        taken = {row[0] for row in self.conn.execute("SELECT cite_key FROM works WHERE cite_key IS NOT NULL")}
        last = 0
        while True:  # in batches of ids: a million works' titles need not sit in memory at once
            missing = self.conn.execute(
                """SELECT works.id, works.year, works.title,
                     (SELECT COALESCE(authors.family, authors.literal) FROM work_authors
                      JOIN authors ON authors.id = work_authors.author_id
                      WHERE work_authors.work_id = works.id ORDER BY role != 'author', position LIMIT 1)
                   FROM works WHERE cite_key IS NULL AND id > ? ORDER BY id LIMIT 20000""", [last]
            ).fetchall()
            if not missing:
                return
            updates = []
            for work_id, year, title, family in missing:
                base = norm.cite_key_base(family, year, title)
                key, suffix = base, 0
                while key in taken:
                    suffix += 1
                    key = base + _letters(suffix)
                taken.add(key)
                updates.append((key, work_id))
            self.conn.executemany("UPDATE works SET cite_key = ? WHERE id = ?", updates)
            last = missing[-1][0]

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
    return _words_compatible(_given_words(a), _given_words(b))


@functools.lru_cache(maxsize=1 << 17)
def _given_words(given: Optional[str]) -> Tuple[str, ...]:
    return tuple(_fold(given or "").replace(".", " ").replace("-", " ").split())


def _spelled(words: Tuple[str, ...]) -> Tuple[str, ...]:
    """The given-name words written out in full ("Jane" in "Jane H.")."""
    return tuple(word for word in words if len(word) > 1)


def _words_compatible(words_a: Tuple[str, ...], words_b: Tuple[str, ...]) -> bool:
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




def _work_columns(record: Record, fmt: str) -> dict:
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
            [norm.title_key(columns["title"]), str(columns["year"] or ""), _fold(first_family).strip()]
        )
    extra = {k: v for k, v in record.items() if k not in HANDLED and not k.startswith("_")}
    columns["extra"] = json.dumps(extra, ensure_ascii=False, sort_keys=True) if extra else None
    return columns



class _Prepared(NamedTuple):
    """What the loader computes from a record alone, before it looks at the database."""

    columns: dict                       # works columns (``_work_columns``)
    journal: Optional[tuple]            # ``_journal_args``
    people: Dict[str, List[tuple]]      # role -> ``_person`` tuples
    tags: List[Tuple[str, str]]         # (name, kind)
    citations: Optional[tuple]          # ``_citation_values`` of ``_citation_rows``


def _prepare(record: Record, fmt: Optional[str]) -> _Prepared:
    columns = _work_columns(record, fmt) if fmt is not None else {}
    people = {role: [_person(person) for person in persons]
              for role in CREATOR_ROLES if (persons := record.get(role))}
    references = record.get("references")
    return _Prepared(
        columns=columns,
        journal=_journal_args(record, columns["type"]) if fmt is not None else None,
        people=people,
        tags=_tags_of(record),
        citations=_citation_values(_citation_rows(references)) if references else None,
    )


def _journal_args(record: Record, work_type: str) -> Optional[tuple]:
    """("container", title) for a work outside journals, ("journal", title, abbreviation, ISSNs,
    publisher) for ``Loader.journal_id``, or None."""
    title = _clean(record.get("container-title"))
    short = _clean(record.get("container-title-short"))
    issns = record.get("ISSN") or []
    if isinstance(issns, str):
        issns = [part for part in issns.replace(",", " ").replace(";", " ").split()]
    issns = [i for i in (norm.normalize_issn(value) for value in issns) if i]
    if work_type not in JOURNAL_TYPES and not issns:
        return ("container", title or short) if (title or short) else None
    if not (title or short or issns):
        return None
    return ("journal", title, short, issns, _clean(record.get("publisher")) if work_type in JOURNAL_TYPES else None)


# Positions in a ``_person`` tuple read by name elsewhere.
_WRITTEN, _RAW_KEY = 6, 7


def _person(person: dict) -> tuple:
    """A creator as ``resolve_author`` compares it: (family, given, literal, ORCID, initials, name key,
    name as written, name key of the name as given (what co-author lists hold), folded family,
    given-name words, spelling (``_Bucket.spellings``' key), ``_given_length``)."""
    get = person.get
    parts = (get("family"), get("given"), get("literal"), get("ORCID"), get("orcid"), get("initials"))
    try:
        return _person_of_parts(parts)
    except TypeError:  # a part that is not a string (a list, a dict): not cacheable, and rare
        return _person_uncached(person)


@functools.lru_cache(maxsize=1 << 16)
def _person_of_parts(parts: tuple) -> tuple:
    # A library names the same people again and again, spelled the same way.
    return _person_uncached({name: value for name, value in zip(_PERSON_PARTS, parts) if value is not None})


_PERSON_PARTS = ("family", "given", "literal", "ORCID", "orcid", "initials")


def _person_uncached(person: dict) -> tuple:
    family = _clean(person.get("family"))
    given = _clean(person.get("given"))
    literal = _clean(person.get("literal")) if not family else None
    if literal is None and family is None:
        literal = given or "Anonymous"
        given = None
    orcid = _orcid(person.get("ORCID") or person.get("orcid"))
    initials = person.get("initials") or _initials_of(given)
    key = Loader._person_key({"family": family, "given": given, "literal": literal, "initials": initials})
    folded, words = _fold(family or ""), _given_words(given)
    return (family, given, literal, orcid, initials, key, _written(person), Loader._person_key(person),
            folded, words, _spelling_of(folded, initials, words), _given_length(given))


def _given_length(given: Optional[str]) -> int:
    """How much of a given name is written: a longer one ("Jane H.") replaces a shorter ("J. H.")."""
    return len(given.replace(".", "").replace(" ", "")) if given else 0


def _tags_of(record: Record) -> List[Tuple[str, str]]:
    tags = []
    for tag in record.get("tags") or []:
        name = _clean(tag.get("name") if isinstance(tag, dict) else tag)
        if name:
            tags.append((name, (tag.get("kind") if isinstance(tag, dict) else None) or "keyword"))
    return tags


def _citation_rows(references: List[dict]) -> List[tuple]:
    """(position, raw, DOI, PMID, PMCID) of each reference, normalised."""
    rows = []
    for position, reference in enumerate(references, start=1):
        doi = reference.get("DOI")
        if not (type(doi) is str and _NORMAL_DOI.fullmatch(doi) and doi.islower()):  # mostly normalised already
            doi = norm.normalize_doi(doi)
        pmid = reference.get("PMID")
        pmid = norm.normalize_pmid(pmid) if pmid is not None else None
        pmcid = norm.normalize_pmcid(reference.get("PMCID")) if reference.get("PMCID") else None
        raw = _clean(reference.get("raw") or reference.get("unstructured") or reference.get("title"))
        rows.append((position, raw, doi, pmid, pmcid))
    return rows


def _citation_values(rows: List[tuple]) -> Optional[tuple]:
    """The rows' values one after another: one flat tuple crosses from the parser process with a
    fraction of the objects of a tuple per row, and is bound as it is (``_insert_rows``)."""
    return tuple(value for row in rows for value in row) if rows else None


# Rows of one work written by one INSERT with a VALUES row per row (?1 is the work's id): SQLite
# builds one statement for them all instead of stepping one per row, which costs less than
# executemany; and a work's reference list arrives as a flat tuple of values, not a tuple per row.
_CITATION_INSERT = ("INSERT INTO citations (citing_work_id, position, raw, doi, pmid, pmcid, cited_work_id) VALUES ",
                    "(?1, ?, ?, ?, ?, ?, NULL)")
_CITATION_WIDTH = 5
# A new work's authors (its editors and other roles follow, a row at a time).
_AUTHORSHIP_INSERT = ("INSERT INTO work_authors (work_id, role, author_id, position, name_as_written) VALUES ",
                      "(?1, 'author', ?, ?, ?)")
# Rows per statement: at most this many, so that few statement texts (one per row count) exist.
ROWS_PER_INSERT = 64


@functools.lru_cache(maxsize=None)
def _rows_sql(insert: tuple, rows: int) -> str:
    return insert[0] + ", ".join([insert[1]] * rows)


def _insert_rows(conn, insert: tuple, work_id: int, values, width: int) -> None:
    """Insert ``values`` (``width`` values a row, one row after another) for ``work_id``."""
    step = ROWS_PER_INSERT * width
    for start in range(0, len(values), step):
        chunk = values[start:start + step] if len(values) > step else values
        conn.execute(_rows_sql(insert, len(chunk) // width), (work_id, *chunk))


_NORMAL_DOI = re.compile(r"10\.\d{4,9}/\S*[^\s.,;]")


def _parse(module, path: str, skip_bad: bool):
    if skip_bad:
        try:
            return module.parse(path, skip_bad=True)
        except TypeError:
            return module.parse(path)
    return module.parse(path)


def _can_fork() -> bool:
    # fork() copies only the calling thread: with other threads alive (a test runner's, a server's)
    # a lock one of them held could never be released in the child. Such callers parse in-process.
    return sys.platform.startswith("linux") and threading.active_count() == 1


class _ParsedInChild:
    """A format module's records, parsed in a forked child process and sent here in pickled batches.

    Behaves like the module's RecordStream: records in order, then the parser's ``ParseError`` (or
    other exception) at the point where it happened, and ``errors`` (skipped records) once exhausted.
    """

    def __init__(self, module_name: str, path: str, skip_bad: bool, fmt: str):
        context = multiprocessing.get_context("fork")
        self._reader, writer = context.Pipe(duplex=False)
        _widen(writer)
        self._process = context.Process(target=_parse_to_pipe, args=(module_name, path, skip_bad, fmt, writer),
                                        daemon=True)
        self._process.start()
        writer.close()
        self.errors: List[ParseError] = []
        self._finished = False
        self._records = self._receive()

    def __iter__(self):
        return self

    def __next__(self) -> Record:
        return next(self._records)

    def _receive(self):
        while True:
            try:
                kind, payload = pickle.loads(self._reader.recv_bytes())
            except EOFError:
                raise ParseError("the parser process ended without a result") from None
            if kind == "records":
                yield from payload
            elif kind == "end":
                self.errors.extend(ParseError(*error) for error in payload)
                self._finished = True
                return
            elif kind == "parse-error":
                raise ParseError(*payload)
            else:
                raise payload

    def close(self) -> None:
        self._reader.close()
        if self._finished:
            # It has sent its last message and is exiting; tearing down a copy of a large parent
            # takes the kernel a moment, which this process need not wait for (multiprocessing
            # reaps it when the next child starts, or at exit).
            return
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()


def _widen(connection) -> None:
    """Lets the pipe of ``connection`` hold PIPE_BYTES."""
    try:
        import fcntl

        fcntl.fcntl(connection.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):  # not Linux, or over the limit: the default pipe works
        pass


_READ_WITH_PREPARED = frozenset({
    "title", "DOI", "PMID", "PMCID", "source_key", "id", "zotero_key", "zotero_library", "collections",
    "notes", "affiliations",
})


def _parse_to_pipe(module_name: str, path: str, skip_bad: bool, fmt: str, writer) -> None:
    """In the child: parse ``path`` and send ("records", batch) … then ("end", errors) or the error.

    Each record goes with its ``_prepare``d values (the loader's pure work) under ``_prepared``: the
    child does it while the parent writes. A record whose preparation fails goes without, and the
    parent meets the error where it would have anyway."""
    def send(message) -> None:
        writer.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

    batch: List[Record] = []
    try:
        records = _parse(importlib.import_module(module_name), path, skip_bad)
        gc.disable()  # as in load_records: records are acyclic, and the child lives for one file
        for record in records:
            try:
                prepared = _prepare(record, fmt)
                # What the parent reads of a prepared record (``load_record`` and what it calls); the
                # rest (abstract, references …) is in ``prepared`` already: not pickled twice.
                record = {key: value for key, value in record.items() if key in _READ_WITH_PREPARED}
                record["_prepared"] = prepared
            except Exception:  # noqa: BLE001 - see the docstring
                record.pop("_prepared", None)
            batch.append(record)
            if len(batch) >= PARSE_BATCH:
                send(("records", batch))
                batch = []
        if batch:
            send(("records", batch))
        send(("end", [(e.message, e.path, e.location) if isinstance(e, ParseError) else (str(e),)
                      for e in getattr(records, "errors", None) or []]))
    except ParseError as error:
        if batch:
            send(("records", batch))
        send(("parse-error", (error.message, error.path, error.location)))
    except Exception as error:  # noqa: BLE001 - handed to the parent, which raises it where it belongs
        if batch:
            send(("records", batch))
        try:
            pickle.dumps(error)
        except Exception:  # noqa: BLE001
            error = RuntimeError(f"{type(error).__name__}: {error}")
        send(("exception", error))
    finally:
        writer.close()


def _denormalised(authors: List[tuple], tags: List[str], collections: List[str], excerpts: List[str]) -> tuple:
    """The values of DENORMALISED for a work with these (name, name as written) authors, tags,
    collections and excerpts."""
    return (
        "; ".join(written or name for name, written in authors) or None,
        _json_text([name for name, _ in authors]) if authors else None,
        _json_text(tags) if tags else None,
        _json_text(collections) if collections else None,
        "\n\n".join(excerpts) or None,
    )


# Whether author ?1 shares a work with another author whose name key is in the JSON list ?2 but ?3.
_SHARES_COAUTHOR_SQL = """
    SELECT EXISTS (SELECT 1 FROM work_authors mine
      JOIN work_authors theirs ON theirs.work_id = mine.work_id AND theirs.author_id != mine.author_id
      WHERE mine.author_id = ?1 AND +theirs.author_id IN (
        SELECT id FROM authors WHERE name_key IN (SELECT value FROM json_each(?2)) AND name_key IS NOT ?3))"""

# A work's identifiers, in the order they decide which work a record is.
_IDENTIFIERS = ("doi", "pmid", "pmcid")
# The first work (by the identifier's index) with each identifier, then every work with the title
# key; an absent value (NULL) finds nothing.
_FIND_WORK_SQL = " UNION ALL ".join(
    [f"SELECT * FROM (SELECT '{column}', id, NULL, NULL, NULL FROM works WHERE {column} = ?{index} LIMIT 1)"
     for index, column in enumerate(_IDENTIFIERS, start=1)]
    + ["SELECT 'title', id, doi, pmid, pmcid FROM works WHERE title_key = ?4"])


class _Unknown:
    """Not in a cache (as opposed to None: known to be absent)."""


_UNKNOWN = _Unknown()
