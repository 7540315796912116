"""The dashboard's Webhooks page in headless Chromium: add a webhook (its secret shown once,
then never), see the server's deliveries to a receiver on loopback with their outcome, delete
it; labelled inputs, no inline script, screenshots at desktop and phone width."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from ostiary.activity.records import LoggedEvent
from ostiary.clock import utcnow
from ostiary.db import new_id
from ostiary.webhooks.services import enqueue_deliveries
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_dashboard import _log_in, _unlabelled_inputs
from tests.support.factories import Factory, UserAccount
from tests.support.polling import wait_for
from tests.support.server import ServerProcess, start_server
from tests.support.webhook_receiver import webhook_receiver

PAGE = "/dashboard/webhooks"


@pytest.fixture(scope="module")
def hooks_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(
        tmp_path_factory.mktemp("dashboard-webhooks"),
        tls=True,
        # Loopback allowed: the receiver runs here.
        settings={"OSTIARY_USAGE_FLUSH_SECONDS": "1", "OSTIARY_WEBHOOK_ALLOW_LOOPBACK": "true"},
    )
    yield server
    server.stop()


@pytest.fixture
def factory(hooks_server: ServerProcess) -> Iterator[Factory]:
    made = Factory(hooks_server.data_dir)
    yield made
    made.close()


def _alert(account: UserAccount) -> LoggedEvent:
    return LoggedEvent(
        id=new_id(),
        seq=1,
        action="alert:dead-credential",
        created_at=utcnow(),
        actor_id=account.id,
        authorization_id=new_id(),
        target_type="authorization",
        target_id=None,
        ip="203.0.113.7",
        user_agent="curl/8.5.0",
        request_id=None,
        outcome="failure",
    )


def test_add_see_deliveries_and_delete_a_webhook(
    hooks_server: ServerProcess, factory: Factory, page: Any
) -> None:
    user = factory.account("hooks")
    _log_in(page, hooks_server, user.email, PAGE)
    assert "No webhooks yet." in page.content()
    assert _unlabelled_inputs(page) == []
    with webhook_receiver() as receiver:
        page.fill("#url", receiver.url)
        page.click("button:has-text('Add webhook')")
        secret = page.text_content("#new-secret").strip()
        assert len(secret) == 64
        assert receiver.url in page.text_content("table")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "dashboard-webhooks-added.png"), full_page=True)
        with factory.database.unit_of_work(write=True) as session:
            enqueue_deliveries(session, [_alert(user)])
        deadline = time.monotonic() + 60  # the job runs every second; a loaded machine is slow
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.2)
        [got] = receiver.received
        assert got.signed_with(secret)
        assert json.loads(got.body)["action"] == "alert:dead-credential"
        # The receiver has the POST before the server has recorded its answer: reload until the
        # outcome is on the page (the row says "pending" in between).
        row = page.locator("tr", has_text="alert:dead-credential")
        answers: list[Any] = []

        def outcome_shown() -> bool:
            answers.append(page.goto(f"{hooks_server.url}{PAGE}"))
            assert answers[-1].status == 200
            return "pending" not in row.text_content()

        wait_for("the delivery's outcome on the page", outcome_shown)
        response = answers[-1]
        assert secret not in page.content()  # shown once, on the answer that made it
        assert "succeeded" in row.text_content()
        assert "HTTP 200" in row.text_content()
        assert "script-src" not in response.headers["content-security-policy"] or (
            "'unsafe-inline'" not in response.headers["content-security-policy"]
        )
        assert page.locator("script:not([src])").count() == 0
        page.screenshot(path=str(SCREENSHOTS / "dashboard-webhooks.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{hooks_server.url}{PAGE}")
        page.screenshot(path=str(SCREENSHOTS / "dashboard-phone-webhooks.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.locator("tr", has_text=receiver.url).locator("button:has-text('Delete')").click()
        page.wait_for_url(f"**{PAGE}")
        assert "Webhook deleted." in page.text_content(".flash")
    assert "No webhooks yet." in page.content()
    assert page.console_errors == []


def test_a_plain_http_url_elsewhere_is_refused_with_its_reason(
    hooks_server: ServerProcess, factory: Factory, page: Any
) -> None:
    user = factory.account("hooks")
    _log_in(page, hooks_server, user.email, PAGE)
    page.fill("#url", "http://hooks.example.com/ostiary")
    page.click("button:has-text('Add webhook')")
    page.wait_for_url(f"**{PAGE}")
    assert "https" in page.text_content(".flash")
    assert "No webhooks yet." in page.content()
