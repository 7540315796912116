"""``ostiary audit``: checks of the activity log, run on the server's database (like ``db``).

``audit verify`` walks the events' hash chain from its anchor (the last event pruned by
retention) to its head (the last sealed) and reports the first event modified, removed,
inserted or reordered, or that the chain's record (head and anchor) was forged; it exits 0
when the chain is intact, 1 when it is not. ``audit adopt`` signs the record of a chain sealed
before migration 0019, once it verifies.
"""

from __future__ import annotations

import sys
from dataclasses import asdict
from typing import TYPE_CHECKING

import click
from sqlalchemy.orm import Session

from ostiary.cli.api import print_json

if TYPE_CHECKING:
    from ostiary.activity.verify import ChainReport
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
        if report.problem == "forged":
            what = "the chain's record"
        else:
            what = f"event {report.event_id}" if report.event_id else "an event"
        # An unsealed event (inserted outside the server) and the chain's record have no seq.
        where = f" at seq {report.seq}" if report.seq is not None else ""
        click.echo(
            f"TAMPERED: {what}{where} was {report.problem}: {report.explanation}. "
            f"{report.checked} events verified before it; {report.unsealed} not sealed yet.",
            err=False,
        )
    sys.exit(0 if report.intact else 1)


class _NotAdopted(Exception):
    """Rolls the adoption back: the chain did not verify with its record signed."""

    def __init__(self, report: ChainReport) -> None:
        super().__init__(report.problem)
        self.report = report


@audit.command("adopt")
def adopt() -> None:
    """Sign a chain sealed before migration 0019 (its record has no MAC), if it verifies.

    The sealer refuses such a chain: nothing tells it from one whose MAC was stripped. Run this
    once after the upgrade, where the server runs; it signs the record only if the whole chain
    verifies, and vouches for the head as it stands (an attacker's rewound head included).

    \b
    Example:
      ostiary audit adopt
    """
    from ostiary.activity.chain import chain_key
    from ostiary.activity.queries import chain_of
    from ostiary.activity.services import lock_chain, sign_chain
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
        with database.unit_of_work(write=True) as session:
            lock_chain(session)
            chain = chain_of(session, for_update=True)
            if chain.mac is not None:
                click.echo("The chain's record is signed already: nothing to adopt.")
                return
            sign_chain(key, chain)
            session.flush()
            report = verify_chain(session, key, retention_days=settings.event_retention_days)
            if not report.intact:
                raise _NotAdopted(report)
    except _NotAdopted as refused:
        raise click.ClickException(
            f"Not adopted: the chain does not verify ({refused.report.problem} at seq "
            f"{refused.report.seq}: {refused.report.explanation})."
        ) from None
    finally:
        database.dispose()
    click.echo(f"Adopted: {report.checked} sealed events verified; the chain's record is signed.")


COMMANDS = [audit]
