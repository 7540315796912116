"""``ostiary check`` on mail: off without SMTP (said, with the fix), an unusable URL an error,
a password sent in plain text a warning; never the password in what it prints."""

from __future__ import annotations

from pathlib import Path

from ostiary.config import load_settings
from ostiary.selfcheck import Level, audit, check_mail, check_webhook_targets


def test_without_smtp_alert_mail_is_said_to_be_off(tmp_path: Path) -> None:
    finding = check_mail(load_settings(data_dir=tmp_path))
    assert finding.level == Level.WARNING
    assert "alert mail is off" in finding.message
    # It names the account features that need mail, and what to do without it.
    assert '"Forgot password?"' in finding.message
    assert "ostiary accounts reset-password" in finding.message
    assert "email verification" in finding.message
    assert finding.fix is not None
    assert "OSTIARY_SMTP_URL" in finding.fix
    assert finding in audit(load_settings(data_dir=tmp_path))


def test_a_configured_server_is_named_without_its_password(tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path,
        smtp_url="smtp://ostiary:s3cr3t-pw@mail.example.com?starttls=true",
        mail_from="alerts@example.com",
    )
    finding = check_mail(settings)
    assert finding.level == Level.OK
    assert "password reset links and email verification are on" in finding.message
    assert "mail.example.com:587 with STARTTLS" in finding.message
    assert "alerts@example.com" in finding.message
    assert "s3cr3t-pw" not in finding.message


def test_a_password_in_plain_text_is_a_warning(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, smtp_url="smtp://u:pw-123@mail.example.com")
    finding = check_mail(settings)
    assert finding.level == Level.WARNING
    assert "pw-123" not in finding.message
    loopback = check_mail(load_settings(data_dir=tmp_path, smtp_url="smtp://127.0.0.1:2525"))
    assert loopback.level == Level.OK


def test_an_unusable_url_is_an_error(tmp_path: Path) -> None:
    finding = check_mail(load_settings(data_dir=tmp_path, smtp_url="mailto:someone"))
    assert finding.level == Level.ERROR


def test_webhooks_to_loopback_are_a_warning(tmp_path: Path) -> None:

    assert check_webhook_targets(load_settings(data_dir=tmp_path)).level is Level.OK
    allowed = check_webhook_targets(load_settings(data_dir=tmp_path, webhook_allow_loopback=True))
    assert allowed.level is Level.WARNING
    assert "OSTIARY_WEBHOOK_ALLOW_LOOPBACK" in allowed.message
