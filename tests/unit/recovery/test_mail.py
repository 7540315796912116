"""The recovery mail: the link where one must be, in both parts, escaped in the HTML; the
notices carry none."""

from __future__ import annotations

from ostiary.recovery.mail import (
    email_changed_notice,
    reset_link_mail,
    verification_mail,
)
from ostiary.recovery.records import Mailroom

ROOM = Mailroom(base_url="https://id.example.com/", seal=None)


def test_links_point_at_the_issuer_with_the_token_in_the_query() -> None:
    assert ROOM.link("/reset-password", "abc") == "https://id.example.com/reset-password?token=abc"
    assert not ROOM.enabled


def test_the_reset_mail_carries_the_link_in_both_parts() -> None:
    link = ROOM.link("/reset-password", "t0k&n")
    mail = reset_link_mail("ada@example.com", link, 30)
    assert mail.to == "ada@example.com"
    assert link in mail.text
    assert "30 minutes" in mail.text
    assert 'href="https://id.example.com/reset-password?token=t0k&amp;n"' in mail.html
    assert "<script" not in mail.html


def test_a_verification_of_a_change_says_the_old_address_stays_until_followed() -> None:
    link = ROOM.link("/verify-email", "tok")
    change = verification_mail("new@example.com", link, change=True)
    assert "until then the old address stays" in change.text
    assert link in change.text
    assert "marked unverified" in verification_mail("a@example.com", link, change=False).text


def test_the_notices_carry_no_link_or_token() -> None:
    mail = email_changed_notice("old@example.com", "new<b>@example.com", "2026-12-02 02:00 UTC")
    assert "token=" not in mail.text + mail.html
    assert "http" not in mail.text
    escaped = email_changed_notice("old@example.com", "new<b>@example.com", "now").html
    assert "new&lt;b&gt;@example.com" in escaped
