"""``ostiary login``: the device flow (RFC 8628) as the first-party CLI client, approved in
headless Chromium by typing the code the CLI printed, as a user on another device would."""

from __future__ import annotations

import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.factories import PASSWORD, Factory
from tests.support.oauth_flow import api_status
from tests.support.ostiary_cli import OstiaryCLI
from tests.support.server import ServerProcess, start_server


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(tmp_path_factory.mktemp("cli-login"), tls=True)
    yield server
    server.stop()


def _login_page(page: Any, email: str) -> None:
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def test_device_login_approved_in_the_browser(
    tls_server: ServerProcess, page: Any, tmp_path: Path
) -> None:
    factory = Factory(tls_server.data_dir)
    user = factory.account("device-login")
    factory.close()
    cli = OstiaryCLI(tls_server, tmp_path / "home")
    cli.home.mkdir()
    terminal = cli.spawn("login", "--no-browser")
    shown = terminal.read_until(r"open (https://\S+/device) and enter the code ([A-Z]{4}-[A-Z]{4})")
    verification_uri, user_code = shown.group(1), shown.group(2)
    assert verification_uri == f"{tls_server.url}/device"

    page.goto(verification_uri)
    page.wait_for_url("**/login?**")
    _login_page(page, user.email)
    page.fill("#user_code", user_code.replace("-", "").lower())  # typed loosely, as people do
    page.click("button[type=submit]")
    assert "Ostiary CLI" in page.text_content("main")
    page.click("button[value=allow]")
    page.wait_for_url("**/device/done**")
    assert page.console_errors == []

    terminal.read_until(rf"Logged in as {re.escape(user.email)}")
    assert terminal.wait() == 0
    assert stat.S_IMODE(cli.netrc.stat().st_mode) == 0o600
    whoami = cli.run("auth:whoami")
    assert whoami.returncode == 0, whoami.stderr
    assert whoami.stdout.strip() == user.email

    # The saved token is a one-year authorization named after this machine, the child of the
    # "Ostiary CLI" grant the browser approved: revoking that grant (as the dashboard's
    # authorized applications page does) would revoke it too.
    token = cli.run("auth:token").stdout.strip()
    with tls_server.client(token) as api:
        listed = api.get("/oauth/authorizations").json()
    login = [a for a in listed if a["description"].startswith("Ostiary CLI login from")]
    assert len(login) == 1
    assert login[0]["access_token"]["expires_in"] > 364 * 86400
    cli_grants = [a for a in listed if (a.get("client") or {}).get("name") == "Ostiary CLI"]
    assert len(cli_grants) == 1
    assert login[0]["parent"] == {"id": cli_grants[0]["id"]}

    # Logging out ends the grant and the token it made.
    assert cli.run("logout").returncode == 0
    with tls_server.client(user.api_key) as api:
        remaining = api.get("/oauth/authorizations").json()
    assert {a["id"] for a in remaining} & {login[0]["id"], cli_grants[0]["id"]} == set()
    assert api_status(tls_server, token) == 401


def test_denied_device_login_fails_cleanly(
    tls_server: ServerProcess, page: Any, tmp_path: Path
) -> None:
    factory = Factory(tls_server.data_dir)
    user = factory.account("device-deny")
    factory.close()
    cli = OstiaryCLI(tls_server, tmp_path / "home")
    cli.home.mkdir()
    terminal = cli.spawn("login", "--no-browser")
    link = terminal.read_until(r"\(or open (https://\S+user_code=\S+)\)").group(1)
    page.goto(link)
    page.wait_for_url("**/login?**")
    _login_page(page, user.email)
    # The complete URI only fills the code in: the user still confirms it (RFC 8628 5.4).
    assert page.input_value("#user_code") == terminal.output.split("enter the code ")[1][:9]
    page.click("button[type=submit]")
    page.click("button[value=deny]")
    terminal.read_until(r"Error: access_denied")
    assert terminal.wait() == 1
    assert "Traceback" not in terminal.output
    assert not cli.netrc.exists()
