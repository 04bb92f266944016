"""Screenshots of refsette's main pages, for docs/pages.md.

Builds a library from ``seeds/`` in a temporary folder, serves it the way ``refsette serve`` does
(on 127.0.0.1, map tiles from a local blank image) and photographs each page with Debian's
headless Chromium through Playwright. Nothing leaves the machine: every request that is not to
127.0.0.1 is aborted.

    .venv/bin/python docs/screenshots.py            # writes docs/screenshots/*.png
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import sqlite_utils  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from ingest.loader import Loader  # noqa: E402
from live_server import LiveServer  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
OUT = ROOT / "docs" / "screenshots"

# (file name, path or a function of the database giving it, element to wait for, full height)
PAGES = [
    ("home", "/", "svg.year-chart", 1000),
    ("works", "/library/works?_facet_size=8", "svg.year-chart", 1800),
    ("work", "/library/works/{work}", "h1.work-title", 1000),
    ("author", "/library/authors/{author}", "svg.year-chart", 1000),
    ("journal", "/library/journals/{journal}", "h1.entity-title", 900),
    ("map", "/library/map", ".leaflet-marker-icon, .marker-cluster", 1000),
    ("search", "/-/search?q=trastuzumab+resistance", "ol.search-results", 1100),
]


def build(path: Path) -> dict:
    db = sqlite_utils.Database(path)
    loader = Loader(db)
    for seed in sorted((ROOT / "seeds").iterdir()):
        if seed.is_file() and not seed.name.startswith("."):
            loader.load_file(str(seed))
    loader.finish()
    # The examples: the work with the most to show, and the most prolific author and journal.
    work = db.execute("""select works.id from works
        left join affiliations on affiliations.work_id = works.id
        left join work_tags on work_tags.work_id = works.id
        group by works.id order by (works.abstract is not null) desc, count(distinct affiliations.institution_id) desc,
          count(distinct work_tags.tag_id) desc limit 1""").fetchone()[0]
    author = db.execute("""select author_id from work_authors group by author_id
        order by count(distinct work_id) desc, author_id limit 1""").fetchone()[0]
    journal = db.execute("""select journal_id from works where journal_id is not null group by journal_id
        order by count(*) desc, journal_id limit 1""").fetchone()[0]
    return {"work": work, "author": author, "journal": journal}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--width", type=int, default=1280)
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} not found: install Debian's chromium", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        database = Path(tmp) / "library.db"
        ids = build(database)
        with LiveServer(database) as server, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for name, path, ready, height in PAGES:
                page = browser.new_page(viewport={"width": args.width, "height": height})
                page.route("**/*", lambda route: route.continue_()
                           if route.request.url.startswith(server.url) else route.abort())
                page.goto(server.url + path.format(**ids), wait_until="networkidle")
                page.wait_for_selector(ready, timeout=15_000)
                if name == "map":  # show what a marker says
                    page.locator("img.leaflet-marker-icon").first.click()
                    page.wait_for_selector(".leaflet-popup-content", timeout=5_000)
                    page.wait_for_timeout(600)  # the popup fades in
                target = args.out / f"{name}.png"
                page.screenshot(path=str(target))
                print(f"{target.relative_to(ROOT)}  {path.format(**ids)}")
                page.close()
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
