"""The database schema, declared once as data and applied idempotently.

Tables are created parents before children with typed columns, primary keys and foreign keys
(``ensure_tables``, at the start of a run); indexes, full-text search and views are applied at the end
of every run (``finalize``). The table and column names of DESIGN.md's schema contract are a contract.
"""

from __future__ import annotations

from typing import Dict, List, Tuple

import sqlite_utils

# name -> (columns, pk, foreign keys, not-null)
TABLES: Dict[str, dict] = {
    "sources": {
        "columns": {"id": int, "path": str, "format": str, "sha256": str, "imported_at": str, "records": int},
        "pk": "id",
    },
    "journals": {
        "columns": {
            "id": int, "title": str, "abbreviation": str, "issn": str, "eissn": str, "publisher": str,
            "title_key": str,
        },
        "pk": "id",
    },
    # Every spelling of a journal (title, abbreviation, ISSN) pointing at its row: how
    # "J Clin Oncol", "Journal of Clinical Oncology" and 0732-183X become one journal.
    "journal_names": {
        "columns": {"key": str, "journal_id": int, "name": str, "kind": str},
        "pk": "key",
        "foreign_keys": [("journal_id", "journals", "id")],
    },
    "works": {
        "columns": {
            "id": int, "type": str, "title": str, "abstract": str, "journal_id": int,
            "container_title": str, "year": int, "issued": str, "volume": str, "issue": str,
            "pages": str, "page_first": str, "page_last": str, "doi": str, "pmid": str, "pmcid": str,
            "isbn": str, "url": str, "language": str, "note": str, "publisher": str,
            "publisher_place": str, "edition": str, "collection_title": str, "number": str,
            "cite_key": str, "zotero_key": str, "zotero_library": str,
            "authors_text": str, "author_names": str, "tag_names": str, "collection_names": str,
            "excerpts": str, "title_key": str, "source_rank": int, "extra": str,
        },
        "pk": "id",
        "foreign_keys": [("journal_id", "journals", "id")],
    },
    "authors": {
        "columns": {
            "id": int, "name": str, "family": str, "given": str, "initials": str, "literal": str,
            "orcid": str, "name_key": str, "spelling": str,
        },
        "pk": "id",
    },
    "author_variants": {
        "columns": {"author_id": int, "name": str, "family": str, "given": str, "works": int},
        "pk": ("author_id", "name"),
        "foreign_keys": [("author_id", "authors", "id")],
    },
    "work_authors": {
        "columns": {
            "work_id": int, "author_id": int, "position": int, "role": str, "name_as_written": str,
        },
        "pk": ("work_id", "role", "position"),
        "foreign_keys": [("work_id", "works", "id"), ("author_id", "authors", "id")],
    },
    "citations": {
        "columns": {
            "citing_work_id": int, "position": int, "cited_work_id": int, "raw": str, "doi": str,
            "pmid": str, "pmcid": str,
        },
        "pk": ("citing_work_id", "position"),
        "foreign_keys": [("citing_work_id", "works", "id"), ("cited_work_id", "works", "id")],
    },
    "collections": {
        "columns": {
            "id": int, "name": str, "parent_id": int, "description": str, "zotero_key": str, "key": str,
            "position": int,
        },
        "pk": "id",
        "foreign_keys": [("parent_id", "collections", "id")],
    },
    "collection_works": {
        "columns": {
            "collection_id": int, "work_id": int, "position": int, "context": str, "source_id": int,
        },
        "pk": ("collection_id", "work_id"),
        "foreign_keys": [
            ("collection_id", "collections", "id"), ("work_id", "works", "id"), ("source_id", "sources", "id"),
        ],
    },
    "tags": {"columns": {"id": int, "name": str}, "pk": "id"},
    "work_tags": {
        "columns": {"work_id": int, "tag_id": int, "kind": str, "source_id": int},
        "pk": ("work_id", "tag_id", "kind"),
        "foreign_keys": [("work_id", "works", "id"), ("tag_id", "tags", "id"), ("source_id", "sources", "id")],
    },
    "collection_tags": {
        "columns": {"collection_id": int, "tag_id": int, "kind": str},
        "pk": ("collection_id", "tag_id"),
        "foreign_keys": [("collection_id", "collections", "id"), ("tag_id", "tags", "id")],
    },
    "notes": {
        "columns": {"id": int, "work_id": int, "content": str, "zotero_key": str, "source_id": int, "key": str},
        "pk": "id",
        "foreign_keys": [("work_id", "works", "id"), ("source_id", "sources", "id")],
    },
    "work_sources": {
        "columns": {"work_id": int, "source_id": int, "record_key": str},
        "pk": ("work_id", "source_id", "record_key"),
        "foreign_keys": [("work_id", "works", "id"), ("source_id", "sources", "id")],
    },
    "institutions": {
        "columns": {
            "id": int, "name": str, "city": str, "country": str, "country_code": str,
            "latitude": float, "longitude": float, "precision": str, "name_key": str,
        },
        "pk": "id",
    },
    "affiliations": {
        # ``part``: which of the institutions named in ``raw`` ("A, Paris; B, Lyon") this row is.
        "columns": {
            "work_id": int, "author_id": int, "institution_id": int, "raw": str, "position": int, "part": int,
        },
        "pk": ("work_id", "position", "raw", "part"),
        "foreign_keys": [
            ("work_id", "works", "id"), ("author_id", "authors", "id"), ("institution_id", "institutions", "id"),
        ],
    },
    "related_works": {
        "columns": {"work_id": int, "related_work_id": int, "relation": str},
        "pk": ("work_id", "related_work_id", "relation"),
        "foreign_keys": [("work_id", "works", "id"), ("related_work_id", "works", "id")],
    },
    # Zotero sync state and the library as the API served it (see docs/zotero.md): a changed child
    # note arrives without its parent, so works are rebuilt from these copies.
    "zotero_sync_state": {
        "columns": {"library": str, "source_id": int, "version": int, "scope": str, "synced_at": str},
        "pk": "library",
    },
    "zotero_items": {
        "columns": {
            "library": str, "key": str, "version": int, "item_type": str, "parent_key": str,
            "trashed": int, "data": str, "meta": str,
        },
        "pk": ("library", "key"),
    },
    "zotero_collections": {
        "columns": {
            "library": str, "key": str, "version": int, "name": str, "parent_key": str, "trashed": int,
            "data": str,
        },
        "pk": ("library", "key"),
    },
    "zotero_attachments": {
        "columns": {
            "source_id": int, "key": str, "library": str, "parent_key": str, "work_id": int, "title": str,
            "content_type": str, "link_mode": str, "url": str, "filename": str,
        },
        "pk": ("source_id", "key"),
    },
}

# Indexes of earlier builds that a later one replaced (dropped when found). authors' name keys are
# indexed with the id and what the identity rules compare (AUTHORS_BY_NAME_KEY); work_authors'
# index on author_id holds work_id too: an author's works (their page, ``?_author=``, the co-authors
# the identity rules ask about) come from the index alone; collection_works' index on work_id holds
# the collection too, for the collection facet of a search; works' indexes on journal_id and on
# type hold the year too: a journal's or a type's works page (``?journal_id=``, newest first) reads
# its first rows in order instead of sorting all of the journal's or type's works.
REPLACED_INDEXES = ("idx_authors_name_key", "idx_authors_name_key_id", "idx_work_authors_author_id",
                    "idx_collection_works_work_id", "idx_works_journal_id", "idx_works_type")

# A name's namesakes, read by the loader in id order with what the identity rules compare
# (loader.AUTHOR_COLUMNS), from the index alone: in a library of 500,000 works that is 2.5x faster
# than through the table's rows, which lie wherever each author was first met.
AUTHORS_BY_NAME_KEY = ("authors", ("name_key", "id", "family", "given", "initials", "literal", "orcid", "name"), False)

# (table, columns, unique)
INDEXES: List[Tuple[str, Tuple[str, ...], bool]] = [
    ("works", ("year",), False),
    ("works", ("type", "year"), False),
    ("works", ("journal_id", "year"), False),
    ("works", ("doi",), False),
    ("works", ("pmid",), False),
    ("works", ("pmcid",), False),
    ("works", ("title_key",), False),
    ("works", ("zotero_key",), False),
    ("works", ("cite_key",), False),
    ("works", ("language",), False),
    ("works", ("year", "journal_id"), False),
    AUTHORS_BY_NAME_KEY,
    ("authors", ("spelling", "id"), False),
    ("authors", ("orcid",), False),
    ("authors", ("name",), False),
    ("journals", ("title_key",), False),
    ("journals", ("issn",), False),
    ("journal_names", ("journal_id",), False),
    ("author_variants", ("name",), False),
    ("work_authors", ("author_id", "work_id"), False),
    ("work_authors", ("role",), False),
    ("citations", ("cited_work_id",), False),
    ("citations", ("doi",), False),
    ("citations", ("pmid",), False),
    ("collections", ("parent_id",), False),
    ("collections", ("key",), True),
    ("collection_works", ("work_id", "collection_id"), False),
    ("tags", ("name",), True),
    ("work_tags", ("tag_id",), False),
    ("work_tags", ("kind",), False),
    ("notes", ("work_id",), False),
    ("work_sources", ("source_id",), False),
    ("sources", ("path",), False),
    ("institutions", ("name_key",), False),
    ("institutions", ("country",), False),
    ("affiliations", ("author_id",), False),
    ("affiliations", ("institution_id",), False),
    ("related_works", ("related_work_id",), False),
    # Covering indexes for the author/tag/institution facets (plugins/related_facets.py) at 100k+ works.
    ("work_authors", ("role", "author_id", "work_id"), False),
    ("work_tags", ("tag_id", "work_id"), False),
    ("affiliations", ("institution_id", "work_id"), False),
    # Covering indexes for the facets of a search or a filtered page, which count the facet columns
    # of a set of works: from an index of a few bytes per row instead of the works' whole rows
    # (abstracts included) and the junction tables' rows. 2–3× faster at a million works.
    ("works", ("id", "year", "type", "journal_id"), False),
    ("work_authors", ("work_id", "role", "author_id"), False),
    ("affiliations", ("work_id", "institution_id"), False),
    ("zotero_attachments", ("work_id",), False),
    ("zotero_items", ("library", "parent_key"), False),
]

# The indexes the loader's own lookups use (identity, name keys, links it replaces): created by
# ``ensure_lookup_indexes`` before the first record is loaded, not at the end, or every lookup of a
# large load would scan its table. Each is also in INDEXES.
LOOKUP_INDEXES: List[Tuple[str, Tuple[str, ...], bool]] = [
    ("works", ("doi",), False),
    ("works", ("pmid",), False),
    ("works", ("pmcid",), False),
    ("works", ("title_key",), False),
    ("works", ("zotero_key",), False),
    ("works", ("journal_id", "year"), False),
    AUTHORS_BY_NAME_KEY,
    ("authors", ("spelling", "id"), False),
    ("authors", ("orcid",), False),
    ("journal_names", ("journal_id",), False),
    ("work_authors", ("author_id", "work_id"), False),
    # The co-authors the identity rules ask about, from the index alone; new works append to it.
    ("work_authors", ("work_id", "role", "author_id"), False),
    ("collections", ("key",), True),
    ("collection_works", ("work_id", "collection_id"), False),
    ("tags", ("name",), True),
    ("notes", ("work_id",), False),
    ("work_sources", ("source_id",), False),
    ("sources", ("path",), False),
    ("institutions", ("name_key",), False),
]

# Full-text search: works_fts is what Datasette's search box on /library/works uses.
FTS: Dict[str, Tuple[str, ...]] = {
    "works": ("title", "abstract", "excerpts", "authors_text"),
    "authors": ("name",),
    "journals": ("title", "abbreviation"),
}

VIEWS: Dict[str, str] = {
    # One readable row per work: what a spreadsheet user wants from a CSV download.
    "works_readable": """
        SELECT
          works.id,
          works.title,
          works.authors_text AS authors,
          journals.title AS journal,
          works.year,
          works.volume,
          works.issue,
          works.pages,
          works.type,
          works.doi,
          works.pmid,
          works.pmcid,
          works.url,
          works.collection_names AS collections,
          works.tag_names AS tags,
          works.excerpts AS excerpt
        FROM works
        LEFT JOIN journals ON journals.id = works.journal_id
    """,
    # One row per authorship with names resolved, for facets and co-author analysis.
    "authorships": """
        SELECT
          work_authors.work_id,
          works.title,
          works.year,
          work_authors.position,
          work_authors.role,
          authors.id AS author_id,
          authors.name AS author,
          work_authors.name_as_written,
          journals.title AS journal
        FROM work_authors
        JOIN works ON works.id = work_authors.work_id
        JOIN authors ON authors.id = work_authors.author_id
        LEFT JOIN journals ON journals.id = works.journal_id
    """,
    "collection_excerpts": """
        SELECT
          collections.name AS collection,
          collection_works.position,
          works.id AS work_id,
          works.title,
          works.authors_text AS authors,
          works.year,
          collection_works.context AS excerpt
        FROM collection_works
        JOIN collections ON collections.id = collection_works.collection_id
        JOIN works ON works.id = collection_works.work_id
        WHERE collection_works.context IS NOT NULL
    """,
    "institution_map": """
        SELECT
          institutions.id,
          institutions.name,
          institutions.city,
          institutions.country,
          institutions.latitude,
          institutions.longitude,
          COUNT(DISTINCT affiliations.work_id) AS works,
          COUNT(DISTINCT affiliations.author_id) AS authors
        FROM institutions
        JOIN affiliations ON affiliations.institution_id = institutions.id
        WHERE institutions.latitude IS NOT NULL
        GROUP BY institutions.id
    """,
}


def ensure_tables(db: sqlite_utils.Database) -> None:
    """Create missing tables (parents first) and add missing columns; never drops anything."""
    for name, spec in TABLES.items():
        table = db[name]
        if table.exists():
            existing = set(table.columns_dict)
            for column, kind in spec["columns"].items():
                if column not in existing:
                    table.add_column(column, kind)
            continue
        table.create(
            spec["columns"],
            pk=spec["pk"],
            foreign_keys=spec.get("foreign_keys", []),
        )


def ensure_lookup_indexes(db: sqlite_utils.Database) -> None:
    """The indexes a load needs while it runs (LOOKUP_INDEXES); idempotent and quick when present."""
    for name in REPLACED_INDEXES:
        db.execute(f"DROP INDEX IF EXISTS [{name}]")
    _create_indexes(db, LOOKUP_INDEXES)


def _create_indexes(db: sqlite_utils.Database, indexes) -> None:
    for table, columns, unique in indexes:
        db[table].create_index(columns, unique=unique, if_not_exists=True, find_unique_name=False)


# What the works page's facets count, counted once per build into ``facet_counts`` (facet, given,
# value, count): at a million works the author facet takes seconds to count and the others 0.1–0.3 s
# each, against Datasette's facet time limit of 200 ms. The database is served immutable, so these
# numbers cannot change under the server; plugins/related_facets.py (the ``related``, ``counted``
# and ``year_chart`` facets) reads them and counts as usual on any other page.
#
# Each facet ("table.facet") as the (work, value) pairs it counts, distinct:
FACET_PAIRS: Dict[str, str] = {
    "works.year": "SELECT id, year FROM works WHERE year IS NOT NULL",
    "works.type": "SELECT id, type FROM works WHERE type IS NOT NULL",
    "works.journal_id": "SELECT id, journal_id FROM works WHERE journal_id IS NOT NULL",
    "works.language": "SELECT id, language FROM works WHERE language IS NOT NULL",
    "works.author": "SELECT DISTINCT work_id, author_id FROM work_authors WHERE role = 'author'",
    "works.tag": "SELECT DISTINCT work_id, tag_id FROM work_tags",
    "works.institution": "SELECT DISTINCT work_id, institution_id FROM affiliations",
    # A collection counts the works of its sub-collections too.
    "works.collection": """
        WITH RECURSIVE tree(ancestor, id) AS (
          SELECT id, id FROM collections
          UNION SELECT tree.ancestor, collections.id FROM collections JOIN tree ON collections.parent_id = tree.id)
        SELECT DISTINCT collection_works.work_id, tree.ancestor FROM collection_works
        JOIN tree ON tree.id = collection_works.collection_id""",
}
# Pages counted besides the unfiltered one (given ""): one works column filtered to one value
# (given "year=2024"), for each value. Of each facet, the FACET_STORED values with most works are
# kept: Datasette shows 30 and asks for one more to know whether there are others.
FACET_GIVEN = ("year", "type", "journal_id")
FACET_STORED = 31
# And the pages of one author's works (given "_author=181", the author facet's selection), for the
# authors of at least FACET_AUTHOR_MIN_WORKS works: counted live, the facets of the most prolific
# author of a million works took 73 ms of SQL on a 2-core machine; of an author of 1,000 works about
# a fifth of that (bench/README.md).
FACET_AUTHOR_GIVEN = """SELECT DISTINCT work_id, author_id FROM work_authors WHERE role = 'author' AND author_id IN (
    SELECT author_id FROM work_authors WHERE role = 'author' GROUP BY author_id HAVING COUNT(*) >= ?)"""
FACET_AUTHOR_MIN_WORKS = 1000


def count_facets(db: sqlite_utils.Database, author_min_works: int = FACET_AUTHOR_MIN_WORKS) -> None:
    """(Re)build ``facet_counts`` from FACET_PAIRS, FACET_GIVEN and FACET_AUTHOR_GIVEN, in one transaction."""
    with db.atomic():
        db.execute("DROP TABLE IF EXISTS facet_counts")
        db.execute("CREATE TABLE facet_counts (facet TEXT NOT NULL, given TEXT NOT NULL, value, count INTEGER NOT NULL)")
        # The prolific authors' works, chosen once for every facet.
        db.execute("DROP TABLE IF EXISTS temp.facet_authors")
        db.execute(f"CREATE TEMP TABLE facet_authors AS {FACET_AUTHOR_GIVEN}", [author_min_works])
        # Each stored page but the unfiltered one, as (work, given value) pairs and the prefix that
        # names it: "year=" + 2024, "_author=" + 181.
        givens = [(f"SELECT id, [{column}] FROM works WHERE [{column}] IS NOT NULL", f"{column}=")
                  for column in FACET_GIVEN] + [("SELECT work_id, author_id FROM temp.facet_authors", "_author=")]
        for facet, pairs in FACET_PAIRS.items():
            db.execute(f"""WITH pairs(work_id, value) AS ({pairs})
                INSERT INTO facet_counts (facet, given, value, count)
                SELECT ?, '', value, COUNT(*) FROM pairs GROUP BY value""", [facet])
            for chosen, prefix in givens:
                db.execute(f"""WITH pairs(work_id, value) AS ({pairs}), chosen(work_id, given) AS ({chosen})
                    INSERT INTO facet_counts (facet, given, value, count)
                    SELECT ?, ? || given, value, count FROM (
                      SELECT chosen.given AS given, pairs.value AS value, COUNT(*) AS count,
                        ROW_NUMBER() OVER (PARTITION BY chosen.given ORDER BY COUNT(*) DESC, pairs.value) AS rank
                      FROM pairs JOIN chosen ON chosen.work_id = pairs.work_id
                      GROUP BY chosen.given, pairs.value)
                    WHERE rank <= ?""", [facet, prefix, FACET_STORED])
        db.execute("DROP TABLE temp.facet_authors")
        db.execute("CREATE INDEX idx_facet_counts ON facet_counts (facet, given, count DESC, value)")


def finalize(db: sqlite_utils.Database, rebuild_fts: bool = True) -> None:
    """Indexes, full-text search, views and facet counts: idempotent, run at the end of every load."""
    ensure_tables(db)
    _create_indexes(db, INDEXES)
    for table, columns in FTS.items():
        fts_name = f"{table}_fts"
        if fts_name in db.table_names():
            existing = tuple(db[fts_name].columns_dict)
            if existing != columns:
                db[table].disable_fts()
        if fts_name not in db.table_names():
            db[table].enable_fts(columns, fts_version="FTS5", tokenize="unicode61 remove_diacritics 2")
        elif rebuild_fts:
            db[table].rebuild_fts()
    for name, sql in VIEWS.items():
        db.create_view(name, sql.strip(), replace=True)
    count_facets(db)
    db.analyze()
