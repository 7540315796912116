"""The three hot paths with 1,000 and with a million stored tokens: is each one flat?

Loads stored tokens straight into two fresh Ostiary databases (bulk INSERTs of
``authorizations`` and ``access_tokens`` rows with real keyed hashes; PostgreSQL's COPY), one to
``--baseline`` (1,000) and one to ``--rows`` stored tokens, starts a server on each, and measures
on both, back to back (run i on one, then on the other, the order alternating, so that the
machine's other load hits both sizes alike), what ``../shared/bench-peers/side_by_side.sh``
measures:

- ``POST /oauth/token`` with ``grant_type=client_credentials`` (client_secret_basic);
- ``POST /oauth/introspect`` of one live access token;
- ``GET /account`` with one OAuth Bearer token;

and prints req/s, p99 and the ratio of the two sizes, the peak resident memory of each worker
under that load, and the same comparison for the statements of the hot paths, the purge and the
listing, timed in this process. Token issuance is measured last, since it adds rows.

What is stored, for N tokens (docs/architecture.md, "A million tokens, and memory per worker"):
N/50 accounts with an API key each; 25% personal tokens (a third without expiry, a third live
for months, a third expired; 5% revoked in the last 20 days); 30% OAuth grants of many users
to the benchmark's own client (a popular application: each grant an authorization with one
access token issued some time in the last 30 days, mostly expired; 5% revoked); the rest
client-credentials tokens of that client's one authorization, issued over the last 30 days.
Nothing is old enough for the purge, so the database does not change under the measurement.

    .venv/bin/python -m bench.million_tokens --rows 1000000            # SQLite
    .venv/bin/python -m bench.million_tokens --rows 1000000 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

With ``--database-url`` (a PostgreSQL server), the two databases are created on that server for
the run and dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, make_url
from tests.support.factories import Factory
from tests.support.processes import process_tree
from tests.support.server import API_HEADERS, ServerProcess, start_server

from bench.harness import UNLIMITED, BenchClient, bench_parser, register_client
from bench.wrk import WrkResult, request_script, require_wrk, run_wrk
from ostiary import purge
from ostiary.accounts.models import Account
from ostiary.clock import utcnow
from ostiary.config import load_settings
from ostiary.db import Database, new_id, table_of
from ostiary.events import SYSTEM
from ostiary.oauth_clients.records import CLIENT_BY_ID, load_client_record
from ostiary.security.hashing import SecretHasher
from ostiary.security.server_secret import load_or_create_secret
from ostiary.security.tokens import TokenKind
from ostiary.tokens import authenticator, client_credentials, descriptions, queries
from ostiary.tokens.client_credentials import ClientCredentialsTokens
from ostiary.tokens.models import AccessToken, Authorization, AuthorizationKind
from ostiary.tokens.services import mint_stored

CHUNK = 50_000  # rows generated and written at a time: bounded memory, big transactions
OAUTH_TTL = timedelta(hours=8)
PATHS = ("token", "introspect", "resource")
Row = dict[str, Any]


@dataclass
class Mix:
    """How many rows of each kind a load of ``total`` access tokens makes."""

    total: int
    accounts: int = field(init=False)
    personal: int = field(init=False)
    oauth: int = field(init=False)
    client_credentials: int = field(init=False)

    def __post_init__(self) -> None:
        self.accounts = max(1, self.total // 50)
        self.personal = self.total // 4
        self.oauth = self.total * 3 // 10
        self.client_credentials = self.total - self.accounts - self.personal - self.oauth


def _sqlite_value(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat(" ", "microseconds")
    if isinstance(value, list):
        return json.dumps(value)
    if isinstance(value, bool):
        return int(value)
    return value


@dataclass(frozen=True)
class Target:
    """The benchmark's account and client, which the loaded rows hang on."""

    owner_id: str
    client_id: str
    cc_authorization_id: str


class Loader:
    """Writes generated rows in chunks: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, url: str, hasher: SecretHasher) -> None:
        self.url = url
        self.hasher = hasher
        self.engine = sa.create_engine(url)
        self.is_sqlite = url.startswith("sqlite")
        self.now = utcnow()
        self.random = random.Random(13)
        self._emails = 0

    def close(self) -> None:
        """Release the loader's connections."""
        self.engine.dispose()

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        with self.engine.begin() as connection:
            if self.is_sqlite:
                # The loader's own connection only: a large page cache for the random index
                # inserts, and no fsync until the end (a crashed load is simply redone).
                connection.exec_driver_sql("PRAGMA cache_size=-262144")
                connection.exec_driver_sql("PRAGMA synchronous=OFF")
            yield connection

    def _write(self, connection: Connection, table: sa.Table, rows: list[Row]) -> None:
        if not rows:
            return
        columns = list(rows[0])
        dbapi = connection.connection.driver_connection
        assert dbapi is not None
        if self.is_sqlite:
            # Straight to sqlite3, in the forms SQLAlchemy stores them (ISO timestamps with
            # microseconds, JSON text, 0 and 1).
            marks = ", ".join("?" * len(columns))
            statement = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
            dbapi.executemany(statement, [tuple(map(_sqlite_value, row.values())) for row in rows])
            return
        with (
            dbapi.cursor() as cursor,
            cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row([json.dumps(v) if isinstance(v, list) else v for v in row.values()])

    def _ago(self, days: float) -> datetime:
        return self.now - timedelta(seconds=self.random.uniform(0, days * 86400))

    def _authorization(self, account_id: str, kind: AuthorizationKind, **fields: object) -> Row:
        created = fields.pop("created_at", None) or self._ago(90)
        row: Row = {
            "id": new_id(),
            "account_id": account_id,
            "kind": kind.value,
            "scopes": ["global"] if kind != AuthorizationKind.OAUTH else ["read", "identity"],
            "description": "",
            "client_id": None,
            "session_id": None,
            "parent_id": None,
            "refresh_generation": 0,
            "created_at": created,
            "updated_at": created,
            "expires_at": None,
            "revoked_at": None,
            "last_used_at": None,
            "last_used_ip": None,
        }
        row.update(fields)
        return row

    def _token(
        self, kind: TokenKind, authorization_id: str, created: datetime, expires: datetime | None
    ) -> Row:
        _, stored = mint_stored(self.hasher, kind)
        return {
            "id": new_id(),
            "authorization_id": authorization_id,
            **stored,
            "created_at": created,
            "expires_at": expires,
            "revoked_at": None,
        }

    def load(self, mix: Mix, target: Target) -> float:
        """Write ``mix``'s rows; the seconds it took."""
        started = time.monotonic()
        accounts = table_of(Account)
        authorizations, tokens = table_of(Authorization), table_of(AccessToken)
        tag = secrets.token_hex(3)
        account_ids = [new_id() for _ in range(mix.accounts)]
        with self._connection() as connection:
            for start in range(0, mix.accounts, CHUNK):
                chunk = account_ids[start : start + CHUNK]
                rows = [
                    {
                        "id": account_id,
                        "email": f"load-{tag}-{start + i}@example.com",
                        "name": None,
                        "password_hash": None,  # no password: these accounts log in nowhere
                        "allow_tracking": True,
                        "beta": False,
                        "created_at": self.now,
                        "updated_at": self.now,
                        "last_login": None,
                    }
                    for i, account_id in enumerate(chunk)
                ]
                self._write(connection, accounts, rows)
                keys = [self._authorization(a, AuthorizationKind.API_KEY) for a in chunk]
                self._write(connection, authorizations, keys)
                self._write(
                    connection,
                    tokens,
                    [self._token(TokenKind.API_KEY, k["id"], k["created_at"], None) for k in keys],
                )
        self._load_grants(mix.personal, account_ids, personal=True, target=target)
        self._load_grants(mix.oauth, account_ids, personal=False, target=target)
        with self._connection() as connection:
            for start in range(0, mix.client_credentials, CHUNK):
                count = min(CHUNK, mix.client_credentials - start)
                rows = []
                for _ in range(count):
                    created = self._ago(30)
                    rows.append(
                        self._token(
                            TokenKind.OAUTH_ACCESS,
                            target.cc_authorization_id,
                            created,
                            created + OAUTH_TTL,
                        )
                    )
                self._write(connection, tokens, rows)
        self._analyze()
        return time.monotonic() - started

    def _load_grants(
        self, count: int, account_ids: list[str], *, personal: bool, target: Target
    ) -> None:
        authorizations, tokens = table_of(Authorization), table_of(AccessToken)
        choose = self.random
        for start in range(0, count, CHUNK):
            grants, rows = [], []
            for _ in range(min(CHUNK, count - start)):
                account_id = choose.choice(account_ids)
                revoked = self._ago(20) if choose.random() < 0.05 else None
                if personal:
                    third = choose.randrange(3)
                    expires = (
                        None
                        if third == 0
                        else self.now + timedelta(days=choose.uniform(30, 365))
                        if third == 1
                        else self._ago(60)
                    )
                    grant = self._authorization(
                        account_id,
                        AuthorizationKind.PERSONAL,
                        expires_at=expires,
                        revoked_at=revoked,
                        description="a personal token",
                    )
                    token = self._token(
                        TokenKind.AUTHORIZATION,
                        grant["id"],
                        grant["created_at"],
                        expires,
                    )
                else:
                    grant = self._authorization(
                        account_id,
                        AuthorizationKind.OAUTH,
                        client_id=target.client_id,
                        revoked_at=revoked,
                        description="bench",
                    )
                    issued = self._ago(30)
                    token = self._token(
                        TokenKind.OAUTH_ACCESS,
                        grant["id"],
                        issued,
                        issued + OAUTH_TTL,
                    )
                grants.append(grant)
                rows.append(token)
            with self._connection() as connection:
                self._write(connection, authorizations, grants)
                self._write(connection, tokens, rows)

    def _analyze(self) -> None:
        # PostgreSQL's autovacuum would analyze tables this size within a minute or so; doing it
        # now measures the plans a running server would have. SQLite has no such daemon and
        # Ostiary never runs ANALYZE, so SQLite is measured without statistics, as it runs.
        if self.is_sqlite:
            return
        with self.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE"
            )


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A new database on this PostgreSQL server, dropped afterwards; its URL."""
    name = f"ostiary_million_{secrets.token_hex(4)}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


@dataclass
class PathFigures:
    """One path's runs at one size."""

    results: list[WrkResult] = field(default_factory=list)
    worker_peak_rss_mb: float = 0.0
    worker_high_water_mb: float = 0.0
    others_peak_rss_mb: float = 0.0

    @property
    def rps(self) -> float:
        """Median requests per second over the runs."""
        return statistics.median(r.rps for r in self.results)

    @property
    def p99(self) -> float:
        """Median p99 latency (ms) over the runs."""
        return statistics.median(r.p99 for r in self.results)


class RssSampler:
    """The peak resident memory of each of a server's processes while it runs, sampled."""

    def __init__(self, server: ServerProcess) -> None:
        assert server.process is not None
        self._root = server.process.pid
        self.peaks: dict[int, int] = {}
        self.high_water: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            for pid in process_tree(self._root):
                try:
                    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                        if line.startswith("VmRSS:"):
                            kb = int(line.split()[1])
                            self.peaks[pid] = max(self.peaks.get(pid, 0), kb * 1024)
                except FileNotFoundError:
                    pass
            self._stop.wait(0.1)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        for pid in self.peaks:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        self.high_water[pid] = int(line.split()[1]) * 1024
            except FileNotFoundError:
                pass

    def worker_high_water_mb(self) -> float:
        """The largest VmHWM among the workers: the kernel's record of each one's peak since it
        started (start-up included, which the sampling above does not see)."""
        workers = self._workers()
        return max((v for pid, v in self.high_water.items() if pid in workers), default=0) / 2**20

    def others_peak_mb(self) -> float:
        """The peak of uvicorn's master process and any helper (multiprocessing's resource
        tracker), summed: what the server costs besides its workers."""
        workers = self._workers()
        return sum(rss for pid, rss in self.peaks.items() if pid not in workers) / 2**20

    def _workers(self) -> set[int]:
        # uvicorn's workers run the application: the processes below the master that import
        # sqlalchemy (multiprocessing's resource tracker does not). With one worker, the
        # master is the worker.
        if len(self.peaks) == 1:
            return set(self.peaks)
        found = set()
        for pid in set(self.peaks) - {self._root}:
            try:
                if "sqlalchemy" in Path(f"/proc/{pid}/maps").read_text():
                    found.add(pid)
            except FileNotFoundError:
                pass
        return found

    def worker_peak_mb(self) -> float:
        """The largest peak among the workers."""
        workers = self._workers()
        return max((rss for pid, rss in self.peaks.items() if pid in workers), default=0) / 2**20


def scripts(client: BenchClient, introspected: str, bearer: str) -> dict[str, tuple[str, str]]:
    """Each measured path: (URL path, wrk script)."""
    form = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    return {
        "token": (
            "/oauth/token",
            request_script(
                "POST",
                body="grant_type=client_credentials",
                headers={**form, "Authorization": client.basic},
                count_statuses=True,
            ),
        ),
        "introspect": (
            "/oauth/introspect",
            request_script(
                "POST",
                body=f"token={introspected}",
                headers={**form, "Authorization": client.basic},
                count_statuses=True,
            ),
        ),
        "resource": (
            "/account",
            request_script(
                "GET",
                headers={**API_HEADERS, "Authorization": f"Bearer {bearer}"},
                count_statuses=True,
            ),
        ),
    }


def measure_once(
    server: ServerProcess, name: str, script: str, path: str, options: argparse.Namespace
) -> tuple[WrkResult, RssSampler]:
    """One warm-up and one measured wrk run of one path, the server's memory sampled. Failed
    requests (wrk's 2 s timeout included) are counted and reported, not hidden."""
    url = f"{server.url}{path}"
    run_wrk(url, options.warmup, options.connections, script=script, threads=2)
    with RssSampler(server) as sampler:
        result = run_wrk(url, options.seconds, options.connections, script=script, threads=2)
    if result.errors:
        print(f"{name}: {result.errors} failed requests (answered: {result.statuses})", flush=True)
    return result, sampler


def measure(setups: list[Setup], options: argparse.Namespace) -> dict[int, dict[str, PathFigures]]:
    """Every path on both databases, back to back: run i of a path on one server, then on the
    other, the order alternating, so a change in the machine's other load hits both sizes."""
    servers = [
        start_server(setup.data_dir, settings=setup.settings, workers=options.workers)
        for setup in setups
    ]
    try:
        plans = [
            scripts(
                setup.client,
                register_token(server, setup.client),
                register_token(server, setup.client),
            )
            for setup, server in zip(setups, servers, strict=True)
        ]
        figures: dict[int, dict[str, PathFigures]] = {setup.size: {} for setup in setups}
        # Token issuance last: it adds rows, and the small database should hold its size for
        # the two reading paths.
        for name in [p for p in ("introspect", "resource", "token") if p in options.paths]:
            for run in range(options.runs):
                pairs = list(zip(setups, servers, plans, strict=True))
                for setup, server, plan in pairs if run % 2 == 0 else reversed(pairs):
                    path, script = plan[name]
                    result, sampler = measure_once(server, name, script, path, options)
                    path_figures = figures[setup.size].setdefault(name, PathFigures())
                    path_figures.results.append(result)
                    path_figures.worker_peak_rss_mb = max(
                        path_figures.worker_peak_rss_mb, sampler.worker_peak_mb()
                    )
                    path_figures.others_peak_rss_mb = max(
                        path_figures.others_peak_rss_mb, sampler.others_peak_mb()
                    )
                    path_figures.worker_high_water_mb = max(
                        path_figures.worker_high_water_mb, sampler.worker_high_water_mb()
                    )
            print(f"measured {name}", flush=True)
        return figures
    finally:
        for server in servers:
            server.stop()


def register_token(server: ServerProcess, client: BenchClient) -> str:
    """A fresh client-credentials access token."""
    import httpx

    answer = httpx.post(
        f"{server.url}/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": client.basic},
    )
    answer.raise_for_status()
    token: str = answer.json()["access_token"]
    return token


def count_tokens(url: str) -> int:
    """The access tokens stored now."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(sa.text("SELECT count(*) FROM access_tokens")) or 0)
    finally:
        engine.dispose()


def _apply_pragmas(pragmas: str, dbapi_connection: Any, _: object) -> None:
    for pragma in pragmas.split(","):
        dbapi_connection.execute(f"PRAGMA {pragma}")


def _timed(run: Callable[[int], object], repeat: int) -> float:
    """The median microseconds of ``run(i)`` over ``repeat`` calls (after a few untimed)."""
    for i in range(min(repeat, 20)):
        run(i)
    times = []
    for i in range(repeat):
        started = time.perf_counter_ns()
        run(i)
        times.append(time.perf_counter_ns() - started)
    return statistics.median(times) / 1000


def sql_timings(
    url: str, hasher: SecretHasher, target: Target, repeat: int, pragmas: str = ""
) -> dict[str, float]:
    """Each statement the hot paths, the purge and the listing run, timed in this process on the
    server's own engine set-up (``ostiary.db.Database``): median microseconds per execution."""
    database = Database(url)
    if pragmas:
        # A variant of SQLite's settings, tried here before it goes into ostiary.db.
        for engine in (database.engine, database.write_engine):
            sa.event.listen(engine, "connect", partial(_apply_pragmas, pragmas))
    try:
        with database.engine.connect() as connection:
            sample = list(
                connection.scalars(
                    sa.select(table_of(AccessToken).c.token_hash)
                    .order_by(sa.func.random())
                    .limit(1000)
                )
            )
        hot = sample[0]
        lookup = database.prepared(authenticator._LOOKUP)
        access = database.prepared(descriptions._ACCESS)
        client = database.prepared(CLIENT_BY_ID)
        now = utcnow()
        purge_selects = {
            kind.name: sa.select(table_of(kind.model).c.id)
            .where(kind.purgeable(now - purge.GRACE, now))
            .limit(purge.BATCH_SIZE)
            for kind in purge.EXPIRING
        }

        def client_credentials_lookup(_: int) -> object:
            with database.direct_write() as transaction:
                return list(
                    transaction.rows(
                        client_credentials._CLIENT_STATE,
                        client_id=target.client_id,
                        kind=AuthorizationKind.CLIENT_CREDENTIALS.value,
                    )
                )

        client_record = load_client_record(database, target.client_id)
        assert client_record is not None
        with database.engine.connect() as connection:
            scopes = sorted(
                connection.scalar(
                    sa.select(table_of(Authorization).c.scopes).where(
                        table_of(Authorization).c.id == target.cc_authorization_id
                    )
                )
                or ()
            )

        def issuance(_: int) -> object:
            # The store stages the token's rows; its whole transaction writes them.
            tokens = ClientCredentialsTokens(hasher, SYSTEM, int(OAUTH_TTL.total_seconds()))
            issued = tokens.issue_client_credentials(client_record, target.owner_id, scopes)
            with database.direct_write() as transaction:
                for write in tokens.staged:
                    write(transaction)
            return issued

        def listing(_: int) -> object:
            with database.unit_of_work(write=False) as session:
                found = session.scalars(queries.authorizations_of(target.owner_id)).all()
                return queries.live_tokens(session, found)

        timings = {
            "token hash lookup, one token (authenticator)": _timed(
                lambda _: lookup.first(token_hash=hot), repeat
            ),
            "token hash lookup, 1,000 tokens in turn": _timed(
                lambda i: lookup.first(token_hash=sample[i % len(sample)]), repeat
            ),
            "introspection lookup (descriptions)": _timed(
                lambda i: access.first(token_hash=sample[i % len(sample)]), repeat
            ),
            "client by id": _timed(lambda _: client.first(client_id=target.client_id), repeat),
            "client-credentials client and authorizations": _timed(
                client_credentials_lookup, repeat
            ),
            "client-credentials issuance (its whole transaction)": _timed(
                issuance, max(50, repeat // 4)
            ),
            "listing the client owner's authorizations": _timed(listing, max(5, repeat // 100)),
        }
        with database.engine.connect() as connection:
            for name, select in purge_selects.items():
                timings[f"purge batch: {name}"] = _timed(
                    lambda _, s=select: connection.execute(s).all(),  # type: ignore[misc]
                    max(5, repeat // 100),
                )
        return timings
    finally:
        database.dispose()


@dataclass(frozen=True)
class Setup:
    """One database loaded to one size, with the benchmark's account and client on it."""

    size: int
    data_dir: Path
    url: str
    settings: dict[str, str]
    client: BenchClient
    target: Target
    hasher: SecretHasher


def prepare(
    size: int, data_dir: Path, database_url: str | None, options: argparse.Namespace
) -> Setup:
    """A migrated database with an account and a client, loaded to ``size`` stored tokens."""
    settings = {**UNLIMITED, "OSTIARY_WORKERS": str(options.workers)}
    if database_url:
        settings["OSTIARY_DATABASE_URL"] = database_url
    server = start_server(data_dir, settings=settings, workers=options.workers)
    try:
        factory = Factory(server.data_dir, database_url)
        account = factory.account("bench")
        factory.close()
        client = register_client(server, account.api_key)
    finally:
        server.stop()
    url = database_url or load_settings(data_dir=data_dir).effective_database_url
    hasher = SecretHasher(load_or_create_secret(load_settings(data_dir=data_dir)))
    loader = Loader(url, hasher)
    try:
        target = _target(loader, client.id)
        missing = size - count_tokens(url)
        if missing > 0:
            seconds = loader.load(Mix(missing), target)
            print(f"loaded {missing:,} tokens in {seconds:.1f} s", flush=True)
    finally:
        loader.close()
    return Setup(size, data_dir, url, settings, client, target, hasher)


def postgres_buffers(setup: Setup) -> dict[str, float]:
    """PostgreSQL's count of the pages (shared buffers hit or read) each hot statement touches,
    from ``EXPLAIN (ANALYZE, BUFFERS)``: the work a statement does, which the machine's other
    load cannot blur as it blurs a time (the median over 20 stored tokens for the lookups)."""
    engine = sa.create_engine(setup.url)
    tokens = table_of(AccessToken)
    now = utcnow()
    try:
        with engine.connect() as connection:
            sample = list(
                connection.scalars(
                    sa.select(tokens.c.token_hash).order_by(sa.func.random()).limit(20)
                )
            )

            def pages(statement: sa.Executable, **params: object) -> int:
                compiled = statement.compile(dialect=engine.dialect)  # type: ignore[attr-defined]
                plan = connection.exec_driver_sql(
                    f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {compiled}",
                    {**compiled.params, **params},
                ).scalar()
                assert plan is not None
                top = plan[0]["Plan"]
                return int(top["Shared Hit Blocks"]) + int(top["Shared Read Blocks"])

            figures = {
                "token hash lookup (authenticator)": statistics.median(
                    pages(authenticator._LOOKUP, token_hash=h) for h in sample
                ),
                "introspection lookup (descriptions)": statistics.median(
                    pages(descriptions._ACCESS, token_hash=h) for h in sample
                ),
                "client by id": pages(CLIENT_BY_ID, client_id=setup.target.client_id),
                "client-credentials client and authorizations": pages(
                    client_credentials._CLIENT_STATE,
                    client_id=setup.target.client_id,
                    kind=AuthorizationKind.CLIENT_CREDENTIALS.value,
                ),
            }
            for kind in purge.EXPIRING:
                select = (
                    sa.select(table_of(kind.model).c.id)
                    .where(kind.purgeable(now - purge.GRACE, now))
                    .limit(purge.BATCH_SIZE)
                )
                figures[f"purge batch: {kind.name}"] = pages(select)
            return figures
    finally:
        engine.dispose()


def timings_back_to_back(
    setups: list[Setup], options: argparse.Namespace, is_sqlite: bool
) -> dict[str, dict[int, dict[str, float]]]:
    """The statements on both databases, three rounds, alternating: each statement's median over
    the rounds, per size and SQLite variant."""
    rounds: dict[str, dict[int, list[dict[str, float]]]] = {}
    for round_ in range(3):
        for setup in setups if round_ % 2 == 0 else list(reversed(setups)):
            for pragmas in options.sqlite_pragmas if is_sqlite else [""]:
                rounds.setdefault(pragmas, {}).setdefault(setup.size, []).append(
                    sql_timings(setup.url, setup.hasher, setup.target, options.sql_repeat, pragmas)
                )
    return {
        pragmas: {
            size: {name: statistics.median(t[name] for t in runs) for name in runs[0]}
            for size, runs in by_size.items()
        }
        for pragmas, by_size in rounds.items()
    }


def run_backend(options: argparse.Namespace, database_urls: list[str | None]) -> None:
    """Two databases, loaded to the two sizes, measured back to back."""
    with tempfile.TemporaryDirectory() as tmp:
        setups = [
            prepare(size, Path(tmp) / str(size), url, options)
            for size, url in zip((options.baseline, options.rows), database_urls, strict=True)
        ]
        for setup in setups:
            print(f"{count_tokens(setup.url):,} stored access tokens in {setup.url}", flush=True)
        is_sqlite = database_urls[0] is None
        timings = timings_back_to_back(setups, options, is_sqlite)
        buffers = {} if is_sqlite else {setup.size: postgres_buffers(setup) for setup in setups}
        results = {} if options.statements_only else measure(setups, options)
    report(options, "SQLite" if is_sqlite else "PostgreSQL", results, timings)
    if buffers:
        print("\nPostgreSQL: pages (shared buffers) per execution, EXPLAIN (ANALYZE, BUFFERS)")
        print(f"| statement | {options.baseline:,} | {options.rows:,} |")
        print("|---|---|---|")
        for name, small_pages in buffers[options.baseline].items():
            print(f"| {name} | {small_pages:g} | {buffers[options.rows][name]:g} |")


def _target(loader: Loader, client_id: str) -> Target:
    authorizations = table_of(Authorization)
    with loader.engine.connect() as connection:
        row = connection.execute(
            sa.select(authorizations.c.id, authorizations.c.account_id).where(
                authorizations.c.client_id == client_id,
                authorizations.c.kind == AuthorizationKind.CLIENT_CREDENTIALS.value,
            )
        ).one()
    return Target(owner_id=row.account_id, client_id=client_id, cc_authorization_id=row.id)


def report(
    options: argparse.Namespace,
    backend: str,
    results: dict[int, dict[str, PathFigures]],
    timings: dict[str, dict[int, dict[str, float]]],
) -> None:
    """One table: each path at both sizes, and the ratio."""
    if results:
        _report_paths(options, backend, results)
    for pragmas, by_size in timings.items():
        settings = f", with PRAGMA {pragmas}" if pragmas else ""
        print(f"\n{backend}{settings}: statements timed in process (medians)")
        print(f"| statement | us {options.baseline:,} | us {options.rows:,} | ratio |")
        print("|---|---|---|---|")
        for name, small_us in by_size[options.baseline].items():
            large_us = by_size[options.rows][name]
            print(f"| {name} | {small_us:,.0f} | {large_us:,.0f} | {large_us / small_us:.2f} |")


def _report_paths(
    options: argparse.Namespace, backend: str, results: dict[int, dict[str, PathFigures]]
) -> None:
    small, large = results[options.baseline], results[options.rows]
    print(
        f"\n{backend}, workers={options.workers} connections={options.connections}"
        f" runs={options.runs} x {options.seconds} s (medians)"
    )
    print(
        f"| path | req/s {options.baseline:,} | req/s {options.rows:,} | ratio |"
        f" p99 ms {options.baseline:,} | p99 ms {options.rows:,} | ratio |"
        " worker peak RSS MB (small / large) | worker VmHWM MB | master + helper peak RSS MB |"
        " failed requests (small / large) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name in [p for p in PATHS if p in small]:
        a, b = small[name], large[name]
        print(
            f"| {name} | {a.rps:,.0f} | {b.rps:,.0f} | {b.rps / a.rps:.2f} | {a.p99:.2f} |"
            f" {b.p99:.2f} | {b.p99 / a.p99:.2f} | {a.worker_peak_rss_mb:.0f} /"
            f" {b.worker_peak_rss_mb:.0f}"
            f" | {max(a.worker_high_water_mb, b.worker_high_water_mb):.0f}"
            f" | {max(a.others_peak_rss_mb, b.others_peak_rss_mb):.0f}"
            f" | {sum(r.errors for r in a.results)} / {sum(r.errors for r in b.results)} |"
        )
    runs = {
        size: {name: [round(r.rps) for r in f.results] for name, f in figures.items()}
        for size, figures in results.items()
    }
    print(f"req/s of every run: {runs}")


def main() -> None:
    """Parse the options, then load and measure one backend."""
    parser = bench_parser(__doc__.splitlines()[0], seconds=5)
    parser.add_argument("--rows", type=int, default=1_000_000, help="stored tokens, large")
    parser.add_argument("--baseline", type=int, default=1_000, help="stored tokens, small")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--paths", nargs="*", choices=PATHS, default=list(PATHS))
    parser.add_argument(
        "--statements-only", action="store_true", help="time the statements, skip the servers"
    )
    parser.add_argument(
        "--sqlite-pragmas",
        nargs="*",
        default=[""],
        metavar="PRAGMAS",
        help='variants of the statement timings on SQLite, e.g. "" "mmap_size=268435456"'
        ' "cache_size=-65536" (comma-separated pragmas; "" is ostiary.db as it is)',
    )
    parser.add_argument("--sql-repeat", type=int, default=2000, help="executions per statement")
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server (SQLAlchemy URL); a database is made there and dropped after",
    )
    options = parser.parse_args()
    require_wrk()
    if options.database_url:
        with (
            postgres_database(options.database_url) as small,
            postgres_database(options.database_url) as large,
        ):
            run_backend(options, [small, large])
    else:
        run_backend(options, [None, None])


if __name__ == "__main__":
    main()
