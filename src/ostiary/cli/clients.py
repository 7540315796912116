"""``clients``: the OAuth applications the account registered (``/oauth/clients``)."""

from __future__ import annotations

import click

from ostiary.cli.api import (
    ApiTarget,
    api_command,
    grace_period_option,
    json_option,
    output,
    print_listing,
    print_record,
    split_scopes,
)
from ostiary.client.models import OAuthClient


def _show(client: OAuthClient) -> None:
    fields = [
        ("ID", client.id),
        ("Name", client.name),
        ("Type", client.client_type),
        ("Redirect URIs", client.redirect_uris),
    ]
    if client.client_credentials_scopes is not None:
        fields.append(("Client credentials", client.client_credentials_scopes))
    if client.secret:
        fields.append(("Secret", client.secret))
    print_record(fields)
    if client.secret:
        click.echo("The secret is shown this once; store it now.", err=True)


@click.command("clients")
@json_option
@api_command
def list_(target: ApiTarget, as_json: bool) -> None:
    """List the OAuth clients you registered.

    \b
    Example:
      ostiary clients
    """
    with target.client() as api:
        found = list(api.clients.list())
    print_listing(
        as_json,
        found,
        ["ID", "Name", "Type", "Redirect URIs"],
        lambda c: (c.id, c.name, c.client_type, " ".join(c.redirect_uris)),
        "No clients. Register one with `ostiary clients:create`.",
    )


@click.command("clients:create")
@click.argument("name")
@click.argument("redirect_uris", nargs=-1, required=True)
@click.option("--public", is_flag=True, help="A client without a secret (a CLI or native app).")
@click.option(
    "--client-credentials-scope",
    "cc_scopes",
    multiple=True,
    help="Allow the client_credentials grant with these scopes.",
)
@json_option
@api_command
def create(
    target: ApiTarget,
    name: str,
    redirect_uris: tuple[str, ...],
    public: bool,
    cc_scopes: tuple[str, ...],
    as_json: bool,
) -> None:
    """Register a client; a confidential client's secret is shown once.

    \b
    Example:
      ostiary clients:create "Deploy bot" https://bot.example.com/callback
    """
    scopes = split_scopes(cc_scopes)
    with target.client() as api:
        created = api.clients.create(
            name, list(redirect_uris), public=public, client_credentials_scopes=scopes or None
        )
    output(as_json, created.raw, lambda: _show(created))


@click.command("clients:info")
@click.argument("client_id")
@json_option
@api_command
def info(target: ApiTarget, client_id: str, as_json: bool) -> None:
    """Show one client.

    \b
    Example:
      ostiary clients:info 01234567-...
    """
    with target.client() as api:
        found = api.clients.info(client_id)
    output(as_json, found.raw, lambda: _show(found))


@click.command("clients:update")
@click.argument("client_id")
@click.option("-n", "--name", help="A new name.")
@click.option("--redirect-uri", "redirect_uris", multiple=True, help="Replace the redirect URIs.")
@json_option
@api_command
def update(
    target: ApiTarget,
    client_id: str,
    name: str | None,
    redirect_uris: tuple[str, ...],
    as_json: bool,
) -> None:
    """Rename a client or replace its redirect URIs.

    \b
    Example:
      ostiary clients:update 01234567-... --redirect-uri https://bot.example.com/cb
    """
    if name is None and not redirect_uris:
        raise click.UsageError("Give --name or --redirect-uri.")
    with target.client() as api:
        changed = api.clients.update(client_id, name=name, redirect_uris=redirect_uris or None)
    output(as_json, changed.raw, lambda: _show(changed))


@click.command("clients:rotate")
@click.argument("client_id")
@grace_period_option
@json_option
@api_command
def rotate(target: ApiTarget, client_id: str, grace_period: int, as_json: bool) -> None:
    """Issue a new secret (shown once); the old one stops working at once, or with
    --grace-period also authenticates the client that long, to roll it across servers.

    \b
    Example:
      ostiary clients:rotate 01234567-... --grace-period 1d
    """
    with target.client() as api:
        rotated = api.clients.rotate(client_id, grace_period=grace_period)
    output(as_json, rotated.raw, lambda: _show(rotated))


@click.command("clients:destroy")
@click.argument("client_id")
@json_option
@api_command
def destroy(target: ApiTarget, client_id: str, as_json: bool) -> None:
    """Delete a client and revoke everything granted to it.

    \b
    Example:
      ostiary clients:destroy 01234567-...
    """
    with target.client() as api:
        deleted = api.clients.destroy(client_id)
    output(as_json, deleted.raw, lambda: click.echo(f"Deleted client {deleted.name}."))


COMMANDS = [list_, create, info, update, rotate, destroy]
