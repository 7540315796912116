"""Which event is which notification and for whom, and the new-device rule, without storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ostiary.activity.records import LoggedEvent
from ostiary.notifications import records
from ostiary.notifications.records import KnownPlace, NotificationSettings, SignInPlace
from ostiary.notifications.rules import (
    MAX_PLACES,
    is_first_api_key,
    is_new_place,
    kind_of,
    place_of,
    places_to_forget,
    recipient_of,
)
from tests.unit.notifications.conftest import CHROME_MAC, FIREFOX, HEROKU

AT = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


def _event(action: str, **fields: object) -> LoggedEvent:
    values: dict[str, object] = {
        "id": "e1",
        "seq": 1,
        "action": action,
        "created_at": AT,
        "actor_id": "acct",
        "authorization_id": None,
        "target_type": None,
        "target_id": None,
        "ip": "203.0.113.5",
        "user_agent": FIREFOX,
        "request_id": "r1",
        "outcome": "success",
    }
    values.update(fields)
    return LoggedEvent(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("action", "kind"),
    [
        ("session:create", records.SIGN_IN),
        ("auth:passkey:success", records.SIGN_IN),
        ("account:password:change", records.PASSWORD_CHANGED),
        ("account:password:reset", records.PASSWORD_RESET),
        ("account:second-factor:add", records.SECOND_FACTOR_ADDED),
        ("account:second-factor:remove", records.SECOND_FACTOR_REMOVED),
        ("account:recovery-codes:regenerate", records.RECOVERY_CODES_REGENERATED),
        ("account:recovery-codes:use", records.RECOVERY_CODE_USED),
        ("token:api-key:regenerate", records.API_KEY_REGENERATED),
        ("token:api-key:create", records.API_KEY_REGENERATED),
        ("token:authorization:create", records.TOKEN_CREATED),
        ("oauth:consent:grant", records.APPLICATION_AUTHORIZED),
        ("oauth:device:approve", records.APPLICATION_AUTHORIZED),
    ],
)
def test_each_notified_action_is_its_kind(action: str, kind: records.Kind) -> None:
    assert kind_of(_event(action)) is kind


@pytest.mark.parametrize(
    "action",
    [
        "auth:password:success",  # the session it opens (after any second factor) is the sign-in
        "auth:password:failure",
        "auth:second-factor:failure",
        "session:destroy",
        "app:create",
        "token:authorization:revoke",
        "alert:new-network",
        "account:notifications:update",
        "oauth:token:issue",  # every client-credentials token, every code exchanged
        "oauth:token:refresh",
        "oauth:heroku_cli:approve",  # its token:authorization:create is the notification
    ],
)
def test_other_actions_notify_nothing(action: str) -> None:
    assert kind_of(_event(action)) is None


def test_a_refused_action_notifies_nothing() -> None:
    assert kind_of(_event("account:password:change", outcome="failure")) is None


def test_security_ones_cannot_be_turned_off_and_informational_ones_can() -> None:
    security = {kind.name for kind in records.KINDS if kind.security}
    assert security == {
        "password-changed",
        "password-reset",
        "second-factor-added",
        "second-factor-removed",
        "recovery-codes-regenerated",
        "recovery-code-used",
        "api-key-regenerated",
    }
    off = NotificationSettings(new_sign_in=False, new_token=False)
    assert all(off.allows(kind) for kind in records.KINDS if kind.security)
    assert not any(off.allows(kind) for kind in records.KINDS if not kind.security)
    assert all(NotificationSettings().allows(kind) for kind in records.KINDS)


def test_each_kind_links_to_its_dashboard_page() -> None:
    assert records.SIGN_IN.page == "/dashboard/sessions"
    assert records.TOKEN_CREATED.page == "/dashboard/tokens"
    assert records.API_KEY_REGENERATED.page == "/dashboard/api-key"
    assert records.SECOND_FACTOR_ADDED.page == "/dashboard/two-factor"


def test_an_administrators_action_notifies_the_account_it_was_done_to() -> None:
    by_cli = _event(
        "account:second-factor:remove", actor_id=None, target_type="account", target_id="user"
    )
    by_admin = _event(
        "account:password:reset", actor_id="admin", target_type="account", target_id="user"
    )
    about = _event("account:password:reset", actor_id="admin", subject_id="user")
    assert recipient_of(by_cli) == recipient_of(by_admin) == recipient_of(about) == "user"
    assert recipient_of(_event("session:create", target_type="session", target_id="s")) == "acct"


def test_a_place_is_the_agents_family_and_system_and_the_addresss_network() -> None:
    assert place_of("203.0.113.5", FIREFOX) == SignInPlace("Firefox on Linux", "203.0.113.0/24")
    assert place_of("203.0.113.200", FIREFOX) == place_of("203.0.113.5", FIREFOX)
    assert place_of("::ffff:203.0.113.9", FIREFOX) == place_of("203.0.113.5", FIREFOX)
    assert place_of("2001:db8:1:2::5", CHROME_MAC) == SignInPlace(
        "Chrome on Mac OS X", "2001:db8:1::/48"
    )
    assert place_of("2001:db8:1:ffff::9", CHROME_MAC).network == "2001:db8:1::/48"
    assert place_of(None, HEROKU) == SignInPlace("heroku on Linux", "unknown")
    assert place_of("203.0.113.5", None).device == "unknown"


def test_a_place_is_new_unless_known_or_the_first_sign_in() -> None:
    home = place_of("203.0.113.5", FIREFOX)
    known = {home}
    assert not is_new_place(place_of("203.0.113.77", FIREFOX), known, first=False)
    # Another device on a known network, or a known device on another network: new.
    assert is_new_place(place_of("203.0.113.5", CHROME_MAC), known, first=False)
    assert is_new_place(place_of("198.51.100.5", FIREFOX), known, first=False)
    # The account's first sign-in has nothing to compare with.
    assert not is_new_place(place_of("198.51.100.5", FIREFOX), set(), first=True)


def test_the_least_recently_used_places_beyond_the_cap_are_forgotten() -> None:
    known = [
        KnownPlace(SignInPlace(f"device {n}", "203.0.113.0/24"), AT - timedelta(days=n))
        for n in range(MAX_PLACES + 3)
    ]
    forgotten = places_to_forget(list(reversed(known)))
    assert forgotten == [entry.place for entry in known[MAX_PLACES:]]
    assert places_to_forget(known[:MAX_PLACES]) == []


def test_only_the_api_key_made_with_the_account_is_its_first() -> None:
    created = _event("token:api-key:create")
    assert is_first_api_key(created, AT - timedelta(seconds=1))
    assert not is_first_api_key(created, AT - timedelta(days=3))
    assert not is_first_api_key(_event("token:api-key:regenerate"), AT)
