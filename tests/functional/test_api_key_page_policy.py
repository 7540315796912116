"""The dashboard's API key page under a maximum key age: it says by when to regenerate the key,
counted from its last regeneration, instead of "never expires"."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from ostiary.tokens.models import AccessToken, Authorization, AuthorizationKind
from tests.support.factories import PASSWORD, Factory
from tests.support.oauth_flow import OAuthBrowser, hidden_fields
from tests.support.server import ServerProcess, start_server


@pytest.fixture(scope="module")
def aged_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(
        tmp_path_factory.mktemp("key-age"), tls=True, settings={"OSTIARY_API_KEY_MAX_AGE": "90d"}
    )
    yield server
    server.stop()


def test_the_page_says_by_when_to_regenerate_and_moves_it_on_regeneration(
    aged_server: ServerProcess,
) -> None:
    factory = Factory(aged_server.data_dir)
    browser = OAuthBrowser(aged_server, "key-age@example.com")
    try:
        user = factory.account("key-age")
        page = browser.client.get("/login")
        signed_in = browser.client.post(
            "/login", data={**hidden_fields(page.text), "email": user.email, "password": PASSWORD}
        )
        assert signed_in.status_code == 303, signed_in.text

        def issued_at() -> str:
            with factory.database.unit_of_work(write=False) as session:
                when = session.scalar(
                    select(AccessToken.created_at)
                    .join(Authorization, Authorization.id == AccessToken.authorization_id)
                    .where(
                        Authorization.account_id == user.id,
                        Authorization.kind == AuthorizationKind.API_KEY,
                        AccessToken.revoked_at.is_(None),
                    )
                )
            assert when is not None
            return (when + timedelta(days=90)).strftime("%Y-%m-%d %H:%M UTC")

        shown = browser.client.get("/dashboard/api-key").text
        assert "never expires" not in shown
        assert "lasts 90 days from its last regeneration" in shown
        assert f"<strong>{issued_at()}</strong>" in shown
        before = issued_at()
        regenerated = browser.client.post(
            "/dashboard/api-key/regenerate",
            data={**hidden_fields(shown), "confirm": "yes", "password": PASSWORD},
        )
        assert regenerated.status_code == 200, regenerated.text
        assert f"<strong>{issued_at()}</strong>" in regenerated.text
        assert issued_at() >= before
    finally:
        browser.close()
        factory.close()
