"""One HTTPS server for the protocol tests (the session cookie is Secure)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.factories import Factory, UserAccount
from tests.support.oauth_flow import OAuthBrowser
from tests.support.server import ServerProcess, start_server


@pytest.fixture(scope="session")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(
        tmp_path_factory.mktemp("protocol"),
        tls=True,
        settings={"OSTIARY_AUTH_FAILURE_LIMIT": "5", "OSTIARY_AUTH_FAILURE_WINDOW": "60"},
    )
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tls_factory(tls_server: ServerProcess) -> Iterator[Factory]:
    made = Factory(tls_server.data_dir)
    yield made
    made.close()


@pytest.fixture
def user(tls_factory: Factory) -> UserAccount:
    return tls_factory.account("protocol")


@pytest.fixture
def browser(tls_server: ServerProcess, user: UserAccount) -> Iterator[OAuthBrowser]:
    made = OAuthBrowser(tls_server, user.email)
    yield made
    made.close()


@pytest.fixture
def other_user(tls_factory: Factory) -> UserAccount:
    return tls_factory.account("protocol-other")
