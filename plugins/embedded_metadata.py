"""What the Zotero Connector (and other reference managers) read from refsette's pages.

A single-work page (``/library/works/N``) carries Highwire Press ``citation_*`` meta tags and no
COinS: Zotero prefers a COinS over the tags and would lose the URL, language and PMID (DESIGN.md,
"What the Zotero Connector saves from a page"). ``<html lang>`` carries the work's language.
Pages that list works carry one COinS span (OpenURL 1.0 KEV, Z39.88-2004) per work, so Zotero
offers a choice.

Templates get:

``highwire_tags(work_id)``  async: ``[(name, content), …]`` in the order Zotero's Embedded
                            Metadata translator expects them
``html_lang(language)``     a language as written in a source (``eng``, ``English``, ``en-GB``) as a
                            BCP 47 tag for ``<html lang>``, or None when it is not recognisable
``coins_for(ids)``          async: ``{work_id: KEV string}`` for the title attribute of a
                            ``<span class="Z3988">`` (the template escapes it, as for any attribute)

This module must not import ``ingest``: ``datasette publish`` copies only the plugins folder.
"""

from __future__ import annotations

import re
from typing import Dict, Iterable, List, Optional, Sequence, Tuple
from urllib.parse import quote

from datasette import hookimpl

# ISO 639-2 (bibliographic and terminology codes, as MEDLINE and PubMed write them) and English
# names → ISO 639-1, which BCP 47 requires where one exists.
LANGUAGES = {
    "eng": "en", "english": "en", "fre": "fr", "fra": "fr", "french": "fr", "ger": "de", "deu": "de",
    "german": "de", "spa": "es", "spanish": "es", "ita": "it", "italian": "it", "por": "pt",
    "portuguese": "pt", "dut": "nl", "nld": "nl", "dutch": "nl", "swe": "sv", "swedish": "sv",
    "dan": "da", "danish": "da", "nor": "no", "norwegian": "no", "fin": "fi", "finnish": "fi",
    "pol": "pl", "polish": "pl", "cze": "cs", "ces": "cs", "czech": "cs", "slo": "sk", "slk": "sk",
    "hun": "hu", "hungarian": "hu", "rus": "ru", "russian": "ru", "ukr": "uk", "gre": "el", "ell": "el",
    "greek": "el", "tur": "tr", "turkish": "tr", "heb": "he", "hebrew": "he", "ara": "ar",
    "arabic": "ar", "per": "fa", "fas": "fa", "chi": "zh", "zho": "zh", "chinese": "zh", "jpn": "ja",
    "japanese": "ja", "kor": "ko", "korean": "ko", "hin": "hi", "scr": "hr", "hrv": "hr", "srp": "sr",
    "slv": "sl", "rum": "ro", "ron": "ro", "romanian": "ro", "bul": "bg", "lit": "lt", "lav": "lv",
    "est": "et", "ice": "is", "isl": "is", "cat": "ca", "catalan": "ca", "lat": "la", "latin": "la",
    "afr": "af", "ind": "id", "may": "ms", "msa": "ms", "tha": "th", "vie": "vi", "wel": "cy",
    "cym": "cy", "gle": "ga", "baq": "eu", "eus": "eu", "glg": "gl", "epo": "eo",
}
_BCP47 = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{2,8})*$", re.IGNORECASE)
# ISO 639-2 codes that mean "no language" or "several": nothing a page can declare.
_NOT_A_LANGUAGE = {"und", "mul", "zxx", "mis"}

JOURNAL_TYPES = {"article-journal", "article-magazine", "article-newspaper", "article", "review", "review-book"}
BOOK_TYPES = {"book", "chapter", "paper-conference", "report", "entry-encyclopedia", "entry-dictionary"}


def html_lang(language: Optional[str]) -> Optional[str]:
    """``<html lang>`` for a work's language, or None when the value names no language we know."""
    if not language or not isinstance(language, str):
        return None
    value = language.strip()
    folded = value.lower()
    if folded in LANGUAGES:
        return LANGUAGES[folded]
    if folded in _NOT_A_LANGUAGE or not _BCP47.match(value):
        return None
    primary, _, rest = value.partition("-")
    if len(primary) == 3 and primary.lower() in LANGUAGES:
        primary = LANGUAGES[primary.lower()]
    return primary.lower() + ("-" + rest if rest else "")


def highwire_date(issued: Optional[str], year: Optional[int]) -> Optional[str]:
    """``YYYY/MM/DD``, ``YYYY/MM`` or ``YYYY`` from an ISO date that may be partial."""
    if issued:
        parts = re.findall(r"\d+", str(issued))[:3]
        if parts and len(parts[0]) == 4:
            return "/".join([parts[0]] + [part.zfill(2) for part in parts[1:]])
    return str(year) if year else None


def person_name(author: dict) -> Optional[str]:
    """"Family, Given" as Highwire and COinS want it; a literal (a group, a consortium) as itself."""
    family, given = author.get("family"), author.get("given")
    if family and given:
        return f"{family}, {given}"
    return family or author.get("literal") or author.get("name") or given


def highwire_pairs(work: dict, journal: Optional[dict], authors: Sequence[dict]) -> List[Tuple[str, str]]:
    """The ``citation_*`` meta tags of one work, as (name, content) pairs, empty values left out."""
    kind = work.get("type") or ""
    pairs: List[Tuple[str, Optional[str]]] = [("citation_title", work.get("title"))]
    pairs += [("citation_author", person_name(author)) for author in authors]
    if journal:
        pairs += [
            ("citation_journal_title", journal.get("title")),
            ("citation_journal_abbrev", journal.get("abbreviation")),
        ]
    elif kind in ("chapter", "paper-conference", "entry-encyclopedia", "entry-dictionary"):
        # Zotero's Embedded Metadata reads a chapter's book (or a paper's proceedings) from here.
        pairs.append(("citation_inbook_title", work.get("container_title")))
    elif work.get("container_title") and kind in JOURNAL_TYPES:
        pairs.append(("citation_journal_title", work.get("container_title")))
    pairs += [
        ("citation_publication_date", highwire_date(work.get("issued"), work.get("year"))),
        ("citation_volume", work.get("volume")),
        ("citation_issue", work.get("issue")),
        ("citation_firstpage", work.get("page_first")),
        ("citation_lastpage", work.get("page_last")),
        ("citation_doi", work.get("doi")),
        ("citation_pmid", work.get("pmid")),
    ]
    if journal:
        pairs += [("citation_issn", journal.get("issn")), ("citation_issn", journal.get("eissn"))]
    if kind in BOOK_TYPES:
        pairs += [("citation_isbn", work.get("isbn")), ("citation_publisher", work.get("publisher"))]
    pairs.append(("citation_abstract", work.get("abstract")))
    return [(name, str(value)) for name, value in pairs if value not in (None, "")]


def coins_pairs(work: dict, journal: Optional[dict], authors: Sequence[dict],
                url: Optional[str] = None) -> List[Tuple[str, str]]:
    """The OpenURL 1.0 ContextObject of one work as (key, value) pairs, in the genre Zotero's
    ``parseContextObject`` maps back to the same item type."""
    kind = work.get("type") or ""
    pairs: List[Tuple[str, Optional[str]]] = [("ctx_ver", "Z39.88-2004")]
    title = work.get("title")
    container = (journal or {}).get("title") or work.get("container_title")
    if kind == "book":
        pairs += [("rft_val_fmt", "info:ofi/fmt:kev:mtx:book"), ("rft.genre", "book"), ("rft.btitle", title)]
    elif kind == "report":
        pairs += [("rft_val_fmt", "info:ofi/fmt:kev:mtx:book"), ("rft.genre", "report"), ("rft.btitle", title)]
    elif kind in ("chapter", "paper-conference", "entry-encyclopedia", "entry-dictionary"):
        genre = "proceeding" if kind == "paper-conference" else "bookitem"
        pairs += [("rft_val_fmt", "info:ofi/fmt:kev:mtx:book"), ("rft.genre", genre),
                  ("rft.atitle", title), ("rft.btitle", container)]
    elif kind == "thesis":
        pairs += [("rft_val_fmt", "info:ofi/fmt:kev:mtx:dissertation"), ("rft.title", title)]
    else:
        # Journal articles, and whatever has no better OpenURL genre: an article keeps title,
        # container, volume, issue and pages, which is what a reference is mostly made of.
        pairs += [("rft_val_fmt", "info:ofi/fmt:kev:mtx:journal"), ("rft.genre", "article"),
                  ("rft.atitle", title), ("rft.jtitle", container),
                  ("rft.stitle", (journal or {}).get("abbreviation"))]
    for author in authors:
        if author.get("literal") and not author.get("family"):
            pairs.append(("rft.aucorp", author["literal"]))  # rft.au would split it into two names
        else:
            pairs.append(("rft.au", person_name(author)))
    pairs += [
        ("rft.date", work.get("issued") or (str(work["year"]) if work.get("year") else None)),
        ("rft.volume", work.get("volume")),
        ("rft.issue", work.get("issue")),
        ("rft.spage", work.get("page_first")),
        ("rft.epage", work.get("page_last")),
    ]
    if not work.get("page_first") and work.get("pages"):
        pairs.append(("rft.pages", work.get("pages")))
    if journal:
        pairs.append(("rft.issn", journal.get("issn")))
    if kind in BOOK_TYPES:
        pairs += [("rft.isbn", work.get("isbn")), ("rft.pub", work.get("publisher")),
                  ("rft.place", work.get("publisher_place")), ("rft.edition", work.get("edition"))]
    pairs.append(("rft.language", work.get("language")))
    if work.get("doi"):
        pairs.append(("rft_id", "info:doi/" + work["doi"]))
    if work.get("pmid"):
        pairs.append(("rft_id", "info:pmid/" + work["pmid"]))
    if url:
        pairs.append(("rft_id", url))
    return [(key, str(value)) for key, value in pairs if value not in (None, "")]


def kev(pairs: Iterable[Tuple[str, str]]) -> str:
    """Key-encoded values, percent-encoded but for ``:`` and ``/`` (``info:doi/10.…`` stays
    readable); spaces as %20 — Zotero splits on ``&`` and ``=`` before decoding and turns ``+`` into a
    space."""
    return "&".join(f"{quote(key, safe='')}={quote(value, safe=':/')}" for key, value in pairs)


async def fetch_works(db, ids: Sequence[int]) -> Tuple[Dict[int, dict], Dict[int, dict], Dict[int, List[dict]]]:
    """Works, their journals and their authors (in order) for ``ids``, in three queries."""
    ids = [int(i) for i in ids]
    if not ids:
        return {}, {}, {}
    marks = ",".join("?" for _ in ids)
    works = {row["id"]: dict(row) for row in await db.execute(
        f"select * from works where id in ({marks})", ids)}
    journal_ids = sorted({w["journal_id"] for w in works.values() if w.get("journal_id")})
    journals = {}
    if journal_ids:
        journal_marks = ",".join("?" for _ in journal_ids)
        journals = {row["id"]: dict(row) for row in await db.execute(
            f"select id, title, abbreviation, issn, eissn from journals where id in ({journal_marks})",
            journal_ids)}
    authors: Dict[int, List[dict]] = {i: [] for i in ids}
    for row in await db.execute(
        f"""select work_authors.work_id, authors.family, authors.given, authors.literal, authors.name
            from work_authors join authors on authors.id = work_authors.author_id
            where work_authors.work_id in ({marks}) and work_authors.role = 'author'
            order by work_authors.work_id, work_authors.position""", ids):
        authors[row["work_id"]].append(dict(row))
    return works, journals, authors


def _database(datasette, database: Optional[str]):
    if database and database in datasette.databases:
        return datasette.get_database(database)
    if "library" in datasette.databases:
        return datasette.get_database("library")
    return None


def _as_ids(values) -> List[int]:
    ids = []
    for value in values or []:
        if isinstance(value, dict):  # a {value, label} cell from ?_labels=on
            value = value.get("value")
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            continue
    return ids


@hookimpl
def extra_template_vars(datasette, database, request):
    async def highwire_tags(work_id):
        db = _database(datasette, database)
        ids = _as_ids([work_id])
        if db is None or not ids:
            return []
        works, journals, authors = await fetch_works(db, ids)
        work = works.get(ids[0])
        if not work:
            return []
        return highwire_pairs(work, journals.get(work.get("journal_id")), authors[ids[0]])

    async def coins_for(ids):
        db = _database(datasette, database)
        ids = _as_ids(ids)
        if db is None or not ids:
            return {}
        works, journals, authors = await fetch_works(db, ids)
        out = {}
        for work_id, work in works.items():
            url = None
            if request is not None:
                # A plain string: urljoin calls dozens of methods of it, and each call of a
                # PrefixedUrlString's lists dir(str).
                url = datasette.absolute_url(request, str(datasette.urls.row(db.name, "works", str(work_id))))
            out[work_id] = kev(coins_pairs(work, journals.get(work.get("journal_id")), authors[work_id], url))
        return out

    return {"highwire_tags": highwire_tags, "coins_for": coins_for, "html_lang": html_lang}
