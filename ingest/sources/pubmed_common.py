"""What PubMed's two export formats (MEDLINE tags and PubMed XML) share: name, ORCID and DOI clean-up."""

from __future__ import annotations

import re
from typing import Optional, Tuple

from .. import normalize

_ORCID = re.compile(r"(\d{4})-?(\d{4})-?(\d{4})-?(\d{3}[\dXx])")
_DOI = re.compile(r"10\.\d{4,9}/\S+")


def dotted_given(given: str) -> str:
    """``Peter O`` → ``Peter O.``; ``M J`` → ``M. J.``: NLM writes initials without their full stop."""
    words = re.sub(r"\s+", " ", given).strip().split(" ")
    return " ".join(
        f"{word}." if re.fullmatch(r"[^\W\d_]", word) and word.isupper() else word for word in words
    )


def orcid_of(value: str) -> Optional[str]:
    """``ORCID: https://orcid.org/0000-0002-1825-009x`` → ``0000-0002-1825-009X``."""
    match = _ORCID.search(value or "")
    return "-".join(match.groups()).upper() if match else None


def clean_doi(value: str) -> Optional[str]:
    """The DOI as written (case kept, for display), without ``doi:`` or resolver prefixes;
    None when it is not a DOI. Matching DOIs case-insensitively is ``normalize.normalize_doi``'s job."""
    if not value or not normalize.normalize_doi(value):
        return None
    match = _DOI.search(value)
    return match.group(0).rstrip(".,;") if match else None


def unbracket_title(title: str) -> str:
    """``[Shared decision-making].`` → ``Shared decision-making.``: NLM brackets a title it translated
    into English (the original goes in TT / VernacularTitle)."""
    match = re.fullmatch(r"\[(.+)\](\.?)", title.strip())
    if not match or "[" in match.group(1) or "]" in match.group(1):
        return title
    inner = match.group(1).strip()
    return inner if inner.endswith((".", "?", "!")) else inner + match.group(2)


def split_place(title: str) -> Tuple[str, Optional[str]]:
    """``Science (New York, N.Y.)`` → ``Science`` and ``New York, N.Y.``: NLM adds the place to tell
    journals of one name apart. A qualifier that names a body, ``Proceedings (Baylor University.
    Medical Center)``, is part of the title and stays."""
    match = re.fullmatch(r"(.+?)\s*\(([^()]+)\)", title.strip())
    if not match:
        return title, None
    name, qualifier = match.group(1).strip(), match.group(2).strip()
    if _INSTITUTION.search(qualifier) or not _PLACE.fullmatch(qualifier):
        return title, None
    return name, qualifier


_PLACE = re.compile(r"[A-Z][\w.'\- ]*(?:, ?[A-Z][\w.'\- ]*)?")
_INSTITUTION = re.compile(
    r"\b(?:Univ|University|College|Association|Society|Institute|Center|Centre|Hospital|School|"
    r"Academy|Council|Foundation|Ministry|Department|Organization|Online|Print|Series)\b",
    re.IGNORECASE,
)

