"""``ostiary accounts``: create and list accounts on this server, reset a lost password or
remove the second factors of a locked-out user (administration)."""

from __future__ import annotations

import sys

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from ostiary.accounts.models import Account
from ostiary.accounts.queries import find_by_email
from ostiary.accounts.rules import generate_password
from ostiary.accounts.services import new_password_hash
from ostiary.cli.api import print_json, print_table
from ostiary.config import Settings, load_settings
from ostiary.db import Database
from ostiary.errors import OstiaryError
from ostiary.events import SYSTEM
from ostiary.second_factors.services import remove_all_factors
from ostiary.security.hashing import SecretHasher
from ostiary.security.server_secret import load_or_create_secret
from ostiary.tokens.owners import change_password, create_account
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
        password_hash = new_password_hash(password)
        with database.unit_of_work(write=True) as session:
            return create_account(
                system_unit(session, settings, hasher),
                email=email,
                password_hash=password_hash,
                name=name,
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
    password, generated = _new_password(password_stdin)
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
                }
                for account in session.scalars(select(Account).order_by(Account.created_at))
            ]
    finally:
        database.dispose()
    if as_json:
        print_json(rows)
        return
    print_table(
        ("email", "name", "id", "created"),
        [(row["email"], row["name"], row["id"], row["created_at"]) for row in rows],
        "No accounts. Create one with `ostiary accounts create EMAIL`.",
    )


@accounts.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
def set_password(email: str, password_stdin: bool) -> None:
    """Give an account a new password (when it is lost), as its owner changing it would: every
    session ends and the API key is regenerated (the new key is shown once).

    Without --password-stdin the password is asked for on a terminal, or generated and shown
    once when there is none.

    \b
    Example:
      ostiary accounts set-password admin@ostiary.test
    """
    password, generated = _new_password(password_stdin)
    settings = load_settings()
    database = Database(settings.effective_database_url)
    hasher = SecretHasher(load_or_create_secret(settings))
    try:
        password_hash = new_password_hash(password)
        with database.unit_of_work(write=True) as session:
            account = find_by_email(session, email)
            if account is None:
                raise click.ClickException(f"No account has the email {email}.")
            new_key = change_password(
                system_unit(session, settings, hasher),
                account,
                new_hash=password_hash,
                keep_session_id=None,
            )
            shown_email = account.email
    except OstiaryError as error:
        raise click.ClickException(error.message) from error
    finally:
        database.dispose()
    click.echo(f"New password set for {shown_email}; every session was ended.")
    if generated:
        click.echo(f"Password (shown once): {password}")
    click.echo(f"API key (shown once):  {new_key.access.plaintext}")


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
    settings = load_settings()
    database = Database(settings.effective_database_url)
    hasher = SecretHasher(load_or_create_secret(settings))
    try:
        with database.unit_of_work(write=True) as session:
            account = find_by_email(session, email)
            if account is None:
                raise click.ClickException(f"No account has the email {email}.")
            removed = remove_all_factors(system_unit(session, settings, hasher), account.id)
            shown_email = account.email
    finally:
        database.dispose()
    if not removed:
        click.echo(f"{shown_email} had no second factor; its recovery codes (if any) are gone.")
        return
    click.echo(f"Removed from {shown_email}: {', '.join(sorted(removed))}, and its recovery codes.")
    if settings.require_2fa:
        click.echo("The server requires a second factor: they enrol again at their next sign-in.")


def _new_password(from_stdin: bool) -> tuple[str, bool]:
    """A password from stdin, a terminal prompt, or generated (then True: show it once)."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True), False
    return generate_password(), True
