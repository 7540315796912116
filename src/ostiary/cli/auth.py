"""``login``, ``logout``, ``auth:token`` and ``auth:whoami``: the command line's own credential."""

from __future__ import annotations

import contextlib
import socket
import sys
import webbrowser

import click

from ostiary.cli.api import ApiTarget, api_command, days_left, json_option, output
from ostiary.cli.credentials import find_credential, forget_credential, save_credential
from ostiary.client import Client, ClientError, NotFound, OAuthApp, TwoFactorRequired, Unauthorized
from ostiary.client.models import Authorization
from ostiary.oauth_clients.first_party import CLI_CLIENT_ID

LOGIN_LIFETIME = 365 * 24 * 3600  # what the heroku CLI's login gives
EXPIRY_WARNING = 7 * 24 * 3600


def _description() -> str:
    return f"Ostiary CLI login from {socket.gethostname()}"


def _device_login(target: ApiTarget, open_browser: bool) -> str:
    """The device flow (RFC 8628) as the first-party CLI client; answers a short-lived access
    token with the global scope."""
    app = OAuthApp(target.api_url, CLI_CLIENT_ID, verify=target.verify)
    try:
        device = app.start_device_authorization(["global"])
        link = device.verification_uri_complete or device.verification_uri
        click.echo(
            f"To log in, open {device.verification_uri} and enter the code {device.user_code}\n"
            f"(or open {link})",
            err=True,
        )
        if open_browser:
            webbrowser.open(link)
        click.echo("Waiting for approval...", err=True)
        tokens = app.poll_device(device)
        # The long-lived token is the child of this grant (it dies with it), so the grant stays:
        # it is what the dashboard lists as the authorized "Ostiary CLI", and `logout` ends it.
        return _long_lived_token(target, tokens.access_token)
    finally:
        app.close()


def _long_lived_token(target: ApiTarget, access_token: str) -> str:
    # The device grant's short-lived token: its expiry is nothing to warn of.
    with Client(target.api_url, token=access_token, verify=target.verify, on_expiring=None) as api:
        created = api.authorizations.create(
            scopes=["global"], description=_description(), expires_in=LOGIN_LIFETIME
        )
    assert created.token is not None
    return created.token


def _password_login(target: ApiTarget) -> str:
    """Email and password (Basic) on ``POST /oauth/authorizations``, as ``heroku login -i``."""
    email = click.prompt("Email", err=True)
    password = click.prompt("Password", hide_input=True, err=True)
    code: str | None = None
    with target.client(authenticated=False) as api:
        while True:
            try:
                created = api.authorizations.create(
                    scopes=["global"],
                    description=_description(),
                    expires_in=LOGIN_LIFETIME,
                    auth=(email, password),
                    two_factor_code=code,
                )
                break
            except TwoFactorRequired:
                code = click.prompt("Two-factor code", err=True)
    assert created.token is not None
    return created.token


@click.command()
@click.option("-i", "--interactive", is_flag=True, help="Log in with email and password.")
@click.option(
    "--browser/--no-browser",
    default=None,
    help="Open the approval page in a browser [default: when on a terminal].",
)
@api_command
def login(target: ApiTarget, interactive: bool, browser: bool | None) -> None:
    """Log in and save a token valid for one year.

    By default this uses the device flow: it shows a URL and a code to approve in any browser
    (on this machine or another), then waits. With -i it asks for email and password.

    \b
    Example:
      ostiary login
      ostiary login -i --api-url https://id.example.com
    """
    if interactive:
        token = _password_login(target)
    else:
        open_browser = sys.stdout.isatty() if browser is None else browser
        token = _device_login(target, open_browser)
    with Client(
        target.api_url, token=token, verify=target.verify, on_expiring=target.tell_expiry
    ) as api:
        email = api.account().email
    saved = save_credential(target.api_url, email, token)
    if saved.source != "keyring":
        click.echo(f"No OS keyring found; the token is saved in {saved.where}.", err=True)
    click.echo(f"Logged in as {email}", err=True)


def _holding(api: Client, token: str) -> Authorization | None:
    return next((a for a in api.authorizations.list() if a.holds(token)), None)


def _login_grant(api: Client, current: Authorization) -> str | None:
    """The first-party CLI grant a device login's token was made with, if it was."""
    if current.parent_id is None:
        return None
    with contextlib.suppress(NotFound):
        parent = api.authorizations.info(current.parent_id)
        if parent.client_id == CLI_CLIENT_ID:
            return parent.id
    return None


@click.command()
@api_command
def logout(target: ApiTarget) -> None:
    """Revoke the saved token on the server and forget it here (the API key is never revoked).

    \b
    Example:
      ostiary logout
    """
    credential = find_credential(target.api_url)
    if credential is None:
        click.echo("Not logged in.", err=True)
        return
    if credential.source == "environment":
        raise ClientError("The token comes from OSTIARY_API_KEY or HEROKU_API_KEY: unset it.")
    with Client(
        target.api_url, token=credential.token, verify=target.verify, on_expiring=None
    ) as api:  # logging out: the token's expiry no longer matters
        try:
            current = _holding(api, credential.token)
            api_key = api.authorizations.info("~")
            if current is not None and current.id != api_key.id:
                with contextlib.suppress(NotFound):
                    api.sessions.destroy("~")  # a password login's session, with its tokens
                # Ending the session may already have revoked it; revoking a device login's
                # grant revokes the token it made.
                with contextlib.suppress(NotFound, Unauthorized):
                    api.authorizations.revoke(_login_grant(api, current) or current.id)
        except Unauthorized:
            pass  # already revoked or expired on the server
    forget_credential(target.api_url)
    click.echo("Logged out.", err=True)


@click.command("auth:token")
@api_command
def auth_token(target: ApiTarget) -> None:
    """Print the saved token alone on stdout (warns on stderr when it expires within a week).

    \b
    Example:
      curl -H "Authorization: Bearer $(ostiary auth:token)" ...
    """
    credential = find_credential(target.api_url)
    if credential is None:
        raise ClientError(f"Not logged in to {target.api_url}: run `ostiary login`.")
    click.echo(credential.token)
    try:
        with Client(  # its own warning, below
            target.api_url, token=credential.token, verify=target.verify, on_expiring=None
        ) as api:
            current = _holding(api, credential.token)
    except ClientError as error:
        click.echo(f"Warning: could not check the token's expiry: {error}", err=True)
        return
    if (
        current is not None
        and current.expires_in is not None
        and current.expires_in < EXPIRY_WARNING
    ):
        left = days_left(current.expires_in)
        click.echo(f"Warning: this token expires in {left}; run `ostiary login`.", err=True)


@click.command("auth:whoami")
@json_option
@api_command
def auth_whoami(target: ApiTarget, as_json: bool) -> None:
    """Print the email of the account the token acts for (and, on stderr, where the token was
    found: the environment, the OS keyring or the netrc).

    \b
    Example:
      ostiary auth:whoami
    """
    credential = find_credential(target.api_url)
    with target.client() as api:
        account = api.account()
    output(as_json, account.raw, lambda: click.echo(account.email))
    if credential is not None:
        click.echo(f"(credential from {credential.where})", err=True)
