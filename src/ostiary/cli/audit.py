"""``ostiary audit``: checks of the activity log, run on the server's database (like ``db``).

``audit verify`` walks the events' hash chain from its anchor (the last event pruned by
retention) to its head (the last sealed) and reports the first event modified, removed,
inserted or reordered, or that the chain's record (head and anchor) was forged; it exits 0
when the chain is intact, 1 when it is not.
"""

from __future__ import annotations

import sys
from dataclasses import asdict

import click
from sqlalchemy.orm import Session

from ostiary.cli.api import print_json
from ostiary.config import load_settings


@click.group()
def audit() -> None:
    """Check the activity log's tamper evidence."""


@audit.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def verify(as_json: bool) -> None:
    """Verify the activity log's hash chain (needs the server's secret and database).

    \b
    Example:
      ostiary audit verify
    """
    from ostiary.activity.chain import chain_key
    from ostiary.activity.verify import verify_chain
    from ostiary.db import Database
    from ostiary.security.server_secret import load_or_create_secret

    settings = load_settings()
    if settings.secret_key is None and not settings.secret_key_path.exists():
        raise click.ClickException(
            f"No server secret at {settings.secret_key_path}: run this where the server runs."
        )
    key = chain_key(load_or_create_secret(settings))
    database = Database(settings.effective_database_url)
    try:
        engine = database.engine
        if engine.dialect.name == "postgresql":
            # One snapshot for the whole walk, while sealers keep appending.
            engine = engine.execution_options(isolation_level="REPEATABLE READ")
        with Session(engine) as session, session.begin():
            # The anchor must be older than the retention: a prefix pruned early was deleted.
            report = verify_chain(session, key, retention_days=settings.event_retention_days)
    finally:
        database.dispose()
    if as_json:
        print_json({**asdict(report), "intact": report.intact})
    elif report.intact:
        click.echo(
            f"Intact: {report.checked} sealed events verified (seq {report.anchor_seq + 1} to "
            f"{report.head_seq}); {report.unsealed} not sealed yet."
        )
    else:
        what = f"event {report.event_id}" if report.event_id else "an event"
        click.echo(
            f"TAMPERED: {what} at seq {report.seq} was {report.problem}: {report.explanation}. "
            f"{report.checked} events verified before it; {report.unsealed} not sealed yet.",
            err=False,
        )
    sys.exit(0 if report.intact else 1)


COMMANDS = [audit]
