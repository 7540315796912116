"""``GET /account`` writes its JSON itself (web/api/account.py): the bytes must be exactly those
FastAPI wrote from ``AccountOut`` before, whatever the account's name holds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ostiary.accounts.records import AccountSnapshot
from ostiary.web.api.account import _account_response, present_account

NAMES = [
    None,
    "Ada Lovelace",
    'quote " and backslash \\ and slash /',
    "Zoë 🚀 名前 \u2028 separator",
    "control \x00 \x1f \t \n \x7f",
]


@pytest.mark.parametrize("two_factor", [False, True])
@pytest.mark.parametrize("name", NAMES)
def test_the_account_body_is_what_pydantic_writes(name: str | None, two_factor: bool) -> None:
    account = AccountSnapshot(
        id="9d5a6f5e-0000-4000-8000-000000000001",
        email="ädä+tag@example.com",
        name=name,
        allow_tracking=True,
        beta=False,
        created_at=datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC),
        updated_at=datetime(2026, 12, 1, 11, 0, 0, tzinfo=UTC),
        last_login=datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC) if name else None,
        two_factor_authentication=two_factor,
    )
    response = _account_response(account)
    assert (
        response.body == present_account(account, two_factor=two_factor).model_dump_json().encode()
    )
    assert response.headers["content-type"] == "application/json"
