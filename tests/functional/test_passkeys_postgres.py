"""Passkeys on PostgreSQL with two workers: registered, signed in with, an answer accepted once
however many workers it is sent to at once (the challenge's DELETE decides), the counter kept.
Skipped when PostgreSQL is not reachable (failed under CI), as tests/functional/test_postgres.py."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select

from ostiary.passkeys.models import Passkey
from tests.functional.test_passkeys import (
    LoginPage,
    _close_browsers,  # noqa: F401 - the module's browsers are closed after each test
    _register,
    _signed_in_to,
)
from tests.functional.test_postgres import pg_url  # noqa: F401 - the database fixture
from tests.support.factories import Factory
from tests.support.server import ServerProcess, start_server
from tests.support.soft_authenticator import SoftAuthenticator


@pytest.fixture(scope="module")
def pg_passkey_server(
    pg_url: str,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServerProcess]:
    server = start_server(
        tmp_path_factory.mktemp("pg-passkeys"),
        settings={"OSTIARY_DATABASE_URL": pg_url, "OSTIARY_LOGIN_REQUEST_LIMIT": "1000"},
        workers=2,
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def pg_factory(pg_passkey_server: ServerProcess, pg_url: str) -> Iterator[Factory]:  # noqa: F811
    factory = Factory(Path(pg_passkey_server.data_dir), database_url=pg_url)
    yield factory
    factory.close()


def test_a_passkey_signs_in_once_per_answer_on_postgres(
    pg_passkey_server: ServerProcess, pg_factory: Factory
) -> None:
    user = pg_factory.account("pg-passkey")
    authenticator = _register(
        pg_passkey_server, user, SoftAuthenticator(origin=pg_passkey_server.url, counts=True)
    )
    login = LoginPage(pg_passkey_server)
    _signed_in_to(login.verify(authenticator.answer(login.options())))
    answer = authenticator.answer(login.options())
    with ThreadPoolExecutor(4) as pool:
        statuses = sorted(pool.map(lambda _: login.verify(answer).status_code, range(4)))
    assert statuses == [200, 400, 400, 400]
    with pg_factory.database.unit_of_work(write=False) as session:
        passkey = session.scalars(select(Passkey).where(Passkey.account_id == user.id)).one()
    assert passkey.sign_count == 2
    assert bytes(passkey.public_key)  # bytea round trip
