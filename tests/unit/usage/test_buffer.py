"""The in-memory buffer: what one request adds, the swap at a flush, and the merge back of a
batch that failed, within its cap."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from ostiary.usage.buffer import MemoryUsageBuffer, UsageBatch, route_group, status_class

HOUR = 1_764_590_400  # 2025-12-01 12:00 UTC


@dataclass(frozen=True)
class Request:
    at: float
    authorization_id: str | None = "auth"
    route: str | None = "/account"
    status: int = 200
    ip: str | None = "203.0.113.5"
    user_agent: str | None = "curl/8.0"


def test_route_groups_from_the_route_template() -> None:
    assert route_group("/account") == "account"
    assert route_group("/account/rate-limits") == "account"
    assert route_group("/users/{account_identity}") == "account"
    assert route_group("/users/{account_identity}/apps") == "apps"
    assert route_group("/apps/{app_identity}") == "apps"
    assert route_group("/apps/{app_identity}/config-vars") == "config-vars"
    assert route_group("/apps/{app_identity}/releases/{release_identity}/config-vars") == (
        "config-vars"
    )
    assert route_group("/addons") == "apps"
    assert route_group("/oauth/authorizations/{authorization_identity}") == "oauth"
    assert route_group(None) == "other"
    assert route_group("/health") == "other"


def test_status_classes() -> None:
    assert [status_class(s) for s in (200, 204, 304, 401, 404, 500, 503)] == [
        "2xx",
        "2xx",
        "3xx",
        "4xx",
        "4xx",
        "5xx",
        "5xx",
    ]


def test_a_request_counts_its_hour_address_and_agent() -> None:
    buffer = MemoryUsageBuffer()
    buffer.observe(Request(at=HOUR + 10))
    buffer.observe(Request(at=HOUR + 20, status=401, ip="198.51.100.1"))
    buffer.observe(Request(at=HOUR + 30, authorization_id=None))  # not a credential's
    batch = buffer.take()
    assert batch.hours == {("auth", HOUR, "account", "2xx"): 1, ("auth", HOUR, "account", "4xx"): 1}
    address = batch.sources[("auth", "address", "203.0.113.5")]
    assert (address.first, address.last, address.count) == (HOUR + 10, HOUR + 10, 1)
    agent = batch.sources[("auth", "agent", "curl/8.0")]
    assert (agent.first, agent.last, agent.count) == (HOUR + 10, HOUR + 10, 1)
    # The 401 counts in its hour and as a refusal, but teaches no address or agent: a dead
    # token's holder could otherwise feed the credential made-up ones (an alert each).
    assert ("auth", "address", "198.51.100.1") not in batch.sources
    assert batch.refusals == {("auth", HOUR): 1}
    assert not buffer.take()  # swapped out whole


def test_a_failed_batch_is_merged_into_what_came_since() -> None:
    buffer = MemoryUsageBuffer()
    buffer.observe(Request(at=HOUR + 10))
    failed = buffer.take()
    buffer.observe(Request(at=HOUR + 50))
    buffer.restore(failed)
    batch = buffer.take()
    assert batch.hours == {("auth", HOUR, "account", "2xx"): 2}
    seen = batch.sources[("auth", "address", "203.0.113.5")]
    assert (seen.first, seen.last, seen.count) == (HOUR + 10, HOUR + 50, 2)


def test_past_the_cap_the_oldest_counters_go() -> None:
    buffer = MemoryUsageBuffer(cap=2)
    for hour in range(3):
        buffer.observe(Request(at=HOUR + hour * 3600, ip=None, user_agent="a"))
    kept = buffer.take()
    assert len(kept.hours) == 2  # the third new hour was not counted: the buffer was full
    failed = UsageBatch(hours={("auth", HOUR - 3600 * k, "account", "2xx"): 1 for k in range(3)})
    buffer.observe(Request(at=HOUR + 7200, ip=None, user_agent="a"))
    buffer.restore(failed)
    hours = sorted(key[1] for key in buffer.take().hours)
    assert hours == [HOUR, HOUR + 7200]  # the newest two of four


def test_counts_from_many_threads_are_not_lost_across_takes() -> None:
    buffer = MemoryUsageBuffer()
    taken: list[UsageBatch] = []

    def record() -> None:
        for _ in range(5000):
            buffer.observe(Request(at=HOUR))

    threads = [threading.Thread(target=record) for _ in range(4)]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        taken.append(buffer.take())
    for thread in threads:
        thread.join()
    taken.append(buffer.take())
    assert sum(sum(batch.hours.values()) for batch in taken) == 20_000
