"""The real heroku CLI (npm ``heroku@11``) against a real Ostiary server over HTTPS.

The CLI is installed once into ~/.cache/ostiary-tests (outside the repo). Every host it could
call (API, login, particleboard) points at Ostiary, and a preloaded hook refuses and records any
lookup of another host: each test ends by checking that record is empty, so nothing reached a
heroku.com host.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.factories import PASSWORD, Factory, UserAccount
from tests.support.heroku_cli import HerokuCLI, ensure_installed
from tests.support.server import ServerProcess, start_server


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    binary = ensure_installed()  # skip before starting anything when the CLI cannot be had
    assert binary.exists()
    server = start_server(tmp_path_factory.mktemp("cli-server"), tls=True)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def tls_factory(tls_server: ServerProcess) -> Iterator[Factory]:
    made = Factory(tls_server.data_dir)
    yield made
    made.close()


@pytest.fixture
def cli(tls_server: ServerProcess, tmp_path: Path) -> Iterator[HerokuCLI]:
    home = tmp_path / "home"
    home.mkdir()
    tool = HerokuCLI(binary=ensure_installed(), server=tls_server, home=home)
    yield tool
    contacted = tool.remote_log.read_text() if tool.remote_log.exists() else ""
    assert contacted == "", f"the CLI tried to reach other hosts: {contacted}"


@pytest.fixture
def user(tls_factory: Factory) -> UserAccount:
    return tls_factory.account("cli")


def _ok(result: object) -> str:
    assert getattr(result, "returncode", 1) == 0, f"{getattr(result, 'stderr', '')}"
    return str(getattr(result, "stdout", ""))


def test_whoami_with_an_api_key(cli: HerokuCLI, user: UserAccount) -> None:
    assert _ok(cli.run("auth:whoami", api_key=user.api_key)).strip() == user.email


def test_whoami_with_a_revoked_key_fails(
    cli: HerokuCLI, user: UserAccount, tls_server: ServerProcess
) -> None:
    with tls_server.client(user.api_key) as client:
        client.post("/oauth/authorizations/~/actions/regenerate-tokens")
    result = cli.run("auth:whoami", api_key=user.api_key)
    assert result.returncode != 0


def test_login_interactive_then_whoami_token_and_logout(
    cli: HerokuCLI, user: UserAccount, tls_server: ServerProcess
) -> None:
    code, output = cli.run_on_terminal(
        ["login", "-i"], [(r"Email", user.email), (r"Password", PASSWORD)]
    )
    assert code == 0, output
    assert f"Logged in as {user.email}" in output
    netrc = (cli.home / ".netrc").read_text()
    assert f"machine localhost:{tls_server.port}" in netrc  # the CLI keys netrc by host:port
    token = re.search(r"password (\S+)", netrc)
    assert token is not None
    assert _ok(cli.run("auth:whoami")).strip() == user.email
    assert _ok(cli.run("auth:token")).strip() == token.group(1)
    sessions = json.loads(_ok(cli.run("sessions", "--json")))
    assert len(sessions) == 1
    assert sessions[0]["description"].startswith("Heroku CLI login from")
    _ok(cli.run("logout"))
    with tls_server.client(token.group(1)) as client:
        assert client.get("/account").status_code == 401
    with tls_server.client(user.api_key) as client:
        assert client.get("/account").status_code == 200  # logout never touches the API key


def test_login_interactive_with_a_wrong_password_fails(cli: HerokuCLI, user: UserAccount) -> None:
    code, output = cli.run_on_terminal(
        ["login", "-i"], [(r"Email", user.email), (r"Password", "wrong password!")]
    )
    assert code != 0
    assert "Invalid credentials" in output


def test_authorizations_lifecycle(
    cli: HerokuCLI, user: UserAccount, tls_server: ServerProcess
) -> None:
    key = user.api_key
    token = _ok(
        cli.run(
            "authorizations:create",
            "-d",
            "CI deploys",
            "-s",
            "read",
            "-e",
            "3600",
            "-S",
            api_key=key,
        )
    ).strip()
    assert token.startswith("osta_")
    listed = json.loads(_ok(cli.run("authorizations", "--json", api_key=key)))
    created = next(a for a in listed if a["description"] == "CI deploys")
    assert created["scope"] == ["read"]
    info = _ok(cli.run("authorizations:info", created["id"], api_key=key))
    assert "CI deploys" in info
    assert token not in info  # shown redacted
    _ok(cli.run("authorizations:update", created["id"], "-d", "renamed", api_key=key))
    rotated = _ok(cli.run("authorizations:rotate", created["id"], api_key=key))
    new_token = re.search(r"Token:\s+(osta_\w+)", rotated)
    assert new_token is not None
    with tls_server.client(token) as client:
        assert client.get("/apps").status_code == 401
    with tls_server.client(new_token.group(1)) as client:
        assert client.get("/apps").status_code == 200
    _ok(cli.run("authorizations:revoke", created["id"], api_key=key))
    with tls_server.client(new_token.group(1)) as client:
        assert client.get("/apps").status_code == 401


def test_clients_lifecycle(cli: HerokuCLI, user: UserAccount, tls_server: ServerProcess) -> None:
    key = user.api_key
    created = _ok(cli.run("clients:create", "My App", "https://example.com/cb", api_key=key))
    client_id = re.search(r"HEROKU_OAUTH_ID=(\S+)", created)
    secret = re.search(r"HEROKU_OAUTH_SECRET=(ostc_\w+)", created)
    assert client_id is not None
    assert secret is not None
    info = _ok(cli.run("clients:info", client_id.group(1), api_key=key))
    assert "My App" in info
    assert secret.group(1) not in info
    _ok(cli.run("clients:update", client_id.group(1), "-n", "Renamed App", api_key=key))
    rotated = _ok(cli.run("clients:rotate", client_id.group(1), api_key=key))
    new_secret = re.search(r"secret:\s+(ostc_\w+)", rotated)
    assert new_secret is not None
    assert new_secret.group(1) != secret.group(1)
    assert "Renamed App" in rotated
    refused = cli.run("clients:create", "Bad", "http://example.com/cb", api_key=key)
    assert refused.returncode != 0
    _ok(cli.run("clients:destroy", client_id.group(1), api_key=key))
    listed = json.loads(_ok(cli.run("clients", "--json", api_key=key)))
    assert client_id.group(1) not in [c["id"] for c in listed]


def test_logout_without_a_session_keeps_the_api_key(
    cli: HerokuCLI, user: UserAccount, tls_server: ServerProcess
) -> None:
    (cli.home / ".netrc").write_text(
        f"machine localhost:{tls_server.port}\n  login {user.email}\n  password {user.api_key}\n"
    )
    (cli.home / ".netrc").chmod(0o600)
    assert _ok(cli.run("auth:whoami")).strip() == user.email
    _ok(cli.run("logout"))
    with tls_server.client(user.api_key) as client:
        assert client.get("/account").status_code == 200
