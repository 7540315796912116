"""What `make run` does (`ostiary run`), the admin commands, and the 429 of a small pool."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.server import (
    API_HEADERS,
    NO_REFILL,
    free_port,
    ostiary_env,
    run_cli,
    start_server,
    trusting,
)


def _run_until_serving(data_dir: Path, port: int) -> tuple[subprocess.Popen[str], str]:
    env = ostiary_env(data_dir, {"OSTIARY_PORT": str(port)})
    process = subprocess.Popen(
        [sys.executable, "-m", "ostiary", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    output = ""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        output += line
        if "Ostiary is serving on" in line:
            break
        if not line and process.poll() is not None:
            break
    cert = data_dir / "tls" / "cert.pem"
    for _ in range(100):
        try:
            httpx.get(f"https://localhost:{port}/health", verify=trusting(cert), timeout=2)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    return process, output


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.communicate(timeout=15)


def test_run_creates_a_first_account_and_serves_https(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    port = free_port()
    process, output = _run_until_serving(data_dir, port)
    try:
        assert "Ostiary is serving on https://localhost:" in output, output
        email = re.search(r"email:\s+(\S+)", output)
        key = re.search(r"API key:\s+(ostk_\w+)", output)
        assert email, output
        assert key, output
        assert re.search(r"password:\s+\S{16,}", output)
        cert = data_dir / "tls" / "cert.pem"
        assert str(cert.resolve()) in output
        response = httpx.get(
            f"https://localhost:{port}/account",
            headers={**API_HEADERS, "Authorization": f"Bearer {key.group(1)}"},
            verify=trusting(cert),
        )
        assert response.status_code == 200
        assert response.json()["email"] == email.group(1)
        assert response.headers["strict-transport-security"]
    finally:
        _stop(process)
    # A second run keeps the account and prints no new credentials.
    process, output = _run_until_serving(data_dir, port)
    try:
        assert "API key:" not in output
        assert "Existing accounts kept" in output
    finally:
        _stop(process)


def test_accounts_create_print_api_key_prints_only_the_key(tmp_path: Path) -> None:
    env = ostiary_env(tmp_path)
    assert run_cli("db", "upgrade", env=env).returncode == 0
    result = run_cli(
        "accounts",
        "create",
        "Grace@Example.com",
        "--password-stdin",
        "--print-api-key",
        env=env,
        stdin="a sufficiently long password\n",
    )
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"ostk_\w{36}\n", result.stdout)
    listed = run_cli("accounts", "list", env=env)
    assert "grace@example.com" in listed.stdout
    as_json = json.loads(run_cli("accounts", "list", "--json", env=env).stdout)
    assert [account["email"] for account in as_json] == ["grace@example.com"]


def test_accounts_create_refuses_bad_input(tmp_path: Path) -> None:
    env = ostiary_env(tmp_path)
    run_cli("db", "upgrade", env=env)
    short = run_cli(
        "accounts", "create", "a@example.com", "--password-stdin", env=env, stdin="short\n"
    )
    assert short.returncode == 1
    assert "at least 12 characters" in short.stderr
    bad_email = run_cli(
        "accounts", "create", "not-an-email", "--password-stdin", env=env, stdin="long enough pw\n"
    )
    assert bad_email.returncode == 1
    assert "not a valid email" in bad_email.stderr
    assert "Traceback" not in short.stderr + bad_email.stderr


def test_empty_pool_gets_429_with_retry_after(tmp_path: Path) -> None:
    from tests.support.factories import Factory

    server = start_server(tmp_path, settings={"OSTIARY_RATE_LIMIT_CAPACITY": "3", **NO_REFILL})
    try:
        factory = Factory(server.data_dir)
        account = factory.account()
        factory.close()
        with server.client(account.api_key) as client:
            remaining = [
                int(client.get("/account").headers["ratelimit-remaining"]) for _ in range(3)
            ]
            assert remaining == [2, 1, 0]
            limited = client.get("/apps")
            assert limited.status_code == 429
            assert limited.json()["id"] == "rate_limit"
            assert int(limited.headers["retry-after"]) >= 1
            assert limited.headers["ratelimit-remaining"] == "0"
            budget = client.get("/account/rate-limits")
            assert budget.status_code == 200
            assert budget.json() == {"remaining": 0}
    finally:
        server.stop()


def test_serve_on_a_port_in_use_says_which_setting_changes_it(tmp_path: Path) -> None:
    env = ostiary_env(tmp_path / "var")
    assert run_cli("db", "upgrade", env=env).returncode == 0
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run_cli("serve", "--port", str(port), "--insecure-http", env=env)
    assert result.returncode == 1
    assert "Ostiary is serving" not in result.stderr
    assert f"Cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "OSTIARY_PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_lost_password_is_replaced_and_the_old_key_dies(tmp_path: Path) -> None:
    server = start_server(tmp_path / "var")
    try:
        created = run_cli(
            "accounts",
            "create",
            "lost@example.com",
            "--password-stdin",
            "--print-api-key",
            env=server.env,
            stdin="the first passphrase\n",
        )
        old_key = created.stdout.strip()
        reset = run_cli(
            "accounts",
            "set-password",
            "LOST@example.com",
            "--password-stdin",
            env=server.env,
            stdin="a second passphrase\n",
        )
        assert reset.returncode == 0, reset.stderr
        new_key = re.search(r"API key \(shown once\):\s+(\S+)", reset.stdout)
        assert new_key is not None
        with server.client(old_key) as api:
            assert api.get("/account").status_code == 401
        with server.client(new_key.group(1)) as api:
            assert api.get("/account").json()["email"] == "lost@example.com"
        with server.client() as api:
            login = api.post(
                "/oauth/authorizations", auth=("lost@example.com", "a second passphrase"), json={}
            )
            assert login.status_code == 201
            old = api.post(
                "/oauth/authorizations", auth=("lost@example.com", "the first passphrase"), json={}
            )
            assert old.status_code == 401
        unknown = run_cli(
            "accounts",
            "set-password",
            "nobody@example.com",
            "--password-stdin",
            env=server.env,
            stdin="a third passphrase\n",
        )
        assert unknown.returncode == 1
        assert "No account has the email nobody@example.com" in unknown.stderr
    finally:
        server.stop()
