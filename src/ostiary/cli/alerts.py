"""``alerts``: what looked wrong about the account's credentials (``/account/alerts``), marking
them seen, and lifting a suspension an alert made."""

from __future__ import annotations

import click

from ostiary.cli.api import ApiTarget, api_command, json_option, output, print_listing


@click.command("alerts")
@click.option("--unseen", is_flag=True, help="Only the alerts not marked seen yet.")
@json_option
@api_command
def list_(target: ApiTarget, as_json: bool, unseen: bool) -> None:
    """List the account's alerts, newest first: unusual use of a credential, and notices of a
    credential's life (found leaked, expiring, idle).

    \b
    Example:
      ostiary alerts --unseen
    """
    with target.client() as api:
        found = [alert for alert in api.alerts.list() if not (unseen and alert.seen_at)]
    print_listing(
        as_json,
        found,
        ["Raised (UTC)", "Id", "Rule", "Seen", "Summary"],
        lambda alert: (
            alert.raised_at.strftime("%Y-%m-%d %H:%M:%S") if alert.raised_at else "",
            alert.id,
            alert.rule + (" (suspended)" if alert.suspended else ""),
            "yes" if alert.seen_at else "no",
            alert.summary,
        ),
        "No unseen alerts." if unseen else "No alerts.",
    )


@click.command("alerts:seen")
@click.argument("alert_ids", nargs=-1, required=True)
@json_option
@api_command
def seen(target: ApiTarget, alert_ids: tuple[str, ...], as_json: bool) -> None:
    """Mark alerts seen.

    \b
    Example:
      ostiary alerts:seen 01234567-...
    """
    with target.client() as api:
        marked = [api.alerts.mark_seen(alert_id) for alert_id in alert_ids]
    output(
        as_json,
        [alert.raw for alert in marked],
        lambda: click.echo(f"Marked {len(marked)} alert{'s' if len(marked) != 1 else ''} seen."),
    )


@click.command("alerts:reinstate")
@click.argument("authorization_id")
@json_option
@api_command
def reinstate(target: ApiTarget, authorization_id: str, as_json: bool) -> None:
    """Lift the suspension an alert put on a credential (``~`` for the API key); its tokens work
    again at once. Run it with another credential than the suspended one.

    \b
    Example:
      ostiary alerts:reinstate 01234567-...
    """
    with target.client() as api:
        lifted = api.alerts.reinstate(authorization_id)
    output(
        as_json,
        lifted.raw,
        lambda: click.echo(f"Reinstated {lifted.id} ({lifted.description or 'no description'})."),
    )


COMMANDS = [list_, seen, reinstate]
