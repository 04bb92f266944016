"""PubMed XML (efetch ``PubmedArticleSet``: ``PubmedArticle``, ``PubmedBookArticle``, ``DeleteCitation``).

Read with lxml's pull parser, one article at a time, each element cleared once used, so a baseline
file of a million records never sits in memory whole. The DTD that every file declares is never
fetched or read (``load_dtd=False``, ``no_network=True``) and no entity is resolved
(``resolve_entities=False``): an HTML entity that only the DTD declares (``&nbsp;``) is read as its
character, any other entity is left as written.
PMIDs listed under ``DeleteCitation`` are withdrawn records, not works: they are skipped.

Bad XML (truncated, not well-formed) raises ``ParseError`` with the file, the line and column lxml
reports and the PMID of the record being read; records before it have already been yielded, and the
loader rolls the whole file back.
"""

from __future__ import annotations

import functools
import gzip
import html.entities
import io
import os
import re
import zlib
from typing import IO, Iterator, List, Optional, Tuple

from lxml import etree

from .. import normalize
from ..records import ParseError, Record, RecordStream
from . import Source, source_name
from .pubmed_common import clean_doi, dotted_given, orcid_of, split_place, unbracket_title

RECORD_TAGS = ("PubmedArticle", "PubmedBookArticle", "DeleteCitation")
ROOT_TAGS = ("PubmedArticleSet", "PubmedArticle", "PubmedBookArticleSet", "PubmedBookArticle")

MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1
    )
}


def sniff(head: str) -> bool:
    """An XML file whose root is a PubMed article set (checked in the first few KiB)."""
    start = head[:4096].lstrip("\ufeff \t\r\n")
    if not start.startswith("<"):
        return False
    match = re.search(r"<(?!\?|!)([A-Za-z_][\w.-]*)", start)
    return bool(match and match.group(1) in ROOT_TAGS)


def parse(
    source: Source, skip_bad: bool = False, errors: Optional[List[ParseError]] = None
) -> RecordStream:
    """Canonical records of a PubMed XML file (plain or gzip-compressed).

    ``skip_bad`` cannot get past XML that is not well-formed (a broken file cannot be resynchronised);
    it skips records that are well-formed but unusable (no PMID), listing their errors in the returned
    stream's ``errors`` (the ``errors`` list passed in, if any).
    """
    errors = [] if errors is None else errors
    return RecordStream(records_of(source, skip_bad, errors), errors)


def records_of(source: Source, skip_bad: bool, errors: list) -> Iterator[Record]:
    name = source_name(source)
    opened = open(source, "rb") if isinstance(source, (str, os.PathLike)) else None
    try:
        stream = checked_prolog(binary_stream(opened or source), name)
        yield from read_articles(stream, name, skip_bad, errors)
    finally:
        if opened is not None:
            opened.close()


def binary_stream(source) -> IO[bytes]:
    """Bytes of the XML, whatever was given: a text stream is encoded, gzip is uncompressed."""
    if isinstance(source, io.TextIOBase):
        return io.BytesIO(source.read().encode("utf-8"))
    if hasattr(source, "peek"):
        magic = source.peek(2)[:2]
    elif hasattr(source, "seekable") and source.seekable():
        position = source.tell()
        magic = source.read(2)
        source.seek(position)
    else:
        magic = b""
    return gzip.GzipFile(fileobj=source) if magic == b"\x1f\x8b" else source


# The start of a file is read in pieces of this size for an internal DTD subset (``<!DOCTYPE x [ … ]>``),
# up to the limit.
PROLOG_BYTES = 1 << 16
PROLOG_LIMIT = 16 << 20
_DOCTYPE_SUBSET = re.compile(r"<!DOCTYPE[^\[>]*\[", re.IGNORECASE)
_SUBSET_END = re.compile(r"\]\s*>")
_ENTITY_DECLARATION = re.compile(
    r"<!ENTITY\s+(?P<parameter>%\s+)?(?P<name>[^\s\"']+)\s+(?:SYSTEM|PUBLIC|\"(?P<value>[^\"]*)\"|'(?P<value2>[^']*)')"
)



def checked_prolog(stream: IO[bytes], name: str) -> IO[bytes]:
    """``stream``, refused when its internal DTD subset declares an entity that holds markup.

    Why: libxml2 parses an internal entity's text where it is first used, even when entities are not
    resolved, and lxml's parser then reports elements that live in the entity's declaration
    (records made of entity text; lxml loses track of their nodes). PubMed's files declare their
    entities in the external DTD, which is never read; an entity whose value is markup (``<``), a
    character reference that may become markup (``&#60;``) or a parameter entity is not PubMed's.
    """
    try:
        head = stream.read(PROLOG_BYTES) or b""
        text = prolog_text(head)
        subset = _DOCTYPE_SUBSET.search(text)
        # An internal subset longer than the first read: read on to its end (or give up past a limit).
        while subset and not _SUBSET_END.search(text, subset.end()) and len(head) < PROLOG_LIMIT:
            more = stream.read(PROLOG_BYTES)
            if not more:
                break
            head += more
            text = prolog_text(head)
    except (EOFError, OSError, zlib.error) as error:  # a damaged gzip file, or a read that failed
        raise ParseError(f"cannot read the file: {error}", name) from None
    if subset and not _SUBSET_END.search(text, subset.end()) and len(head) >= PROLOG_LIMIT:
        raise ParseError(f"the DTD inside the file is longer than {PROLOG_LIMIT >> 20} MiB: not PubMed XML",
                         name, "line 1")
    if subset:
        for declaration in _ENTITY_DECLARATION.finditer(text, subset.end()):
            value = declaration.group("value") or declaration.group("value2") or ""
            if declaration.group("parameter") or "<" in value or "&#" in value or "%" in value:
                raise ParseError(
                    f"the DTD inside the file declares the entity {declaration.group('name')!r} as markup or "
                    "as a parameter entity; PubMed XML never does, and such a file is not read",
                    name, f"line {text.count(chr(10), 0, declaration.start()) + 1}",
                )
    return _Prefixed(head, stream)


def prolog_text(head: bytes) -> str:
    """The start of an XML file as text, good enough to find declarations in (ASCII markup)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="replace")
    if head[:2] == b"<\x00":
        return head.decode("utf-16-le", errors="replace")
    if head[:2] == b"\x00<":
        return head.decode("utf-16-be", errors="replace")
    return head.decode("latin-1")


class _Prefixed:
    """A byte stream whose first bytes were already read (to check them) and are given again."""

    def __init__(self, head: bytes, rest: IO[bytes]):
        self._head, self._rest = head, rest

    def read(self, size: int = -1) -> bytes:
        if not self._head:
            return self._rest.read(size)
        if size is None or size < 0:
            data, self._head = self._head + self._rest.read(), b""
        else:
            data, self._head = self._head[:size], self._head[size:]
        return data


# Bytes handed to the XML parser at a time.
READ_BYTES = 1 << 16


def read_articles(stream: IO[bytes], name: str, skip_bad: bool, errors: list) -> Iterator[Record]:
    """Records of ``stream``, then, if the XML breaks, the error naming the record it broke in.

    A pull parser rather than ``iterparse``: when a chunk of the file holds an error, newer lxml's
    ``iterparse`` raises it at once and drops the events parsed before it in that chunk, so the
    error could not name its record; the pull parser keeps them to be read after the error.
    """
    parser = etree.XMLPullParser(
        events=("start", "end"),
        # PMID too, so that an error inside an article can name it before the article is complete.
        tag=RECORD_TAGS + ("PMID",),
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        dtd_validation=False,
        huge_tree=True,
        remove_comments=True,
        remove_pis=True,
    )
    progress = {"pmid": None, "line": None, "last_pmid": None}
    root = None
    while True:
        try:
            data = stream.read(READ_BYTES)
        except (EOFError, OSError, zlib.error) as error:  # a damaged gzip file, or a read that failed
            raise ParseError(f"cannot read the file: {error}", name, record_hint(progress) or None) from None
        try:
            if data:
                parser.feed(data)
            else:
                root = parser.close()
        except etree.XMLSyntaxError as error:
            # Closing a truncated file ends its open elements: those ends are not complete records.
            if data:
                yield from articles_of(parser.read_events(), progress, name, skip_bad, errors)
            else:
                follow(parser.read_events(), progress)
            raise syntax_error(error, name, progress) from None
        yield from articles_of(parser.read_events(), progress, name, skip_bad, errors)
        if not data:
            break
    if root is None or root.tag not in ROOT_TAGS:
        found = f"<{root.tag}>" if root is not None else "nothing"
        raise ParseError(f"not PubMed XML: the root element is {found}, not <PubmedArticleSet>", name)


def articles_of(events, progress: dict, name: str, skip_bad: bool, errors: list) -> Iterator[Record]:
    for event, element in events:
        if not note_progress(event, element, progress):
            continue
        try:
            if element.tag == "DeleteCitation":
                continue
            record = read_one(element, name, skip_bad, errors)
            if record is not None:
                yield record
        finally:
            progress["last_pmid"] = progress["pmid"]
            progress.update(pmid=None, line=None)
            release(element)


def follow(events, progress: dict) -> None:
    """Note where the parser got to, without reading the (incomplete) records."""
    for event, element in events:
        note_progress(event, element, progress)


def note_progress(event: str, element, progress: dict) -> bool:
    """Note a record's start or PMID in ``progress``; true when ``element`` is a record just ended."""
    if element.tag == "PMID":
        if event == "end" and progress["pmid"] is None:
            progress["pmid"] = (element.text or "").strip() or None
        return False
    if event == "start":
        progress.update(pmid=None, line=element.sourceline)
        return False
    return True


def read_one(element, name: str, skip_bad: bool, errors: list) -> Optional[Record]:
    reader = book_record if element.tag == "PubmedBookArticle" else article_record
    try:
        return reader(element)
    except ParseError as error:
        error.path = name
        error.location = error.location or f"line {element.sourceline}"
        if not skip_bad:
            raise
        errors.append(error)
        return None


def release(element) -> None:
    """Free an article once read: its content, and the emptied siblings before it."""
    element.clear(keep_tail=True)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


def record_hint(progress: dict) -> str:
    if progress["pmid"]:
        return f"record PMID {progress['pmid']}"
    if progress["line"]:
        return f"record starting at line {progress['line']}"
    if progress["last_pmid"]:
        return f"after record PMID {progress['last_pmid']}"
    return ""


def syntax_error(error: etree.XMLSyntaxError, name: str, progress: dict) -> ParseError:
    line, column = error.position if error.position else (error.lineno, 0)
    if line and progress["line"] and line < progress["line"]:
        # libxml2 places errors inside an entity's text at that text's own line 1: not the file's.
        line = None
    where = f"line {line}, column {column}" if line else ""
    hint = record_hint(progress)
    where = f"{where} ({hint})" if where and hint else where or hint
    message = re.sub(r",? line \d+, column \d+.*$", "", str(error.msg or error)).strip()
    return ParseError(
        f"not well-formed XML, the file is truncated or damaged: {message}", name, where.strip() or None
    )


# ---------------------------------------------------------------------------------------------
# Text of elements with inline markup


def inner_text(element) -> str:
    """Text of ``element`` with inline markup (``<i>``, ``<sup>``) dropped and spacing made single.

    Pretty-printers put a newline and indentation around inline tags (``β\\n   <sub>2</sub>``):
    such whitespace next to a tag is layout, not a space in the text.
    """
    if element is None:
        return ""
    if not len(element) and not isinstance(element, etree._Entity):
        return " ".join((element.text or "").split())  # most elements: plain text, no markup
    pieces: List[str] = []
    collect(element, pieces, top=True)
    return re.sub(r"\s+", " ", "".join(pieces)).strip()


def collect(element, pieces: List[str], top: bool = False) -> None:
    if isinstance(element, etree._Entity):
        pieces.append(entity_text(element))
    elif not top and not isinstance(element.tag, str):
        pass  # comments and processing instructions carry no text
    else:
        text = element.text or ""
        pieces.append(layout_trimmed(text, before_tag=len(element) > 0, after_tag=not top))
        for child in element:
            collect(child, pieces)
    if not top:
        following = element.getnext() is not None
        pieces.append(layout_trimmed(element.tail or "", before_tag=following, after_tag=True))


def layout_trimmed(text: str, before_tag: bool, after_tag: bool) -> str:
    if after_tag and text[:1].isspace() and "\n" in text[: len(text) - len(text.lstrip())]:
        text = text.lstrip()
    if before_tag and text[-1:].isspace() and "\n" in text[len(text.rstrip()):]:
        text = text.rstrip()
    return text


def entity_text(entity) -> str:
    name = entity.text.strip("&;")
    if name in html.entities.name2codepoint:
        return chr(html.entities.name2codepoint[name])
    return entity.text


def text_of(element, path: str) -> Optional[str]:
    found = element.find(path) if element is not None else None
    text = inner_text(found) if found is not None else ""
    return text or None


# ---------------------------------------------------------------------------------------------
# PubmedArticle


def article_record(element) -> Record:
    citation = element.find("MedlineCitation")
    if citation is None:
        raise ParseError("PubmedArticle without MedlineCitation", location=f"line {element.sourceline}")
    pmid = text_of(citation, "PMID")
    where = f"line {element.sourceline}" + (f" (record PMID {pmid})" if pmid else "")
    if not pmid or not pmid.isdigit():
        raise ParseError(f"PubmedArticle without a numeric PMID ({pmid!r})", location=where)
    article = citation.find("Article")
    if article is None:
        raise ParseError("MedlineCitation without Article", location=where)
    journal = article.find("Journal")
    publication_types = [inner_text(t) for t in article.iterfind("PublicationTypeList/PublicationType")]
    record: Record = {"type": csl_type(publication_types)}

    title = text_of(article, "ArticleTitle")
    vernacular = text_of(article, "VernacularTitle")
    if title:
        record["title"] = clean_title(title)
        if vernacular:
            record["original-title"] = vernacular
    elif vernacular:
        record["title"] = clean_title(vernacular)

    put_people(record, article)
    put_journal(record, journal, citation)
    put_pages(record, article)
    put_article_ids(record, element, article, pmid)
    put_issued(record, journal, article)
    put_abstract(record, article.find("Abstract"))
    language = text_of(article, "Language")
    if language:
        record["language"] = language
    tags = mesh_tags(citation) + keyword_tags(citation)
    if tags:
        record["tags"] = tags
    references = reference_list(element.find("PubmedData"))
    if references:
        record["references"] = references
    if record["type"] == "article":
        as_preprint(record, article)
    record["source_key"] = pmid
    return record


# PubMed publication types → CSL, most specific first ("Preprint" comes with "Journal Article").
TYPE_PRIORITY = (
    ("Preprint", "article"),
    ("Dataset", "dataset"),
    ("Newspaper Article", "article-newspaper"),
    ("Video-Audio Media", "motion_picture"),
    ("Technical Report", "report"),
    ("Legal Case", "legal_case"),
    ("Legislation", "legislation"),
)


def csl_type(publication_types: List[str]) -> str:
    for publication_type, csl in TYPE_PRIORITY:
        if publication_type in publication_types:
            return csl
    return "article-journal"


def clean_title(title: str) -> str:
    """Drop the full stop NLM ends every title with, and the brackets of a translated title."""
    title = unbracket_title(title.strip())
    if title.endswith(".") and not title.endswith(".."):
        title = title[:-1].rstrip()
    return title


def people_of(scope) -> Tuple[dict, list]:
    """({"author": [...], "editor": [...]}, affiliations of the authors) from every AuthorList
    directly under ``scope``; ``Type="editors"`` lists editors."""
    people: dict = {}
    affiliations: list = []
    for people_list in scope.iterfind("AuthorList"):
        role = "editor" if people_list.get("Type") == "editors" else "author"
        for author in people_list.iterfind("Author"):
            if author.get("ValidYN") == "N":
                continue  # a misspelt name kept by NLM beside its correction
            person = person_of(author)
            if person is None:
                continue
            people.setdefault(role, []).append(person)
            if role == "author":
                position = len(people["author"])
                for affiliation in author.iterfind("AffiliationInfo/Affiliation"):
                    text = inner_text(affiliation)
                    if text:
                        affiliations.append({"author_position": position, "raw": text})
    return people, affiliations


def put_people(record: Record, scope) -> None:
    people, affiliations = people_of(scope)
    record.update(people)
    if affiliations:
        record["affiliations"] = affiliations


def person_of(author) -> Optional[dict]:
    family = text_of(author, "LastName")
    given = text_of(author, "ForeName") or text_of(author, "FirstName")
    initials = text_of(author, "Initials")
    if family or given:
        person = {}
        if family:
            person["family"] = recase(family)
        if given:
            person["given"] = dotted_given(recase(given, shortest=4))
        elif initials:
            person["given"] = normalize.given_from_initials(initials)
        suffix = text_of(author, "Suffix")
        if suffix:
            person["suffix"] = suffix
    else:
        collective = text_of(author, "CollectiveName")
        if not collective:
            return None
        person = {"literal": collective.rstrip(".").strip()}
    for identifier in author.iterfind("Identifier"):
        if (identifier.get("Source") or "").upper() == "ORCID":
            orcid = orcid_of(inner_text(identifier))
            if orcid:
                person["ORCID"] = orcid
    return person


def recase(name: str, shortest: int = 3) -> str:
    """``SMITH`` → ``Smith``: old MEDLINE records spell some names in capitals. A name whose longest
    word is shorter than ``shortest`` letters may be initials (``MJL``) and is left alone."""
    if name.isupper() and max(len(word) for word in name.split()) >= shortest:
        return capitalize_title(name.lower(), force_small=False)
    return name


def put_journal(record: Record, journal, citation) -> None:
    if journal is None:
        return
    title = text_of(journal, "Title")
    abbreviation = text_of(journal, "ISOAbbreviation") or text_of(citation, "MedlineJournalInfo/MedlineTA")
    if title:
        title, place = split_place(title)
        record["container-title"] = journal_case(title)
        if place:
            record["publisher-place"] = place
    elif abbreviation:
        record["container-title"] = abbreviation
    if abbreviation:
        record["container-title-short"] = abbreviation
    issns = []
    for value in [text_of(journal, "ISSN"), text_of(citation, "MedlineJournalInfo/ISSNLinking")]:
        issn = normalize.normalize_issn(value)
        if issn and issn not in issns:
            issns.append(issn)
    if issns:
        record["ISSN"] = issns
    issue = journal.find("JournalIssue")
    if issue is not None:
        for tag, key in (("Volume", "volume"), ("Issue", "issue")):
            value = text_of(issue, tag)
            if value:
                record[key] = value


SMALL_WORDS = {
    "but", "or", "yet", "so", "for", "and", "nor", "a", "an", "the", "at", "by", "from", "in", "into",
    "of", "on", "to", "with", "up", "down", "as",
}


@functools.lru_cache(maxsize=4096)  # a baseline file repeats a few thousand journal titles
def journal_case(title: str) -> str:
    """NLM writes journal titles in sentence case; shown in title case as Zotero does.

    A title with capitals inside it that is not all capitals (``eLife``, ``BMJ open``) may hold an
    acronym and is left as it is.
    """
    title = re.sub(r"\s+", " ", title).strip().replace(" : ", ": ")
    if re.search(r"\b[A-Z]{2}", title) and (title.upper() != title or " " not in title):
        return title
    return capitalize_title(title)


def capitalize_title(text: str, force_small: bool = True) -> str:
    """Title case: words with no capitals of their own are capitalised, small words kept low
    (except first, last and after a colon)."""
    parts = re.split(r"([ /\u002D\u00AD\u2010-\u2015\u2212])", text)
    all_caps = text.upper() == text
    words = [i for i, part in enumerate(parts) if part and not re.fullmatch(r"[ /\u002D\u00AD\u2010-\u2015\u2212]", part)]
    previous = None
    for position, i in enumerate(words):
        word = parts[i]
        if all_caps or word == word.lower():
            bare = re.sub(r"[^a-zA-Z]+", "", word.lower())
            after_colon = previous is not None and parts[previous][-1:] in (":", "?", "!")
            if force_small and bare in SMALL_WORDS and 0 < position < len(words) - 1 and not after_colon:
                parts[i] = word.lower()
            else:
                lead = re.match(r"^['\"¡¿“‘„«]*", word).end()
                parts[i] = word[: lead + 1].upper() + word[lead + 1:].lower()
        previous = i
    return "".join(parts)


def put_pages(record: Record, article) -> None:
    """MedlinePgn as written (leading zeros are text); without it, the pii ELocationID."""
    pages = text_of(article, "Pagination/MedlinePgn")
    if not pages:
        start, end = text_of(article, "Pagination/StartPage"), text_of(article, "Pagination/EndPage")
        pages = f"{start}-{end}" if start and end else start
    if not pages:
        for location in article.iterfind("ELocationID"):
            if location.get("EIdType") == "pii" and location.get("ValidYN", "Y") != "N":
                pages = inner_text(location) or None
                break
    if pages:
        record["page"] = pages


def put_article_ids(record: Record, element, article, pmid: str) -> None:
    record["PMID"] = normalize.normalize_pmid(pmid) or pmid
    doi = None
    for location in article.iterfind("ELocationID"):
        if location.get("EIdType") == "doi" and location.get("ValidYN", "Y") != "N":
            doi = clean_doi(inner_text(location))
            if doi:
                break
    ids = {}
    for article_id in element.iterfind("PubmedData/ArticleIdList/ArticleId"):
        ids.setdefault(article_id.get("IdType"), inner_text(article_id))
    doi = doi or clean_doi(ids.get("doi") or "")
    if doi:
        record["DOI"] = doi
    pmcid = normalize.normalize_pmcid(ids.get("pmc")) if ids.get("pmc") else None
    if pmcid:
        record["PMCID"] = pmcid


def put_issued(record: Record, journal, article) -> None:
    """PubDate (Year/Month/Day/Season or a MedlineDate range); ArticleDate when it has none."""
    pub_date = journal.find("JournalIssue/PubDate") if journal is not None else None
    issued = date_of(pub_date)
    electronic = date_of(article.find("ArticleDate"))
    if issued is None:
        issued = electronic
    elif electronic and len(electronic["date-parts"][0]) > len(issued["date-parts"][0]) and same_start(issued, electronic):
        issued = electronic
    if issued:
        record["issued"] = issued


def same_start(coarse: dict, fine: dict) -> bool:
    """Whether ``fine`` only adds precision to ``coarse`` (2018-11 vs 2018-11-14)."""
    a, b = coarse["date-parts"][0], fine["date-parts"][0]
    return "raw" not in coarse and "season" not in coarse and b[: len(a)] == a


def date_of(element) -> Optional[dict]:
    if element is None:
        return None
    medline_date = text_of(element, "MedlineDate")
    if medline_date:
        parts = normalize.parse_date(medline_date)
        if not parts:
            return {"literal": medline_date}
        return {"date-parts": [parts], "raw": medline_date}
    year = text_of(element, "Year")
    if not year or not year.isdigit():
        return None
    parts = [int(year)]
    month = month_number(text_of(element, "Month"))
    if month:
        parts.append(month)
        day = text_of(element, "Day")
        if day and day.isdigit() and 1 <= int(day) <= 31:
            parts.append(int(day))
    date = {"date-parts": [parts]}
    season = text_of(element, "Season")
    if season and len(parts) == 1:
        date["season"] = season
    return date


def month_number(value: Optional[str]) -> Optional[int]:
    if not value:
        return None
    if value.isdigit():
        return int(value) if 1 <= int(value) <= 12 else None
    return MONTHS.get(value[:3].lower())


def put_abstract(record: Record, abstract) -> None:
    if abstract is None:
        return
    paragraphs = []
    for section in abstract.iterfind("AbstractText"):
        text = inner_text(section)
        label = section.get("Label")
        if label and label.upper() != "UNLABELLED":
            text = f"{label}: {text}" if text else label
        if text:
            paragraphs.append(text)
    if paragraphs:
        record["abstract"] = "\n".join(paragraphs)
    rights = text_of(abstract, "CopyrightInformation")
    if rights:
        record["license"] = rights


def mesh_tags(citation) -> list:
    tags = []
    for heading in citation.iterfind("MeshHeadingList/MeshHeading"):
        descriptor = text_of(heading, "DescriptorName")
        if descriptor:
            tags.append({"name": descriptor, "kind": "mesh"})
    return tags


def keyword_tags(citation) -> list:
    tags = []
    for keyword in citation.iterfind("KeywordList/Keyword"):
        text = inner_text(keyword)
        if text:
            tags.append({"name": text, "kind": "keyword"})
    return tags


def reference_list(pubmed_data) -> list:
    if pubmed_data is None:
        return []
    references = []
    for reference in pubmed_data.iterfind("ReferenceList/Reference"):
        entry = {}
        raw = text_of(reference, "Citation")
        if raw:
            entry["raw"] = raw
        for article_id in reference.iterfind("ArticleIdList/ArticleId"):
            kind, value = article_id.get("IdType"), inner_text(article_id)
            if kind == "doi" and clean_doi(value):
                entry.setdefault("DOI", clean_doi(value))
            elif kind == "pubmed" and normalize.normalize_pmid(value):
                entry.setdefault("PMID", normalize.normalize_pmid(value))
            elif kind == "pmc" and normalize.normalize_pmcid(value):
                entry.setdefault("PMCID", normalize.normalize_pmcid(value))
        if entry:
            references.append(entry)
    return references


def as_preprint(record: Record, article) -> None:
    """A preprint's "journal" is its server (the CSL publisher) and its pii the server's ID."""
    server = record.pop("container-title", None)
    record.pop("container-title-short", None)
    record.pop("publisher-place", None)
    record.pop("ISSN", None)  # the server's ISSN: no container left to carry it
    if server:
        record["publisher"] = server
    for location in article.iterfind("ELocationID"):
        if location.get("EIdType") == "pii":
            record["number"] = inner_text(location)
            break
    if record.get("page") == record.get("number"):
        record.pop("page", None)


# ---------------------------------------------------------------------------------------------
# PubmedBookArticle


def book_record(element) -> Record:
    document = element.find("BookDocument")
    if document is None:
        raise ParseError("PubmedBookArticle without BookDocument", location=f"line {element.sourceline}")
    pmid = text_of(document, "PMID")
    where = f"line {element.sourceline}" + (f" (record PMID {pmid})" if pmid else "")
    if not pmid or not pmid.isdigit():
        raise ParseError(f"PubmedBookArticle without a numeric PMID ({pmid!r})", location=where)
    book = document.find("Book")
    section_title = text_of(document, "ArticleTitle")
    book_title = text_of(book, "BookTitle") if book is not None else None
    record: Record = {"type": "chapter" if section_title else "book"}
    if section_title:
        record["title"] = clean_title(section_title)
        if book_title:
            record["container-title"] = clean_title(book_title)
    elif book_title:
        record["title"] = clean_title(book_title)
    book_people, book_affiliations = people_of(book) if book is not None else ({}, [])
    if section_title:
        # A chapter's own people come first; the book's authors are its container's authors.
        put_people(record, document)
        if book_people.get("author"):
            record["container-author"] = book_people["author"]
        if book_people.get("editor"):
            record["editor"] = record.get("editor", []) + book_people["editor"]
    else:
        record.update(book_people)
        if book_affiliations:
            record["affiliations"] = book_affiliations
    if book is not None:
        for tag, key in (
            ("Publisher/PublisherName", "publisher"), ("Publisher/PublisherLocation", "publisher-place"),
            ("Edition", "edition"), ("CollectionTitle", "collection-title"), ("Volume", "volume"),
            ("Medium", "medium"),
        ):
            value = text_of(book, tag)
            if value:
                record[key] = value
        isbns = [inner_text(i) for i in book.iterfind("Isbn") if inner_text(i)]
        if isbns:
            record["ISBN"] = " ".join(isbns)
        issued = date_of(book.find("PubDate"))
        if issued:
            record["issued"] = issued
    record["PMID"] = normalize.normalize_pmid(pmid) or pmid
    ids = {a.get("IdType"): inner_text(a) for a in document.iterfind("ArticleIdList/ArticleId")}
    if ids.get("bookaccession"):
        record["call-number"] = ids["bookaccession"]
        record["URL"] = f"https://www.ncbi.nlm.nih.gov/books/{ids['bookaccession']}/"
    if clean_doi(ids.get("doi") or ""):
        record["DOI"] = clean_doi(ids["doi"])
    language = text_of(document, "Language")
    if language:
        record["language"] = language
    put_abstract(record, document.find("Abstract"))
    tags = keyword_tags(document)
    if tags:
        record["tags"] = tags
    references = reference_list(element.find("PubmedBookData"))
    if references:
        record["references"] = references
    record["source_key"] = pmid
    return record
