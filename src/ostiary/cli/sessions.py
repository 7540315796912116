"""``sessions``: where the account is logged in (``/oauth/sessions``)."""

from __future__ import annotations

import click

from ostiary.cli.api import ApiTarget, api_command, json_option, output, print_listing


@click.command("sessions")
@json_option
@api_command
def list_(target: ApiTarget, as_json: bool) -> None:
    """List the account's live sessions.

    \b
    Example:
      ostiary sessions
    """
    with target.client() as api:
        found = list(api.sessions.list())
    print_listing(
        as_json,
        found,
        ["ID", "Description", "Created"],
        lambda s: (s.id, s.description, s.created_at),
        "No sessions: nobody is logged in with a password or a browser.",
    )


@click.command("sessions:destroy")
@click.argument("session_id")
@json_option
@api_command
def destroy(target: ApiTarget, session_id: str, as_json: bool) -> None:
    """End a session and revoke the tokens made through it.

    \b
    Example:
      ostiary sessions:destroy 01234567-...
    """
    with target.client() as api:
        ended = api.sessions.destroy(session_id)
    output(as_json, ended.raw, lambda: click.echo(f"Ended session {ended.id}."))


COMMANDS = [list_, destroy]
