"""The ``ostiary`` command: one module per noun, registered on one group here."""

from __future__ import annotations

import click

from ostiary import __version__
from ostiary.cli import accounts, db, server


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ostiary")
def cli() -> None:
    """Ostiary: a self-hostable API identity service, compatible with Heroku's Platform API.

    \b
    Example:
      ostiary run          # migrate, create a first account, serve https://localhost:5000
    """


cli.add_command(server.serve)
cli.add_command(server.run)
cli.add_command(db.db)
cli.add_command(accounts.accounts)


def main() -> None:
    """Run the command line."""
    cli()
