"""Alerts are pruned with the events that told of them, except one whose suspension still holds
its credential."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from ostiary.alerts.models import Alert
from ostiary.alerts.records import Anomaly
from ostiary.alerts.retention import alerts_older_than
from ostiary.alerts.services import raise_alerts, set_policy
from ostiary.purge import purge_expired
from tests.support.factories import Factory


def test_old_alerts_go_but_not_one_still_suspending_its_credential(factory: Factory) -> None:
    owner = factory.account()
    told, _ = factory.token(owner, ["global"])
    suspended, _ = factory.token(owner, ["global"])
    recent, _ = factory.token(owner, ["global"])
    at = datetime(2026, 12, 1, 10, tzinfo=UTC)
    with factory.database.unit_of_work(write=True) as session:
        set_policy(factory.unit(session), owner.id, ["spike"])
        raise_alerts(session, [Anomaly("probing", owner.id, told, at, {"refusals": 30})])
        raise_alerts(session, [Anomaly("spike", owner.id, suspended, at, {"hour": "h"})])
        raise_alerts(session, [Anomaly("probing", owner.id, recent, at, {"refusals": 30})])
    now = datetime.now(UTC)
    with factory.database.unit_of_work(write=True) as session:
        session.execute(
            update(Alert)
            .where(Alert.authorization_id.in_([told, suspended]))
            .values(raised_at=now - timedelta(days=401))
        )

    counts = purge_expired(factory.database, kinds=(alerts_older_than(400),))

    assert counts == {"alerts": 1}
    with factory.database.unit_of_work(write=False) as session:
        left = set(session.scalars(select(Alert.authorization_id)))
    assert left == {suspended, recent}
