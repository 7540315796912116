"""``addons``: an app's add-ons (``/apps/{app}/addons``)."""

from __future__ import annotations

import click

from ostiary.cli.api import ApiTarget, api_command, app_option, json_option, output, print_listing


@click.command("addons")
@app_option
@json_option
@api_command
def list_(target: ApiTarget, app: str, as_json: bool) -> None:
    """List an app's add-ons.

    \b
    Example:
      ostiary addons -a my-api
    """
    with target.client() as api:
        found = list(api.addons.list(app))
    print_listing(
        as_json,
        found,
        ["Name", "Plan", "State"],
        lambda a: (a.name, a.plan, a.state),
        "No add-ons. Attach one with `ostiary addons:create PLAN -a APP`.",
    )


@click.command("addons:create")
@click.argument("plan")
@click.option("--name", help="A name for the add-on.")
@app_option
@json_option
@api_command
def create(target: ApiTarget, plan: str, name: str | None, app: str, as_json: bool) -> None:
    """Attach an add-on by plan.

    \b
    Example:
      ostiary addons:create heroku-postgresql:essential-0 -a my-api
    """
    with target.client() as api:
        created = api.addons.create(app, plan, name=name)
    output(as_json, created.raw, lambda: click.echo(f"Attached {created.name} ({created.plan})."))


@click.command("addons:destroy")
@click.argument("addon")
@app_option
@json_option
@api_command
def destroy(target: ApiTarget, addon: str, app: str, as_json: bool) -> None:
    """Detach an add-on.

    \b
    Example:
      ostiary addons:destroy postgresql-curved-12345 -a my-api
    """
    with target.client() as api:
        removed = api.addons.destroy(app, addon)
    output(as_json, removed.raw, lambda: click.echo(f"Detached {removed.name}."))


COMMANDS = [list_, create, destroy]
