"""The real heroku CLI's browser login (`heroku login`), approved in headless Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.factories import PASSWORD, Factory
from tests.support.heroku_cli import HerokuCLI, ensure_installed
from tests.support.server import ServerProcess, start_server


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    ensure_installed()
    server = start_server(tmp_path_factory.mktemp("heroku-login"), tls=True)
    yield server
    server.stop()


def test_heroku_login_in_the_browser_then_whoami(
    tls_server: ServerProcess, page: Any, tmp_path: Path
) -> None:
    factory = Factory(tls_server.data_dir)
    user = factory.account("browser-login")
    factory.close()
    home = tmp_path / "home"
    home.mkdir()
    cli = HerokuCLI(binary=ensure_installed(), server=tls_server, home=home)
    terminal = cli.spawn(["login"])
    terminal.read_until(r"Press any key")
    terminal.send(" ")
    url = terminal.read_until(r"(https://localhost:\d+/auth/cli/browser/\S+)").group(1)
    url = re.sub(r"\x1b\[[0-9;]*m", "", url)
    page.goto(url)
    page.wait_for_url("**/login?**")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    assert "the Heroku CLI" in page.text_content("h1")
    page.click("button[value=allow]")
    page.wait_for_url("**/device/done**")
    terminal.read_until(rf"Logged in as {re.escape(user.email)}")
    assert terminal.wait() == 0
    whoami = cli.run("auth:whoami")
    assert whoami.returncode == 0, whoami.stderr
    assert whoami.stdout.strip() == user.email
    assert not cli.remote_log.exists() or cli.remote_log.read_text() == ""
