"""Build a synthetic library of N works (default 100,000) in the real schema, for timing the pages.

Written with direct SQL rather than through the Loader: the point is a database of realistic shape
(skewed journal and author frequencies, several authors per work, tags, collections, abstracts,
citations, geocoded institutions) in seconds, not the identity rules, which the loader's tests cover.

    .venv/bin/python bench/synthetic_library.py /tmp/bench/library.db --works 100000
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

import sqlite_utils  # noqa: E402

from ingest.schema import INDEXES, ensure_tables, finalize  # noqa: E402

# Indexes the related facets (plugins/related_facets.py) need to stay under the 200 ms facet time
# limit at 100k works; proposed for ingest/schema.py. Created here only while the schema lacks them.
FACET_INDEXES = [
    ("work_authors", ("role", "author_id", "work_id")),
    ("work_tags", ("tag_id", "work_id")),
    ("affiliations", ("institution_id", "work_id")),
]

WORDS = (
    "cancer breast gastric receptor antibody trastuzumab therapy trial patients survival cells tumour "
    "expression signalling resistance response clinical outcome cohort analysis randomised phase study "
    "model protein kinase inhibitor dose toxicity cardiac adjuvant metastatic HER2 growth factor pathway "
    "gene mutation sequencing imaging biomarker screening risk mortality treatment chemotherapy "
    "radiotherapy surgery immune checkpoint vaccine infection inflammation metabolism obesity diabetes"
).split()
FAMILIES = (
    "Smith Jones Garcia Müller Rossi Dubois Tanaka Wang Li Zhang Kim Nguyen Silva Santos Kowalski "
    "Novak Andersson Hansen Virtanen O'Brien Murphy Patel Singh Cohen Levi Ivanov Petrov Schmidt "
    "Schneider Fischer Weber Meyer Wagner Becker Hoffmann Lopez Martin Bernard Moreau Laurent"
).split()
GIVENS = "Anna Ben Carla David Eva Felix Grace Hugo Ines Jan Kai Lena Marc Nora Omar Pia Rui Sara Tom Uma".split()
TYPES = [("article-journal", 90), ("chapter", 4), ("book", 2), ("paper-conference", 2), ("report", 2)]
CITIES = [
    ("Boston", "United States", 42.36, -71.06), ("London", "United Kingdom", 51.51, -0.13),
    ("Paris", "France", 48.86, 2.35), ("Berlin", "Germany", 52.52, 13.40), ("Tokyo", "Japan", 35.68, 139.69),
    ("Toronto", "Canada", 43.65, -79.38), ("Sydney", "Australia", -33.87, 151.21),
    ("São Paulo", "Brazil", -23.55, -46.63), ("Beijing", "China", 39.90, 116.41),
    ("Milan", "Italy", 45.46, 9.19), ("Madrid", "Spain", 40.42, -3.70), ("Seoul", "South Korea", 37.57, 126.98),
]


def zipf_index(rng: random.Random, n: int, skew: float = 1.1) -> int:
    """An index in [0, n) with a long tail: a few journals and authors account for many works."""
    return min(n - 1, int(n * (rng.random() ** (skew * 3))))


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize()


def build(path: str, works: int = 100_000, seed: int = 7, facet_indexes: bool = True) -> dict:
    rng = random.Random(seed)
    started = time.perf_counter()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).unlink(missing_ok=True)
    db = sqlite_utils.Database(path)
    ensure_tables(db)
    conn: sqlite3.Connection = db.conn
    journals = max(10, works // 20)
    authors = max(50, works * 2)
    tags = max(20, works // 50)
    collections = 60

    conn.executemany(
        "INSERT INTO journals (id, title, abbreviation, issn) VALUES (?, ?, ?, ?)",
        [(i, f"Journal of {sentence(rng, 2)} {i}", f"J {rng.choice(WORDS).capitalize()} {i}",
          f"{1000 + i % 9000:04d}-{i % 1000:03d}X") for i in range(1, journals + 1)],
    )
    author_rows = []
    for i in range(1, authors + 1):
        family, given = rng.choice(FAMILIES) + (str(i // len(FAMILIES)) if i > len(FAMILIES) else ""), rng.choice(GIVENS)
        author_rows.append((i, f"{family}, {given}", family, given, given[0], f"{family.lower()} {given[0].lower()}"))
    conn.executemany(
        "INSERT INTO authors (id, name, family, given, initials, name_key) VALUES (?, ?, ?, ?, ?, ?)", author_rows
    )
    tag_names = [f"{sentence(rng, 2)} {i}" for i in range(1, tags + 1)]
    conn.executemany("INSERT INTO tags (id, name) VALUES (?, ?)", list(enumerate(tag_names, start=1)))
    collection_names = [f"Collection {i}: {sentence(rng, 2)}" for i in range(1, collections + 1)]
    conn.executemany(
        "INSERT INTO collections (id, name, parent_id, key) VALUES (?, ?, ?, ?)",
        [(i, name, None if i <= 10 else rng.randint(1, 10), f"c{i}")
         for i, name in enumerate(collection_names, start=1)],
    )
    conn.executemany(
        "INSERT INTO institutions (id, name, city, country, latitude, longitude, name_key) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(i, f"University Hospital {i}", city, country, lat + rng.uniform(-0.2, 0.2), lon + rng.uniform(-0.2, 0.2), f"u{i}")
         for i, (city, country, lat, lon) in enumerate(CITIES * 10, start=1)],
    )

    type_names = [t for t, _ in TYPES]
    type_weights = [w for _, w in TYPES]
    work_rows, wa_rows, wt_rows, cw_rows, cit_rows, aff_rows = [], [], [], [], [], []
    for work_id in range(1, works + 1):
        year = 2024 - min(74, int(abs(rng.gauss(0, 14))))
        kind = rng.choices(type_names, type_weights)[0]
        people = sorted({zipf_index(rng, authors) + 1 for _ in range(rng.randint(1, 9))})
        rng.shuffle(people)
        work_tags = sorted({zipf_index(rng, tags) + 1 for _ in range(rng.randint(0, 6))})
        work_collections = sorted({rng.randint(1, collections) for _ in range(rng.randint(0, 2))})
        names = [author_rows[a - 1][1] for a in people]
        title = sentence(rng, rng.randint(6, 16))
        excerpts = [f"..{sentence(rng, 12)}.." for _ in work_collections]
        work_rows.append((
            work_id, kind, title, sentence(rng, rng.randint(120, 250)),
            zipf_index(rng, journals) + 1 if kind == "article-journal" else None,
            year, f"{year}-{rng.randint(1, 12):02d}", str(rng.randint(1, 80)), str(rng.randint(1, 12)),
            f"10.5555/syn.{work_id}", str(30_000_000 + work_id),
            "; ".join(names), json.dumps(names, ensure_ascii=False),
            json.dumps(sorted(tag_names[t - 1] for t in work_tags), ensure_ascii=False) if work_tags else None,
            json.dumps(sorted(collection_names[c - 1] for c in work_collections), ensure_ascii=False)
            if work_collections else None,
            "\n\n".join(excerpts) or None, f"syn{work_id}",
        ))
        wa_rows.extend((work_id, a, position, "author", author_rows[a - 1][1])
                       for position, a in enumerate(people, start=1))
        wt_rows.extend((work_id, t, "keyword") for t in work_tags)
        cw_rows.extend((c, work_id, i, excerpts[i]) for i, c in enumerate(work_collections))
        cit_rows.extend((work_id, position, rng.randint(1, works)) for position in range(1, rng.randint(0, 5) + 1))
        if rng.random() < 0.3:
            aff_rows.append((work_id, people[0], rng.randint(1, len(CITIES) * 10), f"Affiliation of work {work_id}", 1))
    conn.executemany(
        """INSERT INTO works (id, type, title, abstract, journal_id, year, issued, volume, issue, doi, pmid,
             authors_text, author_names, tag_names, collection_names, excerpts, cite_key)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""", work_rows)
    conn.executemany("INSERT INTO work_authors (work_id, author_id, position, role, name_as_written) VALUES (?, ?, ?, ?, ?)", wa_rows)
    conn.executemany("INSERT INTO work_tags (work_id, tag_id, kind) VALUES (?, ?, ?)", wt_rows)
    conn.executemany("INSERT INTO collection_works (collection_id, work_id, position, context) VALUES (?, ?, ?, ?)", cw_rows)
    conn.executemany("INSERT INTO citations (citing_work_id, position, cited_work_id) VALUES (?, ?, ?)", cit_rows)
    conn.executemany("INSERT INTO affiliations (work_id, author_id, institution_id, raw, position) VALUES (?, ?, ?, ?, ?)", aff_rows)
    conn.commit()
    finalize(db)
    declared = {(table, tuple(columns)) for table, columns, _ in INDEXES}
    for table, columns in FACET_INDEXES if facet_indexes else []:
        if (table, columns) not in declared:
            db[table].create_index(columns, if_not_exists=True, find_unique_name=False)
    db.analyze()
    return {
        "works": works, "authors": authors, "journals": journals, "tags": tags, "collections": collections,
        "authorships": len(wa_rows), "seconds": round(time.perf_counter() - started, 1),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database")
    parser.add_argument("--works", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--schema-indexes-only", action="store_true",
                        help="leave out the facet indexes the schema does not declare (to measure without them)")
    args = parser.parse_args(argv)
    print(json.dumps(build(args.database, args.works, args.seed, not args.schema_indexes_only)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
