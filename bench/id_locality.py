"""What the kind of id costs a client-credentials token's writes on SQLite: random (UUIDv4) ids
against time-ordered ones (UUIDv7, what ``ostiary.db.new_id`` makes).

For each kind, a fresh migrated database is filled with ``--rows`` access tokens and as many
events (the two rows a client-credentials token writes, ids of that kind), then ``--tokens``
more are written the way the group commit writes them: ``--batch`` tokens with their events per
``BEGIN IMMEDIATE`` ... ``COMMIT``, in WAL mode with ``synchronous=NORMAL`` as the server runs.
Printed: CPU and wall microseconds per token. The wall time is how long a writer holds SQLite's
one write lock, which the other workers wait for (docs/architecture.md, "Time-ordered ids").

    .venv/bin/python -m bench.id_locality --rows 1000000 --batch 1 8
"""

from __future__ import annotations

import argparse
import secrets
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from ostiary.db import new_id
from ostiary.migrate import upgrade

KINDS: dict[str, Callable[[], str]] = {"uuid4": lambda: str(uuid.uuid4()), "uuid7": new_id}
_INSERT_ACCESS_ROW = (
    "INSERT INTO access_tokens (id, authorization_id, token_hash, display_head, display_tail,"
    " created_at, expires_at) VALUES (?, ?, ?, 'osta_abc', 'wxyz', ?, ?)"
)
_INSERT_EVENT = (
    "INSERT INTO events (id, created_at, actor_id, action, target_type, target_id, ip,"
    " request_id, details, outcome, client_id) VALUES (?, ?, ?, 'oauth:token:issue',"
    " 'authorization', ?, '127.0.0.1', ?, '{\"grant\":\"client_credentials\"}', 'success', 'c')"
)


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("PRAGMA foreign_keys=OFF")  # no accounts or authorizations are made
    return connection


def _write(connection: sqlite3.Connection, make_id: Callable[[], str], count: int) -> None:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    for _ in range(count):
        connection.execute(_INSERT_ACCESS_ROW, (make_id(), "a", secrets.token_hex(32), now, now))
        connection.execute(_INSERT_EVENT, (make_id(), now, "o", "a", str(uuid.uuid4())))


def measure(kind: str, rows: int, tokens: int, batches: list[int], workdir: Path) -> None:
    """Fill a database with ``rows`` tokens and events of ``kind``'s ids; time each batch size."""
    path = workdir / f"{kind}.db"
    upgrade(f"sqlite:///{path}")
    connection = _connect(path)
    connection.execute("BEGIN")
    _write(connection, KINDS[kind], rows)
    connection.execute("COMMIT")
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for batch in batches:
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(0, tokens, batch):
            connection.execute("BEGIN IMMEDIATE")
            _write(connection, KINDS[kind], batch)
            connection.execute("COMMIT")
        cpu_us = 1e6 * (time.process_time() - cpu) / tokens
        wall_us = 1e6 * (time.perf_counter() - wall) / tokens
        print(f"| {kind} | {rows:,} | {batch} | {cpu_us:.0f} | {wall_us:.0f} |", flush=True)
    connection.close()


def main() -> None:
    """Measure both kinds of id, one after the other."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="tokens stored first")
    parser.add_argument("--tokens", type=int, default=4_000, help="tokens timed")
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 8], help="per transaction")
    arguments = parser.parse_args()
    print("| ids | stored | per transaction | CPU us / token | wall us / token |")
    print("| --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as workdir:
        for kind in KINDS:
            measure(kind, arguments.rows, arguments.tokens, arguments.batch, Path(workdir))


if __name__ == "__main__":
    main()
