"""The example third-party app (examples/third_party_app.py, Authlib) signs a user in through
Ostiary in a real browser: login, consent, back with the user's apps listed."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.factories import PASSWORD, Factory
from tests.support.server import ServerProcess, free_port, start_server

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(tmp_path_factory.mktemp("e2e"), tls=True)
    yield server
    server.stop()


@pytest.fixture
def example_app(tls_server: ServerProcess, tmp_path: Path) -> Iterator[dict[str, Any]]:
    factory = Factory(tls_server.data_dir)
    user = factory.account("e2e")
    factory.close()
    port = free_port()
    redirect = f"http://127.0.0.1:{port}/callback"
    with tls_server.client(user.api_key) as api:
        api.post("/apps", json={"name": f"shown-{port}"})
        client = api.post(
            "/oauth/clients", json={"name": "Example App", "redirect_uri": redirect}
        ).json()
    env = {
        "PATH": "/usr/bin:/bin",
        "OSTIARY_URL": f"https://localhost:{tls_server.port}",
        "OSTIARY_CA": str(tls_server.cert_path),
        "CLIENT_ID": client["id"],
        "CLIENT_SECRET": client["secret"],
        "REDIRECT_URI": redirect,
    }
    log = (tmp_path / "example.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "examples.third_party_app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    yield {
        "url": f"http://127.0.0.1:{port}",
        "email": user.email,
        "app": f"shown-{port}",
        "ostiary": f"https://localhost:{tls_server.port}",
    }
    process.terminate()
    process.wait(timeout=10)
    log.close()


def test_sign_in_with_ostiary_lists_the_users_apps(example_app: dict[str, Any], page: Any) -> None:
    page.goto(example_app["url"])
    page.click("#signin")
    page.wait_for_url("**/login?**")
    page.fill("#email", example_app["email"])
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/oauth/authorize?**")
    assert "Authorize Example App" in page.text_content("h1")
    assert "127.0.0.1" in page.text_content("main")  # the host it will redirect to
    assert "read" in page.text_content(".scopes")
    page.click("button[value=allow]")
    page.wait_for_url("**/callback?**")
    assert page.text_content("h1") == "Your apps"
    assert example_app["app"] in page.text_content("#apps")
    ostiary = example_app["ostiary"]
    assert [error for error in page.console_errors if error.startswith(ostiary)] == []


def test_denying_returns_to_the_app_without_tokens(example_app: dict[str, Any], page: Any) -> None:
    page.goto(example_app["url"] + "/signin")
    page.fill("#email", example_app["email"])
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.click("button[value=deny]")
    page.wait_for_url("**/callback?**")
    assert "access_denied" in page.text_content("body")
