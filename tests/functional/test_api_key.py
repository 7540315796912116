"""The account's API key (``/oauth/authorizations/~``) and what the database keeps of tokens."""

from __future__ import annotations

import re
import sqlite3

from ostiary.security.tokens import REDACTION, TokenKind, token_kind
from tests.support.factories import PASSWORD, Factory, UserAccount
from tests.support.schema import assert_matches_heroku
from tests.support.server import ServerProcess


def _events(
    server: ServerProcess, actor_id: str | None = None
) -> list[tuple[str, str | None, str]]:
    with sqlite3.connect(server.data_dir / "ostiary.db") as db:
        rows = db.execute(
            "SELECT action, target_id, details FROM events WHERE actor_id IS ? ORDER BY created_at",
            (actor_id,),
        ).fetchall()
    return [(action, target, details) for action, target, details in rows]


class TestApiKey:
    def test_info_shows_the_key_redacted(self, server: ServerProcess, account: UserAccount) -> None:
        with server.client(account.api_key) as client:
            body = client.get("/oauth/authorizations/~").json()
        assert_matches_heroku("oauth-authorization", body)
        shown = body["access_token"]["token"]
        assert shown != account.api_key
        assert re.fullmatch(r"ostk_\w{4}\*{10}\w{4}", shown)
        assert shown.startswith(account.api_key[:9])
        assert shown.endswith(account.api_key[-4:])
        assert body["access_token"]["expires_in"] is None  # the API key never expires
        assert body["scope"] == ["global"]
        assert body["user"]["email"] == account.email

    def test_regenerate_kills_the_old_key_on_the_next_request(
        self, server: ServerProcess, account: UserAccount
    ) -> None:
        with server.client(account.api_key) as old:
            response = old.post("/oauth/authorizations/~/actions/regenerate-tokens")
            assert response.status_code == 200
            assert_matches_heroku("oauth-authorization", response.json())
            new_key = response.json()["access_token"]["token"]
            assert REDACTION not in new_key
            assert token_kind(new_key) is TokenKind.API_KEY
            refused = old.get("/account")
            assert refused.status_code == 401
            assert refused.json()["id"] == "unauthorized"
        with server.client(new_key) as new:
            assert new.get("/account").json()["id"] == account.id
            assert REDACTION in new.get("/oauth/authorizations/~").json()["access_token"]["token"]

    def test_events_record_creation_regeneration_and_failures(
        self, server: ServerProcess, account: UserAccount
    ) -> None:
        with server.client(account.api_key) as client:
            client.post("/oauth/authorizations/~/actions/regenerate-tokens")
            client.get("/account")  # the old key: refused and recorded
        actions = [action for action, _, _ in _events(server, account.id)]
        assert actions[:3] == ["account:create", "token:api-key:create", "token:api-key:regenerate"]
        failures = [e for e in _events(server, None) if e[0] == "auth:failure"]
        assert any('"revoked token"' in details for _, _, details in failures)


class TestSecretsAtRest:
    def test_no_token_or_password_plaintext_in_database_files_or_log(
        self, server: ServerProcess, factory: Factory, account: UserAccount
    ) -> None:
        _, personal = factory.token(account, ["read"])
        secrets_seen = [account.api_key, personal]
        with server.client(account.api_key) as client:
            client.get("/account")
            regenerated = client.post("/oauth/authorizations/~/actions/regenerate-tokens")
            secrets_seen.append(regenerated.json()["access_token"]["token"])
            client.get("/account")  # refused: the old key, now logged as a failure event
        with server.client(personal) as client:
            client.get("/apps")
        with server.client(secrets_seen[-1]) as client:
            client.get("/account", params={"access_token": secrets_seen[-1]})
        # Files only: the writer's wake-up pipe (ostiary.db-writer-wake) holds nothing to read.
        files = sorted(path for path in server.data_dir.glob("ostiary.db*") if path.is_file())
        assert files, "the database file should exist"
        blob = b"".join(path.read_bytes() for path in files)
        for secret in [*secrets_seen, PASSWORD]:
            assert secret.encode() not in blob
            assert secret not in server.log()

    def test_database_holds_hmac_hashes(self, server: ServerProcess, account: UserAccount) -> None:
        with sqlite3.connect(server.data_dir / "ostiary.db") as db:
            hashes = [row[0] for row in db.execute("SELECT token_hash FROM access_tokens")]
        assert hashes
        assert all(re.fullmatch(r"[0-9a-f]{64}", value) for value in hashes)
