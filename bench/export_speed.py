"""How long the bibliography exports (plugins/bibliography_exports.py) take on a large library.

Builds the synthetic library of bench/synthetic_library.py (N works, default 100,000), then times
whole-table and filtered exports through Datasette's ASGI app with the project's metadata.yml and
plugins/, streaming each body and counting the works in it:

    .venv/bin/python bench/export_speed.py                 # 100,000 works
    .venv/bin/python bench/export_speed.py --works 20000 --keep /tmp/big.db
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import yaml
from datasette.app import Datasette

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))  # after the repository: bench/ has modules named like packages

from synthetic_library import build  # noqa: E402

async def served(ds, path: str):
    """Status, seconds (wall clock and CPU), bytes and works of one request through Datasette's ASGI
    app, the body counted as it streams and then dropped (what a server does; a client would buffer)."""
    status, size, works = None, 0, 0

    async def send(message):
        nonlocal status, size, works
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body = message.get("body", b"")
            size += len(body)
            works += works_in(body)

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    raw_path, _, query = path.partition("?")
    scope = {"type": "http", "http_version": "1.1", "method": "GET", "path": raw_path,
             "raw_path": raw_path.encode(), "query_string": query.encode(), "headers": [],
             "scheme": "http", "server": ("localhost", 80), "client": ("127.0.0.1", 1)}
    start, cpu = time.perf_counter(), time.process_time()
    await ds.app()(scope, receive, send)
    return status, time.perf_counter() - start, time.process_time() - cpu, size, works


def works_in(body: bytes) -> int:
    text = body.decode("utf-8", "replace")
    return (text.count("ER  -") or text.count('"citation-key"') or text.count('class="csl-entry"')
            or text.count("\n@") + text.startswith("@"))


async def measure(path: str) -> None:
    metadata = yaml.safe_load((ROOT / "metadata.yml").read_text())
    name = Path(path).stem
    metadata["databases"] = {name: metadata["databases"]["library"]}
    ds = Datasette([path], metadata=metadata, plugins_dir=str(ROOT / "plugins"))
    for query in (f"/{name}/works.json?_size=1", f"/{name}/works.bib", f"/{name}/works.ris",
                  f"/{name}/works.csljson", f"/{name}/works.csljson?_nofacet=1&_nocount=1",
                  f"/{name}/works.csljson?year__gte=2020",
                  f"/{name}/works.bib?_search=kinase", f"/{name}/works_readable.ris?year=2001",
                  f"/{name}/works.html?_style=vancouver&year=2001&journal_id__lt=40",
                  f"/{name}/works.html?_style=apa&year=2001&journal_id__lt=40",
                  f"/{name}/works.txt?_style=apa&year__gte=2000&journal_id__lt=40"):
        status, seconds, cpu, size, count = await served(ds, query)
        print(f"{query:62} {status}  {seconds:6.2f} s ({cpu:6.2f} s CPU)  {size / 1e6:7.1f} MB  {count:>7} works")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of this process: {peak:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--works", type=int, default=100_000)
    parser.add_argument("--keep", help="build (or reuse) the library at this path")
    args = parser.parse_args()
    path = args.keep or os.path.join(tempfile.mkdtemp(), "bench.db")
    if not os.path.exists(path):
        start = time.perf_counter()
        build(path, args.works)
        print(f"built {args.works:,} works in {time.perf_counter() - start:.1f} s: {path}")
    asyncio.run(measure(path))


if __name__ == "__main__":
    main()
