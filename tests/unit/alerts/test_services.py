"""raise_alerts: each distinct finding raises its alert once (one row, one ``alert:<rule>``
event, one count), with the credential's description and no secret; the account's policy
suspends the credential; another account's credential is never alerted or suspended."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from ostiary.alerts.errors import ReinstateNotAllowed
from ostiary.alerts.models import Alert, AlertPolicy
from ostiary.alerts.queries import newest_alerts, unseen_count
from ostiary.alerts.records import RULES, Anomaly, Rule
from ostiary.alerts.services import mark_all_seen, mark_seen, raise_alerts, reinstate, set_policy
from ostiary.errors import InvalidParams, NotFound
from ostiary.events import Event
from ostiary.metrics import ALERTS_RAISED
from ostiary.oauth_clients.models import ClientType
from ostiary.oauth_clients.services import register_client
from ostiary.tokens.models import Authorization
from tests.support.factories import Factory, UserAccount, add_authorization

AT = datetime(2026, 12, 1, 10, 15, tzinfo=UTC)
# Facts that make each rule's finding distinct, and a second, different finding of it.
FACTS: dict[Rule, tuple[dict[str, object], dict[str, object]]] = {
    "spike": (
        {"hour": "2026-12-01T10:00:00Z", "requests": 900, "median": 3},
        {"hour": "2026-12-01T11:00:00Z"},
    ),
    "new-network": ({"network": "203.0.113.0/24"}, {"network": "198.51.100.0/24"}),
    "new-user-agent": ({"family": "curl"}, {"family": "Firefox"}),
    "dormant-use": (
        {"last_used_at": "2026-10-01T00:00:00+00:00", "days": 61},
        {"last_used_at": None},
    ),
    "probing": ({"refusals": 25}, {"refusals": 25, "hour": "2026-12-01T12:00:00Z"}),
    "dead-credential": ({"reason": "revoked token"}, {}),
    "leaked": (
        {"occasion": "github:1", "url": "https://github.com/o/r/blob/x/.env"},
        {"occasion": "report:2", "url": "https://paste.example/x"},
    ),
    "expiring": (
        {"occasion": "7d:2026-12-08T00:00:00Z", "days": 7, "expires_at": "2026-12-08T00:00:00Z"},
        {"occasion": "1d:2026-12-08T00:00:00Z", "days": 1, "expires_at": "2026-12-08T00:00:00Z"},
    ),
    "expired": (
        {"occasion": "2026-12-08T00:00:00Z", "expires_at": "2026-12-08T00:00:00Z"},
        {"occasion": "2026-12-20T00:00:00Z", "expires_at": "2026-12-20T00:00:00Z"},
    ),
    "idle-revocation": (
        {"occasion": "2025-12-01", "days": 351, "revoke_at": "2026-12-15T00:00:00Z"},
        {"occasion": "2025-12-02", "days": 351, "revoke_at": "2026-12-16T00:00:00Z"},
    ),
    "idle-revoked": ({"occasion": "2025-12-01", "days": 365}, {"occasion": "2025-12-02"}),
}


def _setup(factory: Factory) -> tuple[UserAccount, str]:
    owner = factory.account()
    authorization_id, _ = factory.token(owner, ["global"])
    return owner, authorization_id


def _raise(factory: Factory, *anomalies: Anomaly) -> None:
    with factory.database.unit_of_work(write=True) as session:
        raise_alerts(session, anomalies)


def _counts(factory: Factory, rule: str) -> tuple[int, int]:
    with factory.database.unit_of_work(write=False) as session:
        alerts = session.scalar(select(func.count()).select_from(Alert).where(Alert.rule == rule))
        events = session.scalar(
            select(func.count()).select_from(Event).where(Event.action == f"alert:{rule}")
        )
    return int(alerts or 0), int(events or 0)


@pytest.mark.parametrize("rule", RULES)
def test_each_finding_raises_its_alert_once(factory: Factory, rule: Rule) -> None:
    owner, authorization_id = _setup(factory)
    first, other = FACTS[rule]
    anomaly = Anomaly(rule, owner.id, authorization_id, AT, first)
    counted = ALERTS_RAISED.labels(rule)._value.get()
    _raise(factory, anomaly)
    _raise(
        factory,
        anomaly,
        Anomaly(rule, owner.id, authorization_id, AT + timedelta(minutes=1), first),
    )
    assert _counts(factory, rule) == (1, 1)
    assert ALERTS_RAISED.labels(rule)._value.get() == counted + 1
    # A different finding of the same rule is a new alert.
    later = AT + timedelta(days=1) if rule == "dead-credential" else AT
    _raise(factory, Anomaly(rule, owner.id, authorization_id, later, other))
    assert _counts(factory, rule) == (2, 2)


def test_the_event_tells_a_person_what_happened_without_a_secret(factory: Factory) -> None:
    owner, authorization_id = _setup(factory)
    token = "osta_" + "b" * 36
    _raise(
        factory,
        Anomaly(
            "new-network",
            owner.id,
            authorization_id,
            AT,
            {"network": "203.0.113.0/24", "token": token, "note": token},
        ),
    )
    with factory.database.unit_of_work(write=False) as session:
        event = session.scalars(select(Event).where(Event.action == "alert:new-network")).one()
    assert event.actor_id == owner.id
    assert (event.target_type, event.target_id) == ("authorization", authorization_id)
    details = event.details
    assert details["rule"] == "new-network"
    assert details["credential"]["description"] == "test token"  # type: ignore[index]
    assert details["summary"] == (
        "test token was used from a network it had not used in 30 days: 203.0.113.0/24."
    )
    assert details["facts"] == {"network": "203.0.113.0/24"}
    assert token not in str(details)


def test_a_clients_secret_is_alerted_to_its_owner_only(factory: Factory) -> None:
    owner, intruder = factory.account("owner"), factory.account("intruder")
    with factory.database.unit_of_work(write=True) as session:
        client_id = register_client(
            factory.unit(session),
            owner_id=owner.id,
            name="Deployer",
            redirect_uris=["https://app.example.com/cb"],
            client_type=ClientType.CONFIDENTIAL,
            client_credentials_scopes=None,
            creator_scopes=frozenset({"global"}),
        ).client.id
    facts: dict[str, object] = {"occasion": "github:x", "url": "https://x.test"}
    _raise(factory, Anomaly("leaked", intruder.id, None, AT, facts, client_id=client_id))
    assert _counts(factory, "leaked") == (0, 0)
    _raise(factory, Anomaly("leaked", owner.id, None, AT, facts, client_id=client_id))
    _raise(factory, Anomaly("leaked", owner.id, None, AT, facts, client_id=client_id))
    assert _counts(factory, "leaked") == (1, 1)
    with factory.database.unit_of_work(write=False) as session:
        (alert,) = newest_alerts(session, owner.id)
        told = session.scalars(select(Event).where(Event.action == "alert:leaked")).one()
    assert alert.authorization_id is None
    assert alert.credential == "The client secret of Deployer"
    assert "The client secret of Deployer was found exposed (https://x.test)" in alert.summary
    assert (told.target_type, told.target_id, told.actor_id) == ("client", client_id, owner.id)


def test_another_accounts_credential_is_never_alerted(factory: Factory) -> None:
    _, authorization_id = _setup(factory)
    intruder = factory.account("intruder")
    with factory.database.unit_of_work(write=True) as session:
        set_policy(factory.unit(session), intruder.id, ["spike"])
    _raise(factory, Anomaly("spike", intruder.id, authorization_id, AT, {}))
    assert _counts(factory, "spike") == (0, 0)
    with factory.database.unit_of_work(write=False) as session:
        assert session.get(Authorization, authorization_id).suspended_at is None  # type: ignore[union-attr]


def test_the_policy_suspends_on_its_rules_only(factory: Factory) -> None:
    owner, authorization_id = _setup(factory)
    with factory.database.unit_of_work(write=True) as session:
        set_policy(factory.unit(session), owner.id, ["probing"])
    _raise(factory, Anomaly("spike", owner.id, authorization_id, AT, {}))
    with factory.database.unit_of_work(write=False) as session:
        assert session.get(Authorization, authorization_id).suspended_at is None  # type: ignore[union-attr]
    _raise(factory, Anomaly("probing", owner.id, authorization_id, AT, {"refusals": 30}))
    with factory.database.unit_of_work(write=True) as session:
        credential = session.get(Authorization, authorization_id)
        assert credential is not None
        assert credential.suspended_at is not None
        alerts = newest_alerts(session, owner.id)
        assert {a.rule: a.suspended for a in alerts} == {"probing": True, "spike": False}
        assert credential.suspended_by == next(a.id for a in alerts if a.rule == "probing")
        actions = set(session.scalars(select(Event.action)))
        assert "token:authorization:suspend" in actions
        reinstate(factory.unit(session), credential)
    with factory.database.unit_of_work(write=False) as session:
        credential = session.get(Authorization, authorization_id)
        assert credential is not None
        assert credential.suspended_at is None
        assert not any(a.suspended for a in newest_alerts(session, owner.id))
        assert "token:authorization:reinstate" in set(session.scalars(select(Event.action)))


def _suspension(factory: Factory, *ids: str) -> list[tuple[bool, str | None]]:
    with factory.database.unit_of_work(write=False) as session:
        rows = [session.get(Authorization, i) for i in ids]
        return [(r.suspended_at is not None, r.suspended_by) for r in rows if r is not None]


def test_suspending_a_credential_suspends_what_it_made(factory: Factory) -> None:
    """Attack: a stolen credential's child (and grandchild) would keep working after the
    credential is suspended, and could reinstate it; a descendant suspended by an alert of its
    own keeps that alert's suspension when the parent is reinstated."""
    owner, parent_id = _setup(factory)
    with factory.database.unit_of_work(write=True) as session:
        set_policy(factory.unit(session), owner.id, ["probing", "spike"])
        child = add_authorization(session, owner.id, parent_id=parent_id).id
        grandchild = add_authorization(session, owner.id, parent_id=child).id
        own = add_authorization(session, owner.id, parent_id=parent_id).id
        revoked = add_authorization(session, owner.id, parent_id=parent_id, revoked_at=AT).id
    _raise(factory, Anomaly("spike", owner.id, own, AT, {}))
    [(_, own_alert)] = _suspension(factory, own)
    _raise(factory, Anomaly("probing", owner.id, parent_id, AT, {"refusals": 30}))
    [(_, alert_id)] = _suspension(factory, parent_id)
    assert alert_id is not None
    assert alert_id != own_alert
    assert _suspension(factory, child, grandchild, own, revoked) == [
        (True, alert_id),
        (True, alert_id),
        (True, own_alert),
        (False, None),
    ]
    with factory.database.unit_of_work(write=False) as session:
        event = session.scalars(
            select(Event).where(
                Event.action == "token:authorization:suspend", Event.target_id == parent_id
            )
        ).one()
        assert event.details == {"alert_id": alert_id, "descendants": 2}
    # Neither the credential itself nor anything it made may lift the suspension.
    for asking in (parent_id, child, grandchild):
        with factory.database.unit_of_work(write=True) as session:
            credential = session.get(Authorization, parent_id)
            assert credential is not None
            with pytest.raises(ReinstateNotAllowed) as refused:
                reinstate(factory.unit(session), credential, by_authorization_id=asking)
            assert refused.value.code == "forbidden"
    assert _suspension(factory, parent_id, child)[0] == (True, alert_id)
    with factory.database.unit_of_work(write=True) as session:
        other = add_authorization(session, owner.id).id
        credential = session.get(Authorization, parent_id)
        assert credential is not None
        reinstate(factory.unit(session), credential, by_authorization_id=other)
    assert _suspension(factory, parent_id, child, grandchild, own) == [
        (False, None),
        (False, None),
        (False, None),
        (True, own_alert),
    ]


def test_a_dead_credential_alert_never_suspends(factory: Factory) -> None:
    """Attack: an old copy of a token (revoked by a regeneration) presented again would
    suspend the live credential, even under a policy stored before the rule was refused."""
    owner, authorization_id = _setup(factory)
    with factory.database.unit_of_work(write=True) as session:
        with pytest.raises(InvalidParams, match="'dead-credential' cannot suspend"):
            set_policy(factory.unit(session), owner.id, ["spike", "dead-credential"])
        session.add(AlertPolicy(account_id=owner.id, suspend_on=["dead-credential"]))
    _raise(factory, Anomaly("dead-credential", owner.id, authorization_id, AT, {}))
    assert _counts(factory, "dead-credential") == (1, 1)
    assert _suspension(factory, authorization_id) == [(False, None)]


def test_an_unknown_rule_in_the_policy_is_refused(factory: Factory) -> None:
    owner, _ = _setup(factory)
    with factory.database.unit_of_work(write=True) as session, pytest.raises(InvalidParams):
        set_policy(factory.unit(session), owner.id, ["spike", "all"])


def test_seen_alerts_leave_the_count_and_only_the_owner_marks_them(factory: Factory) -> None:
    owner, authorization_id = _setup(factory)
    intruder = factory.account("intruder")
    _raise(
        factory,
        Anomaly("spike", owner.id, authorization_id, AT, {}),
        Anomaly("probing", owner.id, authorization_id, AT, {}),
    )
    with factory.database.unit_of_work(write=True) as session:
        assert unseen_count(session, owner.id) == 2
        first = newest_alerts(session, owner.id)[0]
        with pytest.raises(NotFound):
            mark_seen(factory.unit(session), intruder.id, first.id)
    with factory.database.unit_of_work(write=True) as session:
        assert unseen_count(session, owner.id) == 2
        assert mark_seen(factory.unit(session), owner.id, first.id).seen_at is not None
        assert unseen_count(session, owner.id) == 1
        assert mark_all_seen(factory.unit(session), owner.id) == 1
        assert unseen_count(session, owner.id) == 0
