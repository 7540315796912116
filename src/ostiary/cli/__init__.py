"""The ``ostiary`` command: one module per noun, registered on one group here."""

from __future__ import annotations

import click

from ostiary import __version__
from ostiary.cli import (
    accounts,
    addons,
    apps,
    auth,
    authorizations,
    check,
    clients,
    collaborators,
    completion,
    config,
    db,
    server,
    sessions,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ostiary")
def cli() -> None:
    """Ostiary: a self-hostable API identity service, compatible with Heroku's Platform API.

    Server commands (run, serve, check, db, accounts) act on this machine's configuration;
    the others talk to an Ostiary API (--api-url or OSTIARY_API_URL).

    \b
    Example:
      ostiary run          # migrate, create a first account, serve https://localhost:5000
      ostiary login        # then: ostiary apps, ostiary config -a APP, ...
    """


for command in (
    server.serve,
    server.run,
    check.check,
    db.db,
    accounts.accounts,
    auth.login,
    auth.logout,
    auth.auth_token,
    auth.auth_whoami,
    completion.completion,
    *authorizations.COMMANDS,
    *clients.COMMANDS,
    *sessions.COMMANDS,
    *apps.COMMANDS,
    *config.COMMANDS,
    *collaborators.COMMANDS,
    *addons.COMMANDS,
):
    cli.add_command(command)


def main() -> None:
    """Run the command line."""
    cli()
