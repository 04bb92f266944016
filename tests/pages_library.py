"""The library the page tests, the browser tests and the screenshots are made from.

The seeds (a bibliography page and PubMed records with affiliations), plus a few records written
here for what the seeds lack: a work whose title, author, journal, abstract, tag, collection,
excerpt, note, reference and affiliation all carry markup that must stay inert; a book and a
chapter (the book formats of COinS and Highwire); a reference list that cites a seed work (so
"cites" and "cited by" have something to show); a sub-collection; and institutions with
coordinates written directly, so the map has markers whatever the geocoder makes of the seeds.
"""

from __future__ import annotations

from pathlib import Path

import sqlite_utils

from ingest.loader import Loader
from ingest.schema import finalize

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"

XSS = "<script>alert(1)</script>"
XSS_IMG = "<img src=x onerror=alert(1)>"
XSS_DOI = "10.5555/xss.1"
CHAPTER_DOI = "10.5555/chapter.1"
BOOK_ISBN = "9780306406157"
CITED_DOI = "10.1056/nejmoa1715274"  # a seed work (PubMed 29768149) the XSS work cites

RECORDS = [
    {
        "type": "article-journal",
        "title": f"{XSS} & \"quoted\" <b>title</b>",
        "author": [{"family": XSS, "given": "Eve"}, {"family": "Müller", "given": "Anna"},
                   {"literal": f"Study Group {XSS_IMG}"}],
        "container-title": f"Journal of {XSS} Tests",
        "container-title-short": "J Xss Tests",
        "ISSN": ["1234-5679"],
        "issued": {"date-parts": [[2021, 3, 4]]},
        "volume": "12",
        "issue": "3",
        "page": "101-109",
        "DOI": XSS_DOI,
        "PMID": "99999999",
        "abstract": f"{XSS_IMG} An abstract about trastuzumab with markup.\nSecond paragraph.",
        "language": "fre",
        "URL": "javascript:alert(1)",
        "tags": [{"name": XSS, "kind": "keyword"}, {"name": "Trastuzumab", "kind": "keyword"}],
        "collections": [
            {"key": "pages-parent", "name": "Reading list", "position": 1},
            {"key": "pages-xss", "name": f"{XSS} collection", "parent_key": "pages-parent",
             "position": 1, "context": f"{XSS} quoted excerpt about trastuzumab"},
        ],
        "notes": [{"content": f"<p>A note {XSS}</p><p>second line</p>", "key": None}],
        "references": [{"DOI": CITED_DOI, "raw": "O'Byrne PM et al. N Engl J Med 2018"},
                       {"raw": f"{XSS} an unresolved reference"}],
        "affiliations": [{"author_position": 1, "raw": f"{XSS} Institute, Lyon, France"}],
        "source_key": "xss",
    },
    {
        "type": "chapter",
        "title": "Budgets of chapters",
        "author": [{"family": "Dupont", "given": "Jeanne"}],
        "editor": [{"family": "Martin", "given": "Paul"}],
        "container-title": "The Handbook of Examples",
        "publisher": "Example Press",
        "publisher-place": "Paris",
        "ISBN": BOOK_ISBN,
        "issued": {"date-parts": [[2019]]},
        "page": "10-20",
        "DOI": CHAPTER_DOI,
        "language": "en-GB",
        "collections": [{"key": "pages-parent", "name": "Reading list", "position": 2}],
        "source_key": "chapter",
    },
    {
        "type": "book",
        "title": "The Handbook of Examples",
        "editor": [{"family": "Martin", "given": "Paul"}],
        "author": [{"family": "Dupont", "given": "Jeanne"}],
        "publisher": "Example Press",
        "publisher-place": "Paris",
        "ISBN": "9781861972712",
        "edition": "2",
        "issued": {"date-parts": [[2019, 6]]},
        "source_key": "book",
    },
]

# (name, city, country, latitude, longitude)
INSTITUTIONS = [
    (f"{XSS_IMG} Laboratory", "Lyon", "France", 45.75, 4.85),
    ("Example University", "Oslo", "Norway", 59.91, 10.75),
]


def build_library(path: Path) -> dict:
    """Build the test library at ``path``; returns the ids tests look things up by."""
    db = sqlite_utils.Database(path)
    loader = Loader(db)
    for seed in sorted(SEEDS.iterdir()):
        if seed.is_file() and not seed.name.startswith("."):
            loader.load_file(str(seed))
    loader.load_records(iter(RECORDS), path="tests/pages_library.py", fmt="csl-json")
    loader.finish()
    ids = {
        "xss": _one(db, "select id from works where doi = ?", [XSS_DOI]),
        "chapter": _one(db, "select id from works where doi = ?", [CHAPTER_DOI]),
        "book": _one(db, "select id from works where isbn = ?", ["9781861972712"]),
        "cited": _one(db, "select id from works where doi = ?", [CITED_DOI]),
    }
    ids["xss_author"] = _one(db, "select author_id from work_authors where work_id = ? and position = 1",
                             [ids["xss"]])
    ids["xss_journal"] = _one(db, "select journal_id from works where id = ?", [ids["xss"]])
    ids["xss_collection"] = _one(db, "select id from collections where key = 'pages-xss'")
    ids["parent_collection"] = _one(db, "select id from collections where key = 'pages-parent'")
    ids["xss_tag"] = _one(db, "select id from tags where name = ?", [XSS])
    with db.conn:
        for name, city, country, latitude, longitude in INSTITUTIONS:
            institution = db["institutions"].insert({
                "name": name, "city": city, "country": country, "latitude": latitude,
                "longitude": longitude, "name_key": f"pages|{name}",
            }).last_pk
            db["affiliations"].insert({
                "work_id": ids["xss"], "author_id": ids["xss_author"], "institution_id": institution,
                "raw": f"{name}, {city}, {country}", "position": 1, "part": 0,
            }, alter=True)
    finalize(db, rebuild_fts=False)  # written after finish(): the stored facet counts are counted again
    ids["xss_institution"] = _one(db, "select id from institutions where name = ?", [INSTITUTIONS[0][0]])
    return ids


def _one(db, sql, params=()):
    row = db.execute(sql, params).fetchone()
    assert row is not None, sql
    return row[0]
