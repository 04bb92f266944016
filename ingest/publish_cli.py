"""``refsette publish``: the library on Cloud Run, Vercel or Fly, or the folder that would be deployed."""

from __future__ import annotations

from pathlib import Path

import click

from .publish import (DEFAULT_SERVICE, NEXT_STEPS, SECRET_HINTS, TARGETS, PublishError, Request, deploy,
                      generate)

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@click.command()
@click.argument("target", type=click.Choice(TARGETS))
@click.argument("database", type=click.Path(exists=True, dir_okay=False))
@click.argument("publisher_options", nargs=-1, type=click.UNPROCESSED, metavar="[-- PUBLISHER_OPTIONS]")
@click.option("--service", default=DEFAULT_SERVICE, show_default=True,
              help="The Cloud Run service, Vercel project or Fly app to create or replace.")
@click.option("--title", help="Title for the home page, instead of metadata.yml's.")
@click.option("--generate-dir", type=click.Path(file_okay=False),
              help="Write the deployable folder here and stop: no network, no cloud CLI.")
@click.option("--install", "extra_install", multiple=True, metavar="PACKAGE",
              help="Another package to install in the deployment (repeatable).")
@click.option("--root", type=click.Path(exists=True, file_okay=False), default=str(PROJECT_ROOT),
              help="Folder holding metadata.yml, plugins/, templates/ and static/.")
def publish(target, database, publisher_options, service, title, generate_dir, extra_install, root):
    """Publish DATABASE with `datasette publish TARGET` (cloudrun, vercel or fly).

    It is served as the immutable database `library`, with metadata.yml, plugins/, templates/ and static/,
    and with Datasette and every package the plugins need pinned to the versions installed here. Vercel
    and Fly need `pip install 'refsette[publish]'`; deploying needs the platform's CLI, logged in.

    Options after `--` go to `datasette publish TARGET` unchanged, e.g. `-- --region lhr` for Fly or
    `-- --memory 1Gi` for Cloud Run (deploys only).
    """
    try:
        request = Request(target, service, title, tuple(extra_install), tuple(publisher_options))
        if generate_dir:
            if publisher_options:
                raise click.UsageError("options after -- are for deploys; --generate-dir takes none")
            warnings = generate(request, Path(database), Path(generate_dir), Path(root))
        else:
            warnings = deploy(request, Path(database), Path(root), echo=lambda m: click.secho(m, fg="yellow", err=True))
    except PublishError as error:
        raise click.ClickException(str(error)) from error
    if generate_dir:
        for warning in warnings:
            click.secho(f"warning: {warning}", fg="yellow", err=True)
        click.echo(f"wrote {generate_dir}; to deploy it:")
        click.echo("  " + NEXT_STEPS[target].format(dir=generate_dir, service=service))
    click.echo("DATASETTE_SECRET (signed cookies) comes from the platform's environment; set it once with:")
    click.echo("  " + SECRET_HINTS[target].format(service=service))
