"""``refsette zotero``: sync a Zotero library over its API, or import a ``zotero.sqlite``."""

from __future__ import annotations

import os
import sys
from typing import Optional

import click
import sqlite_utils

from .records import ParseError
from .zotero_sync import (
    API_ROOT,
    LOCAL_API_ROOT,
    ZoteroClient,
    ZoteroError,
    import_sqlite,
    library_prefix,
    sync_library,
)

API_KEY_VARIABLE = "ZOTERO_API_KEY"
PROGRESS_MIN_ITEMS = 200  # fewer items arrive before a bar would be worth drawing


@click.group()
def zotero():
    """Bring a Zotero library into a refsette database."""


@zotero.command()
@click.argument("database", type=click.Path(dir_okay=False))
@click.option("--user", "user", type=int, metavar="ID", help="A user library (the user ID, not the name).")
@click.option("--group", "group", type=int, metavar="ID", help="A group library.")
@click.option("--local", is_flag=True,
              help="Read the running Zotero 7 desktop app's local API (127.0.0.1:23119, no key) instead of zotero.org.")
@click.option("--collection", metavar="KEY", help="Only this collection and its subcollections.")
@click.option("--base-url", metavar="URL", help=f"API root [default: {API_ROOT}, or {LOCAL_API_ROOT} with --local].")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors.")
def sync(database, user, group, local, collection, base_url, quiet):
    """Fetch a Zotero library into DATABASE; later runs fetch only what changed."""
    if user is not None and group is not None:
        raise click.UsageError("give --user or --group, not both")
    if local and user is None and group is None:
        user = 0  # the local API's name for the signed-in user (their own ID works too)
    if user is None and group is None:
        raise click.UsageError("give --user ID or --group ID (or --local)")
    library = library_prefix(user=user, group=group)
    api_key = None if local else (os.environ.get(API_KEY_VARIABLE) or None)
    root = base_url or (LOCAL_API_ROOT if local else API_ROOT)
    db = sqlite_utils.Database(database)
    bar = _ProgressBar(library, enabled=not quiet)
    try:
        with ZoteroClient(root, api_key=api_key) as client:
            result = sync_library(db, client, library, collection=collection, progress=bar.update)
    except ZoteroError as error:
        message = str(error)
        if local and ("cannot reach" in message or "HTTP 403" in message):
            if "HTTP 403" in message:
                message = f"{library}: the Zotero app refused the request (HTTP 403)."
            message += (" Is Zotero 7 running, with \"Allow other applications on this computer to communicate"
                        " with Zotero\" ticked in Settings → Advanced (the local API)?")
        raise click.ClickException(message) from None
    except ParseError as error:
        raise click.ClickException(str(error)) from None
    finally:
        bar.close()
        db.close()
    for message in result.skipped:
        click.secho(f"skipped: {message}", fg="yellow", err=True)
    if quiet:
        return
    if result.unchanged:
        click.echo(f"{library}: up to date at library version {result.version}")
        return
    click.echo(
        f"{library}: library version {result.since} → {result.version}"
        f"{' (full sync)' if result.full else ''}: {result.fetched_items} items and "
        f"{result.fetched_collections} collections fetched; {result.loaded} works loaded "
        f"({result.added} added, {result.updated} updated), {result.removed} removed, "
        f"{result.attachments} attachments"
    )


@zotero.command("import")
@click.argument("database", type=click.Path(dir_okay=False))
@click.argument("zotero_sqlite", type=click.Path(exists=True, dir_okay=False))
@click.option("--force", is_flag=True, help="Read the file even when unchanged since the last import.")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors.")
def import_(database, zotero_sqlite, force, quiet):
    """Import a Zotero desktop database (zotero.sqlite) into DATABASE, reading a copy of it."""
    db = sqlite_utils.Database(database)
    try:
        result = import_sqlite(db, zotero_sqlite, force=force)
    except ParseError as error:
        raise click.ClickException(str(error)) from None
    finally:
        db.close()
    for message in result.skipped:
        click.secho(f"skipped: {message}", fg="yellow", err=True)
    if quiet:
        return
    if result.skipped_file:
        click.echo(f"{zotero_sqlite}: unchanged since the last import, skipped (use --force to re-read)")
        return
    click.echo(
        f"{zotero_sqlite}: {result.records} works loaded ({result.added} added, {result.updated} updated), "
        f"{result.removed} removed, {result.attachments} attachments"
    )


class _ProgressBar:
    """A bar on stderr for the item pages of a long sync; created once the total is known."""

    def __init__(self, label: str, enabled: bool):
        self.label = label
        self.enabled = enabled
        self.bar = None
        self.shown = 0

    def update(self, done: int, total: Optional[int]) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            if not total or total < PROGRESS_MIN_ITEMS:
                return
            self.bar = click.progressbar(length=total, label=f"{self.label} items", file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(max(0, done - self.shown))
        self.shown = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None
