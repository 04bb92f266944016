"""Time refsette's own pages (home, a work, the busiest author and journal, search) on a large library.

    .venv/bin/python bench/synthetic_library.py /tmp/bench/library.db
    .venv/bin/python bench/pages.py /tmp/bench/library.db

Datasette runs with the project's metadata.yml, plugins/ and templates/ and its default settings
(SQL time limit 1 s); each page is requested once to warm up, then ``--repeat`` times (median).
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import sys
import time
from pathlib import Path

import yaml
from datasette.app import Datasette

ROOT = Path(__file__).resolve().parents[1]


def busiest(database: str) -> dict:
    conn = sqlite3.connect(f"file:{database}?immutable=1", uri=True)
    one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
    return {
        "author": one("select author_id from work_authors group by author_id order by count(*) desc limit 1"),
        "journal": one("select journal_id from works where journal_id is not null group by journal_id "
                       "order by count(*) desc limit 1"),
        "work": one("select citing_work_id from citations group by citing_work_id order by count(*) desc limit 1"),
        "collection": one("select id from collections where parent_id is null order by id limit 1"),
    }


PAGES = [
    ("home", "/"),
    ("a work (most references)", "/library/works/{work}"),
    ("busiest author", "/library/authors/{author}"),
    ("busiest journal", "/library/journals/{journal}"),
    ("a top-level collection", "/library/collections/{collection}"),
    ("search, selective", "/-/search?q=%22kinase+inhibitor%22"),
    ("search, one common word", "/-/search?q=cancer"),
    ("map", "/library/map"),
]


async def run(database: str, repeat: int) -> list:
    metadata = yaml.safe_load((ROOT / "metadata.yml").read_text())
    ds = Datasette([], immutables=[database], metadata=metadata, plugins_dir=str(ROOT / "plugins"),
                   template_dir=str(ROOT / "templates"))
    ids = busiest(database)
    out = []
    for label, path in PAGES:
        path = path.format(**ids)
        await ds.client.get(path)
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = await ds.client.get(path)
            times.append((time.perf_counter() - started) * 1000)
        note = "" if response.status_code == 200 else f"status {response.status_code}"
        if "took too long" in response.text:
            note = "search interrupted by the SQL time limit"
        out.append((label, path, statistics.median(times), note))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if Path(args.database).stem != "library":
        parser.error("the database file must be called library.db (metadata.yml configures 'library')")
    print("| page | path | ms | note |\n|---|---|---:|---|")
    for label, path, ms, note in asyncio.run(run(args.database, args.repeat)):
        print(f"| {label} | `{path}` | {ms:.0f} | {note} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
