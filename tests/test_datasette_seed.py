"""The seed library served by Datasette with the project's metadata, through datasette.client."""

import asyncio
import csv
import io
from pathlib import Path

import pytest
import sqlite_utils
import yaml
from datasette.app import Datasette

from ingest.loader import Loader

from conftest import ROOT, SEEDS


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    path = tmp_path_factory.mktemp("ds") / "library.db"
    loader = Loader(sqlite_utils.Database(path))
    loader.load_file(str(SEEDS / "trastuzumab.txt"))
    loader.finish()
    metadata = yaml.safe_load((ROOT / "metadata.yml").read_text())
    return Datasette(
        [str(path)], immutables=[], metadata=metadata, plugins_dir=str(ROOT / "plugins"),
        template_dir=str(ROOT / "templates"),
    )


def get(ds, path):
    async def fetch():
        return await ds.client.get(path)
    return asyncio.run(fetch())


def test_works_table_lists_62_with_facets(ds):
    response = get(ds, "/library/works.json?_shape=objects&_size=100")
    assert response.status_code == 200
    data = response.json()
    assert data["filtered_table_rows_count"] == 62 and len(data["rows"]) == 62
    facets = data["facet_results"]["results"] if "results" in data["facet_results"] else data["facet_results"]
    assert {"year", "type", "journal_id", "author", "collection", "tag"} <= set(facets)
    years = {item["value"]: item["count"] for item in facets["year"]["results"]}
    assert years[2017] == 34 and years[1999] == 2
    collections = {item["label"]: item["count"] for item in facets["collection"]["results"]}
    assert collections == {"Trastuzumab": 62, "More Information": 53, "Top Publications": 9}


def test_year_facet_and_author_facet_filter_rows(ds):
    assert get(ds, "/library/works.json?year=1999").json()["filtered_table_rows_count"] == 2
    facets = get(ds, "/library/works.json").json()["facet_results"]
    andre = next(item for item in facets["author"]["results"] if item["label"] == "Andre, F.")
    assert andre["count"] == 2
    data = get(ds, f"/library/works.json?_author={andre['value']}").json()
    assert data["filtered_table_rows_count"] == 2
    both = get(ds, f"/library/works.json?_author={andre['value']}&year=2014").json()
    assert both["filtered_table_rows_count"] == 2


def test_search_box(ds):
    data = get(ds, "/library/works.json?_search=nanosilica&_shape=objects").json()
    assert [row["id"] for row in data["rows"]] and "nanosilica" in data["rows"][0]["title"]
    html = get(ds, "/library/works").text
    assert 'name="_search"' in html


def test_csv_stream_downloads_all_rows(ds):
    response = get(ds, "/library/works.csv?_stream=on&_size=max")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 62


def test_readable_view_csv(ds):
    response = get(ds, "/library/works_readable.csv?_stream=on&_size=max")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 62
    first = next(r for r in rows if r["title"].startswith("Nonclinical studies"))
    assert first["authors"].startswith("Sliwkowski M; Lofgren J") and first["journal"] == "Semin Oncol"


@pytest.mark.parametrize("query, check", [
    ("publications_per_year", lambda rows: sum(r["works"] for r in rows) == 62),
    ("most_frequent_authors", lambda rows: rows[0]["works"] == 2),
    ("co_author_pairs", lambda rows: rows[0]["works_together"] >= 1),
    ("journals_by_count", lambda rows: rows[0]["works"] == 3 and sum(r["works"] for r in rows) == 62),
])
def test_canned_queries(ds, query, check):
    response = get(ds, f"/library/{query}.json?_shape=objects&limit=20")
    assert response.status_code == 200, response.text
    assert check(response.json()["rows"])


def test_labels_for_journals_on_works(ds):
    data = get(ds, "/library/works.json?_labels=on&_shape=objects&year=1999").json()
    assert {row["journal_id"]["label"] for row in data["rows"]} == {"Semin Oncol", "Clin Ther"}
