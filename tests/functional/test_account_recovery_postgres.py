"""Recovery on PostgreSQL with two workers: a reset link works once whichever worker answers
(its row locked while spent), and disabling an account refuses its key in every worker at
once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.factories import Factory
from tests.support.postgres import fresh_database
from tests.support.recovery_flow import account_status, ask_reset, link_in, mail_to, reset_with
from tests.support.server import ServerProcess, run_cli, start_server
from tests.support.smtp_sink import Sink, smtp_sink


@pytest.fixture(scope="module")
def pg_recovery(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Sink]]:
    with fresh_database() as url, smtp_sink() as sink:
        server = start_server(
            tmp_path_factory.mktemp("pg-recovery"),
            settings={
                "OSTIARY_DATABASE_URL": url,
                "OSTIARY_SMTP_URL": f"smtp://127.0.0.1:{sink.port}",
                "OSTIARY_LOGIN_REQUEST_LIMIT": "1000",
            },
            workers=2,
        )
        try:
            yield server, sink
        finally:
            server.stop()


@pytest.fixture(scope="module")
def pg_factory(pg_recovery: tuple[ServerProcess, Sink]) -> Iterator[Factory]:
    server = pg_recovery[0]
    factory = Factory(Path(server.data_dir), database_url=server.env["OSTIARY_DATABASE_URL"])
    yield factory
    factory.close()


def test_a_reset_link_works_once_on_postgres(
    pg_recovery: tuple[ServerProcess, Sink], pg_factory: Factory
) -> None:
    server, sink = pg_recovery
    user = pg_factory.account("pg-reset")
    ask_reset(server, user.email)
    link = link_in(mail_to(sink, user.email, "Reset your Ostiary password")[0])
    assert reset_with(server, link, "a freshly chosen passphrase").status_code == 200
    assert account_status(server, user.api_key) == 401
    # Spent: refused by either worker.
    for _ in range(4):
        assert _status_of_link(server, link) == 400


def _status_of_link(server: ServerProcess, link: str) -> int:
    import httpx

    return httpx.get(f"{server.url}{link[link.index('/reset-password') :]}").status_code


def test_a_disabled_key_is_refused_by_every_worker_at_once(
    pg_recovery: tuple[ServerProcess, Sink], pg_factory: Factory
) -> None:
    server, _ = pg_recovery
    user = pg_factory.account("pg-disabled")
    assert {account_status(server, user.api_key) for _ in range(6)} == {200}
    done = run_cli("accounts", "disable", user.email, env=server.env)
    assert done.returncode == 0, done.stderr
    assert {account_status(server, user.api_key) for _ in range(6)} == {401}
    done = run_cli("accounts", "enable", user.email, env=server.env)
    assert done.returncode == 0, done.stderr
    assert {account_status(server, user.api_key) for _ in range(6)} == {200}
