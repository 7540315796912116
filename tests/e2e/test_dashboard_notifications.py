"""The dashboard's Notifications page in headless Chromium: both informational notifications
ticked by default, the security ones listed as always sent, unticking one saved (and kept
across a reload); labelled inputs, no inline script, screenshots at desktop and phone width."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_dashboard import _log_in, _unlabelled_inputs
from tests.support.factories import Factory
from tests.support.server import ServerProcess, start_server

PAGE = "/dashboard/notifications"


@pytest.fixture(scope="module")
def notifying_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(tmp_path_factory.mktemp("dashboard-notifications"), tls=True)
    yield server
    server.stop()


@pytest.fixture
def factory(notifying_server: ServerProcess) -> Iterator[Factory]:
    made = Factory(notifying_server.data_dir)
    yield made
    made.close()


def test_turn_a_notification_off_and_see_what_always_goes(
    notifying_server: ServerProcess, factory: Factory, page: Any
) -> None:
    user = factory.account("notices")
    _log_in(page, notifying_server, user.email, PAGE)
    assert _unlabelled_inputs(page) == []
    assert page.is_checked("#notify-new_sign_in")
    assert page.is_checked("#notify-new_token")
    always = page.text_content("section[aria-labelledby=always-heading]")
    assert "Your Ostiary password was changed" in always
    assert "Your Ostiary API key was regenerated" in always
    # This server has no SMTP: the page says so rather than pretending.
    assert "sends no mail" in page.text_content("main")
    assert page.locator("script:not([src])").count() == 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "dashboard-notifications.png"), full_page=True)

    page.uncheck("#notify-new_token")
    page.click("button:has-text('Save')")
    page.wait_for_url(f"**{PAGE}")
    assert "saved" in page.text_content(".flash")
    page.reload()
    assert page.is_checked("#notify-new_sign_in")
    assert not page.is_checked("#notify-new_token")
    assert page.get_attribute(f"nav a[href='{PAGE}']", "aria-current") == "page"
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SCREENSHOTS / "dashboard-phone-notifications.png"), full_page=True)
    assert page.console_errors == []
