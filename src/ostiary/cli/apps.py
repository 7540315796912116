"""``apps``: list, create, show, rename and destroy apps (``/apps``)."""

from __future__ import annotations

import sys

import click

from ostiary.cli.api import (
    APP_HELP,
    ApiTarget,
    api_command,
    app_argument_or_option,
    json_option,
    output,
    print_listing,
    print_record,
    resolve_app,
)
from ostiary.client import ClientError
from ostiary.client.models import App


def _show(app: App) -> None:
    print_record(
        [
            ("Name", app.name),
            ("ID", app.id),
            ("Owner", app.owner_email),
            ("Region", app.region),
            ("Stack", app.stack),
            ("Web URL", app.web_url),
            ("Git URL", app.git_url),
        ]
    )


@click.command("apps")
@json_option
@api_command
def list_(target: ApiTarget, as_json: bool) -> None:
    """List your apps and the apps you collaborate on.

    \b
    Example:
      ostiary apps --json
    """
    with target.client() as api:
        found = list(api.apps.list())
    print_listing(
        as_json,
        found,
        ["Name", "Owner", "Region"],
        lambda a: (a.name, a.owner_email, a.region),
        "No apps. Create one with `ostiary apps:create`.",
    )


@click.command("apps:create")
@click.argument("name", required=False)
@click.option("--region", help="us or eu.")
@click.option("--stack", help="e.g. heroku-24.")
@json_option
@api_command
def create(
    target: ApiTarget, name: str | None, region: str | None, stack: str | None, as_json: bool
) -> None:
    """Create an app (a name is made up when none is given).

    \b
    Example:
      ostiary apps:create my-api --region eu
    """
    with target.client() as api:
        created = api.apps.create(name, region=region, stack=stack)
    output(as_json, created.raw, lambda: _show(created))


@click.command("apps:info")
@app_argument_or_option
@json_option
@api_command
def info(target: ApiTarget, app: str, as_json: bool) -> None:
    """Show an app (named by -a or as the argument).

    \b
    Example:
      ostiary apps:info -a my-api
    """
    with target.client() as api:
        found = api.apps.info(app)
    output(as_json, found.raw, lambda: _show(found))


@click.command("apps:rename")
@click.argument("names", nargs=-1, required=True, metavar="[APP] NEW_NAME")
@click.option("-a", "--app", "app_name", envvar="OSTIARY_APP", help=APP_HELP)
@json_option
@api_command
def rename(target: ApiTarget, names: tuple[str, ...], app_name: str | None, as_json: bool) -> None:
    """Rename an app: NEW_NAME with -a APP (as heroku's), or APP NEW_NAME.

    \b
    Example:
      ostiary apps:rename my-new-api -a my-api
    """
    if len(names) > 2:
        raise click.UsageError("Give the new name, and the app with -a APP.")
    *positional, new_name = names
    app = resolve_app(positional[0] if positional else None, app_name)
    with target.client() as api:
        renamed = api.apps.rename(app, new_name)
    output(as_json, renamed.raw, lambda: _show(renamed))


@click.command("apps:destroy")
@app_argument_or_option
@click.option("--confirm", metavar="APP", help="The app's name again, to confirm.")
@json_option
@api_command
def destroy(target: ApiTarget, app: str, confirm: str | None, as_json: bool) -> None:
    """Delete an app with its config vars, collaborators and add-ons.

    \b
    Example:
      ostiary apps:destroy -a my-api --confirm my-api
    """
    if confirm is None and sys.stdin.isatty():
        confirm = click.prompt(f"Type {app} to delete it for good", err=True)
    if confirm != app:
        raise ClientError(f"Not deleted: confirm with --confirm {app}.")
    with target.client() as api:
        deleted = api.apps.destroy(app)
    output(as_json, deleted.raw, lambda: click.echo(f"Deleted {deleted.name}."))


COMMANDS = [list_, create, info, rename, destroy]
