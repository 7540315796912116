"""The access log (web/access_log.py): one JSON line per request, with its fields and no secret,
to stderr, a file, or nowhere."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ostiary.security.tokens import TokenKind, mint_token
from ostiary.web.access_log import access_line, open_access_log
from ostiary.web.observed import ObservedRequest


def _observed(**changes: object) -> ObservedRequest:
    fields: dict[str, object] = {
        "at": 1_764_614_400.1234,  # 2025-12-01T18:40:00.123Z
        "method": "GET",
        "route": "/apps/{app_identity}",
        "status": 200,
        "duration": 0.0023456,
        "ip": "203.0.113.5",
        "user_agent": "heroku-cli/8.0.0 node-v20",
        "request_id": "0b6c3f0e-0000-4000-8000-000000000001",
        "account_id": "acc-1",
        "authorization_id": "auth-1",
    }
    fields.update(changes)
    return ObservedRequest(**fields)  # type: ignore[arg-type]


def test_a_line_holds_the_requests_fields() -> None:
    line = access_line(_observed())
    assert line.endswith("\n")
    assert line.count("\n") == 1
    assert json.loads(line) == {
        "time": "2025-12-01T18:40:00.123Z",
        "request_id": "0b6c3f0e-0000-4000-8000-000000000001",
        "method": "GET",
        "route": "/apps/{app_identity}",
        "status": 200,
        "duration_ms": 2.346,
        "account_id": "acc-1",
        "authorization_id": "auth-1",
        "address": "203.0.113.5",
        "user_agent": "heroku-cli/8.0.0 node-v20",
    }


def test_the_time_is_rfc3339_utc() -> None:
    shown = json.loads(access_line(_observed(at=0.999)))["time"]
    assert shown == "1970-01-01T00:00:00.999Z"
    parsed = datetime.fromisoformat(shown.replace("Z", "+00:00"))
    assert parsed.utcoffset() == UTC.utcoffset(None)


def test_each_line_has_its_own_second() -> None:
    moments = [59.5, 60.25, 59.75, 3600.0]
    shown = [json.loads(access_line(_observed(at=at)))["time"] for at in moments]
    assert shown == [
        "1970-01-01T00:00:59.500Z",
        "1970-01-01T00:01:00.250Z",
        "1970-01-01T00:00:59.750Z",
        "1970-01-01T01:00:00.000Z",
    ]


def test_an_anonymous_unrouted_request_has_nulls() -> None:
    line = json.loads(access_line(_observed(route=None, account_id=None, authorization_id=None)))
    assert line["route"] is None
    assert line["account_id"] is None
    assert line["authorization_id"] is None


def test_a_token_in_the_user_agent_is_redacted() -> None:
    token = mint_token(TokenKind.OAUTH_ACCESS)
    line = access_line(_observed(user_agent=f"curl/8.0 {token}"))
    assert token not in line
    assert json.loads(line)["user_agent"] == "curl/8.0 [redacted]"


def test_a_long_user_agent_is_cut_and_odd_characters_escaped() -> None:
    line = access_line(_observed(user_agent='a\n"b\u2028' + "x" * 5000))
    assert line.count("\n") == 1  # a newline in a header cannot forge a second line
    assert len(json.loads(line)["user_agent"]) == 512


def test_off_means_no_log() -> None:
    assert open_access_log("off") is None
    assert open_access_log("OFF") is None


def test_dash_writes_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    log = open_access_log("-")
    assert log is not None
    log(_observed())
    printed = capsys.readouterr()
    assert printed.out == ""
    assert json.loads(printed.err)["route"] == "/apps/{app_identity}"


def test_a_path_is_appended_to_and_private(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    path.write_text('{"earlier": true}\n')
    path.chmod(0o600)
    first = open_access_log(str(path))
    second = open_access_log(str(path))  # a second worker's descriptor
    assert first is not None
    assert second is not None
    try:
        first(_observed(status=200))
        second(_observed(status=404))
        first(_observed(status=500))
        # Each line is written at once (line-buffered): in order, none mixed, none held back.
        lines = path.read_text().splitlines()
        assert [json.loads(line).get("status") for line in lines] == [None, 200, 404, 500]
    finally:
        first.close()
        second.close()
    fresh = tmp_path / "new.log"
    created = open_access_log(str(fresh))
    assert created is not None
    created.close()
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
