"""The real heroku CLI (npm ``heroku@11``) against a real Ostiary server over HTTPS.

The CLI is installed once into ~/.cache/ostiary-tests (outside the repo). Every host it could
call (API, login, particleboard) points at Ostiary, and a preloaded hook refuses and records any
lookup of another host: each test ends by checking that record is empty, so nothing reached a
heroku.com host.
"""

from __future__ import annotations

import json
import re
import secrets
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
    # The CLI ran outside this checkout: `apps:create` in a git repository adds a remote.
    remotes = subprocess.run(
        ["git", "remote", "-v"], cwd=Path(__file__).parent, capture_output=True, text=True
    ).stdout
    assert f":{tls_server.port}/" not in remotes, remotes


@pytest.fixture
def user(tls_factory: Factory) -> UserAccount:
    return tls_factory.account("cli")


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def _fields(output: str) -> dict[str, list[str]]:
    """The ``Key: value`` lines the CLI prints for one object (hux.styledObject); a value
    continued on indented lines gives several values, an empty one none."""
    fields: dict[str, list[str]] = {}
    key = None
    for line in output.splitlines():
        match = re.match(r"^(\w[^:]*):\s*(.*)$", line)
        if match:
            key = match.group(1)
            fields[key] = [match.group(2).strip()] if match.group(2).strip() else []
        elif key is not None and line.startswith(" ") and line.strip():
            fields[key].append(line.strip())
        else:
            key = None
    return fields


def _rows(output: str) -> list[list[str]]:
    """The cells of the tables the CLI prints (hux.table), header rows included."""
    return [
        re.split(r"\s{2,}", line.strip())
        for line in output.splitlines()
        if line.startswith("  ") and line.strip() and not line.strip().startswith("─")
    ]


def _no_error(stderr: str) -> None:
    """Nothing went wrong on the way (the first run's terms-of-service notice aside)."""
    assert "Error" not in stderr, stderr
    assert "not found" not in stderr.lower(), stderr


def test_whoami_with_an_api_key(cli: HerokuCLI, user: UserAccount) -> None:
    assert _ok(cli.run("auth:whoami", api_key=user.api_key)).strip() == user.email


def test_whoami_with_a_revoked_key_fails(
    cli: HerokuCLI, user: UserAccount, tls_server: ServerProcess
) -> None:
    with tls_server.client(user.api_key) as client:
        client.post("/oauth/authorizations/~/actions/regenerate-tokens")
    result = cli.run("auth:whoami", api_key=user.api_key)
    assert result.returncode != 0
    assert "Invalid credentials provided." in result.stderr
    assert "Error ID: unauthorized" in result.stderr
    assert result.stdout == ""


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
    logout = cli.run("logout")
    assert logout.returncode == 0, logout.stderr
    assert "Logging out... done" in logout.stderr
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
    updated = cli.run("authorizations:update", created["id"], "-d", "renamed", api_key=key)
    assert _fields(_ok(updated))["Description"] == ["renamed"]
    assert _fields(updated.stdout)["Scope"] == ["read"]
    assert re.fullmatch(r"osta_\w{4}\*{10}\w{4}", _fields(updated.stdout)["Token"][0])
    assert "Updating OAuth Authorization... done" in updated.stderr
    rotated = _ok(cli.run("authorizations:rotate", created["id"], api_key=key))
    new_token = re.search(r"Token:\s+(osta_\w+)", rotated)
    assert new_token is not None
    with tls_server.client(token) as client:
        assert client.get("/apps").status_code == 401
    with tls_server.client(new_token.group(1)) as client:
        assert client.get("/apps").status_code == 200
    revoked = cli.run("authorizations:revoke", created["id"], api_key=key)
    _ok(revoked)
    assert "Revoking OAuth Authorization... done, revoked authorization from renamed" in (
        revoked.stderr
    )
    with tls_server.client(new_token.group(1)) as client:
        assert client.get("/apps").status_code == 401
    remaining = json.loads(_ok(cli.run("authorizations", "--json", api_key=key)))
    assert created["id"] not in [a["id"] for a in remaining]


def test_clients_lifecycle(cli: HerokuCLI, user: UserAccount, tls_server: ServerProcess) -> None:
    key = user.api_key
    creation = cli.run("clients:create", "My App", "https://example.com/cb", api_key=key)
    created = _ok(creation)
    assert "Creating My App... done" in creation.stderr
    client_id = re.search(r"HEROKU_OAUTH_ID=(\S+)", created)
    secret = re.search(r"HEROKU_OAUTH_SECRET=(ostc_\w+)", created)
    assert client_id is not None
    assert secret is not None
    info = _ok(cli.run("clients:info", client_id.group(1), api_key=key))
    assert "My App" in info
    assert secret.group(1) not in info
    updated = cli.run("clients:update", client_id.group(1), "-n", "Renamed App", api_key=key)
    _ok(updated)
    assert f"Updating {client_id.group(1)}... done" in updated.stderr
    assert "Renamed App" in _ok(cli.run("clients:info", client_id.group(1), api_key=key))
    rotated = _ok(cli.run("clients:rotate", client_id.group(1), api_key=key))
    new_secret = re.search(r"secret:\s+(ostc_\w+)", rotated)
    assert new_secret is not None
    assert new_secret.group(1) != secret.group(1)
    assert "Renamed App" in rotated
    refused = cli.run("clients:create", "Bad", "http://example.com/cb", api_key=key)
    assert refused.returncode != 0
    assert "Unsupported callback URL" in refused.stderr
    destroyed = cli.run("clients:destroy", client_id.group(1), api_key=key)
    _ok(destroyed)
    assert f"Destroying {client_id.group(1)}... done" in destroyed.stderr
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
    logout = cli.run("logout")
    _ok(logout)
    assert "Logging out... done" in logout.stderr
    netrc = cli.home / ".netrc"
    assert not netrc.exists() or user.api_key not in netrc.read_text()  # forgotten here only
    with tls_server.client(user.api_key) as client:
        assert client.get("/account").status_code == 200


def _app_name() -> str:
    return f"cli-{secrets.token_hex(4)}"


def test_apps_lifecycle(cli: HerokuCLI, user: UserAccount, tls_server: ServerProcess) -> None:
    key, name = user.api_key, _app_name()
    created = cli.run("apps:create", name, "--region", "eu", api_key=key)
    assert _ok(created).startswith(f"https://{name}.herokuapp.com/ | ")
    assert f"Creating {name}... done, region is eu" in created.stderr
    listing = _ok(cli.run("apps", api_key=key))
    assert f"=== {user.email} Apps" in listing
    assert f"{name} (eu)" in listing.splitlines()

    info = cli.run("apps:info", "-a", name, api_key=key)
    _no_error(info.stderr)  # dynos and pipeline couplings answered as for an app without them
    assert f"=== {name}" in _ok(info)
    fields = _fields(info.stdout)
    assert fields["Owner"] == [user.email]
    assert fields["Region"] == ["eu"]
    assert fields["Stack"] == ["heroku-24"]
    assert fields["Git URL"] == [f"https://git.heroku.com/{name}.git"]
    assert fields["Web URL"] == [f"https://{name}.herokuapp.com/"]
    assert fields["Dynos"] == []  # none, as for an app scaled to zero
    assert "Addons" not in fields  # empty lists are left out
    assert "Collaborators" not in fields  # the owner is not shown as one
    assert "Pipeline" not in fields
    assert "Create Status" not in fields
    shell = _ok(cli.run("apps:info", name, "--shell", api_key=key)).splitlines()
    assert {f"owner={user.email}", "region=eu", "dynos={}", "stack=heroku-24"} <= set(shell)
    assert not [line for line in shell if "undefined" in line or "pipeline" in line]
    as_json = json.loads(_ok(cli.run("apps:info", name, "--json", api_key=key)))
    assert as_json["dynos"] == []
    assert as_json["pipeline_coupling"] is None
    assert [(c["user"]["email"], c["role"]) for c in as_json["collaborators"]] == [
        (user.email, "owner")
    ]

    renamed = _app_name()
    rename = cli.run("apps:rename", renamed, "--app", name, api_key=key)
    assert _ok(rename).startswith(f"https://{renamed}.herokuapp.com/ | ")
    assert f"Renaming {name} to {renamed}... done" in rename.stderr
    on = cli.run("maintenance:on", "-a", renamed, api_key=key)
    assert f"Enabling maintenance mode for {renamed}... done" in on.stderr
    assert _ok(cli.run("maintenance", "-a", renamed, api_key=key)).strip() == "on"
    off = cli.run("maintenance:off", "-a", renamed, api_key=key)
    assert f"Disabling maintenance mode for {renamed}... done" in off.stderr
    assert _ok(cli.run("maintenance", "-a", renamed, api_key=key)).strip() == "off"

    code, output = cli.run_on_terminal(
        ["apps:destroy", renamed], [(r"To proceed, type", renamed)], api_key=key
    )
    assert code == 0, output
    assert f"Destroying {renamed} (including all add-ons)... done" in output
    with tls_server.client(key) as client:
        assert client.get(f"/apps/{renamed}").status_code == 404


def test_config_and_releases(cli: HerokuCLI, user: UserAccount) -> None:
    key, name = user.api_key, _app_name()
    _ok(cli.run("apps:create", name, api_key=key))
    setting = cli.run("config:set", "A=1", "B=two words", "-a", name, api_key=key)
    assert _fields(_ok(setting)) == {"A": ["1"], "B": ["two words"]}
    assert f"Setting A, B and restarting {name}... done, v2" in setting.stderr
    config = _ok(cli.run("config", "-a", name, api_key=key))
    assert f"=== {name} Config Vars" in config
    assert _fields(config) == {"A": ["1"], "B": ["two words"]}
    assert _ok(cli.run("config:get", "B", "-a", name, api_key=key)) == "two words\n"
    unset = cli.run("config:unset", "A", "-a", name, api_key=key)
    assert f"Unsetting A and restarting {name}... done, v3" in _ok(unset) + unset.stderr
    assert json.loads(_ok(cli.run("config", "-a", name, "--json", api_key=key))) == {
        "B": "two words"
    }

    releases = _ok(cli.run("releases", "-a", name, api_key=key))
    assert f"=== {name} Releases - Current: v3" in releases
    rows = {row[0]: row[1:] for row in _rows(releases)}
    assert rows["v3"][:2] == ["Remove A config vars", user.email]
    assert rows["v2"][:2] == ["Set A, B config vars", user.email]
    assert rows["v1"][:2] == ["Initial release", user.email]

    second = cli.run("releases:info", "2", "-a", name, api_key=key)
    _no_error(second.stderr)
    header, config_part = _ok(second).split("=== v2 Config vars")
    assert "=== Release v2" in header
    assert _fields(header)["Change"] == ["Set A, B config vars"]
    assert _fields(header)["By"] == [user.email]
    assert _fields(header)["Eligible for Rollback?"] == ["Yes"]
    assert _fields(config_part) == {"A": ["1"], "B": ["two words"]}  # as of v2, not now
    current = _ok(cli.run("releases:info", "-a", name, api_key=key))
    header, config_part = current.split("=== v3 Config vars")
    assert _fields(header)["Eligible for Rollback?"] == ["No"]
    assert _fields(config_part) == {"B": ["two words"]}
    shell = _ok(cli.run("releases:info", "v2", "-a", name, "--shell", api_key=key))
    assert shell.split("=== v2 Config vars")[1].split() == ["A=1", "B='two", "words'"]


def test_access(
    cli: HerokuCLI, user: UserAccount, tls_factory: Factory, tls_server: ServerProcess
) -> None:
    key, name = user.api_key, _app_name()
    other = tls_factory.account("cli-collaborator")
    _ok(cli.run("apps:create", name, api_key=key))
    added = cli.run("access:add", other.email, "-a", name, api_key=key)
    assert f"Adding {other.email} access to the app {name}... done" in _ok(added) + added.stderr
    table = _rows(_ok(cli.run("access", "-a", name, api_key=key)))
    # Heroku's personal-app listing: the owner among them, no permissions column.
    assert table == [
        ["email", "role"],
        *sorted([[user.email, "owner"], [other.email, "collaborator"]]),
    ]
    fields = _fields(_ok(cli.run("apps:info", "-a", name, api_key=key)))
    assert fields["Collaborators"] == [other.email]  # apps:info leaves the owner out
    assert fields["Owner"] == [user.email]
    listed = json.loads(_ok(cli.run("access", "-a", name, "--json", api_key=key)))
    assert sorted(c["role"] for c in listed) == ["collaborator", "owner"]
    # The collaborator sees the same list, and cannot take the owner off it.
    assert _rows(_ok(cli.run("access", "-a", name, api_key=other.api_key))) == table
    refused = cli.run("access:remove", user.email, "-a", name, api_key=other.api_key)
    assert refused.returncode != 0
    assert "Error ID: forbidden" in refused.stderr
    removed = cli.run("access:remove", other.email, "-a", name, api_key=key)
    assert f"Removing {other.email} access from the app {name}... done" in (
        _ok(removed) + removed.stderr
    )
    assert _rows(_ok(cli.run("access", "-a", name, api_key=key))) == [
        ["email", "role"],
        [user.email, "owner"],
    ]
    with tls_server.client(other.api_key) as client:
        assert client.get(f"/apps/{name}").status_code == 404


def test_addons(cli: HerokuCLI, user: UserAccount, tls_server: ServerProcess) -> None:
    key, name = user.api_key, _app_name()
    database = f"db-{secrets.token_hex(4)}"
    _ok(cli.run("apps:create", name, api_key=key))
    redis = cli.run("addons:create", "heroku-redis", "-a", name, api_key=key)
    made = re.search(r"Created (redis-\S+) as REDIS_URL", _ok(redis))
    assert made is not None
    assert "Recorded by Ostiary" in redis.stdout
    assert "~$0.004/hour (max $3/month)" in redis.stderr
    created = cli.run(
        "addons:create", "heroku-postgresql", "--name", database, "-a", name, api_key=key
    )
    assert f"Created {database} as DATABASE_URL" in _ok(created)

    for_app = cli.run("addons", "-a", name, api_key=key)
    _no_error(for_app.stderr)
    rows = _rows(_ok(for_app))
    assert rows[0] == ["Add-on", "Plan", "Price", "Max Price", "State"]
    postgres_row = [f"heroku-postgresql ({database})", "essential-0", "~$0.007/hour"]
    redis_row = [f"heroku-redis ({made.group(1)})", "mini", "~$0.004/hour"]
    assert [*postgres_row, "$5/month", "created"] in rows
    assert [*redis_row, "$3/month", "created"] in rows
    assert ["└─ as DATABASE"] in rows
    assert ["└─ as REDIS"] in rows
    everywhere = _rows(_ok(cli.run("addons", "--all", api_key=key)))
    assert everywhere[0] == ["Owning App", "Add-on", "Plan", "Price", "Max Price", "State"]
    owning_row = [name, database, "heroku-postgresql:essential-0", "~$0.007/hour"]
    assert [*owning_row, "$5/month", "created"] in everywhere

    info = cli.run("addons:info", database, api_key=key)
    _no_error(info.stderr)
    assert f"=== {database}" in _ok(info)
    fields = _fields(info.stdout)
    assert fields["Plan"] == ["heroku-postgresql:essential-0"]
    assert fields["Price"] == ["~$0.007/hour"]
    assert fields["Max Price"] == ["$5/month"]
    assert fields["Attachments"] == [f"{name}::DATABASE"]
    assert fields["Owning app"] == [name]
    assert fields["State"] == ["created"]
    by_attachment = _ok(cli.run("addons:info", "REDIS", "-a", name, api_key=key))
    assert f"=== {made.group(1)}" in by_attachment
    assert _fields(by_attachment)["Attachments"] == [f"{name}::REDIS"]

    upgrade = cli.run(
        "addons:upgrade", database, "heroku-postgresql:essential-1", "-a", name, api_key=key
    )
    _ok(upgrade)
    assert (
        f"Changing {database} on {name} from heroku-postgresql:essential-0 to "
        "heroku-postgresql:essential-1... done, ~$0.013/hour (max $9/month)"
    ) in upgrade.stderr

    code, output = cli.run_on_terminal(
        ["addons:destroy", database, "-a", name], [(r"To proceed, type", name)], api_key=key
    )
    assert code == 0, output
    assert f"Destroying {database} on {name}... done" in output
    remaining = _rows(_ok(cli.run("addons", "-a", name, api_key=key)))
    assert not [row for row in remaining if database in row[0]]
    missing = cli.run("addons:info", database, api_key=key)
    assert missing.returncode != 0
    assert "Couldn't find that add-on" in missing.stderr
    with tls_server.client(key) as client:
        descriptions = [r["description"] for r in client.get(f"/apps/{name}/releases").json()]
    assert descriptions[-1] == f"Detach {database}"


# ``login -i`` against an account with an authenticator app: on the 403 ``two_factor`` the CLI
# prompts for the code, resends with ``Heroku-Two-Factor-Code`` and logs in; a wrong code fails.


@pytest.fixture
def enrolled_user(tls_factory: Factory) -> tuple[UserAccount, Enrolled]:
    account = tls_factory.account("cli-2fa")
    return account, enrol_totp(tls_factory, account)


def test_login_i_prompts_for_the_code_and_logs_in_with_it(
    cli: HerokuCLI, enrolled_user: tuple[UserAccount, Enrolled]
) -> None:
    account, enrolled = enrolled_user
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
    whoami = cli.run("auth:whoami")
    assert whoami.returncode == 0, whoami.stderr
    assert whoami.stdout.strip() == account.email


def test_login_i_with_a_wrong_code_fails(
    cli: HerokuCLI, enrolled_user: tuple[UserAccount, Enrolled]
) -> None:
    account, enrolled = enrolled_user
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
