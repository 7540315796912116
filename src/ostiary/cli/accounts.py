"""``ostiary accounts``: create, list, reset, disable and enable accounts on this server, and
remove the second factors of a locked-out user (administration)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from datetime import timedelta

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from ostiary.accounts.models import Account
from ostiary.accounts.queries import find_by_email
from ostiary.accounts.rules import generate_password
from ostiary.accounts.services import disable_account, enable_account, new_password_hash
from ostiary.cli.api import print_json, print_table
from ostiary.config import Settings, load_settings
from ostiary.db import Database
from ostiary.errors import OstiaryError
from ostiary.events import SYSTEM
from ostiary.mail.smtp import MailError, mailer_from
from ostiary.recovery.records import Mailroom
from ostiary.recovery.services import administrator_reset_link, administrator_set_password
from ostiary.second_factors.services import remove_all_factors
from ostiary.security.hashing import SecretHasher
from ostiary.security.sealing import mail_body_sealer
from ostiary.security.server_secret import load_or_create_secret
from ostiary.tokens.owners import create_account
from ostiary.tokens.records import NewAccount
from ostiary.unit import Unit, lifetimes_of


def system_unit(session: Session, settings: Settings, hasher: SecretHasher) -> Unit:
    """A unit of the command line's work: the server's hasher and lifetimes, and no request
    (events record the ``SYSTEM`` context)."""
    return Unit(session=session, hasher=hasher, context=SYSTEM, lifetimes=lifetimes_of(settings))


def create_account_now(
    settings: Settings, email: str, password: str, name: str | None = None
) -> NewAccount:
    """Create an account in its own transaction (used by ``accounts create`` and ``run``)."""
    database = Database(settings.effective_database_url)
    hasher = SecretHasher(load_or_create_secret(settings))
    try:
        password_hash = new_password_hash(password, email)
        with database.unit_of_work(write=True) as session:
            # An administrator's account: its address needs no proof.
            return create_account(
                system_unit(session, settings, hasher),
                email=email,
                password_hash=password_hash,
                name=name,
                verified=True,
            )
    except OstiaryError as error:
        raise click.ClickException(error.message) from error
    finally:
        database.dispose()


@click.group()
def accounts() -> None:
    """Create and list accounts."""


@accounts.command("create")
@click.argument("email")
@click.option("--name", help="The account holder's full name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--print-api-key", is_flag=True, help="Print only the new API key on stdout.")
def create(email: str, name: str | None, password_stdin: bool, print_api_key: bool) -> None:
    """Create an account with EMAIL and show its API key once.

    Without --password-stdin the password is asked for on a terminal, or generated and shown
    once when there is none.

    \b
    Example:
      echo 'correct horse battery' | ostiary accounts create ada@example.com \\
          --password-stdin --print-api-key
    """
    password, generated = _new_password(password_stdin, email)
    created = create_account_now(load_settings(), email, password, name)
    if print_api_key:
        if generated:
            click.echo(f"Generated password for {created.account.email}: {password}", err=True)
        click.echo(created.api_key.plaintext)
        return
    click.echo(f"Created {created.account.email} ({created.account.id}).")
    if generated:
        click.echo(f"Password (shown once): {password}")
    click.echo(f"API key (shown once):  {created.api_key.plaintext}")


@accounts.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the accounts as JSON.")
def list_accounts(as_json: bool) -> None:
    """List the accounts on this server.

    \b
    Example:
      ostiary accounts list --json
    """
    settings = load_settings()
    database = Database(settings.effective_database_url)
    try:
        with database.unit_of_work(write=False) as session:
            rows = [
                {
                    "email": account.email,
                    "name": account.name,
                    "id": account.id,
                    "created_at": account.created_at.isoformat(),
                    "verified": account.email_verified_at is not None,
                    "disabled": account.disabled_at is not None,
                }
                for account in session.scalars(select(Account).order_by(Account.created_at))
            ]
    finally:
        database.dispose()
    if as_json:
        print_json(rows)
        return
    print_table(
        ("email", "name", "id", "created", "state"),
        [
            (
                row["email"],
                row["name"],
                row["id"],
                row["created_at"],
                "disabled" if row["disabled"] else "" if row["verified"] else "unverified",
            )
            for row in rows
        ],
        "No accounts. Create one with `ostiary accounts create EMAIL`.",
    )


@accounts.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
def set_password(email: str, password_stdin: bool) -> None:
    """Give an account a new password (when it is lost), as its owner changing it would: every
    session ends and the API key is regenerated (the new key is shown once); recorded as an
    administrator's reset (``reset-password --password-stdin`` does the same).

    Without --password-stdin the password is asked for on a terminal, or generated and shown
    once when there is none.

    \b
    Example:
      ostiary accounts set-password admin@ostiary.test
    """
    password, generated = _new_password(password_stdin, email)
    _administrator_sets(email, password, show_password=generated)


def _administrator_sets(email: str, password: str, *, show_password: bool = False) -> None:
    """An administrator's reset to ``password``: recorded as one, the reset links voided,
    every session ended, the API key regenerated (printed once), the owner told."""
    try:
        password_hash = new_password_hash(password, email)
    except OstiaryError as error:
        raise click.ClickException(error.message) from error
    with _account_unit(email) as (unit, account, _):
        new_key = administrator_set_password(unit, account, password_hash)
        shown_email = account.email
    click.echo(f"New password set for {shown_email}; every session was ended.")
    if show_password:
        click.echo(f"Password (shown once): {password}")
    click.echo(f"API key (shown once):  {new_key.access.plaintext}")


def cli_mailroom(settings: Settings, secret: bytes) -> Mailroom:
    """How the command line's account mail leaves: links to ``OSTIARY_ISSUER`` (else this
    server's own address), queued in the outbox for the server to send when mail is on."""
    try:
        mail_on = mailer_from(settings) is not None
    except MailError:
        mail_on = False
    return Mailroom(
        base_url=settings.issuer or f"https://{settings.host}:{settings.port}",
        seal=mail_body_sealer(secret) if mail_on else None,
        notice_window=timedelta(seconds=settings.webhook_retry_seconds),
    )


@contextlib.contextmanager
def _account_unit(email: str) -> Iterator[tuple[Unit, Account, Mailroom]]:
    """A system unit in one write transaction, the account with ``email`` (a ClickException
    when there is none), and the command line's mailroom; domain errors become
    ClickExceptions."""
    settings = load_settings()
    database = Database(settings.effective_database_url)
    secret = load_or_create_secret(settings)
    try:
        with database.unit_of_work(write=True) as session:
            account = find_by_email(session, email)
            if account is None:
                raise click.ClickException(f"No account has the email {email}.")
            yield (
                system_unit(session, settings, SecretHasher(secret)),
                account,
                cli_mailroom(settings, secret),
            )
    except OstiaryError as error:
        raise click.ClickException(error.message) from error
    finally:
        database.dispose()


@accounts.command("reset-password")
@click.argument("email")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Set the password read from standard input instead of printing a link.",
)
def reset_password(email: str, password_stdin: bool) -> None:
    """Reset the password of the account with EMAIL, for a user who lost it.

    Prints a one-time link (it works for 30 minutes) to hand to the user, who chooses the new
    password there. With --password-stdin, sets the password read from standard input at once.
    Either way every session ends and the API key is regenerated when the password is set, and
    the user is told by mail (when mail is on).

    \b
    Example:
      ostiary accounts reset-password ada@example.com
      printf '%s\\n' "$NEW_PASSWORD" |
          ostiary accounts reset-password ada@example.com --password-stdin
    """
    if password_stdin:
        _administrator_sets(email, sys.stdin.readline().rstrip("\r\n"))
        return
    with _account_unit(email) as (unit, account, mailroom):
        link = administrator_reset_link(unit, mailroom, account)
        shown = account.email
    click.echo(f"One-time reset link for {shown} (works once, for 30 minutes):")
    click.echo(link)


@accounts.command("disable")
@click.argument("email")
def disable(email: str) -> None:
    """Disable the account with EMAIL: its API key, tokens, sessions and OAuth grants are
    refused at once (nothing is revoked), and it cannot sign in until enabled.

    \b
    Example:
      ostiary accounts disable mallory@example.com
    """
    with _account_unit(email) as (unit, account, _):
        changed = disable_account(unit, account)
        shown = account.email
    click.echo(f"Disabled {shown}." if changed else f"{shown} was already disabled.")


@accounts.command("enable")
@click.argument("email")
def enable(email: str) -> None:
    """Enable a disabled account: its credentials work again as they did before.

    \b
    Example:
      ostiary accounts enable mallory@example.com
    """
    with _account_unit(email) as (unit, account, _):
        changed = enable_account(unit, account)
        shown = account.email
    click.echo(f"Enabled {shown}." if changed else f"{shown} was not disabled.")


@accounts.command("remove-2fa")
@click.argument("email")
def remove_2fa(email: str) -> None:
    """Remove every second factor of an account and its recovery codes, for a user locked out
    (a lost device and lost recovery codes): the password alone signs in again. Recorded as
    account:second-factor:remove, by administrator. Check who is asking first.

    \b
    Example:
      ostiary accounts remove-2fa ada@example.com
    """
    with _account_unit(email) as (unit, account, _):
        removed = remove_all_factors(unit, account.id)
        shown = account.email
    if not removed:
        click.echo(f"{shown} had no second factor; its recovery codes (if any) are gone.")
        return
    click.echo(f"Removed from {shown}: {', '.join(sorted(removed))}, and its recovery codes.")
    if load_settings().require_2fa:
        click.echo("The server requires a second factor: they enrol again at their next sign-in.")


def _new_password(from_stdin: bool, email: str) -> tuple[str, bool]:
    """A password from stdin, a terminal prompt, or generated (then True: show it once)."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True), False
    return generate_password(email), True
