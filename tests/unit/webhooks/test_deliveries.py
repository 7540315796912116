"""Deliveries end to end on a real database and a real receiver on loopback: enqueued from
sealed events, claimed, POSTed signed, retried with backoff, abandoned after the window."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from ostiary.clock import utcnow
from ostiary.config import load_settings
from ostiary.metrics import WEBHOOK_DELIVERIES
from ostiary.security.tokens import TokenKind, mint_token
from ostiary.webhooks.dispatch import BATCH, deliver_due
from ostiary.webhooks.jobs import send_deliveries
from ostiary.webhooks.models import WebhookDelivery
from ostiary.webhooks.services import enqueue_deliveries
from tests.support.webhook_receiver import webhook_receiver
from tests.unit.webhooks.conftest import World, logged


def _enqueue(world: World, *events: object, retry_window: timedelta | None = None) -> int:
    with world.database.unit_of_work(write=True) as session:
        if retry_window is None:
            return enqueue_deliveries(session, events)  # type: ignore[arg-type]
        return enqueue_deliveries(session, events, retry_window=retry_window)  # type: ignore[arg-type]


def _deliveries(world: World) -> list[WebhookDelivery]:
    with world.database.unit_of_work(write=False) as session:
        return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.created_at)))


def _count(outcome: str) -> float:
    return WEBHOOK_DELIVERIES.labels(outcome)._value.get()  # type: ignore[no-any-return]


def test_a_delivery_arrives_signed_with_the_secret_and_without_secrets(world: World) -> None:
    with webhook_receiver() as receiver:
        hook = world.webhook(world.alice, receiver.url, ["event"])
        token = mint_token(TokenKind.API_KEY)
        event = logged(world.alice, details={"token": token, "client_secret": "x", "rule": "r"})
        assert _enqueue(world, event) == 1
        before = _count("delivered")
        run = deliver_due(world.database, world.box)
    assert run.delivered == 1
    assert _count("delivered") == before + 1
    [got] = receiver.received
    assert got.signed_with(hook.secret)
    assert not got.signed_with("another secret")
    assert got.headers["content-type"] == "application/json"
    [delivery] = _deliveries(world)
    assert got.headers["heroku-webhook-id"] == delivery.id
    payload = json.loads(got.body)
    assert set(payload) == {
        "id", "created_at", "published_at", "resource", "action", "actor", "data",
        "previous_data", "version", "webhook_metadata",
    }  # fmt: skip
    assert payload["id"] == event.id
    assert payload["action"] == event.action
    assert payload["actor"] == {"id": world.alice, "email": "alice@example.com"}
    assert payload["data"]["ip"] == "203.0.113.5"
    assert payload["data"]["details"] == {"rule": "r"}
    assert payload["webhook_metadata"]["webhook"] == {"id": hook.id}
    assert payload["webhook_metadata"]["delivery"] == {"id": delivery.id}
    assert payload["webhook_metadata"]["event"] == {"id": event.id, "include": "event"}
    raw = got.body.decode()
    assert token not in raw
    assert hook.secret not in raw
    assert delivery.status == "succeeded"
    assert delivery.num_attempts == 1
    assert delivery.last_attempt_code == 200
    assert delivery.next_attempt_at is None
    assert deliver_due(world.database, world.box).delivered == 0  # sent once


def test_only_the_actor_accounts_matching_webhooks_get_an_event(world: World) -> None:
    with webhook_receiver() as alerts, webhook_receiver() as everything, webhook_receiver() as bobs:
        world.webhook(world.alice, alerts.url, ["alert"])
        world.webhook(world.alice, everything.url, ["event"])
        world.webhook(world.bob, bobs.url, ["alert", "event"])
        made = _enqueue(
            world,
            logged(world.alice, "alert:spike", details={"hour_count": 900}),
            logged(world.alice, "auth:login"),
            logged(None, "auth:failure"),  # no account: nobody's
        )
        assert made == 3
        while deliver_due(world.database, world.box).delivered:
            pass
    assert [json.loads(r.body)["action"] for r in alerts.received] == ["alert:spike"]
    assert json.loads(alerts.received[0].body)["resource"] == "alert"
    assert sorted(json.loads(r.body)["action"] for r in everything.received) == [
        "alert:spike",
        "auth:login",
    ]
    assert bobs.received == []  # Alice's events never reach Bob's webhook


def test_a_failing_receiver_gets_retries_with_backoff_then_success(world: World) -> None:
    with webhook_receiver(answers=[500, 503]) as receiver:
        hook = world.webhook(world.alice, receiver.url, ["event"])
        _enqueue(world, logged(world.alice))
        start = utcnow()
        assert deliver_due(world.database, world.box, now=start).failed == 1
        [first] = _deliveries(world)
        assert first.status == "retrying"
        assert first.last_attempt_code == 500
        assert first.next_attempt_at is not None
        wait_1 = first.next_attempt_at - start
        assert timedelta(seconds=15) <= wait_1 <= timedelta(seconds=30)
        # Not due yet: nothing is sent before its time.
        assert deliver_due(world.database, world.box, now=start + wait_1 / 2).failed == 0
        second_at = first.next_attempt_at
        assert deliver_due(world.database, world.box, now=second_at).failed == 1
        [second] = _deliveries(world)
        assert second.num_attempts == 2
        assert second.last_attempt_code == 503
        assert second.next_attempt_at is not None
        wait_2 = second.next_attempt_at - second_at
        assert timedelta(seconds=30) <= wait_2 <= timedelta(seconds=60)
        assert deliver_due(world.database, world.box, now=second.next_attempt_at).delivered == 1
    [done] = _deliveries(world)
    assert done.status == "succeeded"
    assert done.num_attempts == 3
    assert len(receiver.received) == 3
    assert all(r.signed_with(hook.secret) for r in receiver.received)
    attempts = {json.loads(r.body)["webhook_metadata"]["attempt"]["id"] for r in receiver.received}
    assert len(attempts) == 3
    assert done.last_attempt_id in attempts


def test_a_delivery_is_abandoned_after_the_retry_window(world: World) -> None:
    with webhook_receiver(answers=[500] * 50) as receiver:
        world.webhook(world.alice, receiver.url, ["event"])
        _enqueue(world, logged(world.alice), retry_window=timedelta(minutes=3))
        now = utcnow()
        before = _count("abandoned")
        for _ in range(20):
            deliver_due(world.database, world.box, now=now)
            [row] = _deliveries(world)
            if row.next_attempt_at is None:
                break
            now = row.next_attempt_at
    assert row.status == "failed"
    assert row.next_attempt_at is None
    assert 2 <= row.num_attempts <= 5  # 15-30 s, 30-60 s, 60-120 s... within 3 minutes
    assert _count("abandoned") == before + 1
    assert len(receiver.received) == row.num_attempts


def test_a_redirect_is_not_followed(world: World) -> None:
    with webhook_receiver(answers=[302]) as receiver:
        world.webhook(world.alice, receiver.url, ["event"])
        _enqueue(world, logged(world.alice))
        assert deliver_due(world.database, world.box).failed == 1
    assert [r.path for r in receiver.received] == ["/hooks"]  # never /elsewhere
    [row] = _deliveries(world)
    assert row.status == "retrying"
    assert row.last_attempt_code == 302


def test_an_unreachable_receiver_is_a_failure_recorded_by_class(world: World) -> None:
    with webhook_receiver() as receiver:
        url = receiver.url
    world.webhook(world.alice, url, ["event"])  # the receiver is gone: connection refused
    _enqueue(world, logged(world.alice))
    assert deliver_due(world.database, world.box, timeout=2).failed == 1
    [row] = _deliveries(world)
    assert row.last_attempt_code is None
    assert row.last_attempt_error == "ConnectError"


def test_two_senders_at_once_send_each_delivery_once(world: World) -> None:
    with webhook_receiver() as receiver:
        world.webhook(world.alice, receiver.url, ["event"])
        _enqueue(world, *(logged(world.alice) for _ in range(30)))
        barrier = threading.Barrier(3)

        def sender() -> None:
            barrier.wait()
            while deliver_due(world.database, world.box).delivered:
                pass

        threads = [threading.Thread(target=sender) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    ids = [r.headers["heroku-webhook-id"] for r in receiver.received]
    assert len(ids) == 30
    assert len(set(ids)) == 30
    assert {row.status for row in _deliveries(world)} == {"succeeded"}


def test_the_webhooks_authorization_header_is_sent(world: World) -> None:
    with webhook_receiver() as receiver:
        world.webhook(world.alice, receiver.url, ["event"], authorization="Bearer receiver-key")
        _enqueue(world, logged(world.alice))
        deliver_due(world.database, world.box)
    assert receiver.received[0].headers["authorization"] == "Bearer receiver-key"
    assert b"receiver-key" not in receiver.received[0].body


def test_the_job_works_through_a_backlog_in_one_run(world: World, tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, usage_flush_seconds=30)
    with webhook_receiver() as receiver:
        world.webhook(world.alice, receiver.url, ["event"])
        _enqueue(world, *(logged(world.alice) for _ in range(3 * BATCH + 2)))
        run = send_deliveries(world.database, settings, box=world.box)
    assert run.delivered == 3 * BATCH + 2
    assert len(receiver.received) == 3 * BATCH + 2
    assert send_deliveries(world.database, settings, box=world.box).delivered == 0
