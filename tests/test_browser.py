"""refsette's pages in a real headless Chromium: facets, search, the map, the chart, a download —
and no script from the data ever runs.

Debian's chromium (``/usr/bin/chromium``) driven by Playwright; never ``playwright install``. The
server is started like ``refsette serve`` on 127.0.0.1 (tests/live_server.py), every request to
anywhere else is aborted and the browser's resolver maps every other host to nowhere.
Without chromium these tests are skipped, unless REFSETTE_REQUIRE_BROWSER is set (CI): then they fail.
"""

import os
import re
from pathlib import Path

import pytest

from pages_library import XSS, XSS_IMG, build_library

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
EXPORTS_PLUGIN = Path(__file__).resolve().parents[1] / "plugins" / "bibliography_exports.py"

pytestmark = pytest.mark.browser


def need_browser():
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} not found (apt-get install chromium)"
    if os.environ.get("REFSETTE_REQUIRE_BROWSER"):
        pytest.fail(message + " and REFSETTE_REQUIRE_BROWSER is set")
    pytest.skip(message)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    need_browser()
    from live_server import LiveServer

    path = tmp_path_factory.mktemp("browser") / "library.db"
    ids = build_library(path)
    with LiveServer(path) as live:
        yield live, ids


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Tab:
    """A page that records dialogs (an alert() from the data would be one) and off-host requests."""

    def __init__(self, browser, base):
        self.base = base
        self.context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.dialogs, self.blocked = [], []
        self.page.on("dialog", self._dialog)
        self.page.route("**/*", self._route)

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _route(self, route):
        if route.request.url.startswith(self.base):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def goto(self, path):
        response = self.page.goto(self.base + path, wait_until="load")
        assert response.status == 200, path
        return self.page

    def rows_count(self):
        heading = self.page.locator("h3").filter(has_text=re.compile(r"\d+ rows?")).first.inner_text()
        return int(re.match(r"([\d,]+) rows?", heading).group(1).replace(",", ""))


@pytest.fixture
def tab(browser, server):
    live, _ = server
    tab = Tab(browser, live.url)
    yield tab
    assert tab.dialogs == [], "a dialog fired: markup from the data ran as script"
    assert tab.blocked == [], "the page asked for something that is not on this server"
    tab.context.close()


@pytest.fixture
def ids(server):
    return server[1]


def test_clicking_a_year_then_an_author_narrows_the_rows(tab):
    page = tab.goto("/library/works")
    everything = tab.rows_count()
    page.locator("#facet-year li a").filter(has_text="2017").first.click()
    page.wait_for_url(re.compile(r"year=2017"))
    in_2017 = tab.rows_count()
    assert 0 < in_2017 < everything
    years = page.locator("table.works-table td.col-year").all_inner_texts()
    assert years and set(y.strip() for y in years) == {"2017"}
    first_author = page.locator("#facet-author li").first
    name = first_author.locator("a").inner_text()
    shown = int(first_author.inner_text().rsplit(None, 1)[1].replace(",", ""))
    first_author.locator("a").click()
    page.wait_for_url(re.compile(r"_author=\d+"))
    assert tab.rows_count() == shown <= in_2017
    assert "year=2017" in page.url
    selected = page.locator("#facet-author li").filter(has_text=name).first
    assert selected.locator("a.cross").count() == 1  # selected, with a way back


def test_search_from_the_header(tab):
    page = tab.goto("/library/works")
    page.fill("form.site-search input[name=q]", "trastuzumab resistance")
    page.press("form.site-search input[name=q]", "Enter")
    page.wait_for_url(re.compile(r"/-/search\?q=trastuzumab"))
    results = page.locator("ol.search-results li")
    assert results.count() >= 3
    marks = page.locator("ol.search-results mark").all_inner_texts()
    assert {m.lower() for m in marks} >= {"trastuzumab", "resistance"}
    results.first.locator("a.result-title").click()
    page.wait_for_url(re.compile(r"/library/works/\d+$"))
    assert page.locator("h1.work-title").is_visible()


def test_the_map_shows_markers_and_popups(tab):
    page = tab.goto("/library/map")
    page.wait_for_selector(".leaflet-container .leaflet-marker-icon", timeout=15_000)
    assert page.locator(".leaflet-marker-icon").count() >= 3  # single markers and clusters
    single = page.locator("img.leaflet-marker-icon").first
    single.click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5_000)
    assert re.search(r"\d+ works?, \d+ authors?", popup.inner_text())
    assert popup.locator("a").get_attribute("href").startswith("/library/works?_institution=")


def test_map_popup_shows_markup_as_text(tab):
    page = tab.goto("/library/institution_map?name__contains=onerror")
    page.wait_for_selector("img.leaflet-marker-icon", timeout=15_000)
    page.locator("img.leaflet-marker-icon").first.click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5_000)
    assert f"{XSS_IMG} Laboratory" in popup.inner_text()
    assert popup.locator("img").count() == 0


def test_the_year_chart_draws_bars_that_filter(tab):
    page = tab.goto("/library/works")
    bars = page.locator("svg.year-chart rect.bar")
    assert bars.count() >= 5
    box = bars.first.bounding_box()
    assert box["height"] > 0 and box["width"] > 0
    tallest = max(range(bars.count()), key=lambda i: int(bars.nth(i).get_attribute("data-count")))
    year, count = bars.nth(tallest).get_attribute("data-year"), int(bars.nth(tallest).get_attribute("data-count"))
    page.locator("svg.year-chart a").nth(tallest).click()
    page.wait_for_url(re.compile(rf"year={year}"))
    assert tab.rows_count() == count


def test_author_page_chart(tab, ids):
    page = tab.goto(f"/library/authors/{ids['xss_author']}")
    assert page.locator("svg.year-chart rect.bar").count() == 1
    assert page.locator("h1.entity-title").inner_text() == f"{XSS}, Eve"


def test_bib_download(tab, ids):
    if not EXPORTS_PLUGIN.exists():
        pytest.skip("plugins/bibliography_exports.py (the .bib renderer) is not there yet")
    page = tab.goto(f"/library/works/{ids['chapter']}")
    with page.expect_download() as download_info:
        page.click("a.export-bib")
    download = download_info.value
    text = Path(download.path()).read_text(encoding="utf-8")
    assert text.lstrip().startswith("@incollection") or text.lstrip().startswith("@inbook")
    assert "Budgets of chapters" in text


MARKUP_PAGES = [
    "/", "/library/works", "/library/works/{xss}", "/library/authors/{xss_author}",
    "/library/journals/{xss_journal}", "/library/collections/{xss_collection}",
    "/library/works?_author={xss_author}&_tag={xss_tag}", "/-/search?q=script+alert",
    "/-/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "/library/works_readable", "/library/map",
    "/library/institutions/{xss_institution}",
]


def test_markup_in_the_data_never_runs(tab, ids):
    for path in MARKUP_PAGES:
        page = tab.goto(path.format(**ids))
        if "map" in path:  # markers (and their names) arrive after the page loads
            page.wait_for_selector(".leaflet-marker-icon", timeout=15_000)
    # the dialog check is in the fixture; the markup shows as text
    page = tab.goto(f"/library/works/{ids['xss']}")
    assert page.title().startswith(XSS)
    assert page.locator("h1.work-title").inner_text().startswith(XSS)
    assert page.locator(".work-authors a.author").first.inner_text() == f"{XSS}, Eve"
