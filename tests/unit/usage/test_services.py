"""The flush on a real (SQLite) database: upserts add up, each rule's finding is handed on
once, a failed flush loses nothing and raises nothing twice, and old usage is pruned."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ostiary.alerts.records import Anomaly
from ostiary.tokens.models import Authorization
from ostiary.usage.buffer import MemoryUsageBuffer
from ostiary.usage.flush import UsageFlush
from ostiary.usage.models import UsageHour, UsageRefusal, UsageSource
from ostiary.usage.queries import usage_of
from ostiary.usage.rules import Thresholds
from ostiary.usage.services import prune
from tests.support.factories import Factory

NOW = datetime(2026, 12, 1, 12, 30, tzinfo=UTC)
HOUR = NOW.replace(minute=0)


@dataclass(frozen=True)
class Request:
    at: float
    authorization_id: str | None
    route: str | None = "/account"
    status: int = 200
    ip: str | None = "203.0.113.5"
    user_agent: str | None = "curl/8.0"


class Sink:
    """Collects what the flush hands on; fails on demand."""

    def __init__(self) -> None:
        self.received: list[Anomaly] = []
        self.fail = False

    def __call__(self, session: Session, anomalies: Sequence[Anomaly]) -> None:
        if self.fail:
            raise RuntimeError("the alerts are away")
        self.received.extend(anomalies)

    def rules(self) -> list[str]:
        return [a.rule for a in self.received]


@pytest.fixture
def credential(factory: Factory) -> str:
    account = factory.account()
    authorization_id, _ = factory.token(account, ["global"])
    return authorization_id


def _flusher(thresholds: Thresholds | None = None) -> tuple[UsageFlush, MemoryUsageBuffer, Sink]:
    buffer, sink = MemoryUsageBuffer(), Sink()
    return UsageFlush(buffer, thresholds or Thresholds(), sink, clock=lambda: NOW), buffer, sink


def _send(buffer: MemoryUsageBuffer, credential: str, times: int = 1, **fields: object) -> None:
    at = fields.pop("at", NOW.timestamp())
    for _ in range(times):
        buffer.observe(Request(at=at, authorization_id=credential, **fields))  # type: ignore[arg-type]


def test_flushes_add_up(factory: Factory, credential: str) -> None:
    flush, buffer, _ = _flusher()
    _send(buffer, credential, 3, at=NOW.timestamp() - 60)
    flush(factory.database)
    _send(buffer, credential, 2, status=404, user_agent="heroku/10.0")
    _send(buffer, credential, 1)
    flush(factory.database)
    with factory.database.unit_of_work(write=False) as session:
        usage = usage_of(session, [credential], HOUR - timedelta(days=7), HOUR + timedelta(hours=1))
    assert [(b.hour, b.route_group, b.status_class, b.count) for b in usage.hours] == [
        (HOUR, "account", "2xx", 4),
        (HOUR, "account", "4xx", 2),
    ]
    [address] = usage.addresses
    assert (address.value, address.count) == ("203.0.113.5", 6)
    assert address.first_seen == NOW - timedelta(seconds=60)
    assert address.last_seen == NOW
    assert {(a.value, a.count) for a in usage.agents} == {("curl/8.0", 4), ("heroku/10.0", 2)}


def test_a_spike_is_handed_on_once(factory: Factory, credential: str) -> None:
    flush, buffer, sink = _flusher(Thresholds(spike_factor=10, spike_floor=100))
    with factory.database.unit_of_work(write=True) as session:
        account_id = session.get_one(Authorization, credential).account_id
        # 85 of the last 168 hours had 2 requests: the median is 2, the line 20 (floor 100).
        for hours_ago in range(1, 86):
            session.add(
                UsageHour(
                    authorization_id=credential,
                    account_id=account_id,
                    hour=HOUR - timedelta(hours=hours_ago),
                    route_group="account",
                    status_class="2xx",
                    count=2,
                )
            )
    _send(buffer, credential, 100)
    flush(factory.database)
    assert "spike" not in sink.rules()  # 100: not over the floor
    _send(buffer, credential, 1)
    flush(factory.database)
    [spike] = [a for a in sink.received if a.rule == "spike"]
    assert spike.details["requests"] == 101
    assert spike.details["median"] == 2.0
    assert spike.account_id == account_id
    _send(buffer, credential, 50)
    flush(factory.database)
    assert sink.rules().count("spike") == 1  # still a spike, not a new one


def test_a_new_network_after_the_first_use(factory: Factory, credential: str) -> None:
    flush, buffer, sink = _flusher()
    _send(buffer, credential, ip="203.0.113.5")
    _send(buffer, credential, ip="192.0.2.1")
    flush(factory.database)
    assert sink.rules() == []  # the first use sets what is known
    _send(buffer, credential, ip="203.0.113.200")  # same /24
    flush(factory.database)
    assert sink.rules() == []
    _send(buffer, credential, ip="198.51.100.7")
    _send(buffer, credential, ip="198.51.100.8")
    flush(factory.database)
    [found] = sink.received
    assert found.rule == "new-network"
    assert found.details == {"address": "198.51.100.7", "network": "198.51.100.0/24"}
    _send(buffer, credential, ip="198.51.100.9")
    flush(factory.database)
    assert len(sink.received) == 1


def test_a_network_last_used_over_30_days_ago_is_new_again(
    factory: Factory, credential: str
) -> None:
    flush, buffer, sink = _flusher()
    _send(buffer, credential, ip="203.0.113.5", at=(NOW - timedelta(days=31)).timestamp())
    flush(factory.database)
    _send(buffer, credential, ip="203.0.113.6")
    flush(factory.database)
    assert sink.rules() == ["new-network"]


def test_a_new_user_agent_family(factory: Factory, credential: str) -> None:
    flush, buffer, sink = _flusher()
    _send(buffer, credential, user_agent="heroku/10.1.0 linux-x64")
    flush(factory.database)
    _send(buffer, credential, user_agent="heroku/10.2.0 darwin-arm64")  # same family
    flush(factory.database)
    assert sink.rules() == []
    firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
    _send(buffer, credential, user_agent=firefox)
    flush(factory.database)
    [found] = sink.received
    assert (found.rule, found.details["family"]) == ("new-user-agent", "Firefox")


def test_probing_at_the_threshold_within_five_minutes(factory: Factory, credential: str) -> None:
    flush, buffer, sink = _flusher(Thresholds(probing_threshold=20))
    # 10 refusals six minutes ago fall outside the window.
    _send(buffer, credential, 10, status=401, at=(NOW - timedelta(minutes=6)).timestamp())
    _send(buffer, credential, 9, status=401, at=(NOW - timedelta(minutes=4)).timestamp())
    flush(factory.database)
    _send(buffer, credential, 10, status=403)
    flush(factory.database)
    assert "probing" not in sink.rules()  # 9 + 10 = 19 within the five minutes: just under
    _send(buffer, credential, 1, status=401)
    flush(factory.database)
    [found] = sink.received
    assert (found.rule, found.details["refusals"]) == ("probing", 20)
    _send(buffer, credential, 5, status=401)
    flush(factory.database)
    assert sink.rules() == ["probing"]


def test_a_failed_flush_loses_nothing_and_raises_its_finding_once(
    factory: Factory, credential: str
) -> None:
    flush, buffer, sink = _flusher(Thresholds(probing_threshold=3))
    _send(buffer, credential, 2)
    flush(factory.database)
    _send(buffer, credential, 3, status=401)
    sink.fail = True
    with pytest.raises(RuntimeError):
        flush(factory.database)
    _send(buffer, credential, 1)
    sink.fail = False
    flush(factory.database)
    assert sink.rules() == ["probing"]
    with factory.database.unit_of_work(write=False) as session:
        total = session.scalar(select(func.sum(UsageHour.count)))
        refusals = session.scalar(select(func.sum(UsageRefusal.count)))
    assert (total, refusals) == (6, 3)


def test_the_counts_of_a_deleted_credential_are_dropped(factory: Factory, credential: str) -> None:
    flush, buffer, _ = _flusher()
    _send(buffer, credential, 2)
    with factory.database.unit_of_work(write=True) as session:
        session.execute(delete(Authorization).where(Authorization.id == credential))
    flush(factory.database)
    with factory.database.unit_of_work(write=False) as session:
        assert session.scalar(select(func.count()).select_from(UsageHour)) == 0
    assert not buffer.take()


def test_prune_deletes_what_is_past_retention(factory: Factory, credential: str) -> None:
    flush, buffer, _ = _flusher()
    old = (NOW - timedelta(days=91)).timestamp()
    _send(buffer, credential, 2, at=old, ip="192.0.2.1", user_agent="old/1", status=403)
    _send(buffer, credential, 1)
    flush(factory.database)
    assert prune(factory.database, NOW) == 4  # an hour, an address, an agent, a minute
    with factory.database.unit_of_work(write=False) as session:
        assert session.scalar(select(func.sum(UsageHour.count))) == 1
        assert set(session.scalars(select(UsageSource.value))) == {"203.0.113.5", "curl/8.0"}
        assert session.scalar(select(func.count()).select_from(UsageRefusal)) == 0
    assert prune(factory.database, NOW) == 0
