"""A notification's mail as its reader sees it, and what a hostile request cannot put in it:
markup from its User-Agent, a token sent as the User-Agent, a secret in an event's details."""

from __future__ import annotations

from datetime import UTC, datetime

from ostiary.activity.records import LoggedEvent
from ostiary.config import load_settings
from ostiary.notifications.messages import notification_mail, server_url
from ostiary.notifications.records import PASSWORD_CHANGED, SIGN_IN, TOKEN_CREATED
from ostiary.notifications.rules import device_of
from ostiary.security.tokens import TokenKind, mint_token
from tests.unit.notifications.conftest import BASE_URL, FIREFOX

AT = datetime(2026, 12, 2, 2, 4, 11, 123456, tzinfo=UTC)


def _event(**fields: object) -> LoggedEvent:
    values: dict[str, object] = {
        "id": "e1",
        "seq": 1,
        "action": "session:create",
        "created_at": AT,
        "actor_id": "acct",
        "authorization_id": None,
        "target_type": "session",
        "target_id": "s1",
        "ip": "203.0.113.5",
        "user_agent": FIREFOX,
        "request_id": "r1",
        "outcome": "success",
    }
    values.update(fields)
    return LoggedEvent(**values)  # type: ignore[arg-type]


def test_a_mail_says_what_when_from_where_and_links_to_its_page() -> None:
    mail = notification_mail(
        SIGN_IN, _event(), account_id="acct", to="owner@example.com", base_url=BASE_URL
    )
    assert mail.to == "owner@example.com"
    assert mail.subject == "New sign-in to your Ostiary account"
    assert "When: 2026-12-02 02:04:11 UTC" in mail.text
    assert "From: 203.0.113.5" in mail.text
    assert "Device: Firefox on Linux" in mail.text
    assert f"{BASE_URL}/dashboard/sessions" in mail.text
    assert f'<a href="{BASE_URL}/dashboard/sessions">' in mail.html
    assert "<th>When</th><td>2026-12-02 02:04:11 UTC</td>" in mail.html
    # Informational: where to turn it off; security: that it always goes.
    assert f"{BASE_URL}/dashboard/notifications" in mail.text
    changed = notification_mail(
        PASSWORD_CHANGED,
        _event(action="account:password:change"),
        account_id="acct",
        to="owner@example.com",
        base_url=BASE_URL,
    )
    assert "always sent" in changed.text
    assert "/dashboard/notifications" not in changed.text


def test_markup_in_a_user_agent_never_reaches_the_html() -> None:
    hostile = '<img src=x onerror="alert(1)"> Mozilla/5.0'
    mail = notification_mail(
        SIGN_IN,
        _event(user_agent=hostile),
        account_id="acct",
        to="owner@example.com",
        base_url=BASE_URL,
    )
    assert "<img" not in mail.html
    assert "onerror" not in mail.text + mail.html


def test_a_token_sent_as_the_user_agent_is_not_mailed() -> None:
    for kind in TokenKind:
        token = mint_token(kind)
        for agent in (token, f"{token} curl/8.5.0", token.upper()):
            assert device_of(agent) == "unknown" or token[:10] not in device_of(agent)
            mail = notification_mail(
                SIGN_IN,
                _event(user_agent=agent),
                account_id="acct",
                to="owner@example.com",
                base_url=BASE_URL,
            )
            assert token[5:15] not in mail.text + mail.html


def test_only_the_details_a_mail_names_are_shown_and_no_token_among_them() -> None:
    token = mint_token(TokenKind.AUTHORIZATION)
    mail = notification_mail(
        TOKEN_CREATED,
        _event(
            action="token:authorization:create",
            details={"scope": ["read", token], "token": token, "description": "secret plans"},
        ),
        account_id="acct",
        to="owner@example.com",
        base_url=BASE_URL,
    )
    assert "Scopes: read, [redacted]" in mail.text
    assert token not in mail.text + mail.html
    assert "secret plans" not in mail.text


def test_the_links_use_the_issuer_else_the_servers_own_address() -> None:
    assert server_url(load_settings(issuer="https://id.example.com/")) == "https://id.example.com"
    plain = load_settings(host="127.0.0.1", port=5001)
    assert server_url(plain) == "https://127.0.0.1:5001"
