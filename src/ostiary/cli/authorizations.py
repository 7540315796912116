"""``authorizations``: named tokens with scopes and an expiry (``/oauth/authorizations``)."""

from __future__ import annotations

import click

from ostiary.cli.api import (
    ApiTarget,
    api_command,
    days_left,
    grace_period_option,
    json_option,
    output,
    print_listing,
    print_record,
    split_scopes,
)
from ostiary.client.models import Authorization, RetiringToken


def _show(authorization: Authorization) -> None:
    print_record(
        [
            ("ID", authorization.id),
            ("Description", authorization.description),
            ("Scope", authorization.scopes),
            ("Token", authorization.token),
            ("Expires in", _expiry(authorization)),
            ("Client", authorization.client_name),
            *(("Retiring", _retiring(old)) for old in authorization.retiring),
        ]
    )


def _retiring(old: RetiringToken) -> str:
    """An old token in its grace: when it stops, and who used it last (who has not moved)."""
    until = old.retiring_at.isoformat() if old.retiring_at else "?"
    used = (
        f"last used {old.last_used_at.isoformat()} from {old.last_used_ip or 'unknown'}"
        if old.last_used_at
        else "not used since the rotation"
    )
    return f"{old.token} retiring at {until}, {used}"


def _expiry(authorization: Authorization) -> str:
    if authorization.expired:
        return "expired"
    if authorization.expires_in is None:
        return "never"
    return days_left(authorization.expires_in)


@click.command("authorizations")
@json_option
@api_command
def list_(target: ApiTarget, as_json: bool) -> None:
    """List the account's authorizations (tokens redacted).

    \b
    Example:
      ostiary authorizations --json
    """
    with target.client() as api:
        found = list(api.authorizations.list())
    print_listing(
        as_json,
        found,
        ["ID", "Description", "Scope", "Expires"],
        lambda a: (a.id, a.description, ",".join(a.scopes), _expiry(a)),
        "No authorizations. Create one with `ostiary authorizations:create`.",
    )


@click.command("authorizations:create")
@click.option("-s", "--scope", "scopes", multiple=True, help="Scopes, e.g. read,write.")
@click.option("-d", "--description", default="", help="What the token is for.")
@click.option("-e", "--expires-in", type=click.IntRange(min=1), help="Seconds to live.")
@json_option
@api_command
def create(
    target: ApiTarget,
    scopes: tuple[str, ...],
    description: str,
    expires_in: int | None,
    as_json: bool,
) -> None:
    """Create a token; it is shown in this answer only.

    \b
    Example:
      ostiary authorizations:create -s read -d "CI deploys" -e 2592000
    """
    with target.client() as api:
        created = api.authorizations.create(
            scopes=split_scopes(scopes) or None, description=description, expires_in=expires_in
        )
    output(as_json, created.raw, lambda: _show(created))


@click.command("authorizations:info")
@click.argument("authorization_id")
@json_option
@api_command
def info(target: ApiTarget, authorization_id: str, as_json: bool) -> None:
    """Show one authorization (``~`` is the API key).

    \b
    Example:
      ostiary authorizations:info ~
    """
    with target.client() as api:
        found = api.authorizations.info(authorization_id)
    output(as_json, found.raw, lambda: _show(found))


@click.command("authorizations:update")
@click.argument("authorization_id")
@click.option("-d", "--description", required=True, help="The new description.")
@json_option
@api_command
def update(target: ApiTarget, authorization_id: str, description: str, as_json: bool) -> None:
    """Change an authorization's description.

    \b
    Example:
      ostiary authorizations:update 01234567-... -d "nightly backups"
    """
    with target.client() as api:
        changed = api.authorizations.update(authorization_id, description=description)
    output(as_json, changed.raw, lambda: _show(changed))


@click.command("authorizations:rotate")
@click.argument("authorization_id")
@grace_period_option
@json_option
@api_command
def rotate(target: ApiTarget, authorization_id: str, grace_period: int, as_json: bool) -> None:
    """Issue a new token for an authorization; the old one stops working at once, or with
    --grace-period keeps working that long (shown as retiring, with its last use).

    \b
    Example:
      ostiary authorizations:rotate 01234567-... --grace-period 1h
    """
    with target.client() as api:
        rotated = api.authorizations.regenerate(authorization_id, grace_period=grace_period)
    output(as_json, rotated.raw, lambda: _show(rotated))


@click.command("authorizations:revoke")
@click.argument("authorization_id")
@json_option
@api_command
def revoke(target: ApiTarget, authorization_id: str, as_json: bool) -> None:
    """Revoke an authorization; its tokens stop working at once.

    \b
    Example:
      ostiary authorizations:revoke 01234567-...
    """
    with target.client() as api:
        revoked = api.authorizations.revoke(authorization_id)
    output(
        as_json,
        revoked.raw,
        lambda: click.echo(f"Revoked {revoked.id} ({revoked.description or 'no description'})."),
    )


COMMANDS = [list_, create, info, update, rotate, revoke]
