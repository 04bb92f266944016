"""Zotero item JSON → canonical record, by Zotero's own Zotero↔CSL mapping.

The input is an item's ``data`` object as the Zotero Web API v3 serves it (and as Zotero's translator
tests write their expected items): ``itemType``, ``title``, ``creators`` (``firstName``/``lastName``,
``lastName`` with ``fieldMode: 1``, or a single ``name``), ``date``, ``publicationTitle`` …, ``tags``,
``collections``, ``extra``. The tables below are those of the Zotero schema's ``csl`` section
(zotero/zotero-schema ``schema.json``: ``csl.types``, ``csl.fields``, ``csl.names``) with each base
field expanded to the type-specific fields that map onto it (``bookTitle`` is a ``publicationTitle``,
``university`` a ``publisher`` …), because item JSON carries the type-specific names.

Pure functions only: the Zotero sync and the ``zotero.sqlite`` reader build their records with
``item_to_record`` and add what they alone know (library, trash state, child notes).
"""

from __future__ import annotations

import re
from typing import Dict, Iterable, List, Optional, Tuple

from .normalize import normalize_doi, normalize_issns, normalize_pmcid, normalize_pmid, parse_date
from .records import Record

# csl.types, inverted. "document" is a CSL 1.0.2 type; Zotero maps attachments and notes onto it too.
ITEM_TYPE_TO_CSL: Dict[str, str] = {
    "artwork": "graphic",
    "attachment": "document",
    "audioRecording": "song",
    "bill": "bill",
    "blogPost": "post-weblog",
    "book": "book",
    "bookSection": "chapter",
    "case": "legal_case",
    "computerProgram": "software",
    "conferencePaper": "paper-conference",
    "dataset": "dataset",
    "dictionaryEntry": "entry-dictionary",
    "document": "document",
    "email": "personal_communication",
    "encyclopediaArticle": "entry-encyclopedia",
    "film": "motion_picture",
    "forumPost": "post",
    "hearing": "hearing",
    "instantMessage": "personal_communication",
    "interview": "interview",
    "journalArticle": "article-journal",
    "letter": "personal_communication",
    "magazineArticle": "article-magazine",
    "manuscript": "manuscript",
    "map": "map",
    "newspaperArticle": "article-newspaper",
    "note": "document",
    "patent": "patent",
    "podcast": "broadcast",
    "preprint": "article",
    "presentation": "speech",
    "radioBroadcast": "broadcast",
    "report": "report",
    "standard": "standard",
    "statute": "legislation",
    "thesis": "thesis",
    "tvBroadcast": "broadcast",
    "videoRecording": "motion_picture",
    "webpage": "webpage",
}

# csl.names. Zotero's CSL export drops the creator types missing here; a library should not lose
# people, so those become "contributor" (see csl_role).
CREATOR_TYPE_TO_CSL: Dict[str, str] = {
    "author": "author",
    "bookAuthor": "container-author",
    "castMember": "performer",
    "chair": "chair",
    "composer": "composer",
    "contributor": "contributor",
    "creator": "author",
    "director": "director",
    "editor": "editor",
    "executiveProducer": "executive-producer",
    "guest": "guest",
    "host": "host",
    "interviewer": "interviewer",
    "narrator": "narrator",
    "originalCreator": "original-author",
    "organizer": "organizer",
    "podcaster": "host",
    "producer": "producer",
    "recipient": "recipient",
    "reviewedAuthor": "reviewed-author",
    "scriptwriter": "script-writer",
    "seriesCreator": "series-creator",
    "seriesEditor": "collection-editor",
    "translator": "translator",
}

# The schema's primary creator type of each item type that is not "author": it is the CSL author
# (an artwork's artist, a patent's inventor …), as in Zotero's itemToCSLJSON.
PRIMARY_CREATOR_TYPE: Dict[str, str] = {
    "artwork": "artist",
    "audioRecording": "performer",
    "bill": "sponsor",
    "computerProgram": "programmer",
    "film": "director",
    "hearing": "contributor",
    "interview": "interviewee",
    "map": "cartographer",
    "patent": "inventor",
    "podcast": "podcaster",
    "presentation": "presenter",
    "radioBroadcast": "director",
    "tvBroadcast": "director",
    "videoRecording": "director",
}

# Base fields and the type-specific fields that stand for them in item JSON (schema "baseField").
BASE_FIELDS: Dict[str, Tuple[str, ...]] = {
    "title": ("caseName", "nameOfAct", "subject"),
    "publicationTitle": (
        "bookTitle", "proceedingsTitle", "websiteTitle", "blogTitle", "forumTitle",
        "dictionaryTitle", "encyclopediaTitle", "programTitle",
    ),
    "publisher": (
        "company", "distributor", "institution", "label", "network", "repository", "studio",
        "university",
    ),
    "place": ("repositoryLocation",),
    "number": (
        "archiveID", "billNumber", "docketNumber", "documentNumber", "episodeNumber", "identifier",
        "patentNumber", "publicLawNumber", "reportNumber",
    ),
    "type": (
        "genre", "letterType", "manuscriptType", "mapType", "postType", "presentationType",
        "reportType", "thesisType", "websiteType",
    ),
    "medium": (
        "artworkMedium", "audioFileType", "audioRecordingFormat", "format", "interviewMedium",
        "videoRecordingFormat",
    ),
    "date": ("dateDecided", "dateEnacted", "issueDate"),
    "pages": ("codePages", "firstPage"),
    "volume": ("codeVolume", "reporterVolume"),
    "authority": ("court", "issuingAuthority", "legislativeBody", "organization"),
    "status": ("legalStatus",),
}

# csl.fields.text: CSL variable ← Zotero fields, the first non-empty one wins. journalAbbreviation
# is exported as container-title-short, the CSL 1.0 name of what the schema calls journalAbbreviation.
CSL_TEXT_FIELDS: Dict[str, Tuple[str, ...]] = {
    "title": ("title",),
    "abstract": ("abstractNote",),
    "archive": ("archive",),
    "archive_location": ("archiveLocation",),
    "authority": ("authority",),
    "call-number": ("callNumber", "applicationNumber"),
    "chapter-number": ("session",),
    "collection-number": ("seriesNumber",),
    "collection-title": ("seriesTitle", "series"),
    "container-title": ("publicationTitle", "reporter", "code"),
    "container-title-short": ("journalAbbreviation",),
    "dimensions": ("artworkSize", "runningTime"),
    "DOI": ("DOI",),
    "edition": ("edition",),
    "event-place": ("eventPlace",),
    "event-title": ("meetingName", "conferenceName"),
    "genre": ("type", "programmingLanguage"),
    "ISBN": ("ISBN",),
    "ISSN": ("ISSN",),
    "issue": ("issue", "priorityNumbers"),
    "language": ("language",),
    "license": ("rights",),
    "medium": ("medium", "system"),
    "number": ("number",),
    "number-of-pages": ("numPages",),
    "number-of-volumes": ("numberOfVolumes",),
    "original-publisher": ("originalPublisher",),
    "original-publisher-place": ("originalPlace",),
    "part-number": ("partNumber",),
    "part-title": ("partTitle",),
    "page": ("pages",),
    "PMID": ("PMID",),
    "PMCID": ("PMCID",),
    "publisher": ("publisher",),
    "publisher-place": ("place",),
    "scale": ("scale",),
    "section": ("section", "committee"),
    "source": ("libraryCatalog",),
    "status": ("status",),
    "title-short": ("shortTitle",),
    "URL": ("url",),
    "version": ("versionNumber",),
    "volume": ("volume", "codeNumber"),
}

# csl.fields.date
CSL_DATE_FIELDS: Dict[str, Tuple[str, ...]] = {
    "issued": ("date",),
    "accessed": ("accessDate",),
    "submitted": ("filingDate",),
    "original-date": ("originalDate",),
}

# Zotero's own list fields that CSL calls "references"; refsette keeps a reference list, one per line.
REFERENCE_FIELDS = ("references", "history")

# Identifier lines Zotero keeps in Extra ("PMID: 123") for item types without such a field.
EXTRA_IDENTIFIERS: Dict[str, str] = {
    "pmid": "PMID",
    "pmcid": "PMCID",
    "doi": "DOI",
    "citation key": "cite_key",
}

IDENTIFIER_NORMALIZERS = {"DOI": normalize_doi, "PMID": normalize_pmid, "PMCID": normalize_pmcid}
# Zotero keeps several ISSNs in one field ("0028-0836, 1476-4687"); the record holds a list.
LIST_NORMALIZERS = {"ISSN": normalize_issns}

_EXTRA_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z ]*?)\s*:\s*(.*?)\s*$")


def _with_base_fields(fields: Iterable[str]) -> Tuple[str, ...]:
    expanded: List[str] = []
    for field in fields:
        expanded.append(field)
        expanded.extend(BASE_FIELDS.get(field, ()))
    return tuple(expanded)


def _text(value) -> Optional[str]:
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    return text or None


def first_value(data: dict, fields: Iterable[str]) -> Optional[str]:
    """The first non-empty value among ``fields`` and the type-specific fields behind them."""
    for field in _with_base_fields(fields):
        value = _text(data.get(field))
        if value:
            return value
    return None


def csl_type(item_type: Optional[str]) -> str:
    """``journalArticle`` → ``article-journal``; an unknown type → ``document``."""
    return ITEM_TYPE_TO_CSL.get(item_type or "", "document")


def csl_role(creator_type: Optional[str], item_type: Optional[str]) -> str:
    """The CSL role of a creator: the item type's primary creator is the author."""
    creator_type = creator_type or "author"
    if creator_type == PRIMARY_CREATOR_TYPE.get(item_type or "", "author"):
        return "author"
    return CREATOR_TYPE_TO_CSL.get(creator_type, "contributor")


def csl_name(creator: dict) -> Optional[dict]:
    """``{firstName, lastName}`` → ``{family, given}``; single-field names → ``{literal}``."""
    name = _text(creator.get("name"))
    if name:
        return {"literal": name}
    family = _text(creator.get("lastName"))
    given = _text(creator.get("firstName"))
    if creator.get("fieldMode") == 1 and family:
        return {"literal": family}
    if family and given:
        return {"family": family, "given": given}
    if family:
        return {"family": family}
    if given:
        return {"literal": given}
    return None


def creators_by_role(creators: Iterable[dict], item_type: Optional[str]) -> Dict[str, List[dict]]:
    """Creators grouped under their CSL role, each role keeping Zotero's order."""
    roles: Dict[str, List[dict]] = {}
    for creator in creators or ():
        name = csl_name(creator)
        if name:
            roles.setdefault(csl_role(creator.get("creatorType"), item_type), []).append(name)
    return roles


def date_parts(value, parsed: Optional[str] = None) -> Optional[dict]:
    """Zotero's free-text date → ``{"date-parts": [[y, m, d]]}``; ``parsed`` (``meta.parsedDate``,
    ``2011-01-07``) is preferred when the API supplied it."""
    for candidate in (parsed, value):
        parts = parse_date(candidate) if _text(candidate) else None
        if parts:
            return {"date-parts": [parts]}
    return None


def split_extra(extra: Optional[str]) -> Tuple[Dict[str, str], Optional[str]]:
    """Identifier lines of Extra (``PMID: 123``) and what is left of it, the CSL note."""
    found: Dict[str, str] = {}
    kept: List[str] = []
    for line in (extra or "").split("\n"):
        match = _EXTRA_LINE.match(line)
        key = EXTRA_IDENTIFIERS.get(match.group(1).lower()) if match else None
        if key and match.group(2) and key not in found:
            found[key] = match.group(2)
        else:
            kept.append(line)
    note = "\n".join(kept).strip()
    return found, note or None


def tag_records(tags: Iterable) -> List[dict]:
    """Zotero tags: ``type: 1`` marks one added automatically (by a translator or a feed)."""
    out = []
    for tag in tags or ():
        if isinstance(tag, str):
            name, automatic = tag, False
        else:
            name, automatic = tag.get("tag"), tag.get("type") == 1
        name = _text(name)
        if name:
            out.append({"name": name, "kind": "automatic" if automatic else "manual"})
    return out


def note_records(notes: Iterable) -> List[dict]:
    """Translator-style embedded notes (``[{"note": html}]`` or strings)."""
    out = []
    for note in notes or ():
        content = _text(note if isinstance(note, str) else note.get("note"))
        if content:
            key = None if isinstance(note, str) else note.get("key")
            out.append({"content": content, "key": key})
    return out


def reference_records(data: dict) -> List[dict]:
    lines: List[str] = []
    for field in REFERENCE_FIELDS:
        lines.extend(line.strip() for line in str(data.get(field) or "").split("\n"))
    return [{"raw": line} for line in lines if line]


def _set_identifier(record: Record, key: str, value: Optional[str]) -> None:
    if key in record or not value:
        return
    normalizer = IDENTIFIER_NORMALIZERS.get(key)
    value = normalizer(value) if normalizer else value.strip()
    if value:
        record[key] = value


def item_to_record(data: dict, meta: Optional[dict] = None) -> Record:
    """A Zotero item's ``data`` (and optionally its API ``meta``) as a canonical record."""
    item_type = data.get("itemType")
    record: Record = {"type": csl_type(item_type)}

    for variable, fields in CSL_TEXT_FIELDS.items():
        value = first_value(data, fields)
        if value is None:
            continue
        if variable in IDENTIFIER_NORMALIZERS:
            _set_identifier(record, variable, value)
        elif variable in LIST_NORMALIZERS:
            values = LIST_NORMALIZERS[variable](value)
            if values:
                record[variable] = values
        else:
            record[variable] = value

    for variable, fields in CSL_DATE_FIELDS.items():
        parsed = (meta or {}).get("parsedDate") if variable == "issued" else None
        date = date_parts(first_value(data, fields), parsed)
        if date:
            record[variable] = date

    record.update(creators_by_role(data.get("creators"), item_type))

    from_extra, note = split_extra(data.get("extra"))
    for key, value in from_extra.items():
        _set_identifier(record, key, value)
    if note:
        record["note"] = note
    citation_key = _text(data.get("citationKey"))
    if citation_key:
        record["cite_key"] = citation_key

    tags = tag_records(data.get("tags"))
    if tags:
        record["tags"] = tags
    notes = note_records(data.get("notes"))
    if notes:
        record["notes"] = notes
    references = reference_records(data)
    if references:
        record["references"] = references
    collections = [{"key": key} for key in data.get("collections") or () if key]
    if collections:
        record["collections"] = collections

    key = _text(data.get("key"))
    if key:
        record["zotero_key"] = key
        record["source_key"] = key
    return record
