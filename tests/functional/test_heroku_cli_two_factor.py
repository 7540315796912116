"""The real heroku CLI's ``login -i`` against an account with an authenticator app: on the 403
``two_factor`` it prompts for the code, resends with ``Heroku-Two-Factor-Code``, and logs in;
a wrong code fails the login. Over HTTPS, on a pseudo-terminal, as a user runs it."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.factories import PASSWORD, Factory, UserAccount
from tests.support.heroku_cli import HerokuCLI, ensure_installed
from tests.support.second_factors import Enrolled, enrol_totp
from tests.support.server import ServerProcess, start_server


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    ensure_installed()  # skip before starting anything when the CLI cannot be had
    server = start_server(tmp_path_factory.mktemp("cli-2fa-server"), tls=True)
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
def user(tls_factory: Factory) -> tuple[UserAccount, Enrolled]:
    account = tls_factory.account("cli-2fa")
    return account, enrol_totp(tls_factory, account)


def _whoami(cli: HerokuCLI) -> subprocess.CompletedProcess[str]:
    return cli.run("auth:whoami")


def test_login_i_prompts_for_the_code_and_logs_in_with_it(
    cli: HerokuCLI, user: tuple[UserAccount, Enrolled]
) -> None:
    account, enrolled = user
    code, output = cli.run_on_terminal(
        ["login", "-i"],
        [
            (r"Email", account.email),
            (r"Password", PASSWORD),
            (r"Two-factor code", enrolled.code()),
        ],
    )
    assert code == 0, output
    assert f"Logged in as {account.email}" in output
    assert enrolled.code() not in output  # the code prompt does not echo
    whoami = _whoami(cli)
    assert whoami.returncode == 0, whoami.stderr
    assert whoami.stdout.strip() == account.email


def test_login_i_with_a_wrong_code_fails(
    cli: HerokuCLI, user: tuple[UserAccount, Enrolled]
) -> None:
    account, enrolled = user
    wrong = f"{(int(enrolled.code()) + 1) % 1_000_000:06d}"
    code, output = cli.run_on_terminal(
        ["login", "-i"],
        [(r"Email", account.email), (r"Password", PASSWORD), (r"Two-factor code", wrong)],
    )
    assert code != 0, output
    assert "Logged in" not in output
    assert (
        not (cli.home / ".netrc").exists() or account.email not in (cli.home / ".netrc").read_text()
    )
