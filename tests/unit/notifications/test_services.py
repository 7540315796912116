"""The subscriber on a real database, fed by the real sealer with events the real services
record: a sign-in mails only from a new place and never the first; security notices always go;
informational ones only when on; one mail per event even when a batch is told twice; an
administrator's action mails the account; settings refuse what cannot be turned off."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ostiary.accounts.models import Account
from ostiary.accounts.passwords import ProvedPassword
from ostiary.accounts.sessions import open_session
from ostiary.activity.chain import chain_key
from ostiary.activity.queries import logged_event
from ostiary.activity.records import LoggedEvent
from ostiary.activity.services import seal_events
from ostiary.clock import utcnow
from ostiary.config import load_settings
from ostiary.events import Event
from ostiary.notifications.errors import AlwaysSent, UnknownNotification
from ostiary.notifications.models import SentNotification, SignInPlaceRow
from ostiary.notifications.queries import settings_of
from ostiary.notifications.rules import MAX_PLACES
from ostiary.notifications.services import notify, update_settings
from ostiary.security.server_secret import load_or_create_secret
from ostiary.tokens.owners import change_password, password_login
from ostiary.tokens.queries import api_key_of
from ostiary.tokens.records import NewAuthorization, RequestedAuthorization
from ostiary.tokens.services import create_authorization, regenerate
from ostiary.webhooks.outbox import OutboxMail
from tests.support.factories import Factory, UserAccount
from tests.unit.notifications.conftest import BASE_URL, CHROME_MAC, FIREFOX, HEROKU, Seal, unit_from


def _sign_in(
    factory: Factory, account: UserAccount, *, ip: str = "203.0.113.5", agent: str = FIREFOX
) -> None:
    with factory.database.unit_of_work(write=True) as session:
        unit = unit_from(factory, session, ip=ip, user_agent=agent)
        open_session(unit, account_id=account.id, description="Browser login", expires_at=None)


def _set(factory: Factory, account: UserAccount, **changes: object) -> None:
    with factory.database.unit_of_work(write=True) as session:
        update_settings(unit_from(factory, session), account.id, changes)


def test_the_first_sign_in_is_remembered_and_a_new_place_mails(
    factory: Factory, seal: Seal
) -> None:
    account = factory.account()
    _sign_in(factory, account)
    assert seal() == []  # the account's first: nothing to compare with
    _sign_in(factory, account, ip="203.0.113.99")  # same device, same /24
    assert seal() == []
    _sign_in(factory, account, agent=CHROME_MAC)
    mails = seal()
    assert [mail.subject for mail in mails] == ["New sign-in to your Ostiary account"]
    mail = mails[0]
    assert mail.to == account.email
    assert "From: 203.0.113.5" in mail.text
    assert "Device: Chrome on Mac OS X" in mail.text
    assert "When: " in mail.text
    assert " UTC" in mail.text
    assert f"{BASE_URL}/dashboard/sessions" in mail.text
    assert f'href="{BASE_URL}/dashboard/sessions"' in mail.html
    assert "Chrome/131" not in mail.text + mail.html  # the header itself is never mailed
    # Another network for a known device is new too; then both are known.
    _sign_in(factory, account, ip="198.51.100.7")
    assert len(seal()) == 1
    _sign_in(factory, account, ip="198.51.100.8")
    _sign_in(factory, account, agent=CHROME_MAC)
    assert seal() == []


def test_new_sign_ins_can_be_turned_off_and_are_still_remembered(
    factory: Factory, seal: Seal
) -> None:
    account = factory.account()
    _sign_in(factory, account)
    seal()
    _set(factory, account, new_sign_in=False)
    _sign_in(factory, account, agent=CHROME_MAC)
    assert seal() == []
    _set(factory, account, new_sign_in=True)
    _sign_in(factory, account, agent=CHROME_MAC)  # known since, though not mailed
    assert seal() == []


def test_a_password_change_mails_once_even_with_informational_ones_off(
    factory: Factory, seal: Seal
) -> None:
    account = factory.account()
    _set(factory, account, new_sign_in=False, new_token=False)
    seal()
    with factory.database.unit_of_work(write=True) as session:
        row = session.get(Account, account.id)
        assert row is not None
        change_password(unit_from(factory, session), row, new_hash="x", keep_session_id=None)
    mails = seal()
    # The API key it regenerated is told in the same mail, not in a second one.
    assert [mail.subject for mail in mails] == ["Your Ostiary password was changed"]
    assert "API key was regenerated" in mails[0].text
    assert f"{BASE_URL}/dashboard/account" in mails[0].text
    assert "always sent" in mails[0].text


def test_an_api_key_regenerated_mails_but_not_the_one_made_with_the_account(
    factory: Factory, seal: Seal
) -> None:
    account = factory.account()
    assert seal() == []
    with factory.database.unit_of_work(write=True) as session:
        regenerate(unit_from(factory, session), api_key_of(session, account.id, for_update=True))
    mails = seal()
    assert [mail.subject for mail in mails] == ["Your Ostiary API key was regenerated"]
    assert account.api_key not in mails[0].text + mails[0].html
    assert f"{BASE_URL}/dashboard/api-key" in mails[0].text


def test_a_new_token_mails_only_when_on_and_never_its_secret(factory: Factory, seal: Seal) -> None:
    account = factory.account()
    seal()

    def new_token() -> str:
        with factory.database.unit_of_work(write=True) as session:
            issued = create_authorization(
                unit_from(factory, session),
                NewAuthorization(
                    account_id=account.id,
                    scopes=["read"],
                    description="CI",
                    expires_in=None,
                    creator_scopes=frozenset({"global"}),
                ),
            )
            return issued.access.plaintext

    first = new_token()
    mails = seal()
    assert [mail.subject for mail in mails] == ["A new token for your Ostiary account"]
    assert "Scopes: read" in mails[0].text
    assert first not in mails[0].text + mails[0].html
    assert f"{BASE_URL}/dashboard/notifications" in mails[0].text  # where to turn it off
    _set(factory, account, new_token=False)
    new_token()
    assert seal() == []


def test_the_apis_password_login_mails_its_sign_in_not_its_token(
    factory: Factory, seal: Seal
) -> None:
    account = factory.account()
    _sign_in(factory, account)
    seal()
    with factory.database.unit_of_work(write=True) as session:
        password_login(
            unit_from(factory, session, user_agent=HEROKU),
            ProvedPassword(account.id),
            RequestedAuthorization(description="heroku login -i"),
        )
    mails = seal()
    assert [mail.subject for mail in mails] == ["New sign-in to your Ostiary account"]
    assert "Device: heroku on Linux" in mails[0].text


def test_an_administrators_action_mails_the_account_without_the_administrators_address(
    factory: Factory, seal: Seal
) -> None:
    account = factory.account()
    admin = factory.account("admin")
    seal()
    with factory.database.unit_of_work(write=True) as session:
        unit = unit_from(factory, session, ip="192.0.2.1", user_agent="curl/8.5.0")
        unit.record(
            "account:second-factor:remove",
            actor_id=admin.id,
            target_type="account",
            target_id=account.id,
            details={"kind": "totp", "by": "administrator"},
        )
        unit_from(factory, session, ip=None, user_agent=None, request_id=None).record(
            "account:password:reset",
            actor_id=None,
            target_type="account",
            target_id=account.id,
            details={"by": "administrator"},
        )
    mails = seal()
    assert sorted(mail.subject for mail in mails) == [
        "A second factor was removed from your Ostiary account",
        "Your Ostiary password was reset",
    ]
    assert all(mail.to == account.email for mail in mails)
    texts = " ".join(mail.text + mail.html for mail in mails)
    assert "192.0.2.1" not in texts
    assert "curl" not in texts
    assert "an administrator" in texts
    assert "Second factor: an authenticator app (TOTP)" in texts
    assert f"{BASE_URL}/dashboard/two-factor" in texts


def test_each_second_factor_and_recovery_code_event_mails(factory: Factory, seal: Seal) -> None:
    account = factory.account()
    seal()
    with factory.database.unit_of_work(write=True) as session:
        unit = unit_from(factory, session)
        recorded: list[tuple[str, dict[str, object]]] = [
            ("account:second-factor:add", {"kind": "passkey"}),
            ("account:recovery-codes:regenerate", {}),
            ("account:recovery-codes:use", {"remaining": 9, "code": "abcd-efgh"}),
        ]
        for action, details in recorded:
            unit.record(
                action,
                actor_id=account.id,
                target_type="account",
                target_id=account.id,
                details=details,
            )
    mails = seal()
    assert [mail.subject for mail in mails] == [
        "A second factor was added to your Ostiary account",
        "New recovery codes for your Ostiary account",
        "A recovery code was used on your Ostiary account",
    ]
    assert "Second factor: a passkey" in mails[0].text
    assert "Recovery codes left: 9" in mails[2].text
    # Only the details a mail names are shown: never a code, whatever an event holds.
    assert all("abcd-efgh" not in mail.text + mail.html for mail in mails)


def test_a_batch_told_twice_mails_once(factory: Factory, seal: Seal) -> None:
    account = factory.account()
    _sign_in(factory, account)
    seal()
    _sign_in(factory, account, agent=CHROME_MAC)
    assert len(seal()) == 1
    with factory.database.unit_of_work(write=True) as session:
        rows = session.scalars(select(Event).where(Event.actor_id == account.id)).all()
        events = [logged_event(row) for row in rows]
        # The same events again (a sealer that ran twice): nothing more is queued.
        assert notify(session, events, base_url=BASE_URL, retry_window=timedelta(days=1)) == 0
        assert session.scalar(select(func.count()).select_from(OutboxMail)) == 1
        assert session.scalar(select(func.count()).select_from(SentNotification)) == 1


def test_an_account_keeps_at_most_its_cap_of_places(factory: Factory, seal: Seal) -> None:
    account = factory.account()
    for n in range(MAX_PLACES + 5):
        _sign_in(factory, account, ip=f"10.{n}.0.1")
        seal()
    with factory.database.unit_of_work(write=False) as session:
        kept = session.scalars(
            select(SignInPlaceRow.network).where(SignInPlaceRow.account_id == account.id)
        ).all()
    assert len(kept) == MAX_PLACES
    assert "10.0.0.0/24" not in kept  # the least recently used went
    assert f"10.{MAX_PLACES + 4}.0.0/24" in kept


def test_a_place_unused_for_a_year_is_forgotten(factory: Factory, seal: Seal) -> None:
    from ostiary.notifications.retention import FORGOTTEN
    from ostiary.purge import purge_expired

    account = factory.account()
    _sign_in(factory, account)
    _sign_in(factory, account, agent=CHROME_MAC)
    seal()
    with factory.database.unit_of_work(write=True) as session:
        session.execute(
            update(SignInPlaceRow)
            .where(SignInPlaceRow.device == "Firefox on Linux")
            .values(last_seen_at=utcnow() - timedelta(days=366))
        )
    assert purge_expired(factory.database, kinds=FORGOTTEN)["unused sign-in places"] == 1
    _sign_in(factory, account)
    assert len(seal()) == 1


def test_settings_refuse_a_security_notice_an_unknown_name_and_a_non_boolean(
    factory: Factory,
) -> None:
    account = factory.account()
    with factory.database.unit_of_work(write=True) as session:
        unit = unit_from(factory, session)
        with pytest.raises(AlwaysSent):
            update_settings(unit, account.id, {"api_key": False})
        with pytest.raises(AlwaysSent):
            update_settings(unit, account.id, {"password_changed": False})
        with pytest.raises(UnknownNotification):
            update_settings(unit, account.id, {"newsletter": False})
        with pytest.raises(UnknownNotification):
            update_settings(unit, account.id, {"new_token": "no"})
        assert settings_of(session, account.id).as_dict() == {
            "new_sign_in": True,
            "new_token": True,
        }
        changed = update_settings(unit, account.id, {"new_token": False})
        assert changed.as_dict() == {"new_sign_in": True, "new_token": False}
        recorded = session.scalars(
            select(Event).where(Event.action == "account:notifications:update")
        ).all()
    assert [event.details for event in recorded] == [{"changed": {"new_token": False}}]


def test_a_passkey_sign_in_recording_two_events_mails_once(factory: Factory, seal: Seal) -> None:
    account = factory.account()
    _sign_in(factory, account)
    seal()
    with factory.database.unit_of_work(write=True) as session:
        unit = unit_from(factory, session, user_agent=CHROME_MAC)
        unit.record("auth:passkey:success", actor_id=account.id)
        open_session(unit, account_id=account.id, description="Browser login", expires_at=None)
    assert [mail.subject for mail in seal()] == ["New sign-in to your Ostiary account"]


def test_a_notification_that_fails_never_stops_the_sealing(
    factory: Factory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from ostiary.notifications import services

    account = factory.account()
    settings = load_settings(data_dir=tmp_path, smtp_url="smtp://127.0.0.1:2525")
    subscriber = services.notifications_enqueuer(settings)
    assert subscriber is not None

    real = services.notify

    def broken(session: Session, events: list[LoggedEvent], **kwargs: Any) -> int:
        real(session, events, **kwargs)  # writes first, then fails: all of it is undone
        raise ValueError("a bug")

    monkeypatch.setattr(services, "notify", broken)
    key = chain_key(load_or_create_secret(settings))
    _sign_in(factory, account)
    _sign_in(factory, account, agent=CHROME_MAC)
    with caplog.at_level(logging.ERROR, logger="ostiary.notifications"):
        sealed = seal_events(factory.database, key, [subscriber])
    assert sealed == 4  # the account's creation, its API key and two sign-ins
    assert "notifications of 4 sealed events were not queued (ValueError)" in caplog.text
    with factory.database.unit_of_work(write=False) as session:
        unsealed = session.scalar(
            select(func.count()).select_from(Event).where(Event.seq.is_(None))
        )
        assert session.scalar(select(func.count()).select_from(OutboxMail)) == 0
        assert session.scalar(select(func.count()).select_from(SignInPlaceRow)) == 0
    assert unsealed == 0
    assert account.email not in caplog.text
