"""Account webhooks through the API of a real server: Heroku's shapes, the secret shown once,
deliveries and their outcomes listed, and another account's webhooks out of reach."""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from ostiary.activity.records import LoggedEvent
from ostiary.clock import utcnow
from ostiary.config import load_settings
from ostiary.db import new_id
from ostiary.webhooks.services import enqueue_deliveries
from tests.support.factories import Factory, UserAccount
from tests.support.schema import SCHEMA_PATH, assert_matches_heroku
from tests.support.server import ServerProcess, start_server
from tests.support.webhook_receiver import webhook_receiver

# Every webhook here points at this machine: the server's delivery job sends what is due, and
# no test may send traffic anywhere else (port 9 on loopback refuses the connection).
HOOK = {"url": "https://127.0.0.1:9/ostiary", "include": ["alert"], "level": "notify"}
WEBHOOK_SHAPE = "app-webhook/definitions/app_webhook"


def _assert_webhook_shape(body: dict[str, object]) -> None:
    """Heroku's ``app_webhook`` (its ``app`` aside: these are the account's)."""
    errors = list(_webhook_validator().iter_errors(body))
    assert not errors, [error.message for error in errors]
    assert set(body) == {"created_at", "id", "include", "level", "updated_at", "url"}


@functools.cache
def _webhook_validator() -> Draft4Validator:
    root = json.loads(SCHEMA_PATH.read_text())
    registry: Registry[Any] = Registry().with_resource(
        "urn:heroku", Resource.from_contents(root, default_specification=DRAFT4)
    )
    return Draft4Validator({"$ref": f"urn:heroku#/definitions/{WEBHOOK_SHAPE}"}, registry=registry)


def _until(fetch: Callable[[], dict[str, Any]], status: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        got = fetch()
        if got["status"] == status or time.monotonic() > deadline:
            return got
        time.sleep(0.5)


def _event(account: UserAccount, action: str = "alert:spike") -> LoggedEvent:
    return LoggedEvent(
        id=new_id(),
        seq=1,
        action=action,
        created_at=utcnow(),
        actor_id=account.id,
        authorization_id=new_id(),
        target_type="authorization",
        target_id=None,
        ip="203.0.113.9",
        user_agent="curl/8.5.0",
        request_id=None,
        outcome="success",
        details={"hour_count": 950, "median": 12},
    )


def test_create_shows_the_secret_once_and_never_again(
    server: ServerProcess, account: UserAccount
) -> None:
    with server.client(account.api_key) as client:
        created = client.post("/account/webhooks", json=HOOK)
        assert created.status_code == 201, created.text
        secret = created.headers["Heroku-Webhook-Secret"]
        assert len(secret) >= 32
        assert created.headers["Cache-Control"] == "no-store"
        body = created.json()
        _assert_webhook_shape(body)
        assert body["url"] == HOOK["url"]
        assert body["include"] == ["alert"]
        assert body["level"] == "notify"
        shown = [
            client.get("/account/webhooks"),
            client.get(f"/account/webhooks/{body['id']}"),
            client.patch(f"/account/webhooks/{body['id']}", json={"include": ["alert", "event"]}),
        ]
        for answer in shown:
            assert answer.status_code == 200, answer.text
            assert secret not in answer.text
            assert "Heroku-Webhook-Secret" not in answer.headers
        assert shown[2].json()["include"] == ["alert", "event"]
        listed = shown[0].json()
        assert [hook["id"] for hook in listed] == [body["id"]]
        _assert_webhook_shape(listed[0])
        deleted = client.delete(f"/account/webhooks/{body['id']}")
        assert deleted.status_code == 200
        assert client.get(f"/account/webhooks/{body['id']}").status_code == 404


def test_a_chosen_secret_is_not_echoed(server: ServerProcess, account: UserAccount) -> None:
    with server.client(account.api_key) as client:
        created = client.post("/account/webhooks", json={**HOOK, "secret": "my-own-secret"})
        assert created.status_code == 201
        assert "Heroku-Webhook-Secret" not in created.headers
        assert "my-own-secret" not in created.text


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"url": "http://hooks.example.com/ostiary"}, "url"),
        ({"url": "https://user:password@hooks.example.com/"}, "url"),
        ({"url": "ftp://hooks.example.com/"}, "url"),
        ({"include": ["api:release"]}, "include"),
        ({"include": []}, "include"),
        ({"level": "loud"}, "level"),
        ({"secret": ""}, "secret"),
    ],
)
def test_bad_webhooks_are_refused(
    server: ServerProcess, account: UserAccount, change: dict[str, object], field: str
) -> None:
    with server.client(account.api_key) as client:
        refused = client.post("/account/webhooks", json={**HOOK, **change})
        assert refused.status_code == 422, refused.text
        assert refused.json()["id"] == "invalid_params"
        assert refused.json().get("field") == field
        made = client.post("/account/webhooks", json=HOOK).json()
        patched = client.patch(f"/account/webhooks/{made['id']}", json=change)
        assert patched.status_code == 422
        client.delete(f"/account/webhooks/{made['id']}")


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server as deployed: OSTIARY_WEBHOOK_ALLOW_LOOPBACK unset."""
    process = start_server(tmp_path_factory.mktemp("strict"))
    yield process
    process.stop()


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1:2375/containers/json",
        "https://localhost:8500/v1/agent/self",
        "https://[::ffff:127.0.0.1]/",
        "https://169.254.169.254/latest/meta-data/",
        "https://[fe80::1]/",
        "https://0.0.0.0:6379/",
        "http://127.0.0.1:8080/hooks",
    ],
)
def test_urls_to_this_machine_are_refused_at_create_and_patch(
    strict_server: ServerProcess, url: str
) -> None:
    factory = Factory(strict_server.data_dir)
    try:
        account = factory.account()
        with strict_server.client(account.api_key) as client:
            refused = client.post("/account/webhooks", json={**HOOK, "url": url})
            assert refused.status_code == 422, refused.text
            assert refused.json()["id"] == "invalid_params"
            assert set(refused.json()) >= {"id", "message"}
            made = client.post(
                "/account/webhooks", json={**HOOK, "url": "https://hooks.example.test/in"}
            )
            assert made.status_code == 201, made.text
            patched = client.patch(f"/account/webhooks/{made.json()['id']}", json={"url": url})
            assert patched.status_code == 422, patched.text
            assert patched.json()["id"] == "invalid_params"
            kept = client.get(f"/account/webhooks/{made.json()['id']}").json()
            assert kept["url"] == "https://hooks.example.test/in"
    finally:
        factory.close()


def test_an_account_has_a_bounded_number_of_webhooks(
    server: ServerProcess, account: UserAccount
) -> None:
    limit = load_settings().webhook_limit
    with server.client(account.api_key) as client:
        for _ in range(limit):
            assert client.post("/account/webhooks", json=HOOK).status_code == 201
        refused = client.post("/account/webhooks", json=HOOK)
        assert refused.status_code == 409
        assert refused.json()["id"] == "conflict"


def test_another_accounts_webhooks_and_deliveries_are_404(
    server: ServerProcess, factory: Factory, account: UserAccount, other_account: UserAccount
) -> None:
    with server.client(account.api_key) as mine:
        hook = mine.post("/account/webhooks", json={**HOOK, "include": ["event"]}).json()
    event = _event(account)
    with factory.database.unit_of_work(write=True) as session:
        enqueue_deliveries(session, [event])
    with server.client(account.api_key) as mine:
        # The server's own sealing may add deliveries of this account's events meanwhile (the
        # hook takes every event): the one of the event enqueued here is the one to look at.
        deliveries = mine.get("/account/webhook-deliveries").json()
    [delivery] = [each for each in deliveries if each["event"]["id"] == event.id]
    with server.client(other_account.api_key) as theirs:
        for method, path in [
            ("GET", f"/account/webhooks/{hook['id']}"),
            ("PATCH", f"/account/webhooks/{hook['id']}"),
            ("DELETE", f"/account/webhooks/{hook['id']}"),
            ("GET", f"/account/webhook-deliveries/{delivery['id']}"),
        ]:
            answer = theirs.request(method, path, json={"level": "sync"})
            assert answer.status_code == 404, (method, path, answer.text)
            assert answer.json()["id"] == "not_found"
        assert theirs.get("/account/webhooks").json() == []
        assert theirs.get("/account/webhook-deliveries").json() == []
    with server.client(account.api_key) as mine:
        assert mine.get(f"/account/webhooks/{hook['id']}").json()["level"] == "notify"
        mine.delete(f"/account/webhooks/{hook['id']}")


def test_narrow_tokens_cannot_reach_webhooks(
    server: ServerProcess, factory: Factory, account: UserAccount
) -> None:
    _, identity = factory.token(account, ["identity"])
    with server.client(identity) as client:
        assert client.get("/account/webhooks").status_code == 403
        assert client.post("/account/webhooks", json=HOOK).status_code == 403
        assert client.get("/account/webhook-deliveries").status_code == 403


@pytest.fixture
def sending_server(tmp_path: Path) -> Iterator[tuple[ServerProcess, Factory]]:
    """A server of its own, so that no other test's deliveries share its sending job."""
    process = start_server(
        tmp_path / "sending",
        settings={"OSTIARY_WEBHOOK_ALLOW_LOOPBACK": "true", "OSTIARY_USAGE_FLUSH_SECONDS": "1"},
    )
    factory = Factory(process.data_dir)
    yield process, factory
    factory.close()
    process.stop()


def test_the_servers_job_delivers_retries_and_lists_the_outcomes(
    sending_server: tuple[ServerProcess, Factory],
) -> None:
    """The server's own sending job sends the delivery (every OSTIARY_USAGE_FLUSH_SECONDS),
    fails on the receiver's 500, tries again after its backoff (15 to 30 s) and succeeds."""
    server, factory = sending_server
    account = factory.account()
    with webhook_receiver(answers=[500]) as receiver, server.client(account.api_key) as client:
        created = client.post(
            "/account/webhooks", json={"url": receiver.url, "include": ["alert"], "level": "sync"}
        )
        secret = created.headers["Heroku-Webhook-Secret"]
        with factory.database.unit_of_work(write=True) as session:
            enqueue_deliveries(session, [_event(account), _event(account, "auth:login")])
        [listed] = client.get("/account/webhook-deliveries").json()  # the alert only
        assert_matches_heroku("app-webhook-delivery", listed)

        def fetch() -> dict[str, Any]:
            answer = client.get(f"/account/webhook-deliveries/{listed['id']}")
            assert answer.status_code == 200
            body: dict[str, Any] = answer.json()
            return body

        retrying = _until(fetch, "retrying", 45)
        assert retrying["status"] == "retrying", (retrying, server.log())
        assert_matches_heroku("app-webhook-delivery", retrying)
        assert retrying["num_attempts"] == 1
        assert retrying["last_attempt"]["code"] == 500
        assert retrying["last_attempt"]["status"] == "failed"
        assert retrying["next_attempt_at"] is not None
        assert retrying["webhook"] == {"id": created.json()["id"], "level": "sync"}
        assert retrying["event"]["include"] == "alert"
        done = _until(fetch, "succeeded", 120)
        assert done["status"] == "succeeded", (done, server.log())
        assert done["num_attempts"] == 2
        assert done["last_attempt"]["code"] == 200
        assert done["next_attempt_at"] is None
        assert secret not in json.dumps(done)
        client.delete(f"/account/webhooks/{created.json()['id']}")
    assert len(receiver.received) == 2
    assert all(r.signed_with(secret) for r in receiver.received)
    assert secret.encode() not in b"".join(r.body for r in receiver.received)
    assert json.loads(receiver.received[1].body)["action"] == "alert:spike"
