"""Fuzzing every parser: only ``ParseError`` may come out of ``list(parse(...))``, whatever the bytes.

Each input is a real record (``tests/fuzz_inputs.py``: the fixtures, the corpus' exports and Zotero's
import test cases) damaged by one to four mutations: truncation, byte flips, deleted structural
characters, tags and lines, duplicated or swapped lines, repeated chunks, format tokens spliced in,
another encoding or other line endings, and for CSL-JSON a value of another type. zotero.sqlite gets
page-aware damage (flipped bytes, zeroed or copied pages, a cut file, a damaged header).

An input fails when anything but ``ParseError`` escapes, when it takes longer than ``--hang`` seconds,
or when lxml/sqlite report an error they could not raise (Python's "unraisable" hook). Every
``--load-every``-th input that gave records is also written by the loader into an in-memory library:
the records a parser yields must be storable too (a huge number in a date once was not).

    .venv/bin/python bench/fuzz.py                          # every format, 100,000 inputs each
    .venv/bin/python bench/fuzz.py --format ris --count 5000
    .venv/bin/python bench/fuzz.py --seconds 120            # at most two minutes per format
    .venv/bin/python bench/fuzz.py --replay bench/results/fuzz/ris-0001.json

Inputs are drawn from ``random.Random`` seeded by ``--seed``, the format and the chunk number, so a run
is repeatable; each failure is written to ``bench/results/fuzz/`` as the input's bytes and a JSON file
naming its seed record and mutations, and ``--replay`` runs one again.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "tests"):
    if str(path) not in sys.path:  # run as a script from anywhere
        sys.path.insert(0, str(path))

import random  # noqa: E402

import fuzz_inputs  # noqa: E402
from ingest.records import ParseError  # noqa: E402

FORMATS = fuzz_inputs.TEXT_FORMATS + ("zotero-sqlite",)
CHUNK = 500
RESULTS = ROOT / "bench" / "results" / "fuzz"


class Hang(Exception):
    """An input that took longer than the --hang limit."""


def _on_alarm(signum, frame):
    raise Hang()


class Worker:
    """State kept in one worker process: seeds per format, the in-memory library of the loader stage."""

    def __init__(self):
        self.seeds: Dict[str, list] = {}
        self.loader = None
        self.parse_seconds = 0.0
        self.unraisable: List[str] = []
        sys.unraisablehook = lambda info: self.unraisable.append(f"{info.exc_type.__name__}: {info.exc_value}")
        signal.signal(signal.SIGALRM, _on_alarm)

    def seeds_for(self, fmt: str) -> list:
        if fmt not in self.seeds:
            self.seeds[fmt] = fuzz_inputs.zotero_seeds() if fmt == "zotero-sqlite" else fuzz_inputs.seeds(fmt)
        return self.seeds[fmt]

    def load(self, fmt: str, records: list, label: str) -> None:
        if self.loader is None:
            import sqlite_utils

            from ingest.loader import Loader

            self.loader = Loader(sqlite_utils.Database(memory=True))
        self.loader.load_records(records, path=label, fmt=fmt)


_WORKER: Optional[Worker] = None


def _worker() -> Worker:
    global _WORKER
    if _WORKER is None:
        _WORKER = Worker()
    return _WORKER


def generate(fmt: str, seeds: list, rng: random.Random):
    """(seed name, mutations, bytes) of one input."""
    name, data = rng.choice(seeds)
    if fmt == "zotero-sqlite":
        mutations = fuzz_inputs.sqlite_mutations(rng, len(data))
        return name, mutations, fuzz_inputs.damage_sqlite(data, mutations)
    mutations = fuzz_inputs.random_mutations(rng, fmt)
    return name, mutations, fuzz_inputs.mutate(fmt, data, mutations)


def run_one(worker: Worker, fmt: str, data: bytes, skip_bad: bool, load: bool, label: str, hang: float):
    """("parse-error" | "records" | "empty", None) or ("crash" | "hang", description)."""
    from ingest.sources import module_for

    worker.unraisable.clear()
    worker.parse_seconds = 0.0
    signal.setitimer(signal.ITIMER_REAL, hang)
    stage = "parse"
    try:
        for sniff in fuzz_inputs.sniffers():
            sniff(data[:65536].decode("utf-8", errors="ignore"))
        started = time.perf_counter()
        stream = module_for(fmt).parse(io.BytesIO(data), skip_bad=skip_bad)
        records = list(stream)
        worker.parse_seconds = time.perf_counter() - started
        if any(not isinstance(r, dict) for r in records):
            raise TypeError("a parser yielded something that is not a record")
        if any(not isinstance(e, ParseError) for e in stream.errors):
            raise TypeError("a stream's errors hold something that is not a ParseError")
        if load and records:
            stage = "load"
            worker.load(fmt, records, label)
        outcome = ("records", None) if records else ("empty", None)
    except ParseError:
        outcome = ("parse-error", None)
    except Hang:
        outcome = ("hang", f"{stage}: took more than {hang:g} s")
    except Exception as error:  # noqa: BLE001 - what escapes is what this bench looks for
        frames = traceback.extract_tb(error.__traceback__)
        ours = [f for f in frames if f"{os.sep}ingest{os.sep}" in f.filename] or frames
        where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"
        outcome = ("crash", f"{stage}: {type(error).__name__}: {str(error)[:200]} (at {where})")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    if outcome[0] not in ("crash", "hang") and worker.unraisable:
        outcome = ("crash", f"{stage}: unraisable {worker.unraisable[0]}")
    return outcome


def run_chunk(task):
    """Inputs ``start`` … ``start + count - 1`` of a format; counts and failures."""
    fmt, seed, chunk, count, load_every, hang = task
    worker = _worker()
    seeds = worker.seeds_for(fmt)
    rng = random.Random(f"{seed}:{fmt}:{chunk}")
    counts = {"inputs": 0, "parse-error": 0, "records": 0, "empty": 0, "loaded": 0, "crash": 0, "hang": 0}
    failures = []
    slowest = (0.0, None)
    for index in range(count):
        name, mutations, data = generate(fmt, seeds, rng)
        skip_bad = index % 2 == 1
        load = load_every > 0 and index % load_every == 0
        kind, description = run_one(worker, fmt, data, skip_bad, load, f"{fmt}-{chunk}-{index}", hang)
        elapsed = worker.parse_seconds
        if elapsed > slowest[0]:
            slowest = (elapsed, {"seed": name, "mutations": mutations, "bytes": len(data)})
        counts["inputs"] += 1
        counts[kind] += 1
        if kind == "records" and load:
            counts["loaded"] += 1
        if description:
            failures.append({"format": fmt, "seed": name, "mutations": mutations, "skip_bad": skip_bad,
                             "problem": description, "data": data})
    return counts, failures, slowest


def fuzz_format(pool, fmt: str, count: int, seconds: float, seed: int, load_every: int, hang: float,
                workers: int) -> dict:
    started = time.monotonic()
    totals = {"inputs": 0, "parse-error": 0, "records": 0, "empty": 0, "loaded": 0, "crash": 0, "hang": 0}
    failures: List[dict] = []
    slowest = (0.0, None)
    chunks = (count + CHUNK - 1) // CHUNK
    tasks = iter((fmt, seed, chunk, min(CHUNK, count - chunk * CHUNK), load_every, hang) for chunk in range(chunks))
    pending = []
    out_of_time = False
    while True:
        while len(pending) < workers * 2 and not out_of_time:
            task = next(tasks, None)
            if task is None:
                break
            pending.append(pool.apply_async(run_chunk, (task,)))
        if not pending:
            break
        counts, found, chunk_slowest = pending.pop(0).get()
        for key, value in counts.items():
            totals[key] += value
        failures.extend(found)
        if chunk_slowest[0] > slowest[0]:
            slowest = chunk_slowest
        if time.monotonic() - started > seconds:
            out_of_time = True
    totals["seconds"] = round(time.monotonic() - started, 1)
    totals["slowest"] = slowest
    totals["failures"] = failures
    totals["seeds"] = len(fuzz_inputs.zotero_seeds() if fmt == "zotero-sqlite" else fuzz_inputs.seeds(fmt))
    return totals


def save_failures(failures: List[dict]) -> List[Path]:
    RESULTS.mkdir(parents=True, exist_ok=True)
    saved = []
    seen = set()
    for failure in failures:
        key = (failure["format"], failure["problem"])
        if key in seen:
            continue
        seen.add(key)
        stem = f"{failure['format']}-{len(list(RESULTS.glob(failure['format'] + '-*.json'))) + 1:04d}"
        (RESULTS / f"{stem}.bin").write_bytes(failure["data"])
        meta = {k: v for k, v in failure.items() if k != "data"}
        meta["input"] = f"{stem}.bin"
        (RESULTS / f"{stem}.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
        saved.append(RESULTS / f"{stem}.json")
    return saved


def replay(path: Path) -> int:
    meta = json.loads(path.read_text("utf-8"))
    data = (path.parent / meta["input"]).read_bytes()
    from ingest.sources import module_for

    print(f"{meta['format']}: seed {meta['seed']}, mutations {meta['mutations']}, skip_bad={meta['skip_bad']}")
    print(f"recorded problem: {meta['problem']}")
    try:
        stream = module_for(meta["format"]).parse(io.BytesIO(data), skip_bad=meta["skip_bad"])
        records = list(stream)
    except ParseError as error:
        print(f"now: ParseError: {error}")
        return 0
    print(f"now: {len(records)} records, {len(stream.errors)} skipped")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--format", action="append", choices=FORMATS, help="a format (repeatable); default: all")
    parser.add_argument("--count", type=int, default=100_000, help="inputs per format (default 100,000)")
    parser.add_argument("--seconds", type=float, default=900, help="time limit per format (default 900)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--load-every", type=int, default=20,
                        help="load every Nth input's records into an in-memory library (0: never)")
    parser.add_argument("--hang", type=float, default=10.0, help="seconds after which an input is a hang")
    parser.add_argument("--replay", type=Path, help="run one saved failure again")
    args = parser.parse_args(argv)
    if args.replay:
        return replay(args.replay)

    formats = args.format or list(FORMATS)
    rows = []
    all_failures = []
    context = multiprocessing.get_context("fork")
    with context.Pool(args.workers) as pool:
        for fmt in formats:
            result = fuzz_format(pool, fmt, args.count, args.seconds, args.seed, args.load_every, args.hang,
                                 args.workers)
            rows.append((fmt, result))
            all_failures.extend(result["failures"])
            rate = result["inputs"] / result["seconds"] if result["seconds"] else 0
            print(f"{fmt:14} {result['inputs']:>8,} inputs in {result['seconds']:>6.1f} s ({rate:,.0f}/s): "
                  f"{result['parse-error']:,} ParseError, {result['records']:,} with records, "
                  f"{result['loaded']:,} loaded, {result['crash']} crashes, {result['hang']} hangs",
                  flush=True)
    print()
    print("| format | seeds | inputs | ParseError | gave records | loaded by the loader | crashes | hangs | seconds | slowest parse |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for fmt, result in rows:
        slow_seconds, slow = result["slowest"]
        print(f"| {fmt} | {result['seeds']} | {result['inputs']:,} | {result['parse-error']:,} | "
              f"{result['records']:,} | {result['loaded']:,} | {result['crash']} | {result['hang']} | "
              f"{result['seconds']:.0f} | {slow_seconds * 1000:.0f} ms |")
    if all_failures:
        print()
        for saved in save_failures(all_failures):
            meta = json.loads(saved.read_text("utf-8"))
            print(f"FAILURE {meta['format']}: {meta['problem']}\n    seed {meta['seed']} mutations "
                  f"{meta['mutations']} skip_bad={meta['skip_bad']}\n    reproducer: {saved}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
