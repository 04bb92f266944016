"""CSL-JSON: a JSON array of items, a single item, or JSON Lines (one item per line).

Zotero's "CSL JSON" export, Better BibTeX's "Better CSL JSON", citeproc-js input and the CSL-JSON served
by DOI content negotiation all read here. CSL variables are already the canonical record's keys, so
they pass through, shaped the one canonical way: dates as ``date-parts`` of integers, names as
``{family, given}`` or ``{literal}``, text variables as strings, DOI/PMID/PMCID normalised.
The standard library's ``json`` reads the text; no library maps CSL-JSON onto a record, hence this module.

Text that is not JSON raises ``ParseError`` (line and column); so does an item that cannot be a record
(not an object, names that are not names), naming the record. With ``parse(source, skip_bad=True)``
such items are left out and their errors listed in the returned stream's ``errors`` (the list passed
as ``errors``, if any).
"""

from __future__ import annotations

import itertools
import json
import os
import re
from typing import Any, Iterable, Iterator, List, Optional, Tuple

from ..normalize import normalize_doi, normalize_issns, normalize_pmcid, normalize_pmid, parse_date
from ..records import CREATOR_ROLES, ParseError, Record, RecordStream
from . import Source, read_text, source_name, utf8_lines

# CSL 1.0.2 text and number variables kept as record keys (a few are handled apart: see below).
TEXT_VARIABLES = frozenset(
    """abstract archive archive_collection archive_location archive-place authority call-number
    chapter-number citation-label collection-number collection-title container-title
    container-title-short dimensions division DOI edition event-title event-place genre ISBN ISSN
    issue jurisdiction language license medium note number number-of-pages number-of-volumes
    original-publisher original-publisher-place original-title page page-first part-number
    part-title PMCID PMID printing-number publisher publisher-place reviewed-genre reviewed-title
    scale section source status supplement-number title title-short URL version volume
    volume-title volume-title-short year-suffix""".split()
)
DATE_VARIABLES = frozenset(
    ("accessed", "available-date", "event-date", "issued", "original-date", "submitted")
)
NAME_VARIABLES = frozenset(CREATOR_ROLES)

# Names older Zotero and Better BibTeX exports use for CSL variables (Zotero's import accepts them).
ALIASES = {
    "shortTitle": "title-short",
    "journalAbbreviation": "container-title-short",
    "event": "event-title",
}

# Free text whose line breaks mean something.
MULTILINE = {"abstract", "note", "annote"}

# Variables that may legitimately hold several values: joined the way Zotero stores several ISSNs.
MULTI_VALUED = {"ISSN", "ISBN"}

IDENTIFIER_NORMALIZERS = {"DOI": normalize_doi, "PMID": normalize_pmid, "PMCID": normalize_pmcid}
# Variables the canonical record holds as a list (see ingest/records.py).
LIST_NORMALIZERS = {"ISSN": normalize_issns}

MAX_DATE_PART = 9999

ZOTERO_URI = re.compile(r"zotero\.org/(?P<kind>users|groups)/(?P<library>\d+)/items/(?P<key>[A-Z0-9]{8})$")
ORCID = re.compile(r"(\d{4}-\d{4}-\d{4}-\d{3}[\dX])", re.IGNORECASE)
_CSL_KEY = re.compile(r'"(?:type|title|id)"\s*:')


def sniff(head: str) -> bool:
    text = head.lstrip()
    return text[:1] in ("[", "{") and bool(_CSL_KEY.search(text))


def parse(
    source: Source, skip_bad: bool = False, errors: Optional[List[ParseError]] = None
) -> RecordStream:
    """Canonical records of a CSL-JSON file (see the module docstring for ``skip_bad``/``errors``)."""
    return RecordStream(records_of(source, skip_bad), errors)


def records_of(source: Source, skip_bad: bool) -> Iterator[object]:
    """Records, and with ``skip_bad`` the ParseError of each unusable item in its place."""
    items = streamed_json_lines(source)
    if items is None:
        name, text = read_text(source)
        items = load_items(text, name)
    else:
        name = source_name(source)
    for index, item in enumerate(items, start=1):
        try:
            if not isinstance(item, dict):
                raise ParseError(
                    f"expected a CSL-JSON object, got {json_type(item)}", name, f"record {index}"
                )
            yield item_to_record(item, index, name)
        except ParseError as error:
            if not skip_bad:
                raise
            yield error


def json_type(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), "null" if value is None else "a number"
    )


def load_items(text: str, name: str) -> List[Any]:
    """The items of a CSL-JSON document: an array, one object, or JSON Lines."""
    if not text.strip():
        raise ParseError("empty file", name)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        if error.msg == "Extra data" and first_line_is_json(text):
            return load_json_lines(text, name)
        raise ParseError(
            f"not valid JSON: {error.msg}", name, f"line {error.lineno}, column {error.colno}"
        ) from None
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        return [data]
    raise ParseError(f"expected a JSON array or object of CSL items, got {json_type(data)}", name)


def streamed_json_lines(source: Source) -> Optional[Iterator[Any]]:
    """The items of a JSON Lines file read a line at a time, or None for any other source (a JSON
    document, a stream, text in another encoding): those are read whole by ``load_items``.

    A million-record export is gigabytes of text; holding it, or all of its items, would make memory
    grow with the file. The first line decides: a whole JSON object followed by more lines."""
    if not isinstance(source, (str, os.PathLike)):
        return None
    lines = utf8_lines(source)
    try:
        first = next(((n, t) for n, t in lines if t.strip()), None)
        if first is None or not first[1].lstrip().startswith("{"):
            return None
        try:
            json.loads(first[1])
        except json.JSONDecodeError:
            return None  # a document spread over lines (or broken): read whole, errors placed there
        following = next(((n, t) for n, t in lines if t.strip()), None)
    except ParseError:
        return None  # not UTF-8 line by line (UTF-16, Latin-1 …): the whole-file reader explains
    if following is None:
        lines.close()
        return None
    return json_lines(itertools.chain([first, following], lines), source_name(source))


def first_line_is_json(text: str) -> bool:
    """JSON Lines, not a document with junk after it: the first line is a whole JSON value."""
    first = next((line for line in text.split("\n") if line.strip()), "")
    try:
        json.loads(first)
    except json.JSONDecodeError:
        return False
    return True


def load_json_lines(text: str, name: str) -> List[Any]:
    return list(json_lines(enumerate(text.split("\n"), start=1), name))


def json_lines(numbered_lines: Iterable[Tuple[int, str]], name: str) -> Iterator[Any]:
    """The items of (line number, line) pairs of JSON Lines; blank lines are skipped."""
    for number, line in numbered_lines:
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError as error:
            raise ParseError(
                f"not valid JSON (JSON Lines): {error.msg}", name, f"line {number}, column {error.colno}"
            ) from None


def item_to_record(item: dict, index: int, name: str) -> Record:
    where = f"record {index}"
    record: Record = {"type": text_value(item.get("type"), "type") or "document"}
    for key, value in item.items():
        variable = ALIASES.get(key, key)
        if variable in TEXT_VARIABLES:
            text = text_value(value, variable)
            if text is None:
                continue
            normalizer = IDENTIFIER_NORMALIZERS.get(variable) or LIST_NORMALIZERS.get(variable)
            value = normalizer(text) if normalizer else text
            if value and variable not in record:
                record[variable] = value
        elif variable in DATE_VARIABLES:
            date = date_value(value)
            if date:
                record[variable] = date
        elif variable in NAME_VARIABLES:
            names, affiliations = name_list(value, variable, name, where)
            if names:
                record[variable] = names
            if affiliations and variable == "author":
                record["affiliations"] = affiliations

    item_id = text_value(item.get("id"), "id")
    record["source_key"] = item_id or f"#{index}"
    zotero = ZOTERO_URI.search(item_id or "")
    if zotero:
        record["zotero_key"] = zotero.group("key")
        record["zotero_library"] = f"{zotero.group('kind')}/{zotero.group('library')}"
    cite_key = text_value(item.get("citation-key") or item.get("citationKey"), "citation-key")
    if cite_key:
        record["cite_key"] = cite_key

    tags = keyword_tags(item.get("keyword"))
    if tags:
        record["tags"] = tags
    annote = text_value(item.get("annote"), "annote")
    if annote:
        record["notes"] = [{"content": annote, "key": None}]
    references = reference_list(item.get("references"))
    if references:
        record["references"] = references
    return record


def text_value(value: Any, variable: str) -> Optional[str]:
    """A CSL text variable as a string; numbers become text, lists (Crossref's ISSN) are joined or
    reduced to their first value, and anything else (Crossref's ``license`` objects) is not text."""
    if type(value) is str:
        if value.isprintable() and "  " not in value and value[:1] != " " and value[-1:] != " ":
            return value or None  # single spaces only: whitespace other than " " is not printable
        if variable in MULTILINE:
            return value.strip() or None
        return " ".join(value.split()) or None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (str, int, float)):
        text = str(value).strip()
        if variable not in MULTILINE:
            text = " ".join(text.split())
        return text or None
    if isinstance(value, list):
        texts = [t for t in (text_value(v, variable) for v in value if not isinstance(v, list)) if t]
        if not texts:
            return None
        return " ".join(dict.fromkeys(texts)) if variable in MULTI_VALUED else texts[0]
    return None


def date_value(value: Any) -> Optional[dict]:
    """``{"date-parts": [["2013", 1, 1]]}``, ``{"raw": "2013-01-01"}``, ``{"literal": "Spring 2013"}``
    or a plain string → ``{"date-parts": [[2013, 1, 1]]}``; text no date can be read from stays a
    literal."""
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        value = {"raw": str(value)}
    if not isinstance(value, dict):
        return None
    date_parts = value.get("date-parts")
    if not isinstance(date_parts, list):  # a number or a string where the list belongs is no date
        date_parts = []
    parts = [p for p in (date_part(p) for p in date_parts if isinstance(p, list)) if p]
    if parts:
        return {"date-parts": parts}
    for key in ("raw", "literal"):
        text = text_value(value.get(key), key)
        if text:
            parsed = parse_date(text)
            return {"date-parts": [parsed]} if parsed else {"literal": text}
    return None


def date_part(values: list) -> List[int]:
    """``["2013", 1, 1]`` → ``[2013, 1, 1]``; stops at the first part that is not a number of at most
    four digits (no calendar part is longer, and a longer one overflows SQLite's integers)."""
    out: List[int] = []
    for value in values[:3]:
        try:
            number = int(str(value).strip())
        except ValueError:
            break
        if abs(number) > MAX_DATE_PART:
            break
        out.append(number)
    return out


def name_list(value: Any, variable: str, name: str, where: str) -> Tuple[List[dict], List[dict]]:
    """A CSL name list → canonical names, plus the affiliations Crossref attaches to authors."""
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise ParseError(f"{variable!r} must be a list of names, got {json_type(value)}", name, where)
    names: List[dict] = []
    affiliations: List[dict] = []
    for entry in value:
        if isinstance(entry, str):
            entry = {"literal": entry}
        if not isinstance(entry, dict):
            raise ParseError(f"{variable!r} holds {json_type(entry)} where a name belongs", name, where)
        person = canonical_name(entry)
        if not person:
            continue
        names.append(person)
        for affiliation in entry.get("affiliation") or ():
            raw = affiliation.get("name") if isinstance(affiliation, dict) else affiliation
            raw = text_value(raw, "affiliation")
            if raw:
                affiliations.append({"author_position": len(names), "raw": raw})
    return names, affiliations


def canonical_name(entry: dict) -> Optional[dict]:
    """CSL name parts → ``{family, given}`` (particles joined in, as Zotero stores them) or
    ``{literal}``; a suffix and an ORCID are kept beside them."""
    literal = text_value(entry.get("literal"), "literal")
    family = " ".join(
        t for t in (text_value(entry.get(k), k) for k in ("non-dropping-particle", "family")) if t
    )
    given = " ".join(
        t for t in (text_value(entry.get(k), k) for k in ("given", "dropping-particle")) if t
    )
    if family:
        person = {"family": family, "given": given} if given else {"family": family}
    elif literal or given:
        person = {"literal": literal or given}
    else:
        return None
    suffix = text_value(entry.get("suffix"), "suffix")
    if suffix and "family" in person:
        person["suffix"] = suffix
    orcid = ORCID.search(text_value(entry.get("ORCID") or entry.get("orcid"), "ORCID") or "")
    if orcid:
        person["orcid"] = orcid.group(1).upper()
    return person


def keyword_tags(value: Any) -> List[dict]:
    """CSL ``keyword`` (one string, ``;``- or ``,``-separated, or a list) → keyword tags."""
    if isinstance(value, list):
        words = [text_value(v, "keyword") for v in value]
    else:
        text = text_value(value, "keyword") or ""
        words = re.split(r"\s*;\s*" if ";" in text else r"\s*,\s*", text)
    return [{"name": w, "kind": "keyword"} for w in dict.fromkeys(w.strip() for w in words if w) if w]


def reference_list(value: Any) -> List[dict]:
    """CSL ``references`` (text, one reference a line) or a list of strings or objects."""
    if isinstance(value, str):
        value = value.split("\n")
    if not isinstance(value, list):
        return []
    out = []
    for entry in value:
        if isinstance(entry, str):
            raw = entry.strip()
            if raw:
                out.append({"raw": raw})
        elif isinstance(entry, dict):
            reference = {
                "raw": text_value(entry.get("raw") or entry.get("unstructured"), "raw"),
                "DOI": normalize_doi(text_value(entry.get("DOI"), "DOI")),
                "PMID": normalize_pmid(text_value(entry.get("PMID"), "PMID")),
                "title": text_value(entry.get("title") or entry.get("article-title"), "title"),
            }
            reference = {k: v for k, v in reference.items() if v}
            if reference:
                out.append(reference)
    return out
