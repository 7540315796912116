"""The ``ostiary`` command line against a real server, run as a subprocess the way users run it:
login and logout, every resource command with its --json output, credentials on disk, and bad
input that must end in one clear line and exit code 1 (2 for usage errors)."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.factories import PASSWORD, Factory, UserAccount
from tests.support.ostiary_cli import FILE_KEYRING, OstiaryCLI
from tests.support.server import PASSWORD_WORK_TIMEOUT, ServerProcess, free_port, start_server


@pytest.fixture
def cli(server: ServerProcess, tmp_path: Path) -> OstiaryCLI:
    home = tmp_path / "home"
    home.mkdir()
    return OstiaryCLI(server, home)


def _ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result


def _json(result: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(_ok(result).stdout)


def _fails(result: subprocess.CompletedProcess[str], code: int = 1) -> str:
    """The one-line error of a failed command."""
    assert result.returncode == code, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    if code == 1:
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("Error: ")
    return result.stderr


def _status(server: ServerProcess, token: str) -> int:
    with server.client(token) as api:
        return api.get("/account").status_code


def _log_in(cli: OstiaryCLI, email: str, password: str = PASSWORD) -> tuple[int, str]:
    return cli.run_on_terminal(["login", "-i"], [("Email", email), ("Password", password)])


class TestLogin:
    def test_login_i_on_a_terminal_then_whoami_token_and_logout(
        self, cli: OstiaryCLI, account: UserAccount, server: ServerProcess
    ) -> None:
        code, printed = _log_in(cli, account.email)
        assert code == 0, printed
        assert f"Logged in as {account.email}" in printed
        assert PASSWORD not in printed  # the password prompt does not echo
        assert "No OS keyring found" in printed
        # Heroku's netrc format, readable by the owner only.
        assert stat.S_IMODE(cli.netrc.stat().st_mode) == 0o600
        netrc_text = cli.netrc.read_text()
        assert "machine 127.0.0.1" in netrc_text
        assert f"login {account.email}" in netrc_text

        assert _ok(cli.run("auth:whoami")).stdout == f"{account.email}\n"
        token_run = _ok(cli.run("auth:token"))
        token = token_run.stdout.strip()
        assert token_run.stdout == token + "\n"  # the token alone, for $(...)
        assert token.startswith("osta_")
        assert token_run.stderr == ""  # a year to live: no warning
        assert f"password {token}" in netrc_text
        assert _status(server, token) == 200

        logout = _ok(cli.run("logout"))
        assert "Logged out." in logout.stderr
        assert _status(server, token) == 401  # revoked on the server
        assert "127.0.0.1" not in cli.netrc.read_text()  # and forgotten here
        assert _status(server, account.api_key) == 200  # the API key is untouched
        assert "Not logged in" in _fails(cli.run("auth:whoami"))

    def test_wrong_password_is_one_line(self, cli: OstiaryCLI, account: UserAccount) -> None:
        code, printed = _log_in(cli, account.email, "not the password")
        assert code == 1
        assert "Error: " in printed
        assert "Traceback" not in printed
        assert not cli.netrc.exists()

    def test_login_saves_to_the_keyring_when_there_is_one(
        self, server: ServerProcess, tmp_path: Path, account: UserAccount
    ) -> None:
        home = tmp_path / "keyring-home"
        home.mkdir()
        cli = OstiaryCLI(server, home, keyring_backend=FILE_KEYRING)
        code, printed = _log_in(cli, account.email)
        assert code == 0, printed
        assert "No OS keyring found" not in printed
        assert not cli.netrc.exists()
        token = _ok(cli.run("auth:token")).stdout.strip()
        assert _status(server, token) == 200
        keyring_files = list(home.rglob("keyring_pass.cfg"))
        assert len(keyring_files) == 1
        _ok(cli.run("logout"))
        assert _status(server, token) == 401
        assert "Not logged in" in _fails(cli.run("auth:token"))

    def test_the_environment_wins_and_is_not_logged_out(
        self, cli: OstiaryCLI, account: UserAccount
    ) -> None:
        assert _ok(cli.run("auth:whoami", api_key=account.api_key)).stdout.strip() == (
            account.email
        )
        assert "unset it" in _fails(cli.run("logout", api_key=account.api_key))

    def test_a_netrc_others_can_read_is_refused(
        self, cli: OstiaryCLI, account: UserAccount
    ) -> None:
        cli.netrc.write_text(f"machine 127.0.0.1\n  login {account.email}\n  password x\n")
        cli.netrc.chmod(0o644)
        message = _fails(cli.run("apps"))
        assert f"chmod 600 {cli.netrc}" in message

    def test_auth_token_warns_when_the_token_expires_within_a_week(
        self, cli: OstiaryCLI, account: UserAccount, server: ServerProcess
    ) -> None:
        with server.client(account.api_key) as api:
            created = api.post(
                "/oauth/authorizations", json={"description": "short", "expires_in": 3 * 86400}
            ).json()
        token = created["access_token"]["token"]
        cli.netrc.write_text(f"machine 127.0.0.1\n  login {account.email}\n  password {token}\n")
        cli.netrc.chmod(0o600)
        result = _ok(cli.run("auth:token"))
        assert result.stdout == token + "\n"
        assert "expires in 3 days;" in result.stderr  # rounded up, as made


class TestResourceCommands:
    def test_apps_config_collaborators_and_addons(
        self, cli: OstiaryCLI, account: UserAccount, other_account: UserAccount
    ) -> None:
        key = account.api_key
        assert _ok(cli.run("apps", api_key=key)).stdout.startswith("No apps. Create one")
        name = f"cli-{account.email.split('@')[0][-12:]}".lower()
        created = _json(cli.run("apps:create", name, "--region", "eu", "--json", api_key=key))
        assert created["name"] == name
        assert created["region"]["name"] == "eu"
        assert [a["name"] for a in _json(cli.run("apps", "--json", api_key=key))] == [name]
        assert name in _ok(cli.run("apps", api_key=key)).stdout
        assert _json(cli.run("apps:info", name, "--json", api_key=key))["id"] == created["id"]

        values = _json(cli.run("config:set", "A=1", "B=two=2", "-a", name, "--json", api_key=key))
        assert values == {"A": "1", "B": "two=2"}
        assert _json(cli.run("config", "-a", name, "--json", api_key=key)) == values
        assert _ok(cli.run("config:get", "B", "-a", name, api_key=key)).stdout == "two=2\n"
        assert _json(cli.run("config:unset", "A", "-a", name, "--json", api_key=key)) == {
            "B": "two=2"
        }
        assert "has no config var A" in _fails(cli.run("config:get", "A", "-a", name, api_key=key))

        added = _json(
            cli.run("collaborators:add", other_account.email, "-a", name, "--json", api_key=key)
        )
        assert added["user"]["email"] == other_account.email
        listed = _json(cli.run("collaborators", "-a", name, "--json", api_key=key))
        assert other_account.email in [c["user"]["email"] for c in listed]
        _ok(cli.run("collaborators:remove", other_account.email, "-a", name, api_key=key))
        listed = _json(cli.run("collaborators", "-a", name, "--json", api_key=key))
        assert other_account.email not in [c["user"]["email"] for c in listed]

        addon = _json(
            cli.run(
                "addons:create", "heroku-postgresql:essential-0", "-a", name, "--json", api_key=key
            )
        )
        assert addon["plan"]["name"] == "heroku-postgresql:essential-0"
        assert [a["id"] for a in _json(cli.run("addons", "-a", name, "--json", api_key=key))] == [
            addon["id"]
        ]
        _ok(cli.run("addons:destroy", addon["name"], "-a", name, api_key=key))
        assert _json(cli.run("addons", "-a", name, "--json", api_key=key)) == []

        renamed = _json(cli.run("apps:rename", name, f"{name}-2", "--json", api_key=key))
        assert renamed["name"] == f"{name}-2"
        assert "--confirm" in _fails(cli.run("apps:destroy", f"{name}-2", api_key=key))
        _ok(cli.run("apps:destroy", f"{name}-2", "--confirm", f"{name}-2", api_key=key))
        assert _json(cli.run("apps", "--json", api_key=key)) == []

    def test_authorizations(
        self, cli: OstiaryCLI, account: UserAccount, server: ServerProcess
    ) -> None:
        key = account.api_key
        created = _json(
            cli.run(
                "authorizations:create",
                "-s",
                "read,identity",
                "-d",
                "CI",
                "-e",
                "3600",
                "--json",
                api_key=key,
            )
        )
        token = created["access_token"]["token"]
        assert created["scope"] == ["identity", "read"] or set(created["scope"]) == {
            "identity",
            "read",
        }
        assert created["access_token"]["expires_in"] <= 3600
        assert _status(server, token) == 200
        listed = _json(cli.run("authorizations", "--json", api_key=key))
        assert created["id"] in [a["id"] for a in listed]
        assert token not in json.dumps(listed)  # listings are redacted
        info = _json(cli.run("authorizations:info", created["id"], "--json", api_key=key))
        assert info["description"] == "CI"
        updated = _json(
            cli.run("authorizations:update", created["id"], "-d", "nightly", "--json", api_key=key)
        )
        assert updated["description"] == "nightly"
        rotated = _json(cli.run("authorizations:rotate", created["id"], "--json", api_key=key))
        new_token = rotated["access_token"]["token"]
        assert _status(server, token) == 401
        assert _status(server, new_token) == 200
        human = _ok(cli.run("authorizations:revoke", created["id"], api_key=key)).stdout
        assert f"Revoked {created['id']}" in human
        assert _status(server, new_token) == 401
        api_key_info = _ok(cli.run("authorizations:info", "~", api_key=key)).stdout
        assert "Description: API key" in api_key_info

    def test_clients_and_sessions(self, cli: OstiaryCLI, account: UserAccount) -> None:
        key = account.api_key
        created = _json(
            cli.run(
                "clients:create",
                "Deploy bot",
                "https://bot.example.com/cb",
                "--client-credentials-scope",
                "read",
                "--json",
                api_key=key,
            )
        )
        secret = created["secret"]
        assert secret
        assert created["client_credentials_scopes"] == ["read"]
        listed = _json(cli.run("clients", "--json", api_key=key))
        assert [c["id"] for c in listed] == [created["id"]]
        assert secret not in json.dumps(listed)
        info = _json(cli.run("clients:info", created["id"], "--json", api_key=key))
        assert "secret" not in info or info["secret"] is None
        renamed = _json(
            cli.run("clients:update", created["id"], "--name", "Bot", "--json", api_key=key)
        )
        assert renamed["name"] == "Bot"
        rotated = _json(cli.run("clients:rotate", created["id"], "--json", api_key=key))
        assert rotated["secret"]
        assert rotated["secret"] != secret
        human = _ok(
            cli.run("clients:create", "Native", "http://127.0.0.1/cb", "--public", api_key=key)
        )
        assert "Type:" in human.stdout
        assert "public" in human.stdout
        _ok(cli.run("clients:destroy", created["id"], api_key=key))
        assert created["id"] not in json.dumps(_json(cli.run("clients", "--json", api_key=key)))
        login = httpx.post(  # a password login opens a session, as `login -i` does
            f"{cli.server.url}/oauth/authorizations",
            headers={"Accept": "application/vnd.heroku+json; version=3"},
            auth=(account.email, PASSWORD),
            json={"description": "laptop"},
            timeout=PASSWORD_WORK_TIMEOUT,
        )
        assert login.status_code == 201
        sessions = _json(cli.run("sessions", "--json", api_key=key))
        assert len(sessions) == 1
        ended = _json(cli.run("sessions:destroy", sessions[0]["id"], "--json", api_key=key))
        assert ended["id"] == sessions[0]["id"]
        assert _json(cli.run("sessions", "--json", api_key=key)) == []
        assert _status(cli.server, login.json()["access_token"]["token"]) == 401


class TestBadInput:
    def test_unknown_app(self, cli: OstiaryCLI, account: UserAccount) -> None:
        message = _fails(cli.run("apps:info", "no-such-app", api_key=account.api_key))
        assert "Couldn't find that app." in message
        assert "(request " in message

    def test_bad_scope(self, cli: OstiaryCLI, account: UserAccount) -> None:
        message = _fails(
            cli.run("authorizations:create", "-s", "superuser", api_key=account.api_key)
        )
        assert "superuser" in message

    def test_revoked_and_expired_tokens(
        self, cli: OstiaryCLI, factory: Factory, account: UserAccount, server: ServerProcess
    ) -> None:
        past = datetime.now(UTC) - timedelta(minutes=1)
        _, expired = factory.token(account, ["global"], expires_at=past)
        assert "Invalid credentials provided." in _fails(cli.run("apps", api_key=expired))
        authorization_id, revoked = factory.token(account, ["global"])
        with server.client(account.api_key) as api:
            assert api.delete(f"/oauth/authorizations/{authorization_id}").status_code == 200
        assert "Invalid credentials provided." in _fails(cli.run("apps", api_key=revoked))

    def test_a_plain_http_url_off_this_machine_is_refused(
        self, cli: OstiaryCLI, account: UserAccount
    ) -> None:
        message = _fails(
            cli.run("apps", "--api-url", "http://example.com", api_key=account.api_key)
        )
        assert "plain HTTP is allowed only to this machine" in message

    def test_server_down(self, cli: OstiaryCLI, account: UserAccount) -> None:
        url = f"http://127.0.0.1:{free_port()}"
        message = _fails(cli.run("apps", "--api-url", url, api_key=account.api_key))
        assert f"Cannot reach {url}" in message

    def test_usage_errors_exit_2(self, cli: OstiaryCLI, account: UserAccount) -> None:
        result = cli.run("config", api_key=account.api_key)  # no -a
        _fails(result, code=2)
        assert "--app" in result.stderr
        _fails(cli.run("config:set", "NOEQUALS", "-a", "x", api_key=account.api_key), code=2)


def test_check_reports_findings_with_fixes(cli: OstiaryCLI, tmp_path: Path) -> None:
    cli.extra_env["OSTIARY_DATA_DIR"] = str(tmp_path / "data")
    good = _ok(cli.run("check"))
    assert "secret key" in good.stdout
    assert "ERROR" not in good.stdout
    cli.extra_env["OSTIARY_TRUSTED_PROXIES"] = "0.0.0.0/0"
    cli.extra_env["OSTIARY_OAUTH_ACCESS_TOKEN_TTL"] = str(7 * 86400)
    cli.extra_env["OSTIARY_SIGNUP"] = "open"
    bad = cli.run("check")
    assert bad.returncode == 1
    assert "ERROR  proxy trust" in bad.stdout
    assert "fix: List only the addresses of your own proxies." in bad.stdout
    findings = json.loads(cli.run("check", "--json").stdout)
    levels = {f["topic"]: f["level"] for f in findings}
    assert levels["proxy trust"] == "error"
    assert levels["token lifetimes"] == "warning"
    assert levels["sign-up"] == "warning"


def test_shell_completion_script(cli: OstiaryCLI) -> None:
    script = _ok(cli.run("completion", "bash")).stdout
    assert "_OSTIARY_COMPLETE=bash_complete" in script
    completed = subprocess.run(  # the completion protocol, as bash runs it
        [str(Path(sys.executable).parent / "ostiary")],
        env={
            **cli.env(),
            "_OSTIARY_COMPLETE": "bash_complete",
            "COMP_WORDS": "ostiary apps:",
            "COMP_CWORD": "1",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert "apps:create" in completed.stdout


class TestFirstHour:
    def test_app_commands_take_dash_a_as_heroku_does(
        self, cli: OstiaryCLI, account: UserAccount
    ) -> None:
        key = account.api_key
        name = f"dash-a-{account.email.split('@')[0][-10:]}".lower()
        _ok(cli.run("apps:create", name, api_key=key))
        assert _json(cli.run("apps:info", "-a", name, "--json", api_key=key))["name"] == name
        assert _json(cli.run("apps:info", name, "--json", api_key=key))["name"] == name
        assert "Two different apps" in _fails(
            cli.run("apps:info", name, "-a", "another", api_key=key), code=2
        )
        assert "-a APP" in _fails(cli.run("apps:info", api_key=key), code=2)
        renamed = _json(cli.run("apps:rename", f"{name}-b", "-a", name, "--json", api_key=key))
        assert renamed["name"] == f"{name}-b"
        _ok(cli.run("apps:destroy", "-a", f"{name}-b", "--confirm", f"{name}-b", api_key=key))
        assert _json(cli.run("apps", "--json", api_key=key)) == []

    def test_an_untrusted_certificate_says_what_to_do(
        self, tmp_path: Path, account: UserAccount
    ) -> None:
        tls = start_server(tmp_path / "tls", tls=True)
        try:
            home = tmp_path / "home-tls"
            home.mkdir()
            cli = OstiaryCLI(tls, home)
            env_without_bundle = cli.env(api_key=account.api_key)
            env_without_bundle.pop("OSTIARY_CA_BUNDLE")
            result = subprocess.run(
                [sys.executable, "-m", "ostiary", "auth:whoami"],
                env=env_without_bundle,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        finally:
            tls.stop()
        message = _fails(result)
        assert "not trusted" in message
        assert "--ca-bundle var/tls/cert.pem" in message
        assert "OSTIARY_CA_BUNDLE" in message

    def test_whoami_says_where_the_credential_came_from(
        self, cli: OstiaryCLI, account: UserAccount
    ) -> None:
        from_env = _ok(cli.run("auth:whoami", api_key=account.api_key))
        assert from_env.stdout == f"{account.email}\n"
        assert "the environment (OSTIARY_API_KEY)" in from_env.stderr
        code, printed = _log_in(cli, account.email)
        assert code == 0, printed
        from_netrc = _ok(cli.run("auth:whoami"))
        assert from_netrc.stdout == f"{account.email}\n"
        assert f"the netrc ({cli.netrc})" in from_netrc.stderr

    def test_a_plain_file_keyring_is_used_only_when_chosen(
        self, server: ServerProcess, tmp_path: Path, account: UserAccount
    ) -> None:
        home = tmp_path / "auto-keyring"
        home.mkdir()
        cli = OstiaryCLI(server, home, keyring_backend=None)  # keyring picks, as at home
        code, printed = _log_in(cli, account.email)
        assert code == 0, printed
        assert "No OS keyring found; the token is saved in the netrc" in printed
        assert cli.netrc.exists()
        assert list(home.rglob("keyring_pass.cfg")) == []
