"""Deliveries end to end on a real database and a real receiver on loopback: enqueued from
sealed events, claimed, POSTed signed, retried with backoff, abandoned after the window; a
receiver trickling its answer abandoned at the deadline; no connection to this machine."""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest
from sqlalchemy import select, update

from ostiary.clock import utcnow
from ostiary.config import load_settings
from ostiary.metrics import WEBHOOK_DELIVERIES
from ostiary.security.tokens import TokenKind, mint_token
from ostiary.webhooks.dispatch import BATCH, deliver_due
from ostiary.webhooks.jobs import send_deliveries
from ostiary.webhooks.models import Webhook, WebhookDelivery
from ostiary.webhooks.services import enqueue_deliveries
from ostiary.webhooks.transport import GuardedBackend, GuardedTransport, attempt_client
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
        run = deliver_due(world.database, world.box, allow_loopback=True)
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
    assert deliver_due(world.database, world.box, allow_loopback=True).delivered == 0  # sent once


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
        while deliver_due(world.database, world.box, allow_loopback=True).delivered:
            pass
    assert [json.loads(r.body)["action"] for r in alerts.received] == ["alert:spike"]
    assert json.loads(alerts.received[0].body)["resource"] == "alert"
    assert sorted(json.loads(r.body)["action"] for r in everything.received) == [
        "alert:spike",
        "auth:login",
    ]
    assert bobs.received == []  # Alice's events never reach Bob's webhook


def test_the_account_an_event_was_done_to_gets_it_as_its_log_shows_it(world: World) -> None:
    with webhook_receiver() as alices, webhook_receiver() as bobs:
        world.webhook(world.alice, alices.url, ["event"])
        world.webhook(world.bob, bobs.url, ["event"])
        failed = replace(logged(None, "auth:failure"), subject_id=world.bob, ip="198.51.100.7")
        added = replace(logged(world.alice, "collaborator:create"), subject_id=world.bob)
        assert _enqueue(world, failed, added) == 3
        while deliver_due(world.database, world.box, allow_loopback=True).delivered:
            pass
    bob_got = {json.loads(r.body)["action"]: json.loads(r.body) for r in bobs.received}
    assert set(bob_got) == {"auth:failure", "collaborator:create"}
    # A failed sign-in against Bob: where it came from is what he needs to see.
    assert bob_got["auth:failure"]["data"]["ip"] == "198.51.100.7"
    assert bob_got["auth:failure"]["data"]["subject_id"] == world.bob
    # What Alice did to Bob reaches him without her request or credential, or her email.
    seen = bob_got["collaborator:create"]
    assert seen["actor"] == {"id": world.alice, "email": None}
    assert (seen["data"]["ip"], seen["data"]["user_agent"]) == (None, None)
    assert (seen["data"]["authorization_id"], seen["data"]["request_id"]) == (None, None)
    [alice_got] = [json.loads(r.body) for r in alices.received]
    assert alice_got["action"] == "collaborator:create"
    assert alice_got["actor"] == {"id": world.alice, "email": "alice@example.com"}
    assert alice_got["data"]["ip"] == "203.0.113.5"


def test_a_failing_receiver_gets_retries_with_backoff_then_success(world: World) -> None:
    with webhook_receiver(answers=[500, 503]) as receiver:
        hook = world.webhook(world.alice, receiver.url, ["event"])
        _enqueue(world, logged(world.alice))
        start = utcnow()
        assert deliver_due(world.database, world.box, allow_loopback=True, now=start).failed == 1
        [first] = _deliveries(world)
        assert first.status == "retrying"
        assert first.last_attempt_code == 500
        assert first.next_attempt_at is not None
        wait_1 = first.next_attempt_at - start
        assert timedelta(seconds=15) <= wait_1 <= timedelta(seconds=30)
        # Not due yet: nothing is sent before its time.
        assert (
            deliver_due(
                world.database, world.box, allow_loopback=True, now=start + wait_1 / 2
            ).failed
            == 0
        )
        second_at = first.next_attempt_at
        assert (
            deliver_due(world.database, world.box, allow_loopback=True, now=second_at).failed == 1
        )
        [second] = _deliveries(world)
        assert second.num_attempts == 2
        assert second.last_attempt_code == 503
        assert second.next_attempt_at is not None
        wait_2 = second.next_attempt_at - second_at
        assert timedelta(seconds=30) <= wait_2 <= timedelta(seconds=60)
        assert (
            deliver_due(
                world.database, world.box, allow_loopback=True, now=second.next_attempt_at
            ).delivered
            == 1
        )
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
            deliver_due(world.database, world.box, allow_loopback=True, now=now)
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
        assert deliver_due(world.database, world.box, allow_loopback=True).failed == 1
    assert [r.path for r in receiver.received] == ["/hooks"]  # never /elsewhere
    [row] = _deliveries(world)
    assert row.status == "retrying"
    assert row.last_attempt_code == 302


def test_an_unreachable_receiver_is_a_failure_recorded_by_class(world: World) -> None:
    with webhook_receiver() as receiver:
        url = receiver.url
    world.webhook(world.alice, url, ["event"])  # the receiver is gone: connection refused
    _enqueue(world, logged(world.alice))
    assert deliver_due(world.database, world.box, allow_loopback=True, timeout=2).failed == 1
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
            while deliver_due(world.database, world.box, allow_loopback=True).delivered:
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
        deliver_due(world.database, world.box, allow_loopback=True)
    assert receiver.received[0].headers["authorization"] == "Bearer receiver-key"
    assert b"receiver-key" not in receiver.received[0].body


def test_the_job_works_through_a_backlog_in_one_run(world: World, tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, usage_flush_seconds=30, webhook_allow_loopback=True)
    with webhook_receiver() as receiver:
        world.webhook(world.alice, receiver.url, ["event"])
        _enqueue(world, *(logged(world.alice) for _ in range(3 * BATCH + 2)))
        run = send_deliveries(world.database, settings, box=world.box)
    assert run.delivered == 3 * BATCH + 2
    assert len(receiver.received) == 3 * BATCH + 2
    assert send_deliveries(world.database, settings, box=world.box).delivered == 0


@contextmanager
def trickling_receiver(every: float = 0.5, lasting: float = 30.0) -> Iterator[int]:
    """A receiver that reads the request, then sends its status line and headers one byte
    every ``every`` seconds (each read well inside any per-read timeout), for up to
    ``lasting`` seconds; its port. How long the sender stayed is in ``held`` afterwards."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=trickle, args=(conn,), daemon=True).start()

    def trickle(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            with contextlib.suppress(OSError):
                conn.recv(65536)
                started = time.monotonic()
                for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 10_000:
                    if stop.is_set() or time.monotonic() - started > lasting:
                        return
                    conn.sendall(bytes([byte]))
                    time.sleep(every)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def test_a_receiver_trickling_its_headers_is_abandoned_at_the_deadline(world: World) -> None:
    with trickling_receiver() as port:
        world.webhook(world.alice, f"http://127.0.0.1:{port}/slow", ["event"])
        _enqueue(world, logged(world.alice))
        started = time.monotonic()
        run = deliver_due(world.database, world.box, allow_loopback=True, timeout=2)
        took = time.monotonic() - started
    assert run.failed == 1
    assert took < 5  # the 2 s deadline, not the receiver's 30 s of trickling
    [row] = _deliveries(world)
    assert row.status == "retrying"
    assert row.last_attempt_code is None
    assert row.last_attempt_error == "ReadTimeout"


@pytest.fixture
def resolving(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, list[str]], None]:
    """Make a name resolve to the given addresses, as the receiver's DNS would answer."""
    answers: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host: object, port: object, *args: Any, **kwargs: Any) -> Any:
        if host in answers:
            return [
                (
                    socket.AF_INET6 if ":" in address else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (address, port, 0, 0) if ":" in address else (address, port),
                )
                for address in answers[str(host)]
            ]
        return real(host, port, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers.__setitem__


@pytest.mark.parametrize(
    "addresses",
    [
        ["127.0.0.1"],
        ["::1"],
        ["::ffff:127.0.0.1"],
        ["0.0.0.0"],  # noqa: S104 - an address resolved to, not bound
        ["169.254.169.254"],
        ["fe80::1"],
        ["198.51.100.7", "127.0.0.1"],  # one bad answer among good ones is enough
    ],
)
def test_a_name_resolving_to_this_machine_is_never_connected_to(
    world: World, resolving: Callable[[str, list[str]], None], addresses: list[str]
) -> None:
    with webhook_receiver() as receiver:
        resolving("hooks.example.test", addresses)
        # A name the checks at creation cannot judge; what it resolves to is judged at send time.
        world.webhook(world.alice, f"https://hooks.example.test:{receiver.port}/hooks", ["event"])
        _enqueue(world, logged(world.alice))
        assert deliver_due(world.database, world.box).failed == 1
    assert receiver.received == []
    [row] = _deliveries(world)
    assert row.status == "retrying"
    assert row.last_attempt_error == "ForbiddenAddress"


def test_a_name_resolving_elsewhere_is_connected_to_the_address_checked(
    world: World, resolving: Callable[[str, list[str]], None]
) -> None:
    # Allowed, the name's first checked address is where the attempt goes (no second lookup).
    with webhook_receiver() as receiver:
        resolving("hooks.example.test", ["127.0.0.1"])
        hook = world.webhook(world.alice, receiver.url, ["event"])
        with world.database.unit_of_work(write=True) as session:  # plain http, for the receiver
            session.execute(
                update(Webhook)
                .where(Webhook.id == hook.id)
                .values(url=f"http://hooks.example.test:{receiver.port}/hooks")
            )
        _enqueue(world, logged(world.alice))
        assert deliver_due(world.database, world.box, allow_loopback=True).delivered == 1
    [got] = receiver.received
    assert got.headers["host"] == f"hooks.example.test:{receiver.port}"


def test_https_is_verified_through_the_guarded_transport(tmp_path: Path) -> None:
    # A receiver whose certificate no public authority signed: the TLS handshake runs (through
    # DeadlineStream.start_tls) and is refused.
    from tests.support.server import start_server

    server = start_server(tmp_path / "tls", tls=True)
    try:
        with attempt_client(5, allow_loopback=True) as client, pytest.raises(httpx.ConnectError):
            client.get(f"https://127.0.0.1:{server.port}/health")
        trusted = ssl.create_default_context(cafile=str(server.cert_path))
        backend = GuardedBackend(time.monotonic() + 5, allow_loopback=True)
        transport = GuardedTransport(backend)
        transport._pool = httpcore.ConnectionPool(ssl_context=trusted, network_backend=backend)
        with httpx.Client(transport=transport) as client:
            assert client.get(f"https://127.0.0.1:{server.port}/health").status_code == 200
    finally:
        server.stop()
