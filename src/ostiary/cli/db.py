"""``ostiary db``: schema migrations."""

from __future__ import annotations

import click

from ostiary.config import load_settings
from ostiary.files import private_directory
from ostiary.migrate import upgrade


@click.group()
def db() -> None:
    """Manage the database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def upgrade_command(revision: str) -> None:
    """Apply the migrations up to REVISION (all of them by default).

    \b
    Example:
      OSTIARY_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/ostiary ostiary db upgrade
    """
    settings = load_settings()
    private_directory(settings.data_dir)
    upgrade(settings.effective_database_url, revision)
    click.echo(f"Database is at revision {revision}.", err=True)
