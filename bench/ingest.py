"""Ingest throughput: refsette's loader against the stack's limit, side by side, several runs each.

    python bench/ingest.py --sizes 10000 100000 --runs 3          # CSL-JSON Lines
    python bench/ingest.py --sizes 10000 --format pubmed-xml --runs 3

For each size the library is generated once (``bench/generate.py``, deterministic), then each run, in a
fresh process each time:

- **loader**: ``Loader(db).load_file()`` on every shard (one transaction per file, as ``refsette
  ingest`` does), then ``finish()`` (citations resolved, cite keys, indexes, full-text search, views).
- **limit**: the rows the loader wrote (its database, minus cite keys and resolved citations, which
  ``finish()`` adds) inserted with plain ``sqlite3`` ``executemany`` into the same tables, with the same
  indexes present and the same pragmas, in one transaction, then the same ``finish()``. That is the
  speed of SQLite through Python for exactly this data: no parsing, no identity, no merging.

Each run reports wall time of the load phase and of ``finish()``, works per second, and the peak
resident memory of its process (``ru_maxrss``). The summary gives medians with min–max and the number
of runs; ``--json`` keeps every run. Runs alternate (loader, limit, loader, limit …) so that a slow
spell of the machine hits both.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from bench.generate import DATA, write  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---- the two workers (each runs in a process of its own) ----------------------------------------

def run_loader(database: str, files: List[str]) -> dict:
    import sqlite_utils

    from ingest.loader import Loader

    started = time.perf_counter()
    loader = Loader(sqlite_utils.Database(database))
    records = added = 0
    for path in files:
        result = loader.load_file(path)
        records += result.records
        added += result.added
    loaded = time.perf_counter()
    rss_load = peak_rss_mb()
    caches = {
        "authors": len(loader._authors_by_id), "author_keys": len(loader._authors_by_key) + len(loader._authors_by_key_old),
        "journal_keys": len(loader._journal_by_key), "tags": len(loader._tag_ids),
    }
    loader.finish()
    done = time.perf_counter()
    return {"records": records, "added": added, "load_s": loaded - started, "finish_s": done - loaded,
            "rss_load_mb": rss_load, "rss_mb": peak_rss_mb(), "caches": caches}


def run_limit(database: str, source: str) -> dict:
    """Copy ``source``'s rows into a fresh ``database`` with executemany, one transaction."""
    import sqlite_utils

    from ingest.loader import LOAD_CACHE_KIB, Loader
    from ingest.schema import TABLES, ensure_lookup_indexes, ensure_tables

    db = sqlite_utils.Database(database)
    ensure_tables(db)
    ensure_lookup_indexes(db)
    conn = db.conn
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA cache_size = -{LOAD_CACHE_KIB}")
    reader = sqlite3.connect(source)
    started = time.perf_counter()
    rows = 0
    conn.execute("BEGIN")
    for table in TABLES:  # parents first, as the foreign keys want
        columns = [c for c in db[table].columns_dict]
        selected = ", ".join(
            "NULL" if (table, c) in (("works", "cite_key"), ("citations", "cited_work_id")) else f"[{c}]"
            for c in columns)
        cursor = reader.execute(f"SELECT {selected} FROM [{table}] ORDER BY rowid")
        insert = f"INSERT INTO [{table}] ({', '.join(f'[{c}]' for c in columns)}) VALUES ({', '.join('?' for _ in columns)})"
        while True:
            batch = cursor.fetchmany(20_000)
            if not batch:
                break
            conn.executemany(insert, batch)
            rows += len(batch)
    conn.execute("COMMIT")
    loaded = time.perf_counter()
    rss_load = peak_rss_mb()
    Loader(db).finish()
    done = time.perf_counter()
    return {"rows": rows, "load_s": loaded - started, "finish_s": done - loaded,
            "rss_load_mb": rss_load, "rss_mb": peak_rss_mb()}


def worker(argv: List[str]) -> None:
    kind, database, *rest = argv
    result = run_loader(database, rest) if kind == "loader" else run_limit(database, rest[0])
    print(json.dumps(result))


# ---- the driver --------------------------------------------------------------------------------

def in_process(kind: str, database: Path, *args: str) -> dict:
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(str(database) + suffix).unlink(missing_ok=True)
    output = subprocess.run(
        [sys.executable, __file__, "--worker", kind, str(database), *args],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def spread(values: List[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": len(values)}


def bench_size(n: int, fmt: str, runs: int, work: Path, keep: bool) -> dict:
    started = time.perf_counter()
    files = [str(p) for p in write(n, fmt)]
    generated = time.perf_counter() - started
    size_mb = sum(os.path.getsize(f) for f in files) / 1e6
    loader_db = work / f"loader-{fmt}-{n}.db"
    limit_db = work / f"limit-{fmt}-{n}.db"
    loader_runs, limit_runs = [], []
    for run in range(runs):
        loader_runs.append(in_process("loader", loader_db, *files))
        print(f"  {n} {fmt} run {run + 1} loader: {loader_runs[-1]}", file=sys.stderr, flush=True)
        limit_runs.append(in_process("limit", limit_db, str(loader_db)))
        print(f"  {n} {fmt} run {run + 1} limit:  {limit_runs[-1]}", file=sys.stderr, flush=True)
    works = sqlite3.connect(loader_db).execute("SELECT COUNT(*) FROM works").fetchone()[0]
    counts = {t: sqlite3.connect(loader_db).execute(f"SELECT COUNT(*) FROM [{t}]").fetchone()[0]
              for t in ("works", "authors", "work_authors", "journals", "citations", "work_tags", "tags")}
    db_mb = loader_db.stat().st_size / 1e6
    if not keep:
        loader_db.unlink()
        limit_db.unlink()
    records = loader_runs[0]["records"]

    def rates(runs_: List[dict], key: str) -> dict:
        return spread([records / r[key] for r in runs_])

    return {
        "n": n, "format": fmt, "files": len(files), "input_mb": size_mb, "database_mb": db_mb,
        "generate_s": generated, "records": records, "works": works, "counts": counts,
        "loader": {
            "load_works_per_s": rates(loader_runs, "load_s"),
            "total_works_per_s": spread([records / (r["load_s"] + r["finish_s"]) for r in loader_runs]),
            "load_s": spread([r["load_s"] for r in loader_runs]),
            "finish_s": spread([r["finish_s"] for r in loader_runs]),
            "rss_load_mb": spread([r["rss_load_mb"] for r in loader_runs]),
            "rss_mb": spread([r["rss_mb"] for r in loader_runs]),
            "caches": loader_runs[-1]["caches"],
        },
        "limit": {
            "load_works_per_s": rates(limit_runs, "load_s"),
            "total_works_per_s": spread([records / (r["load_s"] + r["finish_s"]) for r in limit_runs]),
            "load_s": spread([r["load_s"] for r in limit_runs]),
            "finish_s": spread([r["finish_s"] for r in limit_runs]),
            "rss_load_mb": spread([r["rss_load_mb"] for r in limit_runs]),
            "rss_mb": spread([r["rss_mb"] for r in limit_runs]),
            "rows": limit_runs[0]["rows"],
        },
        "ratio_load": statistics.median(
            [lim["load_s"] / lo["load_s"] for lo, lim in zip(loader_runs, limit_runs)]),
        "ratio_total": statistics.median(
            [(lim["load_s"] + lim["finish_s"]) / (lo["load_s"] + lo["finish_s"])
             for lo, lim in zip(loader_runs, limit_runs)]),
        "runs": {"loader": loader_runs, "limit": limit_runs},
    }


def machine() -> str:
    memory = ""
    try:
        with open("/proc/meminfo") as fp:
            kib = int(fp.readline().split()[1])
        memory = f"{kib / 1024 / 1024:.1f} GiB RAM"
    except OSError:
        pass
    model = ""
    try:
        with open("/proc/cpuinfo") as fp:
            model = next((line.split(":", 1)[1].strip() for line in fp if line.startswith("model name")), "")
    except OSError:
        pass
    return (f"{os.cpu_count()} cores ({model}), {memory}, Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}, {platform.system()} {platform.release()}")


def fmt_spread(s: dict, digits: int = 0) -> str:
    return f"{s['median']:,.{digits}f} ({s['min']:,.{digits}f}–{s['max']:,.{digits}f}, {s['runs']} runs)"


def table(results: List[dict]) -> str:
    lines = [
        "| works | format | loader: load works/s | limit: executemany works/s | load ratio | "
        "loader: load + finish works/s | limit: + finish works/s | total ratio | loader finish s | "
        "loader peak RSS MB (load / with finish) | limit peak RSS MB |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lo, li = r["loader"], r["limit"]
        lines.append(
            f"| {r['n']:,} | {r['format']} | {fmt_spread(lo['load_works_per_s'])} | {fmt_spread(li['load_works_per_s'])} "
            f"| {r['ratio_load']:.0%} | {fmt_spread(lo['total_works_per_s'])} | {fmt_spread(li['total_works_per_s'])} "
            f"| {r['ratio_total']:.0%} | {fmt_spread(lo['finish_s'], 1)} "
            f"| {lo['rss_load_mb']['median']:,.0f} / {lo['rss_mb']['median']:,.0f} "
            f"({lo['rss_mb']['min']:,.0f}–{lo['rss_mb']['max']:,.0f}) | {li['rss_mb']['median']:,.0f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        worker(argv[1:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--format", choices=("csl-json", "pubmed-xml"), default="csl-json")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=DATA / "work", help="where the databases go")
    parser.add_argument("--keep", action="store_true", help="keep the loader's database (bench/serve.py uses it)")
    parser.add_argument("--json", type=Path, help="write every run's figures here")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    print(machine(), file=sys.stderr)
    results = []
    for n in args.sizes:
        results.append(bench_size(n, args.format, args.runs, args.work, args.keep))
        print(table(results[-1:]), file=sys.stderr, flush=True)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps({"machine": machine(), "results": results}, indent=1))
    print(machine())
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
