"""The activity log's filters, sentences and CSV cells, without storage."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ostiary.activity.describe import sentence, what_happened
from ostiary.activity.export import CSV_COLUMNS, csv_row, event_document
from ostiary.activity.records import LoggedEvent
from ostiary.activity.rules import EventFilter, escape_like, parse_action, parse_timestamp
from ostiary.errors import InvalidParams


def _event(**fields: object) -> LoggedEvent:
    base: dict[str, object] = {
        "id": "e1",
        "seq": 3,
        "action": "token:api-key:regenerate",
        "created_at": datetime(2026, 12, 1, 18, 0, 0, 123456, tzinfo=UTC),
        "actor_id": "acct",
        "authorization_id": "auth",
        "target_type": "authorization",
        "target_id": "auth",
        "ip": "203.0.113.5",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "request_id": "req",
        "outcome": "success",
        "token": "ostk_ABCD**********wxyz",
    }
    base.update(fields)
    return LoggedEvent(**base)  # type: ignore[arg-type]


def test_the_issues_example_sentence() -> None:
    assert sentence(_event()) == "API key regenerated from 203.0.113.5, Firefox on Linux"


def test_an_unknown_action_still_reads() -> None:
    assert what_happened("alert:raise") == "Alert raise"
    assert what_happened("webhook:create") == "Webhook created"
    assert sentence(_event(action="x:y:revoke", ip=None, user_agent=None)) == "X y revoked"


def test_a_refused_request_says_so() -> None:
    assert "(refused)" in sentence(_event(action="app:update", outcome="failure"))
    assert sentence(_event(action="auth:password:failure", outcome="failure")).startswith(
        "Failed sign-in"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-12-01T18:00:00Z", datetime(2026, 12, 1, 18, tzinfo=UTC)),
        ("2026-12-01T19:00:00+01:00", datetime(2026, 12, 1, 18, tzinfo=UTC)),
        ("2026-12-01t18:00:00.5z", datetime(2026, 12, 1, 18, 0, 0, 500000, tzinfo=UTC)),
    ],
)
def test_rfc3339_times(value: str, expected: datetime) -> None:
    assert parse_timestamp(value, "since") == expected


@pytest.mark.parametrize(
    "value", ["2026-12-01", "2026-12-01T18:00:00", "2026-02-30T00:00:00Z", "now", "1e9"]
)
def test_not_rfc3339_is_invalid_params(value: str) -> None:
    with pytest.raises(InvalidParams) as raised:
        parse_timestamp(value, "until")
    assert raised.value.field == "until"


def test_action_filters() -> None:
    assert EventFilter(action=parse_action("token:*")).action_prefix == "token:"
    assert EventFilter(action=parse_action("token:api-key:regenerate")).action_prefix is None
    for bad in ("token:*:x", "a b", "x%", "A" * 90):
        with pytest.raises(InvalidParams):
            parse_action(bad)
    assert escape_like("a_b%") == "a\\_b\\%%"


def test_csv_cells_that_look_like_formulas_are_defused() -> None:
    row = dict(zip(CSV_COLUMNS, csv_row(_event(user_agent="=1+1", ip="@SUM(A1)")), strict=True))
    assert row["user_agent"] == "'=1+1"
    assert row["source_ip"] == "'@SUM(A1)"
    assert row["created_at"] == "2026-12-01T18:00:00.123456Z"


def test_the_documents_shape() -> None:
    document = event_document(_event(client_id="client-1", app_id=None))
    assert document["authorization"] == {
        "id": "auth",
        "token": "ostk_ABCD**********wxyz",
        "client": {"id": "client-1"},
    }
    assert document["actor"] == {"id": "acct"}
    assert document["app"] is None
    assert document["seq"] == 3
    assert event_document(_event(seq=0))["seq"] is None
