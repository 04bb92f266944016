"""Time the works page's facets on a large library, one facet at a time and all together.

Each facet runs alone with the facet time limit lifted, so the figure is what it really costs; the
whole page then runs with Datasette's default limit (200 ms) and reports which facets timed out.

    .venv/bin/python bench/synthetic_library.py /tmp/bench/library.db
    .venv/bin/python bench/facets.py /tmp/bench/library.db

The file must be called ``library.db``: Datasette names a database after its file, and metadata.yml
configures the database called ``library``.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import re
import statistics
import sys
import time
from pathlib import Path

import yaml
from datasette.app import Datasette

ROOT = Path(__file__).resolve().parents[1]
TIMED_OUT = re.compile(r"These facets timed out: ([^<]*)<")


def datasette_for(database: str, metadata: dict, settings: dict) -> Datasette:
    return Datasette(
        [], immutables=[database], metadata=metadata, plugins_dir=str(ROOT / "plugins"),
        template_dir=str(ROOT / "templates"), settings=settings,
    )


async def timed(ds: Datasette, path: str, repeat: int) -> tuple:
    """Median milliseconds of ``repeat`` requests, after one untimed request that warms Datasette's
    caches (table introspection, connections) and SQLite's page cache."""
    await ds.client.get(path)
    times, last = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        response = await ds.client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code, response.text[:500])
        last = response
    return statistics.median(times), last


def facet_label(config) -> str:
    if isinstance(config, str):
        return config
    kind, value = next(iter(config.items()))
    if isinstance(value, dict):
        value = value.get("name") or value.get("column") or value
    return f"{kind}: {value}"


def facet_name(config) -> str:
    """The key a configured facet has in the JSON's facet_results."""
    if isinstance(config, str):
        return config
    kind, value = next(iter(config.items()))
    if kind == "related":
        return value["name"]
    column = value if isinstance(value, str) else value.get("column")
    return f"{column}_chart" if kind == "year_chart" else column


# What the works table faceted with before the related facets: the JSON array columns.
ARRAY_FACETS = [{"array": "author_names"}, {"array": "collection_names"}, {"array": "tag_names"}]


async def run(database: str, repeat: int, filters: list, compare_array: bool = False) -> list:
    metadata = yaml.safe_load((ROOT / "metadata.yml").read_text())
    table = metadata["databases"]["library"]["tables"]["works"]
    rows = []
    for query in [""] + filters:
        suffix = f"&{query}" if query else ""
        unlimited = {"facet_time_limit_ms": 60_000, "sql_time_limit_ms": 60_000}
        alone = copy.deepcopy(metadata)
        alone["databases"]["library"]["tables"]["works"]["facets"] = []
        ds = datasette_for(database, alone, {**unlimited, "suggest_facets": False})
        baseline, _ = await timed(ds, f"/library/works.json?_nofacet=1{suffix}", repeat)
        rows.append((query or "(no filter)", "page without facets", baseline, ""))
        configs = table["facets"] + (ARRAY_FACETS if compare_array and not query else [])
        for config in configs:
            alone["databases"]["library"]["tables"]["works"]["facets"] = [config]
            ds = datasette_for(database, alone, {**unlimited, "suggest_facets": False})
            total, _ = await timed(ds, f"/library/works.json?_size=1{suffix}", repeat)
            rows.append((query or "(no filter)", facet_label(config), total - baseline, ""))
        ds = datasette_for(database, metadata, {"suggest_facets": False})
        total, response = await timed(ds, f"/library/works.json?{suffix}", repeat)
        # Datasette 0.65's JSON does not list timed-out facets: they are the configured ones missing.
        timed_out = [name for name in map(facet_name, table["facets"])
                     if name not in response.json()["facet_results"]]
        rows.append((query or "(no filter)", "whole page, default limits", total,
                     "timed out: " + ", ".join(timed_out) if timed_out else "none timed out"))
        total, html = await timed(ds, f"/library/works?{suffix}", repeat)
        timed_out_html = TIMED_OUT.search(html.text)
        rows.append((query or "(no filter)", "HTML page, default limits", total,
                     "timed out: " + timed_out_html.group(1) if timed_out_html else "none timed out"))
        ds = datasette_for(database, metadata, {})
        total, html = await timed(ds, f"/library/works?{suffix}", repeat)
        timed_out_html = TIMED_OUT.search(html.text)
        rows.append((query or "(no filter)", "HTML page, default settings (suggested facets on)", total,
                     "timed out: " + timed_out_html.group(1) if timed_out_html else "none timed out"))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--compare-array", action="store_true",
                        help="also time Datasette's array facets over the JSON columns (slow: seconds each)")
    parser.add_argument("--filter", action="append", default=[],
                        help="extra query string to time as well, e.g. year=2020 (repeatable)")
    args = parser.parse_args(argv)
    if Path(args.database).stem != "library":
        parser.error("the database file must be called library.db (metadata.yml configures 'library')")
    rows = asyncio.run(run(args.database, args.repeat, args.filter, args.compare_array))
    print("| filter | facet | ms | note |\n|---|---|---:|---|")
    for query, label, ms, note in rows:
        print(f"| {query} | {label} | {ms:.0f} | {note} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
