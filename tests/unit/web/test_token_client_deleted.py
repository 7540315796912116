"""A client deleted while its client-credentials token waits for the group commit: the token is
not written and the answer is 401 ``invalid_client``, not a 500 (the attacker review of the hot
paths). The race is made certain by deleting the client just before the commit runs."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import delete, func, select

from ostiary.app import create_app
from ostiary.config import load_settings
from ostiary.migrate import upgrade
from ostiary.oauth_clients.models import OAuthClient
from ostiary.tokens.models import AccessToken
from tests.support.factories import Factory
from tests.support.own_loop import run_in_own_loop

V3 = "application/vnd.heroku+json; version=3"


def test_a_client_deleted_before_the_commit_gets_invalid_client(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    upgrade(settings.effective_database_url)
    factory = Factory(tmp_path)
    key = factory.account("race").api_key
    app = create_app(settings)
    database = app.state.services.database
    group_commit = database.group_commit
    commit_now = group_commit.run

    async def delete_then_commit(work: Any) -> Any:
        with database.unit_of_work(write=True) as session:
            session.execute(delete(OAuthClient))
        return await commit_now(work)

    async def scenario() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as api:
            created = await api.post(
                "/oauth/clients",
                headers={"Accept": V3, "Authorization": f"Bearer {key}"},
                json={
                    "name": "doomed",
                    "redirect_uri": "https://example.com/cb",
                    "client_credentials_scopes": ["read"],
                },
            )
            assert created.status_code == 201, created.text
            client = created.json()
            basic = base64.b64encode(f"{client['id']}:{client['secret']}".encode()).decode()
            group_commit.run = delete_then_commit
            return await api.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                headers={"Authorization": f"Basic {basic}"},
            )

    try:
        answer = run_in_own_loop(scenario)
        assert answer.status_code == 401
        assert answer.json()["error"] == "invalid_client"
        with database.unit_of_work(write=False) as session:
            assert session.scalar(select(func.count()).select_from(AccessToken)) == 1  # the key's
    finally:
        factory.close()
        database.dispose()
