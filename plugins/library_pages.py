"""The data behind refsette's own pages: a work, an author, a journal, a collection, the home page.

Datasette renders these pages from its row and index views with the templates in ``templates/``;
this plugin gives those templates what one row does not hold (a work's authors, citations and
excerpts, an author's co-authors, a journal's top authors …), each page in a few indexed queries.

Templates get (async functions are awaited by Jinja):

``work_page(id)``, ``author_page(id)``, ``journal_page(id)``, ``collection_page(id)``
    dicts described in each function's docstring, or None for an id the library does not have
``library_summary()``   counts and year span for the home page
``citation_style(request)``  the ``?_style=`` of the request when it is a style the page offers,
                        otherwise ``apa``; ``CITATION_STYLES`` lists the offered ones
``safe_url(url)``       the URL when it is http(s), else None: source data decides what a link says,
                        never what a click runs
``plain_text(html)``    the text of an HTML fragment (Zotero notes are HTML)

This module must not import ``ingest``: ``datasette publish`` copies only the plugins folder.
"""

from __future__ import annotations

import html.parser
import re
from typing import Dict, List, Optional
from urllib.parse import quote, urlsplit

from datasette import hookimpl

DATABASE = "library"
CITATION_STYLES = [
    ("apa", "APA"),
    ("vancouver", "Vancouver"),
    ("chicago-author-date", "Chicago"),
    ("harvard1", "Harvard"),
    ("modern-language-association", "MLA"),
    ("american-medical-association", "AMA"),
    ("ieee", "IEEE"),
    ("nature", "Nature"),
]
# A collection holds its sub-collections' works too (as works.collection_names does).
COLLECTION_TREE = """with recursive tree(ancestor, id) as (
  select id, id from collections
  union select tree.ancestor, collections.id from collections join tree on collections.parent_id = tree.id)"""
WORKS_IN_SUBTREE = """(select count(distinct collection_works.work_id) from collection_works
  join tree on tree.id = collection_works.collection_id where tree.ancestor = collections.id)"""
LIST_LIMIT = 500  # works listed on an author's or journal's page; the rest are one link away


def safe_url(url) -> Optional[str]:
    """``url`` when it is an absolute http(s) URL, else None (no ``javascript:`` links from data)."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return url
    return None


def doi_url(doi: Optional[str]) -> Optional[str]:
    return "https://doi.org/" + quote(doi, safe="/:;()[].-_~") if doi else None


def pubmed_url(pmid: Optional[str]) -> Optional[str]:
    return f"https://pubmed.ncbi.nlm.nih.gov/{quote(str(pmid), safe='')}/" if pmid else None


def pmc_url(pmcid: Optional[str]) -> Optional[str]:
    return f"https://www.ncbi.nlm.nih.gov/pmc/articles/{quote(str(pmcid), safe='')}/" if pmcid else None


class _TextOnly(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: List[str] = []

    def handle_data(self, data):
        self.parts.append(data)

    def handle_starttag(self, tag, attrs):
        if tag in ("p", "br", "div", "li", "h1", "h2", "h3", "tr"):
            self.parts.append("\n")


def plain_text(fragment) -> str:
    """Text of an HTML fragment, paragraphs kept as line breaks; the template escapes it."""
    if not fragment:
        return ""
    parser = _TextOnly()
    parser.feed(str(fragment))
    parser.close()
    text = "".join(parser.parts)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def year_series(rows) -> List[tuple]:
    """(year, count) pairs from query rows, years without a value left out."""
    return [(row["year"], row["n"]) for row in rows if row["year"] is not None]


def citation_style(request) -> str:
    wanted = (request.args.get("_style") or "").strip().lower() if request is not None else ""
    return wanted if wanted in dict(CITATION_STYLES) else "apa"


async def _rows(db, sql: str, params=None) -> List[dict]:
    return [dict(row) for row in await db.execute(sql, params or [])]


async def _first(db, sql: str, params=None) -> Optional[dict]:
    rows = await _rows(db, sql, params)
    return rows[0] if rows else None


def _id(value) -> Optional[int]:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


async def work_page(db, work_id) -> Optional[dict]:
    """``work`` (the row), ``journal``, ``creators`` (role → people in order), ``collections`` (with
    the excerpt that quotes the work there), ``tags``, ``cites`` and ``cited_by``, ``notes``,
    ``institutions`` (where the authors worked, geocoded), ``unplaced_affiliations`` (the others, as
    written), ``related`` and ``links`` (DOI, PubMed, PMC, URL)."""
    work_id = _id(work_id)
    work = await _first(db, "select * from works where id = ?", [work_id]) if work_id is not None else None
    if work is None:
        return None
    journal = None
    if work.get("journal_id"):
        journal = await _first(db, "select * from journals where id = ?", [work["journal_id"]])
    creators: Dict[str, List[dict]] = {}
    for row in await _rows(db, """
            select work_authors.role, work_authors.position, work_authors.name_as_written,
              authors.id as author_id, authors.name, authors.family, authors.given, authors.literal,
              authors.orcid
            from work_authors join authors on authors.id = work_authors.author_id
            where work_authors.work_id = ? order by work_authors.role != 'author', work_authors.role,
              work_authors.position""", [work_id]):
        creators.setdefault(row["role"], []).append(row)
    collections = await _rows(db, """
        select collections.id, collections.name, collections.parent_id, parent.name as parent_name,
          collection_works.position, collection_works.context
        from collection_works join collections on collections.id = collection_works.collection_id
        left join collections parent on parent.id = collections.parent_id
        where collection_works.work_id = ? order by collections.name""", [work_id])
    tags = await _rows(db, """
        select tags.id, tags.name, group_concat(distinct work_tags.kind) as kinds
        from work_tags join tags on tags.id = work_tags.tag_id
        where work_tags.work_id = ? group by tags.id order by tags.name""", [work_id])
    cites = await _rows(db, """
        select citations.position, citations.raw, citations.doi, citations.pmid, citations.cited_work_id,
          works.title as cited_title, works.year as cited_year, works.authors_text as cited_authors
        from citations left join works on works.id = citations.cited_work_id
        where citations.citing_work_id = ? order by citations.position""", [work_id])
    cited_by = await _rows(db, """
        select distinct works.id, works.title, works.year, works.authors_text
        from citations join works on works.id = citations.citing_work_id
        where citations.cited_work_id = ? order by works.year desc, works.id""", [work_id])
    notes = await _rows(db, "select id, content from notes where work_id = ? order by id", [work_id])
    institutions = await _rows(db, """
        select institutions.id, institutions.name, institutions.city, institutions.country,
          count(distinct affiliations.author_id) as authors
        from affiliations join institutions on institutions.id = affiliations.institution_id
        where affiliations.work_id = ?
        group by institutions.id order by min(affiliations.position), institutions.name""", [work_id])
    unplaced = await _rows(db, """
        select raw, min(position) as position from affiliations
        where work_id = ? and institution_id is null group by raw order by position, raw""", [work_id])
    related = await _rows(db, """
        select related_works.relation, works.id, works.title, works.year
        from related_works join works on works.id = related_works.related_work_id
        where related_works.work_id = ? order by works.year desc""", [work_id])
    links = [(label, url) for label, url in (
        ("DOI", doi_url(work.get("doi"))),
        ("PubMed", pubmed_url(work.get("pmid"))),
        ("PubMed Central", pmc_url(work.get("pmcid"))),
        ("Web page", safe_url(work.get("url"))),
    ) if url]
    return {
        "work": work, "journal": journal, "creators": creators, "authors": creators.get("author", []),
        "collections": collections, "excerpts": [c for c in collections if c.get("context")],
        "tags": tags, "cites": cites, "cited_by": cited_by, "notes": notes,
        "institutions": institutions, "unplaced_affiliations": unplaced, "related": related, "links": links,
    }


async def author_page(db, author_id) -> Optional[dict]:
    """``author``, ``works`` (newest first, each with its role and journal), ``total``,
    ``coauthors`` (id, name, works together), ``institutions`` (with works counted there),
    ``variants`` (spellings), ``years`` ((year, works) pairs)."""
    author_id = _id(author_id)
    author = await _first(db, "select * from authors where id = ?", [author_id]) if author_id is not None else None
    if author is None:
        return None
    works = await _rows(db, f"""
        select works.id, works.title, works.year, works.type, works.authors_text, works.doi,
          journals.id as journal_id, journals.title as journal, group_concat(distinct work_authors.role) as roles
        from work_authors join works on works.id = work_authors.work_id
        left join journals on journals.id = works.journal_id
        where work_authors.author_id = ?
        group by works.id order by works.year desc, works.id desc limit {LIST_LIMIT + 1}""", [author_id])
    total = (await _first(db, "select count(distinct work_id) as n from work_authors where author_id = ?",
                          [author_id]))["n"]
    coauthors = await _rows(db, """
        select authors.id, authors.name, count(distinct other.work_id) as works
        from work_authors mine
        join work_authors other on other.work_id = mine.work_id and other.author_id != mine.author_id
        join authors on authors.id = other.author_id
        where mine.author_id = ?
        group by authors.id order by works desc, authors.name limit 50""", [author_id])
    institutions = await _rows(db, """
        select institutions.id, institutions.name, institutions.city, institutions.country,
          count(distinct affiliations.work_id) as works
        from affiliations join institutions on institutions.id = affiliations.institution_id
        where affiliations.author_id = ?
        group by institutions.id order by works desc, institutions.name""", [author_id])
    unplaced = await _rows(db, """
        select raw, count(distinct work_id) as works from affiliations
        where author_id = ? and institution_id is null group by raw order by works desc limit 20""", [author_id])
    variants = await _rows(db, "select name, family, given from author_variants where author_id = ? order by name",
                           [author_id])
    years = year_series(await _rows(db, """
        select works.year, count(distinct works.id) as n from work_authors
        join works on works.id = work_authors.work_id
        where work_authors.author_id = ? group by works.year order by works.year""", [author_id]))
    return {
        "author": author, "works": works[:LIST_LIMIT], "more": len(works) > LIST_LIMIT, "total": total,
        "coauthors": coauthors, "institutions": institutions, "unplaced": unplaced, "variants": variants,
        "years": years,
    }


async def journal_page(db, journal_id) -> Optional[dict]:
    """``journal``, ``names`` (titles, abbreviations, ISSNs pointing at it), ``works`` (newest
    first), ``total``, ``years`` and ``top_authors``."""
    journal_id = _id(journal_id)
    journal = await _first(db, "select * from journals where id = ?", [journal_id]) if journal_id is not None else None
    if journal is None:
        return None
    names = await _rows(db, "select name, kind from journal_names where journal_id = ? order by kind, name",
                        [journal_id])
    works = await _rows(db, f"""
        select id, title, year, volume, issue, pages, authors_text, doi from works
        where journal_id = ? order by year desc, id desc limit {LIST_LIMIT + 1}""", [journal_id])
    total = (await _first(db, "select count(*) as n from works where journal_id = ?", [journal_id]))["n"]
    years = year_series(await _rows(db, """
        select year, count(*) as n from works where journal_id = ? group by year order by year""", [journal_id]))
    top_authors = await _rows(db, """
        select authors.id, authors.name, count(distinct works.id) as works
        from works join work_authors on work_authors.work_id = works.id
        join authors on authors.id = work_authors.author_id
        where works.journal_id = ? and work_authors.role = 'author'
        group by authors.id order by works desc, authors.name limit 20""", [journal_id])
    return {"journal": journal, "names": names, "works": works[:LIST_LIMIT], "more": len(works) > LIST_LIMIT,
            "total": total, "years": years, "top_authors": top_authors}


async def collection_page(db, collection_id) -> Optional[dict]:
    """``collection``, ``parent``, ``children`` (with their works counted), ``works`` in the
    collection's own order, each with its excerpt, and ``years``."""
    collection_id = _id(collection_id)
    collection = (await _first(db, "select * from collections where id = ?", [collection_id])
                  if collection_id is not None else None)
    if collection is None:
        return None
    parent = None
    if collection.get("parent_id"):
        parent = await _first(db, "select id, name from collections where id = ?", [collection["parent_id"]])
    children = await _rows(db, f"""{COLLECTION_TREE}
        select collections.id, collections.name, {WORKS_IN_SUBTREE} as works
        from collections where collections.parent_id = ?
        order by collections.position, collections.name""", [collection_id])
    works = await _rows(db, f"""
        select works.id, works.title, works.year, works.authors_text, journals.title as journal,
          collection_works.position, collection_works.context
        from collection_works join works on works.id = collection_works.work_id
        left join journals on journals.id = works.journal_id
        where collection_works.collection_id = ?
        order by collection_works.position is null, collection_works.position, works.year desc
        limit {LIST_LIMIT + 1}""", [collection_id])
    total = (await _first(db, f"""{COLLECTION_TREE}
        select {WORKS_IN_SUBTREE} as n from collections where collections.id = ?""", [collection_id]))["n"]
    years = year_series(await _rows(db, """
        select works.year, count(*) as n from collection_works join works on works.id = collection_works.work_id
        where collection_works.collection_id = ? group by works.year order by works.year""", [collection_id]))
    return {"collection": collection, "parent": parent, "children": children, "works": works[:LIST_LIMIT],
            "more": len(works) > LIST_LIMIT, "total": total, "years": years}


async def library_summary(db) -> dict:
    """Counts of works, authors, journals, collections, tags, institutions on the map, citations
    resolved; the year span; the top-level collections with their sizes."""
    counts = await _first(db, """
        select (select count(*) from works) as works, (select count(*) from authors) as authors,
          (select count(*) from journals) as journals, (select count(*) from collections) as collections,
          (select count(*) from tags) as tags, (select count(*) from institution_map) as places,
          (select count(*) from citations where cited_work_id is not null) as citations_resolved,
          (select count(*) from citations) as citations,
          (select min(year) from works) as first_year, (select max(year) from works) as last_year""")
    collections = await _rows(db, f"""{COLLECTION_TREE}
        select collections.id, collections.name, {WORKS_IN_SUBTREE} as works
        from collections where collections.parent_id is null
        order by collections.position, collections.name limit 50""")
    years = year_series(await _rows(db, "select year, count(*) as n from works group by year order by year"))
    return {**counts, "top_collections": collections, "years": years}


def _database(datasette, database: Optional[str]):
    if database and database in datasette.databases:
        return datasette.get_database(database)
    if DATABASE in datasette.databases:
        return datasette.get_database(DATABASE)
    return None


@hookimpl
def extra_template_vars(datasette, database):
    def bind(function):
        async def call(*args):
            db = _database(datasette, database)
            return await function(db, *args) if db is not None else None
        return call

    return {
        "work_page": bind(work_page),
        "author_page": bind(author_page),
        "journal_page": bind(journal_page),
        "collection_page": bind(collection_page),
        "library_summary": bind(library_summary),
        "citation_style": citation_style,
        "CITATION_STYLES": CITATION_STYLES,
        "safe_url": safe_url,
        "plain_text": plain_text,
    }
