"""The ``refsette`` command: a thin click group, one verb per subcommand."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import click
import sqlite_utils

from . import __version__
from .records import ParseError
from .serving import setting_args
from .sources import FORMATS

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PROGRESS_THRESHOLD = 256 * 1024  # bytes: smaller files load before a bar would draw
# Typical bytes per record, measured on real exports, to size the progress bar.
BYTES_PER_RECORD = {"pubmed-xml": 6000, "medline": 3000, "csl-json": 1500, "bibtex": 900, "ris": 1200,
                    "bibpage": 400, "zotero-sqlite": 20000}


@click.group()
@click.version_option(__version__, prog_name="refsette")
def cli():
    """Reference libraries as one normalised SQLite database, served by Datasette."""


@cli.command()
@click.argument("database", type=click.Path(dir_okay=False))
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=True))
@click.option("--format", "fmt", type=click.Choice(sorted(FORMATS)), help="Force a format instead of detecting it.")
@click.option("--force", is_flag=True, help="Re-read files even when unchanged since the last load.")
@click.option("--skip-bad", is_flag=True, help="Load the good records of a file and report the bad ones.")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors.")
@click.option("--no-inspect", is_flag=True,
              help="Do not write DATABASE.inspect.json (table counts and hash for `refsette serve`).")
def ingest(database, files, fmt, force, skip_bad, quiet, no_inspect):
    """Load reference files (BibTeX, RIS, CSL-JSON, MEDLINE, PubMed XML, pages) into DATABASE."""
    from .loader import Loader

    paths = _expand(files)
    # The counts and hash in an inspect file describe the database as it was: gone before it changes.
    inspect_path(database).unlink(missing_ok=True)
    db = sqlite_utils.Database(database)
    loader = Loader(db)
    failed = 0
    totals = {"added": 0, "updated": 0, "unchanged": 0}
    for path in paths:
        try:
            size = os.path.getsize(path)
            if size >= PROGRESS_THRESHOLD and not quiet:
                # Parsers stream, so the number of records is only known at the end: the bar's
                # length is estimated from the file size and a typical record size of the format.
                estimate = max(1, size // BYTES_PER_RECORD.get(fmt or _detect_quietly(path), 1500))
                with click.progressbar(length=estimate, label=os.path.basename(path), file=sys.stderr,
                                       show_pos=True) as bar:
                    result = loader.load_file(path, fmt=fmt, force=force, skip_bad=skip_bad, progress=bar.update)
            else:
                result = loader.load_file(path, fmt=fmt, force=force, skip_bad=skip_bad)
        except ParseError as error:
            failed += 1
            click.secho(f"error: {error}", fg="red", err=True)
            continue
        except OSError as error:
            failed += 1
            click.secho(f"error: {path}: {error.strerror or error}", fg="red", err=True)
            continue
        for message in result.errors:
            failed += 1
            click.secho(f"skipped: {message}", fg="yellow", err=True)
        if quiet:
            continue
        if result.skipped_file:
            click.echo(f"{path}: unchanged since last load, skipped (use --force to re-read)")
            continue
        for key in totals:
            totals[key] += getattr(result, key)
        click.echo(
            f"{path} [{result.format}]: {result.records} records — {result.added} added, "
            f"{result.updated} updated, {result.unchanged} unchanged"
        )
    loader.finish()
    if not quiet:
        counts = {name: db[name].count for name in ("works", "authors", "journals", "collections")}
        click.echo(
            f"{database}: {counts['works']} works, {counts['authors']} authors, "
            f"{counts['journals']} journals, {counts['collections']} collections"
        )
    db.conn.close()
    if not no_inspect:
        write_inspect_file(database)
    if failed:
        raise click.ClickException(f"{failed} file(s) or record(s) could not be loaded; see the errors above")


def _detect_quietly(path):
    from .sources import detect

    try:
        return detect(path)
    except ParseError:
        return None  # load_file reports it


def _expand(files):
    paths = []
    for name in files:
        if os.path.isdir(name):
            for root, _, names in sorted(os.walk(name)):
                paths.extend(os.path.join(root, n) for n in sorted(names) if not n.startswith("."))
        else:
            paths.append(name)
    return paths


def inspect_path(database) -> Path:
    """Where `refsette serve` looks for the inspect file of ``database``."""
    return Path(str(database) + ".inspect.json")


def write_inspect_file(database) -> Path:
    """What `datasette inspect` writes (each table's row count, the file's hash and size), for
    `datasette --inspect-file`: served immutable, a large library then starts without counting every
    table, and its front page shows without hashing the whole file first."""
    from datasette.inspect import inspect_hash

    database = Path(database)
    conn = sqlite3.connect(f"file:{database}?immutable=1", uri=True)
    counts = {}
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
        try:
            counts[table] = conn.execute(f"SELECT COUNT(*) FROM [{table}]").fetchone()[0]
        except sqlite3.Error:  # as datasette inspect: some virtual tables cannot be counted
            counts[table] = 0
    conn.close()
    data = {database.stem: {
        "hash": inspect_hash(database), "size": database.stat().st_size, "file": str(database),
        "tables": {table: {"count": count} for table, count in counts.items()},
    }}
    target = inspect_path(database)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, target)
    return target


@cli.command(name="inspect")
@click.argument("database", type=click.Path(exists=True, dir_okay=False), default="library.db")
def inspect_command(database):
    """Write DATABASE.inspect.json (row counts, hash) for `refsette serve`; `ingest` does it too."""
    click.echo(f"wrote {write_inspect_file(database)}")


@cli.command()
@click.argument("database", type=click.Path(exists=True, dir_okay=False), default="library.db")
@click.option("-h", "--host", default="127.0.0.1", show_default=True, help="Host to bind.")
@click.option("-p", "--port", default=8001, show_default=True, type=int, help="Port (0 picks a free one).")
@click.option("--root", type=click.Path(exists=True, file_okay=False), default=str(PROJECT_ROOT),
              help="Folder holding metadata.yml, plugins/, templates/ and static/.")
@click.option("--reload", is_flag=True, help="Restart when code or metadata changes (development).")
def serve(database, host, port, root, reload):
    """Serve DATABASE with Datasette, read-only, with refsette's metadata, plugins and templates."""
    click.echo(f"serving {database} on http://{host}:{port}/", err=True)
    sys.exit(subprocess.call(datasette_args(database, root, host, port, reload)))


def sql_threads(cores: int) -> int:
    """Datasette's SQL threads for a machine: its default of 3, but one core left to the Python that
    renders the pages. A facet's time limit is wall time: with more SQL threads than free cores the
    queries of many readers share the cores and facets time out that would finish alone
    (bench/README.md, 20 clients on 2 cores)."""
    return max(1, min(3, cores - 1))


def datasette_args(database, root=PROJECT_ROOT, host="127.0.0.1", port=8001, reload=False):
    root = Path(root)
    args = [
        sys.executable, "-m", "datasette", "serve", "-i", str(database),
        "--host", host, "--port", str(port),
        "--metadata", str(root / "metadata.yml"),
        "--plugins-dir", str(root / "plugins"),
        "--template-dir", str(root / "templates"),
        *setting_args(),
        "--setting", "num_sql_threads", str(sql_threads(os.cpu_count() or 1)),
    ]
    if (root / "static").is_dir():
        args += ["--static", f"static:{root / 'static'}"]
    inspect_file = inspect_path(database)
    if inspect_file.exists():
        args += ["--inspect-file", str(inspect_file)]
    if reload:
        args.append("--reload")
    return args


from .publish_cli import publish  # noqa: E402  (subcommand groups register after the core verbs)
from .zotero_cli import zotero  # noqa: E402

cli.add_command(zotero)
cli.add_command(publish)


def main():
    cli(prog_name="refsette")


if __name__ == "__main__":
    main()
