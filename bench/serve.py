"""Serving a large library: the pages people use, timed through `refsette serve` on 127.0.0.1.

    python bench/serve.py bench/data/serve-1000000/library.db --runs 5

The database must be called ``library.db`` (metadata.yml configures the database ``library``). The
server is started exactly as ``refsette serve`` starts it (``ingest.cli.datasette_args``: immutable,
the project's metadata, plugins and templates, the inspect file when there is one), on a free port of
127.0.0.1, and stopped by its PID at the end.

Timed, each ``--runs`` times after one warm-up request (figures: median, min–max, runs):

- the works table page, HTML and JSON, with every facet metadata.yml configures (year, type,
  journal, author …), unfiltered and filtered by a year, a journal and an author;
- full-text search on the works page: a common word, a rare word, a two-word query; the same
  searches without the page's facets, and the site-wide search page ``/-/search``;
- a work's row page;
- ``works.csv?_stream=on``: megabytes per second over the whole stream (Datasette stops a stream
  at ``max_csv_mb``, 100 MB by default: the size reached is reported);
- 20 concurrent clients for 20 s over a mix of those pages: requests/s, p50/p99 latency, errors.

Every HTML page is checked for Datasette's "These facets timed out" notice, and every JSON page for
the facets of the unfiltered page: Datasette's JSON leaves out those that timed out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ingest.cli import datasette_args, inspect_path, write_inspect_file  # noqa: E402

TIMED_OUT = "These facets timed out"


class Server:
    """`refsette serve` on a free port of 127.0.0.1, stopped by PID."""

    def __init__(self, database: Path, settings: Dict[str, str], root: Optional[Path] = None):
        args = datasette_args(database, host="127.0.0.1", port=0, **({"root": root} if root else {}))
        for name, value in settings.items():
            args += ["--setting", name, str(value)]
        self.args = args
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.log: List[str] = []
        port = None
        deadline = time.monotonic() + 120
        while port is None:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError("datasette exited:\n" + "".join(self.log))
            self.log.append(line)
            match = re.search(r"running on http://127\.0\.0\.1:(\d+)", line, re.IGNORECASE)
            if match:
                port = int(match.group(1))
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("datasette did not start in time:\n" + "".join(self.log))
        self.base = f"http://127.0.0.1:{port}"
        # Keep reading its output so that the pipe never fills.
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        for line in self.process.stdout:
            self.log.append(line)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def ensure_inspect_file(database: Path) -> Optional[float]:
    """The inspect file `refsette ingest` writes (table counts and hash for immutable serving)."""
    target = inspect_path(database)
    if target.exists() and target.stat().st_mtime >= database.stat().st_mtime:
        return None
    started = time.perf_counter()
    write_inspect_file(database)
    return time.perf_counter() - started


def spread(values: List[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": len(values)}


def timed_out_facets(text: str) -> str:
    """The facets an HTML page says timed out ("author, tag"), or "" if it names none."""
    return ", ".join(sorted(set(re.findall(TIMED_OUT + r": (.*?)<", text))))


def timed_get(client: httpx.Client, url: str, runs: int, facets: frozenset = frozenset()) -> dict:
    """``facets``: the facets a JSON page must have (Datasette's JSON lists the facets it counted,
    not those that timed out)."""
    client.get(url)  # warm-up: first use of a query plan, page cache
    times, notes, status, size = [], set(), None, 0
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        status, size = response.status_code, len(response.content)
        if response.status_code != 200:
            notes.add(f"HTTP {response.status_code}")
        elif TIMED_OUT in response.text:
            names = timed_out_facets(response.text)
            notes.add("facets timed out: " + names if names else "facets timed out")
        elif url.split("?")[0].endswith(".json") and "_nofacet" not in url:
            missing = facets - set(response.json()["facet_results"])
            if missing:
                notes.add("facets timed out: " + ", ".join(sorted(missing)))
    return {"ms": spread(times), "status": status, "bytes": size, "notes": sorted(notes)}


def stream_csv(client: httpx.Client, url: str) -> dict:
    started = time.perf_counter()
    size = rows = 0
    with client.stream("GET", url) as response:
        for chunk in response.iter_bytes():
            size += len(chunk)
            rows += chunk.count(b"\n")
        status = response.status_code
    seconds = time.perf_counter() - started
    return {"status": status, "mb": size / 1e6, "seconds": seconds, "mb_per_s": size / 1e6 / seconds, "lines": rows}


async def load(base: str, paths: List[str], clients: int, seconds: float, max_requests: int) -> dict:
    latencies: List[float] = []
    errors: Dict[str, int] = {}
    stop_at = time.perf_counter() + seconds
    counter = {"sent": 0}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client_loop(number: int, client: httpx.AsyncClient) -> None:
        rng = random.Random(number)
        while time.perf_counter() < stop_at and counter["sent"] < max_requests:
            counter["sent"] += 1
            path = rng.choice(paths)
            started = time.perf_counter()
            try:
                response = await client.get(base + path)
                if response.status_code != 200:
                    errors[f"HTTP {response.status_code}"] = errors.get(f"HTTP {response.status_code}", 0) + 1
                elif TIMED_OUT in response.text:
                    key = f"facets timed out ({timed_out_facets(response.text) or '?'}) on {path.split('?')[-1]}"
                    errors[key] = errors.get(key, 0) + 1
            except httpx.HTTPError as error:
                errors[type(error).__name__] = errors.get(type(error).__name__, 0) + 1
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        await asyncio.gather(*(client_loop(i, client) for i in range(clients)))
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] if latencies else float("nan")

    return {"clients": clients, "seconds": elapsed, "requests": len(latencies),
            "requests_per_s": len(latencies) / elapsed, "p50_ms": pct(0.50), "p99_ms": pct(0.99),
            "max_ms": latencies[-1] if latencies else None, "errors": errors}


def sample_values(database: Path) -> dict:
    """A year, a journal, an author and a work to put in the URLs (the busiest ones: the worst case)."""
    conn = sqlite3.connect(f"file:{database}?immutable=1", uri=True)
    year = conn.execute("SELECT year FROM works WHERE year IS NOT NULL GROUP BY year ORDER BY COUNT(*) DESC LIMIT 1").fetchone()[0]
    journal = conn.execute("SELECT journal_id FROM works WHERE journal_id IS NOT NULL GROUP BY journal_id ORDER BY COUNT(*) DESC LIMIT 1").fetchone()[0]
    author = conn.execute("SELECT author_id FROM work_authors WHERE author_id IN (SELECT author_id FROM work_authors LIMIT 200000) GROUP BY author_id ORDER BY COUNT(*) DESC LIMIT 1").fetchone()[0]
    work_type = conn.execute("SELECT type FROM works WHERE type IS NOT NULL GROUP BY type HAVING COUNT(*) >= 1000 "
                             "ORDER BY COUNT(*) LIMIT 1").fetchone()[0]
    work = conn.execute("SELECT MAX(id) / 2 FROM works").fetchone()[0]
    works = conn.execute("SELECT COUNT(*) FROM works").fetchone()[0]
    # Search terms by how many works they are in: a specific word (a drug, a gene: 0.01% of the
    # library), a topic word (1%) and the library's most common word (about half of it).
    conn.execute("CREATE VIRTUAL TABLE temp.terms USING fts5vocab(main, works_fts, 'row')")

    def term_near(share: float) -> str:
        return conn.execute("SELECT term FROM temp.terms WHERE term GLOB '[a-z]*' ORDER BY abs(doc - ?) LIMIT 1",
                            [max(3, works * share)]).fetchone()[0]

    terms = {"rare": term_near(0.0001), "topic": term_near(0.01),
             "common": conn.execute("SELECT term FROM temp.terms ORDER BY doc DESC LIMIT 1").fetchone()[0]}
    docs = {kind: conn.execute("SELECT doc FROM temp.terms WHERE term = ?", [term]).fetchone()[0]
            for kind, term in terms.items()}
    return {"year": year, "journal": journal, "author": author, "work": work, "works": works, "type": work_type,
            "terms": terms, "term_docs": docs}


def pages(values: dict) -> Dict[str, str]:
    return {
        "works page (HTML, all facets)": "/library/works",
        "works page (JSON, all facets)": "/library/works.json",
        "works page, busiest year": f"/library/works?year={values['year']}",
        "works page, busiest journal": f"/library/works?journal_id={values['journal']}",
        "works page, most prolific author": f"/library/works?_author={values['author']}",
        f"search: a specific word ({values['term_docs']['rare']:,} works)": f"/library/works?_search={values['terms']['rare']}",
        f"search: a topic word ({values['term_docs']['topic']:,} works)": f"/library/works?_search={values['terms']['topic']}",
        f"search JSON: the topic word": f"/library/works.json?_search={values['terms']['topic']}",
        f"search: two words": f"/library/works?_search={values['terms']['topic']}+{values['terms']['rare']}",
        f"search: the most common word ({values['term_docs']['common']:,} works)": f"/library/works?_search={values['terms']['common']}",
        "row page": f"/library/works/{values['work']}",
    }


def outside_the_mix(values: dict) -> Dict[str, str]:
    """Pages timed alone, not in the 20 clients' mix (which stays the same from run to run)."""
    return {"works page, the least common type": f"/library/works?type={values['type']}"}


def search_alone(values: dict) -> Dict[str, str]:
    """The searches above without the works page's facets (``_nofacet``): what finding the works
    costs, apart from counting them by year, journal, author …; and the site-wide search page."""
    return {
        "search alone (JSON, no facets): the topic word": f"/library/works.json?_search={values['terms']['topic']}&_nofacet=1",
        "search alone (JSON, no facets): the most common word": f"/library/works.json?_search={values['terms']['common']}&_nofacet=1",
        "site search `/-/search`: the topic word": f"/-/search?q={values['terms']['topic']}",
        "site search `/-/search`: the most common word": f"/-/search?q={values['terms']['common']}",
    }


def run(database: Path, runs: int, settings: Dict[str, str], clients: int, seconds: float,
        skip_csv: bool = False, root: Optional[Path] = None) -> dict:
    inspected = ensure_inspect_file(database)
    values = sample_values(database)
    server = Server(database, settings, root)
    results: dict = {"database": str(database), "works": values["works"], "settings": settings,
                     "root": str(root) if root else None,
                     "inspect_s": inspected, "args": server.args[3:], "pages": {}}
    try:
        with httpx.Client(base_url=server.base, timeout=300) as client:
            facets = frozenset(client.get("/library/works.json?_size=0").json()["facet_results"])
            for label, path in {**pages(values), **outside_the_mix(values), **search_alone(values)}.items():
                results["pages"][label] = {"path": path, **timed_get(client, path, runs, facets)}
                print(f"  {label}: {results['pages'][label]}", file=sys.stderr, flush=True)
            if not skip_csv:
                results["csv"] = stream_csv(client, "/library/works.csv?_stream=on&_size=max")
                print(f"  csv: {results['csv']}", file=sys.stderr, flush=True)
        # What many readers at once do: browse, filter, search specific words, open works (the
        # search for the most common word, timed above, is left out of the mix, as are the searches
        # without facets: the mix is the same as in earlier runs).
        mix = [p for label, p in pages(values).items() if ".json" not in p and "most common" not in label]
        results["concurrency"] = asyncio.run(load(server.base, mix, clients, seconds, 100_000))
        print(f"  concurrency: {results['concurrency']}", file=sys.stderr, flush=True)
    finally:
        server.stop()
    return results


def report(results: dict) -> str:
    lines = [f"{results['works']:,} works; settings: {results['settings'] or 'defaults'}", "",
             "| page | ms: median (min–max, runs) | notes |", "|---|---:|---|"]
    for label, page in results["pages"].items():
        ms = page["ms"]
        notes = "; ".join(page["notes"]) or "none timed out"
        lines.append(f"| {label} `{page['path']}` | {ms['median']:.0f} ({ms['min']:.0f}–{ms['max']:.0f}, {ms['runs']}) | {notes} |")
    if "csv" in results:
        csv = results["csv"]
        lines.append(f"| `works.csv?_stream=on` | {csv['mb']:.0f} MB in {csv['seconds']:.1f} s = "
                     f"{csv['mb_per_s']:.1f} MB/s ({csv['lines']:,} lines) | |")
    c = results["concurrency"]
    lines += ["", f"{c['clients']} clients for {c['seconds']:.0f} s: {c['requests']:,} requests, "
              f"{c['requests_per_s']:.1f} requests/s, p50 {c['p50_ms']:.0f} ms, p99 {c['p99_ms']:.0f} ms, "
              f"errors: {c['errors'] or 0}"]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--setting", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="a Datasette setting on top of refsette's own (repeatable)")
    parser.add_argument("--skip-csv", action="store_true")
    parser.add_argument("--root", type=Path, help="another project root (metadata.yml, plugins/, templates/)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.database.name != "library.db":
        parser.error("the database file must be called library.db (metadata.yml configures 'library')")
    results = run(args.database, args.runs, dict(args.setting), args.clients, args.seconds, args.skip_csv, args.root)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1))
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
