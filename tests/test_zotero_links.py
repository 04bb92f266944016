"""The "Open in Zotero" link on work pages (plugins/zotero_links.py), through Datasette's own client."""

from __future__ import annotations

import asyncio
import html
import re
from pathlib import Path

import pytest
import sqlite_utils
from datasette.app import Datasette

from ingest.loader import Loader

ROOT = Path(__file__).resolve().parents[1]

RECORDS = [
    {"type": "article-journal", "title": "A paper from a user library", "zotero_key": "ABCD2345",
     "zotero_library": "users/475425", "source_key": "ABCD2345", "issued": {"date-parts": [[2020]]}},
    {"type": "book", "title": "A book from a group library", "zotero_key": "GE7XWK4S",
     "zotero_library": "groups/169947", "source_key": "GE7XWK4S", "issued": {"date-parts": [[2016]]}},
    {"type": "article-journal", "title": "Not from Zotero", "source_key": "#3", "DOI": "10.1000/xyz"},
    {"type": "article-journal", "title": "A key that is not a key", "zotero_key": '"><script>alert(1)</script>',
     "zotero_library": "users/1", "source_key": "bad"},
]


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("links") / "library.db"
    db = sqlite_utils.Database(path)
    db.execute("PRAGMA synchronous = OFF")
    loader = Loader(db)
    loader.load_records(RECORDS, path="fixture", fmt="zotero-api")
    loader.finish()
    db.close()
    return path


def fetch(library: Path, *paths: str):
    async def run():
        datasette = Datasette([str(library)], plugins_dir=str(ROOT / "plugins"))
        pages = []
        for path in paths:
            response = await datasette.client.get(path)
            assert response.status_code == 200, path
            pages.append(response.text)
        return pages

    return asyncio.run(run())


def work_id(library: Path, title: str) -> int:
    db = sqlite_utils.Database(library)
    try:
        return db.execute("SELECT id FROM works WHERE title = ?", [title]).fetchone()[0]
    finally:
        db.close()


def links(page: str):
    return [html.unescape(href) for href in re.findall(r'<a href="(zotero://[^"]*)"[^>]*>Open in Zotero</a>', page)]


@pytest.mark.parametrize("title, expected", [
    ("A paper from a user library", ["zotero://select/library/items/ABCD2345"]),
    ("A book from a group library", ["zotero://select/groups/169947/items/GE7XWK4S"]),
    ("Not from Zotero", []),
    ("A key that is not a key", []),
])
def test_work_page_links_to_zotero(library, title, expected):
    (page,) = fetch(library, f"/library/works/{work_id(library, title)}")
    assert links(page) == expected
    assert "<script>alert(1)</script>" not in page


def test_table_page_and_a_page_without_the_library_column(library):
    table, narrow = fetch(library, "/library/works?_sort=id", "/library/works?_col=title&_col=zotero_key&_sort=id")
    assert links(table) == ["zotero://select/library/items/ABCD2345", "zotero://select/groups/169947/items/GE7XWK4S"]
    assert links(narrow) == links(table)
    assert "&lt;script&gt;" in table and "<script>alert(1)</script>" not in table


def test_plugin_does_not_import_ingest():
    source = (ROOT / "plugins" / "zotero_links.py").read_text(encoding="utf-8")
    assert not re.search(r"^\s*(from|import)\s+ingest\b", source, re.M)
