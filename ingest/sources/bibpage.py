"""PubMed-style bibliography pages: a summary, titled sections, numbered NLM-style references,
each optionally followed by a quoted excerpt.

    Summary: A humanized monoclonal antibody against the ERBB-2 RECEPTOR (HER2). ...

    Top Publications

      1. Sliwkowski M, Lofgren J, Fox J. Nonclinical studies ... (Herceptin). Semin Oncol. 1999;26:60-70 pubmed
        ..One of these antibodies, 4D5, has been fully humanized ...

No library reads this format (it is a rendered web page, not an export), hence this hand-written parser.
The page becomes a collection (description: the summary; subject tags: the summary's upper-case MeSH
terms) and each section a child collection holding its works in order, the excerpt as their context.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, Iterator, List, Optional

from ..normalize import parse_date, parse_surname_initials
from ..records import ParseError, Record, RecordStream
from . import Source, read_text

REFERENCE_LINE = re.compile(r"^(?P<indent>\s*)(?P<number>\d{1,5})\.\s+(?P<text>\S.*)$")

# Link markers the page prints after a reference ("pubmed publisher").
MARKERS = ("pubmed", "publisher", "pmc", "free", "full text", "google scholar")
_MARKER_RUN = re.compile(
    r"^(?P<markers>(?:\s+(?:pubmed|publisher|pmc|free)\b)+)(?:\s+(?P<excerpt>.*))?$", re.IGNORECASE
)

# "Journal. 2017;12(3):e0173593" / "2014;2014:" / "1999;26:60-70; author reply 71" / "2017 Mar;..."
_CITATION_TAIL = re.compile(
    r"""^\s*(?P<year>\d{4})(?P<date>(?:\s+[A-Z][a-z]{2}(?:-[A-Z][a-z]{2})?(?:\s+\d{1,2})?)?)
        (?:;(?P<volume>[^:;()\s]*(?:\s+(?:Suppl|Pt|Spec\ No)(?:\s+[^:;()\s]+)?)?)(?:\s*\((?P<issue>[^)]*)\))?)?
        (?::(?P<pages>[^\s;]*))?
        (?:;\s*(?P<reply>author\ reply\s+\S+?))?
        \.?(?P<rest>(?:\s.*)?)$""",
    re.VERBOSE,
)
_YEAR_START = re.compile(r"\.\s+(?=\d{4}\b)")

_GROUP_WORDS = re.compile(
    r"\b(group|consortium|collaborat\w*|committee|investigators|trialists|society|association|network|"
    r"panel|team|working|council|organi[sz]ation|study|program|programme|project|initiative|foundation|"
    r"writers|board|alliance|registry|centre|center)\b",
    re.IGNORECASE,
)
_PERSON = re.compile(r"^(?:[^\W\d_]|['’])[\w'’.\- ]*\s[A-Z\u00C0-\u00DE]{1,4}$")
_ET_AL = re.compile(r"^et\.? al\.?$", re.IGNORECASE)
# Upper-case runs in the summary are MeSH headings ("ERBB-2 RECEPTOR"); a lone acronym is not.
_MESH_RUN = re.compile(r"(?<![(\w])([A-Z][A-Z0-9\-]*(?:[ ,][A-Z][A-Z0-9\-]*)*)(?![\w)])")
# Debris left by stripped HTML at the start of an excerpt: "..b>Trastuzumab", "</b>".
_EXCERPT_DEBRIS = re.compile(r"^(?:\.\.\s*)?(?:<\/?[a-z]{1,6}>|[a-z]{1,2}>)\s*")


def sniff(head: str) -> bool:
    lines = [line for line in head.splitlines() if line.strip()][:80]
    references = [line for line in lines if REFERENCE_LINE.match(line) and _find_tail(line) is not None]
    return len(references) >= 1 and (
        any(line.startswith("Summary:") for line in lines)
        or any(re.search(r"\bpubmed\b", line) for line in references)
        or len(references) >= 3
    )


def parse(
    source: Source, skip_bad: bool = False, errors: Optional[List[ParseError]] = None
) -> RecordStream:
    """Records of a page; with ``skip_bad`` unreadable references are left out and their errors
    collected in the stream's ``errors`` (the list passed as ``errors``, if any)."""
    name, text = read_text(source)
    return RecordStream(parse_text(text, name, skip_bad), errors)


def parse_text(text: str, name: str = "<page>", skip_bad: bool = False) -> Iterator[object]:
    """Records of a page's text, and with ``skip_bad`` the ParseError of each unreadable reference in
    its place (``RecordStream`` sorts them out)."""
    page_key = "bibpage:" + _slug(Path(name).stem or "page")
    summary = page_summary(text)
    page = {
        "key": page_key,
        "name": _title_from_stem(Path(name).stem),
        "parent_key": None,
        "description": summary,
        "member": False,
        "tags": [{"name": term, "kind": "mesh"} for term in mesh_terms(summary)],
    }
    section: Optional[Dict] = None
    sections_seen = 0
    current: Optional[Record] = None
    in_summary = False
    reference_indent: Optional[int] = None

    def finish(record: Optional[Record]):
        if record is not None:
            excerpt = " ".join(record.pop("_excerpt_parts"))
            cleaned = clean_excerpt(excerpt)
            record["context"] = cleaned
            record["collections"][-1]["context"] = cleaned
        return record

    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            in_summary = False
            continue
        stripped = line.strip()
        if stripped.startswith("Summary:") and section is None:
            in_summary = True
            continue
        if in_summary and not line[:1].isspace():
            continue
        reference = REFERENCE_LINE.match(line)
        if reference:
            try:
                record = parse_reference(reference.group("text"), name, lineno)
            except ParseError as error:
                if not skip_bad:
                    raise
                yield error
                continue
            indent = len(reference.group("indent"))
            if record is None and indent <= (reference_indent if reference_indent is not None else 3):
                # At a reference's indentation, a numbered line that does not read as one is an
                # error, not an excerpt: silently gluing it to the previous work would lose it.
                error = ParseError(
                    f"reference {reference.group('number')} has no 'Journal. Year;Volume(Issue):Pages' block",
                    name, f"line {lineno}",
                )
                if not skip_bad:
                    raise error
                yield error
                continue
            if record is not None:
                reference_indent = indent if reference_indent is None else reference_indent
                done = finish(current)
                if done is not None:
                    yield done
                if section is None:
                    sections_seen += 1
                    section = _section(page, "References", sections_seen)
                number = int(reference.group("number"))
                record["source_key"] = f"{section['key'].split('/', 1)[1]}/{number}"
                record["collections"] = [
                    dict(page),
                    dict(section, member=True, position=number),
                ]
                record["_excerpt_parts"] = [record.pop("_same_line_excerpt", "")]
                current = record
                continue
        if not line[:1].isspace() and not reference:
            done = finish(current)
            if done is not None:
                yield done
            current = None
            sections_seen += 1
            section = _section(page, stripped, sections_seen)
            continue
        if current is not None:
            current["_excerpt_parts"].append(stripped)
            continue
        raise ParseError(f"unexpected text outside any reference: {stripped[:60]!r}", name, f"line {lineno}")

    done = finish(current)
    if done is not None:
        yield done
    elif reference_indent is None:
        raise ParseError("no numbered references found", name)


def _section(page: Dict, title: str, order: int) -> Dict:
    return {
        "key": f"{page['key']}/{_slug(title)}",
        "name": title,
        "parent_key": page["key"],
        "description": None,
        "order": order,
    }


def page_summary(text: str) -> Optional[str]:
    match = re.search(r"^Summary:\s*(.+?)(?:\n\s*\n|\Z)", text, re.MULTILINE | re.DOTALL)
    return " ".join(match.group(1).split()) if match else None


def mesh_terms(summary: str) -> List[str]:
    """Upper-case runs of the summary: ``ERBB-2 RECEPTOR``, ``BREAST CANCER`` (not ``(HER2)``)."""
    terms = []
    for match in _MESH_RUN.finditer(summary or ""):
        term = match.group(1).strip(" ,-")
        words = term.split()
        if len(words) >= 2 or len(term) >= 6:
            if term not in terms:
                terms.append(term)
    return terms


def clean_excerpt(text: str) -> Optional[str]:
    """Leading ``..`` and HTML debris removed; the quoted text otherwise kept as it is."""
    text = " ".join((text or "").split())
    if not text:
        return None
    previous = None
    while previous != text:
        previous = text
        text = _EXCERPT_DEBRIS.sub("", text).lstrip()
        if text.startswith(".."):
            text = text[2:].lstrip()
    return text or None


def _find_tail(text: str):
    """Position and match of the ``Year;Vol(Issue):Pages`` block that ends the citation."""
    for match in _YEAR_START.finditer(text):
        tail = _CITATION_TAIL.match(text[match.end():])
        if not tail:
            continue
        rest = tail.group("rest") or ""
        if not rest.strip() or _MARKER_RUN.match(rest):
            return match.start(), tail
    return None


def parse_reference(text: str, name: str = "<page>", lineno: int = 0) -> Optional[Record]:
    """One numbered reference line (without its number) → record; None if it is not a citation."""
    found = _find_tail(text)
    if found is None:
        return None
    head_end, tail = found
    head = text[:head_end]
    authors, truncated, rest = split_authors(head)
    if ". " not in rest:
        raise ParseError(
            f"cannot tell the title from the journal in {text[:80]!r}", name, f"line {lineno}"
        )
    title, journal = rest.rsplit(". ", 1)
    title = title.strip()
    if title.endswith(".") and not title.endswith(".."):
        title = title[:-1]
    record: Record = {
        "type": "article-journal",
        "title": title,
        "container-title-short": journal.strip().rstrip("."),
        "issued": {"date-parts": [parse_date(tail.group("year") + (tail.group("date") or ""))]},
    }
    if authors:
        record["author"] = authors
    if truncated:
        record["_authors_truncated"] = True
    for key, group in (("volume", "volume"), ("issue", "issue"), ("page", "pages")):
        value = (tail.group(group) or "").strip()
        if value:
            record[key] = value
    if tail.group("reply"):
        record["note"] = tail.group("reply")
    rest = tail.group("rest") or ""
    markers = _MARKER_RUN.match(rest)
    if markers and markers.group("excerpt"):
        record["_same_line_excerpt"] = markers.group("excerpt")
    return record


def split_authors(head: str):
    """``Smith J, Doe A, et al. Title. Journal`` → ([authors], truncated, ``Title. Journal``)."""
    authors: List[Dict] = []
    position = 0
    truncated = False
    while True:
        match = re.compile(r"(.+?)(, |\. |$)").match(head, position)
        if not match:
            break
        segment, separator = match.group(1).strip(), match.group(2)
        if _ET_AL.match(segment.rstrip(".")) or segment.rstrip(".").lower() == "et al":
            truncated = True
        elif _PERSON.match(segment) and not _GROUP_WORDS.search(segment):
            authors.append(parse_surname_initials(segment))
        elif _GROUP_WORDS.search(segment) and (separator == ", " or authors or _looks_like_group(segment)):
            authors.append({"literal": segment})
        else:
            return authors, truncated, head[position:] if authors or truncated else head
        position = match.end()
        if separator != ", ":
            return authors, truncated, head[position:]
    return authors, truncated, ""


def _looks_like_group(segment: str) -> bool:
    return bool(re.search(r"\b(group|consortium|investigators|trialists|committee|collaborat\w*)$", segment, re.I))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "page"


def _title_from_stem(stem: str) -> str:
    words = re.split(r"[-_\s]+", stem)
    return " ".join(word[:1].upper() + word[1:] for word in words if word) or "Bibliography"
