"""``/-/search?q=…``: one search over works, authors, journals and the excerpts of collections.

Full-text search (FTS5, best match first by its bm25 ``rank``) on the tables the schema indexes:
``works_fts`` (title, abstract, excerpts, authors as written), ``authors_fts`` and ``journals_fts``.
The words typed are searched as words (Datasette's ``escape_fts`` quotes each one), so FTS syntax in
a query can neither fail nor surprise. Snippets mark the matching words: SQLite brackets them with
two control characters, the text is HTML-escaped, and only then do the brackets become ``<mark>``.

This module must not import ``ingest``: ``datasette publish`` copies only the plugins folder.
"""

from __future__ import annotations

import re
from typing import List, Optional

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.utils import escape_fts
from datasette.utils.asgi import Response
from markupsafe import Markup, escape

DATABASE = "library"
START, END = "\x02", "\x03"
_MARKED = re.compile(f"{START}(.*?){END}", re.DOTALL)
WORKS_SHOWN, OTHERS_SHOWN = 50, 20


def marked(text: Optional[str]) -> Markup:
    """A snippet with SQLite's match brackets turned into ``<mark>``, everything else escaped."""
    if not text:
        return Markup("")
    escaped = str(escape(text))
    highlighted = _MARKED.sub(lambda m: f"<mark>{m.group(1)}</mark>", escaped)
    return Markup(highlighted.replace(START, "").replace(END, ""))


def fts_query(q: str) -> str:
    """The words of ``q`` as an FTS5 query of quoted terms (all must match); empty if none."""
    q = (q or "").replace(START, " ").replace(END, " ")
    return escape_fts(q.strip()) if q.strip() else ""


def snippet(table: str, column: int, tokens: int = 24) -> str:
    return f"snippet({table}, {column}, '{START}', '{END}', '…', {tokens})"


async def search(db, q: str) -> dict:
    """Matches per kind: works (with title, abstract and excerpt snippets), authors, journals and
    excerpts (works whose collection excerpts match), each best first, and their totals."""
    match = fts_query(q)
    if not match:
        return {"query": match, "works": [], "authors": [], "journals": [], "excerpts": [], "totals": {}}
    excerpt_match = f"excerpts : ({match})"
    totals = dict((await db.execute(
        """select 'works', count(*) from works_fts where works_fts match :q
           union all select 'authors', count(*) from authors_fts where authors_fts match :q
           union all select 'journals', count(*) from journals_fts where journals_fts match :q
           union all select 'excerpts', count(*) from works_fts where works_fts match :e""",
        {"q": match, "e": excerpt_match})).rows)
    works = [dict(row) for row in await db.execute(f"""
        select works.id, works.title, works.year, works.type, works.authors_text,
          journals.id as journal_id, journals.title as journal,
          highlight(works_fts, 0, '{START}', '{END}') as title_marked,
          {snippet('works_fts', 1)} as abstract_marked,
          {snippet('works_fts', 3, 16)} as authors_marked
        from works_fts join works on works.id = works_fts.rowid
        left join journals on journals.id = works.journal_id
        where works_fts match :q order by works_fts.rank limit {WORKS_SHOWN}""", {"q": match})]
    authors = [dict(row) for row in await db.execute(f"""
        select authors.id, authors.name, highlight(authors_fts, 0, '{START}', '{END}') as name_marked,
          (select count(distinct work_id) from work_authors where work_authors.author_id = authors.id) as works
        from authors_fts join authors on authors.id = authors_fts.rowid
        where authors_fts match :q order by authors_fts.rank limit {OTHERS_SHOWN}""", {"q": match})]
    journals = [dict(row) for row in await db.execute(f"""
        select journals.id, journals.title, journals.abbreviation,
          highlight(journals_fts, 0, '{START}', '{END}') as title_marked,
          highlight(journals_fts, 1, '{START}', '{END}') as abbreviation_marked,
          (select count(*) from works where works.journal_id = journals.id) as works
        from journals_fts join journals on journals.id = journals_fts.rowid
        where journals_fts match :q order by journals_fts.rank limit {OTHERS_SHOWN}""", {"q": match})]
    excerpts = [dict(row) for row in await db.execute(f"""
        select works.id, works.title, works.year, {snippet('works_fts', 2, 32)} as excerpt_marked,
          (select group_concat(collections.id || char(31) || collections.name, char(30))
             from collection_works join collections on collections.id = collection_works.collection_id
             where collection_works.work_id = works.id and collection_works.context is not null) as collections
        from works_fts join works on works.id = works_fts.rowid
        where works_fts match :e order by works_fts.rank limit {OTHERS_SHOWN}""", {"e": excerpt_match})]
    for row in excerpts:
        row["collections"] = [tuple(part.split("\x1f", 1)) for part in (row["collections"] or "").split("\x1e") if part]
    for rows, columns in ((works, ("title_marked", "abstract_marked", "authors_marked")),
                          (authors, ("name_marked",)), (journals, ("title_marked", "abbreviation_marked")),
                          (excerpts, ("excerpt_marked",))):
        for row in rows:
            for column in columns:
                row[column] = marked(row[column])
    return {"query": match, "works": works, "authors": authors, "journals": journals, "excerpts": excerpts,
            "totals": totals}


async def search_view(datasette, request):
    q = (request.args.get("q") or "").strip()[:500]
    db = datasette.get_database(DATABASE) if DATABASE in datasette.databases else None
    results, error = None, None
    if q and db is not None:
        try:
            results = await search(db, q)
        except QueryInterrupted:
            error = "The search took too long; try more specific words."
    ids: List[int] = [row["id"] for row in (results or {}).get("works", [])]
    html = await datasette.render_template(
        "search.html",
        {"q": q, "results": results, "error": error, "work_ids": ids, "database": DATABASE},
        request=request,
    )
    return Response.html(html)


@hookimpl
def register_routes():
    return [(r"^/-/search$", search_view)]
