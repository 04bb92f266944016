"""Normalisation: small pure functions, tested table-driven in tests/test_normalize.py."""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Dict, List, Optional, Tuple

EN_DASH = "\u2013"

_DOI_PREFIX = re.compile(
    r"^(?:doi:\s*|https?://(?:dx\.)?doi\.org/|https?://doi\.org/)", re.IGNORECASE
)
_DOI_SHAPE = re.compile(r"10\.\d{4,9}/\S+", re.IGNORECASE)


def fold(text: str) -> str:
    """Lower-case ASCII skeleton of ``text``: accents dropped, ß → ss, ø → o, æ → ae."""
    text = (text or "").translate(_FOLD_EXTRA)
    if text.isascii():  # nothing to decompose: NFKD leaves ASCII as it is
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


_FOLD_EXTRA = str.maketrans(
    {"ß": "ss", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ł": "l", "Ł": "L",
     "đ": "d", "Đ": "D", "ı": "i", "þ": "th", "Þ": "Th"}
)


def normalize_doi(value: Optional[str]) -> Optional[str]:
    """``https://dx.doi.org/10.1/ABC.`` → ``10.1/abc``; anything that is not a DOI → None."""
    if not value:
        return None
    value = value.strip()
    value = _DOI_PREFIX.sub("", value)
    match = _DOI_SHAPE.search(value)
    if not match:
        return None
    doi = match.group(0).rstrip(".,;")
    return doi.lower()


def normalize_pmid(value) -> Optional[str]:
    """``PMID: 0012345`` → ``12345``."""
    if value is None:
        return None
    match = re.search(r"\d+", str(value))
    if not match:
        return None
    digits = match.group(0).lstrip("0")
    return digits or None


def normalize_pmcid(value) -> Optional[str]:
    """``pmc12345`` / ``12345`` → ``PMC12345``."""
    if value is None:
        return None
    match = re.search(r"(?:PMC)?\s*(\d+)", str(value), re.IGNORECASE)
    if not match or not match.group(1).strip("0"):
        return None
    return f"PMC{match.group(1).lstrip('0')}"


def normalize_issn(value: Optional[str]) -> Optional[str]:
    """``0732183x`` → ``0732-183X``; not an ISSN → None."""
    if not value:
        return None
    match = re.search(r"(\d{4})-?(\d{3}[\dXx])", str(value))
    return f"{match.group(1)}-{match.group(2).upper()}" if match else None


# An ISSN standing alone: not a run of digits inside an ISBN, a report number or a longer ISSN list item.
_ISSN_TOKEN = re.compile(r"(?<![\d-])\d{4}-?\d{3}[\dXx](?![\dXx-])")


def normalize_issns(value) -> List[str]:
    """Every ISSN in a value (a string such as ``0028-0836, 1476-4687`` or a list of them), each
    normalised by ``normalize_issn``, once, in order: the record's one ISSN representation."""
    values = value if isinstance(value, (list, tuple)) else [value]
    found: List[str] = []
    for item in values:
        for token in _ISSN_TOKEN.findall(str(item or "")):
            issn = normalize_issn(token)
            if issn not in found:
                found.append(issn)
    return found


def title_key(title: Optional[str]) -> str:
    """Title reduced to lower-case ASCII words: case, accents, markup and punctuation ignored."""
    text = re.sub(r"<[^>]+>", " ", title or "")
    text = fold(text)
    return " ".join(re.findall(r"[a-z0-9]+", text))


def journal_key(name: Optional[str]) -> str:
    """``J. Clin. Oncol.`` and ``J Clin Oncol`` → ``j clin oncol``; ``The Lancet`` → ``lancet``."""
    words = re.findall(r"[a-z0-9]+", fold(name or "").replace("&", " and "))
    if words and words[0] == "the":
        words = words[1:]
    return " ".join(words)


def expand_page_range(first: str, last: str) -> str:
    """The last page of an abbreviated range: (1306, 7) → 1306–1307 style completion.

    ``309-18`` → ``318``; ``e369-70`` → ``e370``; ``S110-2`` → ``S112``; a full last page is kept.
    """
    prefix_first = re.match(r"^([A-Za-z]*)(\d+)$", first)
    prefix_last = re.match(r"^([A-Za-z]*)(\d+)$", last)
    if not prefix_first or not prefix_last:
        return last
    letters, digits = prefix_first.groups()
    last_letters, last_digits = prefix_last.groups()
    if last_letters and last_letters.lower() != letters.lower():
        return last
    if len(last_digits) < len(digits):
        last_digits = digits[: len(digits) - len(last_digits)] + last_digits
    return f"{letters}{last_digits}"


def split_pages(pages: Optional[str]) -> Tuple[Optional[str], Optional[str], Optional[str]]:
    """``309-18`` → (``309–318``, ``309``, ``318``); ``R116`` → (``R116``, ``R116``, None).

    Leading zeros are kept: page and article numbers are text.
    """
    if pages is None:
        return None, None, None
    text = re.sub(r"\s+", " ", str(pages)).strip().strip(".;,")
    if not text:
        return None, None, None
    if "," in text:  # discontinuous ranges: keep as written, first/last of the whole
        parts = [p.strip() for p in text.split(",") if p.strip()]
        first = split_pages(parts[0])[1]
        last = split_pages(parts[-1])
        return text, first, last[2] or last[1]
    match = re.match(r"^([A-Za-z]*\d+[A-Za-z]?)\s*(?:-+|\u2013|\u2014|\u2012|\u2212)\s*([A-Za-z]*\d+[A-Za-z]?)$", text)
    if match:
        first, last = match.groups()
        last = expand_page_range(first, last)
        if first == last:
            return first, first, None
        return f"{first}{EN_DASH}{last}", first, last
    return text, text, None


# Name particles kept with the family name ("von Minckwitz", "de Azambuja", "van der Berg").
PARTICLES = {
    "von", "van", "der", "den", "de", "del", "della", "di", "da", "dos", "das", "du", "la", "le",
    "ter", "ten", "vom", "zu", "zum", "zur", "al", "el", "bin", "ibn", "st", "st.", "mac", "d'",
}


def initials_of(given: Optional[str]) -> str:
    """``Mark X.`` → ``MX``; ``M. X.`` → ``MX``; ``Jean-Pierre`` → ``JP``; ``MX`` → ``MX``."""
    if not given:
        return ""
    given = given.strip()
    if re.fullmatch(r"[A-Z]{1,4}", given):
        return given
    letters = []
    for word in re.split(r"[\s.]+", given):
        for part in word.split("-"):
            part = part.strip("'’,")
            if not part:
                continue
            if part.isupper() and 1 < len(part) <= 3 and "." not in word:
                letters.extend(part)  # "MX" inside a longer given name
            else:
                letters.append(part[0])
    return "".join(ch.upper() for ch in letters if ch.isalpha())


def given_from_initials(initials: str) -> str:
    """``MX`` → ``M. X.`` (what we know of a given name written as initials)."""
    return " ".join(f"{ch}." for ch in initials)


def name_key(family: Optional[str], given: Optional[str]) -> str:
    """Family name plus first initial, folded: the bucket in which one person's spellings meet."""
    initials = initials_of(given)
    base = " ".join(re.findall(r"[a-z0-9]+", fold(family or "")))
    return f"{base} {initials[:1].lower()}".strip()


def initials_compatible(a: str, b: str) -> bool:
    """``M`` ~ ``MX``; ``MX`` !~ ``MY``; empty initials are compatible with anything."""
    a, b = a.upper(), b.upper()
    return a.startswith(b) or b.startswith(a)


def display_name(family: Optional[str], given: Optional[str], literal: Optional[str] = None) -> str:
    """``Family, Given`` (or the literal name of a group)."""
    if literal:
        return literal
    if family and given:
        return f"{family}, {given}"
    return family or given or ""


def parse_surname_initials(text: str) -> Dict[str, str]:
    """``von Minckwitz G`` → family ``von Minckwitz``, given ``G.``, initials ``G`` (PubMed/NLM style).

    A name without trailing initials is a group or a mononym and is kept as a literal.
    """
    text = re.sub(r"\s+", " ", text).strip().rstrip(".")
    match = re.match(r"^(?P<family>.+?)\s+(?P<initials>[A-Z\u00C0-\u00DE]{1,4})$", text)
    if not match:
        return {"literal": text}
    initials = match.group("initials")
    return {
        "family": match.group("family"),
        "given": given_from_initials(initials),
        "initials": initials,
    }


def parse_date(value) -> Optional[List[int]]:
    """Free-text or ISO date → [year, month?, day?]: ``2019//``, ``1948/07//``, ``2017 Mar 5``,
    ``2017-03``, ``March 2017``, ``08/1993``, ``January 07 , 2011``, ``2010 Spring``."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    match = re.match(r"^(\d{4})(?:[-/.](\d{1,2}))?(?:[-/.](\d{1,2}))?", text)
    if match and int(match.group(1)) == 0:
        return None  # "0000": Zotero's placeholder for an unknown year
    if match:
        parts = [int(match.group(1))]
        if match.group(2) and 1 <= int(match.group(2)) <= 12:
            parts.append(int(match.group(2)))
            if match.group(3) and 1 <= int(match.group(3)) <= 31:
                parts.append(int(match.group(3)))
        if len(parts) == 1:
            month = _month_in(text[4:])
            if month:
                parts.append(month)
                day = re.match(r"^\s*[A-Za-z]+\.?\s+(\d{1,2})\b", text[4:])
                if day and 1 <= int(day.group(1)) <= 31:
                    parts.append(int(day.group(1)))
        return parts
    match = re.match(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$", text)
    if match:  # 05/03/2011: month-first as Zotero reads it
        month, day, year = int(match.group(1)), int(match.group(2)), int(match.group(3))
        if month > 12:
            month, day = day, month
        return [year, month, day] if 1 <= month <= 12 else [year]
    match = re.match(r"^(\d{1,2})[/.-](\d{4})$", text)
    if match and 1 <= int(match.group(1)) <= 12:
        return [int(match.group(2)), int(match.group(1))]
    year = re.search(r"\b(1[5-9]\d\d|20\d\d|21\d\d)\b", text)
    if not year:
        return None
    parts = [int(year.group(1))]
    month = _month_in(text)
    if month:
        parts.append(month)
        day = re.search(r"\b(\d{1,2})\b", text.replace(year.group(1), " "))
        if day and 1 <= int(day.group(1)) <= 31:
            parts.append(int(day.group(1)))
    return parts


_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "oct": 10, "nov": 11, "dec": 12,
}


def _month_in(text: str) -> Optional[int]:
    match = re.search(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\b", text.lower())
    return _MONTHS[match.group(1)] if match else None


def iso_date(parts: Optional[List]) -> Optional[str]:
    """[2017, 3] → ``2017-03``."""
    if not parts or parts[0] in (None, ""):
        return None
    try:
        numbers = [int(p) for p in parts if p not in (None, "")]
    except (TypeError, ValueError):
        return None
    if not numbers:
        return None
    out = f"{numbers[0]:04d}"
    for number in numbers[1:3]:
        out += f"-{number:02d}"
    return out


_STOPWORDS = {"a", "an", "the", "on", "of", "in", "and", "for", "to", "with", "at", "by", "from"}


def cite_key_base(family: Optional[str], year, title: Optional[str]) -> str:
    """Better-BibTeX-like key: ``sliwkowski1999nonclinical``."""
    author = "".join(re.findall(r"[a-z0-9]+", fold(family or "anon"))) or "anon"
    words = [w for w in re.findall(r"[a-z0-9]+", fold(title or "")) if w not in _STOPWORDS]
    return f"{author}{year or ''}{words[0] if words else ''}"


def warm_up() -> None:
    """Load what the first journal title would otherwise wait for (the LTWA, a third of a second)."""
    _iso4()


@functools.lru_cache(maxsize=1)
def _iso4():
    # pyiso4 ships the ISSN centre's List of Title Word Abbreviations (LTWA); loading it takes ~0.7 s,
    # so it happens once, on the first full journal title.
    from pyiso4.ltwa import Abbreviate

    return Abbreviate.create()


@functools.lru_cache(maxsize=65536)
def iso4_abbreviation(title: Optional[str]) -> Optional[str]:
    """``The New England Journal of Medicine`` → ``N. Engl. J. Med.`` (ISO 4, which NLM abbreviations follow)."""
    if not title or not title.strip():
        return None
    try:
        abbreviated = _iso4()(title.strip(), remove_part=True)
    except Exception:  # pyiso4 raises assorted errors on odd titles; an abbreviation is optional
        return None
    return abbreviated or None
