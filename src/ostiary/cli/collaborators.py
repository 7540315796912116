"""``collaborators``: who may work on an app (``/apps/{app}/collaborators``)."""

from __future__ import annotations

import click

from ostiary.cli.api import ApiTarget, api_command, app_option, json_option, output, print_listing


@click.command("collaborators")
@app_option
@json_option
@api_command
def list_(target: ApiTarget, app: str, as_json: bool) -> None:
    """List an app's collaborators.

    \b
    Example:
      ostiary collaborators -a my-api
    """
    with target.client() as api:
        found = list(api.collaborators.list(app))
    print_listing(
        as_json,
        found,
        ["Email", "Role"],
        lambda c: (c.email, c.role),
        "No collaborators. Add one with `ostiary collaborators:add EMAIL -a APP`.",
    )


@click.command("collaborators:add")
@click.argument("email")
@app_option
@json_option
@api_command
def add(target: ApiTarget, email: str, app: str, as_json: bool) -> None:
    """Let an account work on an app.

    \b
    Example:
      ostiary collaborators:add ada@example.com -a my-api
    """
    with target.client() as api:
        added = api.collaborators.add(app, email)
    output(as_json, added.raw, lambda: click.echo(f"Added {added.email} to {app}."))


@click.command("collaborators:remove")
@click.argument("email")
@app_option
@json_option
@api_command
def remove(target: ApiTarget, email: str, app: str, as_json: bool) -> None:
    """Take a collaborator off an app.

    \b
    Example:
      ostiary collaborators:remove ada@example.com -a my-api
    """
    with target.client() as api:
        removed = api.collaborators.remove(app, email)
    output(as_json, removed.raw, lambda: click.echo(f"Removed {removed.email} from {app}."))


COMMANDS = [list_, add, remove]
