"""``events``: the account's activity log (``/account/events``), as a table, JSON lines or CSV."""

from __future__ import annotations

import sys

import click

from ostiary.cli.api import ApiTarget, api_command, json_option, print_listing


@click.command("events")
@click.option("--since", help="Only events at or after this RFC 3339 time (2026-12-01T00:00:00Z).")
@click.option("--until", help="Only events at or before this RFC 3339 time.")
@click.option("--action", help="An action (token:api-key:regenerate) or a prefix with * (token:*).")
@click.option("--authorization", "authorization_id", help="Only events made with this credential.")
@click.option("-a", "--app", help="Only events about this app (name or id).")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "jsonl", "csv"]),
    default="table",
    show_default=True,
    help="table: one line per event; jsonl and csv: the whole range, streamed from the server.",
)
@json_option
@api_command
def list_(
    target: ApiTarget,
    as_json: bool,
    since: str | None,
    until: str | None,
    action: str | None,
    authorization_id: str | None,
    app: str | None,
    output_format: str,
) -> None:
    """List what the account did and what was done to it, newest first.

    \b
    Example:
      ostiary events --since 2026-12-01T00:00:00Z
      ostiary events --action 'token:*' --format csv > tokens.csv
    """
    filters = {
        "since": since,
        "until": until,
        "action": action,
        "authorization_id": authorization_id,
        "app": app,
    }
    with target.client() as api:
        if output_format != "table":
            for chunk in api.events.export(output_format, **filters):
                sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
            return
        found = list(api.events.list(**filters))
    print_listing(
        as_json,
        found,
        ["Time (UTC)", "Action", "Outcome", "From", "Credential"],
        lambda event: (
            event.created_at.strftime("%Y-%m-%d %H:%M:%S") if event.created_at else "",
            event.action,
            event.outcome,
            event.source_ip or "",
            event.token or event.authorization_id or "",
        ),
        "No events.",
    )


COMMANDS = [list_]
