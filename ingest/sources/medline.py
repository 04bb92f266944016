"""PubMed MEDLINE / .nbib (and ERIC's .nbib variant): tagged ``TAG - value`` records.

Written by hand: the PyPI readers (``nbib``, last released 2021; Biopython's ``Bio.Medline``) only
split tags, and none pairs FAU/AU with their AD/AUID lines, reads ERIC's variant or reports the line
of a bad record.

The format: a 4-character tag field padded with spaces, ``- ``, the value; continuation lines are
indented (6 spaces); records are separated by blank lines and may start with any tag (PMC exports put
``PMC -`` first). A repeated ``PMID``/``PMC`` line also starts a new record, for files concatenated
without a blank line.

Bad input raises ``ParseError`` naming the file, the line and the record (its PMID when known).
With ``parse(source, skip_bad=True)`` a bad record is skipped instead (up to the next blank line or
``PMID-`` line) and reading goes on; the returned stream's ``errors`` list (or the ``errors`` list
passed in) holds a ``ParseError`` for each record skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator, List, Optional, Tuple

from .. import normalize
from ..records import ParseError, Record, RecordStream
from . import Source, read_text
from .pubmed_common import clean_doi, dotted_given, orcid_of, split_place, unbracket_title

# The tag field is 4 characters wide ("PMID-", "AB  -"); ERIC writes 4-letter tags as "ISBN -".
TAG_LINE = re.compile(r"^([A-Z][A-Z0-9]{1,3}) {0,3}-(?: (.*)|\s*)$")
CONTINUATION = re.compile(r"^[ \t]+\S")

# Tags whose repetition means a new record even without a blank line between them.
RECORD_KEYS = ("PMID", "PMC")

KNOWN_TAGS = {
    "AB", "AD", "AID", "AN", "AU", "AUID", "BTI", "CI", "CIN", "CN", "COI", "COIS", "CON", "CP", "CRDT",
    "CRF", "CRI", "CTDT", "CTI", "DA", "DCOM", "DDIN", "DEP", "DP", "DRDT", "DRIN", "ECF", "ECI", "ED",
    "EDAT", "EFR", "EIN", "EN", "FAU", "FED", "FIR", "FPS", "GN", "GR", "GS", "IP", "IR", "IRAD", "IS",
    "ISBN", "ISSN", "JID", "JT", "KW", "LA", "LID", "LR", "MH", "MHDA", "MID", "NM", "OAB", "OABL",
    "OCI", "OID", "ORI", "OT", "OTO", "OWN", "PB", "PG", "PHST", "PL", "PMC", "PMCR", "PMID", "PS",
    "PST", "PT", "PUBM", "RF", "RIN", "RN", "RPF", "RPI", "RRF", "RRI", "SB", "SFM", "SI", "SO",
    "SPIN", "STAT", "TA", "TI", "TT", "UIN", "UOF", "VI", "VTI",
}

SEASONS = ("spring", "summer", "autumn", "fall", "winter")


@dataclass
class RawRecord:
    """One record's tag lines, as read: [(tag, value, line number)], plus where it starts."""

    start_line: int
    fields: List[Tuple[str, str, int]] = field(default_factory=list)

    def first(self, tag: str) -> Optional[str]:
        for name, value, _ in self.fields:
            if name == tag and value:
                return value
        return None

    def all(self, tag: str) -> List[str]:
        return [value for name, value, _ in self.fields if name == tag and value]

    def has(self, tag: str) -> bool:
        return any(name == tag for name, _, _ in self.fields)


def sniff(head: str) -> bool:
    """MEDLINE tag lines (``PMID- ``, ``PMC - ``, ``TI  - ``) at the start of the file."""
    lines = [line for line in head.splitlines()[:40] if line.strip()]
    if not lines:
        return False
    first = lines[0]
    if not TAG_LINE.match(first) or first[:4].rstrip() not in KNOWN_TAGS:
        return False
    tag_lines = [line for line in lines if TAG_LINE.match(line)]
    tags = {line[:4].rstrip() for line in tag_lines}
    # RIS lines ("TY  - JOUR") share the shape; MEDLINE is told apart by its own tags.
    if "TY" in tags or "ER" in tags:
        return False
    return bool(tags & {"PMID", "PMC", "OWN", "FAU", "STAT", "DP", "JT"}) and len(tags & KNOWN_TAGS) >= 2


def parse(
    source: Source, skip_bad: bool = False, errors: Optional[List[ParseError]] = None
) -> RecordStream:
    """Canonical records of a MEDLINE file (see the module docstring for ``skip_bad``/``errors``)."""
    errors = [] if errors is None else errors
    return RecordStream(records_of(source, skip_bad, errors), errors)


def records_of(source: Source, skip_bad: bool, errors: list) -> Iterator[Record]:
    name, text = read_text(source)
    if not text.strip():
        raise ParseError("empty file: no MEDLINE record", name)
    for raw in read_records(text, name, skip_bad, errors):
        try:
            record = to_record(raw, name)
        except ParseError as error:
            if not skip_bad:
                raise
            errors.append(error)
            continue
        yield record


# ---------------------------------------------------------------------------------------------
# Reading tag lines into raw records


def read_records(
    text: str, name: str, skip_bad: bool = False, errors: Optional[list] = None
) -> Iterator[RawRecord]:
    """Split ``text`` into raw records; continuation lines are joined to their tag's value."""
    current: Optional[RawRecord] = None
    bad = False  # skipping the rest of a bad record (skip_bad mode)
    # Continuation lines of the last field, joined once it is complete: joining line by line copies
    # the value again for every line, and a huge abstract has tens of thousands of them.
    continued: List[str] = []

    def complete(record: Optional[RawRecord]) -> Optional[RawRecord]:
        if record is not None and continued:
            tag, value, start = record.fields[-1]
            record.fields[-1] = (tag, " ".join([value, *continued]).strip(), start)
        continued.clear()
        return record

    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            if current is not None and current.fields and not bad:
                yield complete(current)
            current, bad = None, False
            continued.clear()
            continue
        match = TAG_LINE.match(line)
        if bad:
            if not (match and match.group(1) == "PMID"):
                continue
            bad = False  # a new record starts: the bad one ended without a blank line
        if match and (line.index("-") in (4, 5) or match.group(1) in KNOWN_TAGS):
            tag, value = match.group(1), (match.group(2) or "").strip()
            complete(current)
            if current is not None and tag in RECORD_KEYS and current.has(tag) and current.fields:
                yield current
                current = None
            if current is None:
                current = RawRecord(start_line=number)
            current.fields.append((tag, value, number))
            continue
        if CONTINUATION.match(line) and current is not None and current.fields:
            continued.append(line.strip())
            continue
        problem = (
            "continuation line with no tag before it"
            if CONTINUATION.match(line)
            else f"not a MEDLINE tag line ({shorten(line)!r}); expected 'TAG - value' or an indented continuation"
        )
        error = ParseError(problem, name, location(number, complete(current)))
        if not skip_bad:
            raise error
        if errors is not None:
            errors.append(error)
        current, bad = None, True
    if current is not None and current.fields and not bad:
        yield complete(current)


def location(line: int, record: Optional[RawRecord]) -> str:
    where = f"line {line}"
    key = record.first("PMID") if record else None
    if key:
        where += f" (record PMID {key})"
    elif record is not None:
        where += f" (record starting at line {record.start_line})"
    return where


def shorten(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# ---------------------------------------------------------------------------------------------
# Raw record → canonical record


def to_record(raw: RawRecord, name: str) -> Record:
    pmid_text = raw.first("PMID")
    if pmid_text is not None and not re.fullmatch(r"\d+", pmid_text):
        raise ParseError(f"PMID is not a number: {pmid_text!r}", name, location(pmid_line(raw), raw))
    eric = eric_number(raw)
    title, original_title = titles(raw)
    record: Record = {}
    record["type"] = csl_type(raw, eric)
    if title:
        record["title"] = title
    if original_title:
        record["original-title"] = original_title
    authors, editors, affiliations = creators(raw)
    if authors:
        record["author"] = authors
    if editors:
        record["editor"] = editors
    if affiliations:
        record["affiliations"] = affiliations
    put_container(record, raw)
    put_identifiers(record, raw, pmid_text, eric)
    put_pages(record, raw)
    put_dates(record, raw)
    put_plain(record, raw)
    tags = tag_list(raw)
    if tags:
        record["tags"] = tags
    record["source_key"] = pmid_text or eric or record.get("PMCID") or f"line {raw.start_line}"
    if not (title or pmid_text or eric or record.get("DOI") or record.get("PMCID")):
        raise ParseError(
            "record has no title and no identifier (PMID, DOI, PMC)", name,
            f"line {raw.start_line}",
        )
    return record


def pmid_line(raw: RawRecord) -> int:
    return next(number for tag, _, number in raw.fields if tag == "PMID")


def eric_number(raw: RawRecord) -> Optional[str]:
    for value in raw.all("OID"):
        match = re.fullmatch(r"(E[JD]\d+)", value.strip())
        if match:
            return match.group(1)
    return None


def titles(raw: RawRecord) -> Tuple[Optional[str], Optional[str]]:
    """(title, original-language title). PubMed brackets a translated title: ``[Title].``"""
    title = raw.first("TI")
    book_title = raw.first("BTI")
    if not title and book_title and not is_chapter(raw):
        title = book_title
    original = raw.first("TT") or raw.first("VTI")
    if title:
        title = unbracket_title(title)
    return title, original


# PubMed publication types → CSL, most specific first (a record lists several; "Preprint" and
# "Book Chapter" win over the "Journal Article" that often comes with them).
TYPE_PRIORITY = (
    ("Preprint", "article"),
    ("Book Chapter", "chapter"),
    ("Book", "book"),
    ("Books", "book"),
    ("Newspaper Article", "article-newspaper"),
    ("Video-Audio Media", "motion_picture"),
    ("Technical Report", "report"),
    ("Legal Case", "legal_case"),
    ("Legislation", "legislation"),
    ("Dataset", "dataset"),
    ("Journal Article", "article-journal"),
    ("Journal Articles", "article-journal"),  # ERIC
    ("Case Reports", "article-journal"),
    ("Case Report", "article-journal"),
)


def is_chapter(raw: RawRecord) -> bool:
    return "Book Chapter" in raw.all("PT") or bool(raw.first("TI") and raw.first("BTI"))


def csl_type(raw: RawRecord, eric: Optional[str]) -> str:
    types = raw.all("PT")
    for publication_type, csl in TYPE_PRIORITY:
        if publication_type in types:
            return csl
    if any("Dissertation" in value for value in types):
        return "thesis"
    if raw.first("BTI"):
        return "chapter" if raw.first("TI") else "book"
    # ERIC marks reports with "Reports - …", but journal articles (EJ numbers) carry it too.
    if any("Report" in value for value in types) and not (eric or "").startswith("EJ"):
        return "report"
    return "article-journal"


def creators(raw: RawRecord) -> Tuple[list, list, list]:
    """Authors and editors in order, FAU/AU (FED/ED) paired; AD and AUID go to the author before them."""
    people = {"author": [], "editor": []}
    # Whether the last person of each role came from a full-name line still waiting for its short form.
    waiting_short = {"author": False, "editor": False}
    affiliations: list = []
    last_role = "author"
    for tag, value, _ in raw.fields:
        if not value:
            continue
        if tag in ("FAU", "FED"):
            role = "author" if tag == "FAU" else "editor"
            people[role].append(name_from_full(value))
            waiting_short[role] = True
            last_role = role
        elif tag in ("AU", "ED"):
            role = "author" if tag == "AU" else "editor"
            if is_et_al(value):
                continue
            if waiting_short[role]:
                waiting_short[role] = False  # the short form of the person just read
            else:
                people[role].append(name_from_short(value))
            last_role = role
        elif tag == "CN":
            people["author"].append({"literal": value.rstrip(".").strip()})
            waiting_short["author"] = False
            last_role = "author"
        elif tag == "AD" and last_role == "author":
            position = max(len(people["author"]), 1)
            affiliations.append({"author_position": position, "raw": value})
        elif tag == "AUID" and last_role == "author" and people["author"]:
            orcid = orcid_of(value) if "orcid" in value.lower() else None
            if orcid:
                people["author"][-1]["ORCID"] = orcid
    return people["author"], people["editor"], affiliations


def is_et_al(value: str) -> bool:
    return value.strip().lower().rstrip(".") in ("et al", "et al,")


def name_from_full(value: str) -> dict:
    """``van Raaij, M J`` → family ``van Raaij``, given ``M. J.``; no comma → ``Surname Initials``."""
    if "," in value:
        family, given = (part.strip() for part in value.split(",", 1))
        person = {"family": family}
        if given:
            person["given"] = dotted_given(given)
        return person
    return name_from_short(value)


def name_from_short(value: str) -> dict:
    """``de Hoon MJ`` → family ``de Hoon``, given ``M. J.``; ERIC writes ``Last, First`` here too."""
    if "," in value:
        return name_from_full(value)
    parsed = normalize.parse_surname_initials(value)
    if "literal" in parsed:
        return {"literal": parsed["literal"]}
    return {"family": parsed["family"], "given": parsed["given"]}


def put_container(record: Record, raw: RawRecord) -> None:
    journal = raw.first("JT")
    kind = record["type"]
    if kind == "chapter":
        if raw.first("BTI"):
            record["container-title"] = raw.first("BTI")
    elif kind in ("report", "book", "thesis") and journal:
        # ERIC puts the issuing body (report, book) or the archive (thesis) in JT.
        if kind == "thesis":
            record["archive"] = journal
            university = university_of(raw.first("SO"))
            if university:
                record["publisher"] = university
        else:
            record["publisher"] = journal
    elif journal:
        journal, place = split_place(journal)
        record["container-title"] = journal
        if place:
            record["publisher-place"] = place
    if raw.first("TA") and kind not in ("report", "book", "thesis"):
        record["container-title-short"] = raw.first("TA")


def university_of(citation: Optional[str]) -> Optional[str]:
    match = re.search(r",\s*([^,]+ University)\b", citation or "")
    return match.group(1).strip() if match else None


def put_identifiers(record: Record, raw: RawRecord, pmid: Optional[str], eric: Optional[str]) -> None:
    if pmid:
        normal = normalize.normalize_pmid(pmid)
        if normal:
            record["PMID"] = normal
    pmc = raw.first("PMC")
    if pmc and normalize.normalize_pmcid(pmc):
        record["PMCID"] = normalize.normalize_pmcid(pmc)
    doi = next(filter(None, (doi_of(value) for value in raw.all("LID") + raw.all("AID"))), None)
    if doi:
        record["DOI"] = doi
    issns, isbns = [], []
    for value in raw.all("IS") + raw.all("ISSN"):
        text = re.sub(r"^E?ISSN-", "", value.strip())
        issn = normalize.normalize_issn(text) if re.match(r"^\s*\d{4}-?\d{3}[\dXx]\b", text) else None
        if issn:
            if issn not in issns:
                issns.append(issn)
        elif isbn_of(text):
            isbns.append(isbn_of(text))
    for value in raw.all("ISBN"):
        if isbn_of(value):
            isbns.append(isbn_of(value))
    if issns:
        record["ISSN"] = issns
    if isbns:
        record["ISBN"] = " ".join(dict.fromkeys(isbns))
    if eric:
        record["note"] = f"ERIC Number: {eric}"
    # ERIC: AID is the publisher's link, LID the catalogue's.
    for value in raw.all("AID") + raw.all("LID"):
        if value.startswith(("http://", "https://", "www.")) and not doi_of(value):
            record["URL"] = value if not value.startswith("www.") else f"http://{value}"
            break


def doi_of(value: str) -> Optional[str]:
    """``10.1/x [doi]`` (PubMed) or a ``doi.org`` link (ERIC) → the DOI."""
    if value.endswith("[doi]"):
        return clean_doi(value[: -len("[doi]")])
    if re.match(r"^https?://(dx\.)?doi\.org/", value, re.IGNORECASE):
        return clean_doi(value)
    return None


def isbn_of(value: str) -> Optional[str]:
    digits = re.sub(r"[^0-9Xx]", "", re.sub(r"^ISBN-", "", value.strip()).split("(")[0])
    return digits.upper() if len(digits) in (10, 13) else None


def put_pages(record: Record, raw: RawRecord) -> None:
    """PG as written; without PG, an LID that is not a DOI or URL is the article number."""
    pages = raw.first("PG")
    if not pages:
        for value in raw.all("LID"):
            if value.endswith("[doi]") or value.startswith(("http://", "https://")):
                continue
            pages = re.sub(r"\s*\[[a-z]+\]$", "", value).strip()
            if pages:
                break
    if pages:
        record["page"] = pages


def put_dates(record: Record, raw: RawRecord) -> None:
    """DP (``2017 Mar 5``, ``2016 Nov-Dec``, ``2017 Spring``); the electronic date DEP when DP is missing."""
    published = raw.first("DP")
    if not published:
        electronic = raw.first("DEP") or ""
        if re.fullmatch(r"\d{8}", electronic):
            record["issued"] = {"date-parts": [[int(electronic[:4]), int(electronic[4:6]), int(electronic[6:])]]}
        return
    parts = normalize.parse_date(published)
    if not parts:
        return
    issued = {"date-parts": [parts]}
    season = next((s for s in SEASONS if s in published.lower()), None)
    if season and len(parts) == 1:
        issued["season"] = season.capitalize()
    if not re.fullmatch(r"\d{4}( [A-Z][a-z]{2}( \d{1,2})?)?", published):
        issued["raw"] = published  # a range or a season: the parts alone would say less
    record["issued"] = issued


def put_plain(record: Record, raw: RawRecord) -> None:
    for tag, key in (
        ("VI", "volume"), ("IP", "issue"), ("AB", "abstract"), ("LA", "language"),
        ("EN", "edition"), ("CI", "license"),
    ):
        value = raw.first(tag)
        if value:
            record[key] = value
    if raw.first("PB") and "publisher" not in record:
        record["publisher"] = raw.first("PB")
    # A journal's PL is the country the journal comes from, not a place of publication.
    if raw.first("PL") and (raw.first("PB") or record["type"] in ("book", "chapter")):
        record.setdefault("publisher-place", raw.first("PL"))


def tag_list(raw: RawRecord) -> list:
    tags = []
    for tag, value, _ in raw.fields:
        if not value:
            continue
        if tag == "MH":
            descriptor = mesh_descriptor(value)
            if descriptor:
                tags.append({"name": descriptor, "kind": "mesh"})
        elif tag in ("OT", "KW"):
            tags.append({"name": value, "kind": "keyword"})
    return tags


def mesh_descriptor(heading: str) -> str:
    """``Aurovertins/*chemistry/*metabolism`` → ``Aurovertins``: the descriptor alone, the name PubMed
    XML gives it, so one heading is one tag whichever format it came from."""
    return heading.split("/", 1)[0].lstrip("*").strip()
