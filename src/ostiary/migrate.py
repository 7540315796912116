"""Schema migrations with Alembic, configured in code so they run from an installed package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from ostiary.db import create_private_sqlite_file

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """An Alembic configuration for a database URL."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database schema up to ``revision`` (a new SQLite file is created 0600)."""
    create_private_sqlite_file(database_url)
    command.upgrade(alembic_config(database_url), revision)
