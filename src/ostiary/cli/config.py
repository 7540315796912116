"""``config``: an app's config vars (``/apps/{app}/config-vars``)."""

from __future__ import annotations

import click

from ostiary.cli.api import ApiTarget, api_command, app_option, json_option, output, print_table
from ostiary.client import ClientError


def _table(values: dict[str, str]) -> None:
    print_table(
        ["Name", "Value"],
        sorted(values.items()),
        "No config vars. Set one with `ostiary config:set NAME=value -a APP`.",
    )


@click.command("config")
@app_option
@json_option
@api_command
def show(target: ApiTarget, app: str, as_json: bool) -> None:
    """Show every config var of an app.

    \b
    Example:
      ostiary config -a my-api
    """
    with target.client() as api:
        values = api.config.get(app)
    output(as_json, values, lambda: _table(values))


@click.command("config:get")
@click.argument("name")
@app_option
@json_option
@api_command
def get(target: ApiTarget, name: str, app: str, as_json: bool) -> None:
    """Print one config var's value alone (for scripts).

    \b
    Example:
      export DATABASE_URL=$(ostiary config:get DATABASE_URL -a my-api)
    """
    with target.client() as api:
        values = api.config.get(app)
    if name not in values:
        raise ClientError(f"{app} has no config var {name}.")
    output(as_json, {name: values[name]}, lambda: click.echo(values[name]))


@click.command("config:set")
@click.argument("assignments", nargs=-1, required=True, metavar="NAME=VALUE...")
@app_option
@json_option
@api_command
def set_(target: ApiTarget, assignments: tuple[str, ...], app: str, as_json: bool) -> None:
    """Set config vars (one release for all of them).

    \b
    Example:
      ostiary config:set LOG_LEVEL=debug WORKERS=4 -a my-api
    """
    changes: dict[str, str | None] = {}
    for assignment in assignments:
        name, sep, value = assignment.partition("=")
        if not sep or not name:
            raise click.UsageError(f"{assignment!r} is not NAME=VALUE.")
        changes[name] = value
    with target.client() as api:
        values = api.config.update(app, changes)
    output(as_json, values, lambda: _table({k: values[k] for k in changes if k in values}))


@click.command("config:unset")
@click.argument("names", nargs=-1, required=True)
@app_option
@json_option
@api_command
def unset(target: ApiTarget, names: tuple[str, ...], app: str, as_json: bool) -> None:
    """Remove config vars.

    \b
    Example:
      ostiary config:unset LOG_LEVEL -a my-api
    """
    with target.client() as api:
        values = api.config.update(app, dict.fromkeys(names))
    output(as_json, values, lambda: click.echo(f"Removed {', '.join(names)} from {app}."))


COMMANDS = [show, get, set_, unset]
