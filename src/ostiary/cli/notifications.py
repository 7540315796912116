"""``notifications``: which mail the account gets about its use (``/account/notification-
settings``), and turning the informational ones on or off; the security ones always go."""

from __future__ import annotations

import click

from ostiary.cli.api import ApiTarget, api_command, json_option, output
from ostiary.client import NotificationSettings

MEANINGS = {
    "new_sign_in": "a sign-in from a new device or network",
    "new_token": "a new token or OAuth authorization",
}


def _show(settings: NotificationSettings) -> None:
    if not settings.mail_enabled:
        click.echo("This server sends no mail (no SMTP server is configured).")
    for name, on in (("new_sign_in", settings.new_sign_in), ("new_token", settings.new_token)):
        click.echo(f"{name:<12} {'on ' if on else 'off'}  {MEANINGS[name]}")
    click.echo(f"Always sent: {', '.join(settings.always_sent)}")


@click.command("notifications")
@json_option
@api_command
def show(target: ApiTarget, as_json: bool) -> None:
    """Show which notifications the account is mailed.

    \b
    Example:
      ostiary notifications
    """
    with target.client() as api:
        settings = api.notifications.info()
    output(as_json, settings.raw, lambda: _show(settings))


def _switch(value: str | None) -> bool | None:
    return None if value is None else value == "on"


@click.command("notifications:update")
@click.option(
    "--new-sign-in", type=click.Choice(["on", "off"]), help="Mail a sign-in from a new place."
)
@click.option(
    "--new-token", type=click.Choice(["on", "off"]), help="Mail a new token or authorization."
)
@json_option
@api_command
def update(
    target: ApiTarget, new_sign_in: str | None, new_token: str | None, as_json: bool
) -> None:
    """Turn informational notifications on or off. Notices about the password, second
    factors, recovery codes and the API key always go.

    \b
    Example:
      ostiary notifications:update --new-token off
    """
    if new_sign_in is None and new_token is None:
        raise click.UsageError("Name at least one of --new-sign-in and --new-token.")
    with target.client() as api:
        settings = api.notifications.update(
            new_sign_in=_switch(new_sign_in), new_token=_switch(new_token)
        )
    output(as_json, settings.raw, lambda: _show(settings))
