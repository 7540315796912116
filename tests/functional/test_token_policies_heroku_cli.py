"""The real heroku CLI's ``authorizations:create`` under a token policy: refused one second
over the server's maximum lifetime with the policy's message, accepted at it (skipped, with the
reason, when the CLI cannot be installed)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.factories import Factory, UserAccount
from tests.support.heroku_cli import HerokuCLI, ensure_installed
from tests.support.server import ServerProcess, start_server


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    ensure_installed()  # skip before starting anything when the CLI cannot be had
    server = start_server(
        tmp_path_factory.mktemp("cli-policy-server"),
        tls=True,
        settings={"OSTIARY_TOKEN_MAX_LIFETIME": "1h"},
    )
    yield server
    server.stop()


@pytest.fixture
def user(tls_server: ServerProcess) -> Iterator[UserAccount]:
    made = Factory(tls_server.data_dir)
    yield made.account("cli-policy")
    made.close()


@pytest.fixture
def cli(tls_server: ServerProcess, tmp_path: Path) -> Iterator[HerokuCLI]:
    home = tmp_path / "home"
    home.mkdir()
    tool = HerokuCLI(binary=ensure_installed(), server=tls_server, home=home)
    yield tool
    contacted = tool.remote_log.read_text() if tool.remote_log.exists() else ""
    assert contacted == "", f"the CLI tried to reach other hosts: {contacted}"


def test_authorizations_create_over_the_maximum_is_refused(
    cli: HerokuCLI, user: UserAccount
) -> None:
    refused = cli.run("authorizations:create", "-d", "too long", "-e", "3601", api_key=user.api_key)
    assert refused.returncode != 0
    assert "expires_in is over the longest lifetime this account allows, 1 hour" in (refused.stderr)
    assert "OSTIARY_TOKEN_MAX_LIFETIME" in refused.stderr
    listed = json.loads(cli.run("authorizations", "--json", api_key=user.api_key).stdout)
    assert all(a["description"] != "too long" for a in listed)


def test_authorizations_create_at_the_maximum_is_accepted(
    cli: HerokuCLI, user: UserAccount, tls_server: ServerProcess
) -> None:
    made = cli.run(
        "authorizations:create", "-d", "exactly", "-e", "3600", "-S", api_key=user.api_key
    )
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    with tls_server.client(token) as client:
        assert client.get("/account").status_code == 200
    listed = json.loads(cli.run("authorizations", "--json", api_key=user.api_key).stdout)
    created = next(a for a in listed if a["description"] == "exactly")
    assert 3500 <= created["access_token"]["expires_in"] <= 3600


def test_authorizations_create_without_expiry_gets_the_maximum(
    cli: HerokuCLI, user: UserAccount
) -> None:
    made = cli.run("authorizations:create", "-d", "default", api_key=user.api_key)
    assert made.returncode == 0, made.stderr
    listed = json.loads(cli.run("authorizations", "--json", api_key=user.api_key).stdout)
    created = next(a for a in listed if a["description"] == "default")
    assert 3500 <= created["access_token"]["expires_in"] <= 3600
