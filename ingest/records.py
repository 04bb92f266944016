"""The canonical record every parser yields, and the one error every parser raises.

A record is a plain dict keyed by CSL-JSON variable names (``type``, ``title``, ``container-title``,
``container-title-short``, ``ISSN``, ``issued`` as ``{"date-parts": [[y, m, d]]}``, ``volume``, ``issue``,
``page``, ``DOI``, ``PMID``, ``PMCID``, ``ISBN``, ``URL``, ``abstract``, ``language``, ``note``,
``publisher``, ``publisher-place``, ``edition``, ``collection-title``, ``number`` …), creators as lists of
``{"family", "given"}`` or ``{"literal"}`` under their CSL role (``author``, ``editor``, ``translator`` …),
plus refsette extras:

``tags``         list of ``{"name": str, "kind": "keyword" | "mesh" | "manual" | "automatic" | "type"}``
``collections``  list of ``{"key", "name", "parent_key", "description", "position", "context"}``
``notes``        list of ``{"content": str, "key": str | None}``
``references``   list of ``{"raw", "DOI", "PMID", "title"}`` (the work's reference list)
``affiliations`` list of ``{"author_position": int (1-based) | None, "raw": str}``; the position is None
                 when the source does not say whose affiliation it is (RIS ``AD`` lines on a record
                 with several authors)
``context``      excerpt that shows why the work is listed (bibliography pages)
``source_key``   the record's own key inside its file (PMID, cite key, RIS ID, Zotero key, "#3" …)
``zotero_key`` / ``zotero_library``  for works that came from Zotero
``cite_key``     BibTeX key when the source has one

``ISSN`` is always a list of distinct ISSNs normalised by ``normalize.normalize_issn`` (``0732-183X``),
print, electronic and linking ISSNs alike, in the source's order; a record without one has no key.

Every parser's ``parse(source, skip_bad=False, errors=None)`` returns a ``RecordStream``: with
``skip_bad=True`` a bad record is left out and its ``ParseError`` appended to the stream's ``errors``
(the list passed as ``errors``, if any) instead of being raised; an unreadable file raises either way.
"""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional, Union

Record = Dict[str, Any]

CREATOR_ROLES = (
    "author",
    "editor",
    "translator",
    "container-author",
    "collection-editor",
    "composer",
    "director",
    "interviewer",
    "illustrator",
    "original-author",
    "recipient",
    "reviewed-author",
    "editorial-director",
    "chair",
    "compiler",
    "contributor",
    "curator",
    "executive-producer",
    "guest",
    "host",
    "narrator",
    "organizer",
    "performer",
    "producer",
    "script-writer",
    "series-creator",
)


class ParseError(ValueError):
    """Input that cannot be read: names the file, where in it, and what was wrong."""

    def __init__(self, message: str, path: str | None = None, location: str | None = None):
        self.message = message
        self.path = path
        self.location = location
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ", ".join(part for part in (self.path, self.location) if part)
        return f"{where}: {self.message}" if where else self.message


def year_of(record: Record) -> int | None:
    """First year in ``issued``, if any."""
    parts = (record.get("issued") or {}).get("date-parts") or []
    if parts and parts[0] and parts[0][0] not in (None, ""):
        try:
            return int(parts[0][0])
        except (TypeError, ValueError):
            return None
    return None


class RecordStream:
    """The records of one file, read lazily and once.

    ``records`` may yield a ``ParseError`` in place of a record it skipped, or append the error to
    ``errors`` itself; either way ``errors`` lists every skipped record's error, complete once the
    stream is exhausted.
    """

    def __init__(self, records: Iterator[Union[Record, ParseError]], errors: Optional[List[ParseError]] = None):
        self._records = iter(records)
        self.errors: List[ParseError] = errors if errors is not None else []

    def __iter__(self) -> "RecordStream":
        return self

    def __next__(self) -> Record:
        while True:
            item = next(self._records)
            if isinstance(item, ParseError):
                self.errors.append(item)
                continue
            return item
