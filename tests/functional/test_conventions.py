"""The Platform API v3 wire conventions, each with its negative case, over HTTP."""

from __future__ import annotations

import uuid

import httpx

from tests.support.factories import Factory, UserAccount
from tests.support.server import API_HEADERS, ServerProcess

V3 = API_HEADERS["Accept"]


def _get(server: ServerProcess, path: str, **headers: str) -> httpx.Response:
    return httpx.get(server.url + path, headers=headers, timeout=30)


class TestAcceptHeader:
    def test_version_3_is_served(self, server: ServerProcess, account: UserAccount) -> None:
        response = _get(server, "/account", Accept=V3, Authorization=f"Bearer {account.api_key}")
        assert response.status_code == 200
        assert response.json()["email"] == account.email

    def test_heroku3_variant_suffix_counts_as_version_3(
        self, server: ServerProcess, account: UserAccount
    ) -> None:
        accept = "application/vnd.heroku+json; version=3.cedar-acm"
        response = _get(
            server, "/account", Accept=accept, Authorization=f"Bearer {account.api_key}"
        )
        assert response.status_code == 200

    def test_missing_accept_is_400_missing_version(
        self, server: ServerProcess, account: UserAccount
    ) -> None:
        response = _get(server, "/account", Authorization=f"Bearer {account.api_key}")
        assert response.status_code == 400
        assert response.json()["id"] == "missing_version"
        assert "version=3" in response.json()["message"]

    def test_plain_json_is_400_missing_version(
        self, server: ServerProcess, account: UserAccount
    ) -> None:
        response = _get(
            server, "/account", Accept="application/json", Authorization=f"Bearer {account.api_key}"
        )
        assert response.status_code == 400
        assert response.json()["id"] == "missing_version"

    def test_media_type_without_version_is_400(self, server: ServerProcess) -> None:
        response = _get(server, "/account", Accept="application/vnd.heroku+json")
        assert response.status_code == 400
        assert response.json()["id"] == "missing_version"

    def test_other_version_is_406(self, server: ServerProcess, account: UserAccount) -> None:
        response = _get(
            server,
            "/account",
            Accept="application/vnd.heroku+json; version=2",
            Authorization=f"Bearer {account.api_key}",
        )
        assert response.status_code == 406
        assert response.json()["id"] == "not_acceptable"


class TestErrorShapes:
    def test_unknown_path_is_json_404(self, server: ServerProcess) -> None:
        response = _get(server, "/no/such/thing", Accept=V3)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/json"
        assert response.json()["id"] == "not_found"
        assert response.json()["message"]

    def test_wrong_method_is_json_405(self, server: ServerProcess) -> None:
        response = httpx.put(server.url + "/account", headers=API_HEADERS)
        assert response.status_code == 405
        assert response.json()["id"] == "method_not_allowed"
        assert "GET" in response.headers["allow"]

    def test_malformed_json_is_422(self, server: ServerProcess, account: UserAccount) -> None:
        with server.client(account.api_key) as client:
            response = client.post(
                "/apps", content=b'{"name": ', headers={"Content-Type": "application/json"}
            )
        assert response.status_code == 422
        assert response.json()["id"] == "invalid_params"
        assert "JSON" in response.json()["message"]

    def test_invalid_field_names_the_field(
        self, server: ServerProcess, account: UserAccount
    ) -> None:
        with server.client(account.api_key) as client:
            response = client.patch("/account", json={"beta": {"not": "a boolean"}})
        assert response.status_code == 422
        body = response.json()
        assert body["id"] == "invalid_params"
        assert "beta" in body["message"]

    def test_not_found_names_the_resource(
        self, server: ServerProcess, account: UserAccount
    ) -> None:
        with server.client(account.api_key) as client:
            response = client.get("/apps/no-such-app-here")
        assert response.status_code == 404
        assert response.json() == {
            "id": "not_found",
            "message": "Couldn't find that app.",
            "resource": "app",
        }


class TestRequestId:
    def test_every_response_has_a_fresh_request_id(self, server: ServerProcess) -> None:
        first = _get(server, "/health").headers["request-id"]
        second = _get(server, "/nowhere").headers["request-id"]
        assert uuid.UUID(first)
        assert uuid.UUID(second)
        assert first != second

    def test_client_ids_follow_and_junk_is_dropped(self, server: ServerProcess) -> None:
        mine = str(uuid.uuid4())
        response = _get(server, "/health", **{"Request-Id": f"{mine}, not-a-uuid,<script>"})
        ids = response.headers["request-id"].split(",")
        assert len(ids) == 2
        assert ids[0] != mine
        assert uuid.UUID(ids[0])
        assert ids[1] == mine


class TestAuthentication:
    def test_no_credentials_is_401_with_challenge(self, server: ServerProcess) -> None:
        response = _get(server, "/account", Accept=V3)
        assert response.status_code == 401
        assert response.json()["id"] == "unauthorized"
        assert response.headers["www-authenticate"].startswith("Bearer")

    def test_unknown_token_is_401(self, server: ServerProcess) -> None:
        from ostiary.security.tokens import TokenKind, mint_token

        forged = mint_token(TokenKind.API_KEY)  # well-formed, never issued
        response = _get(server, "/account", Accept=V3, Authorization=f"Bearer {forged}")
        assert response.status_code == 401
        assert response.json()["id"] == "unauthorized"
        assert response.headers["www-authenticate"].startswith("Bearer")

    def test_malformed_token_is_401(self, server: ServerProcess) -> None:
        response = _get(server, "/account", Accept=V3, Authorization="Bearer nonsense")
        assert response.status_code == 401
        assert response.json()["id"] == "unauthorized"

    def test_basic_with_token_as_password_as_curl_netrc_sends(
        self, server: ServerProcess, account: UserAccount
    ) -> None:
        response = httpx.get(
            server.url + "/account", headers=API_HEADERS, auth=(account.email, account.api_key)
        )
        assert response.status_code == 200
        assert response.json()["id"] == account.id

    def test_basic_with_empty_user_as_heroku3_sends(
        self, server: ServerProcess, account: UserAccount
    ) -> None:
        response = httpx.get(
            server.url + "/account", headers=API_HEADERS, auth=("", account.api_key)
        )
        assert response.status_code == 200

    def test_basic_with_the_password_is_refused(
        self, server: ServerProcess, account: UserAccount
    ) -> None:
        from tests.support.factories import PASSWORD

        response = httpx.get(
            server.url + "/account", headers=API_HEADERS, auth=(account.email, PASSWORD)
        )
        assert response.status_code == 401
        assert response.json()["id"] == "unauthorized"

    def test_token_in_query_string_is_refused(
        self, server: ServerProcess, account: UserAccount
    ) -> None:
        response = httpx.get(
            server.url + "/account", headers=API_HEADERS, params={"access_token": account.api_key}
        )
        assert response.status_code == 400
        assert response.json()["id"] == "bad_request"
        # Even alongside a valid header, the query token makes the request fail.
        response = httpx.get(
            server.url + "/account",
            headers={**API_HEADERS, "Authorization": f"Bearer {account.api_key}"},
            params={"access_token": account.api_key},
        )
        assert response.status_code == 400

    def test_expired_token_is_401(
        self, factory: Factory, server: ServerProcess, account: UserAccount
    ) -> None:
        from datetime import UTC, datetime, timedelta

        _, token = factory.token(
            account, ["global"], expires_at=datetime.now(UTC) - timedelta(seconds=1)
        )
        with server.client(token) as client:
            response = client.get("/account")
        assert response.status_code == 401
        assert response.json()["id"] == "unauthorized"


class TestRateLimit:
    def test_remaining_counts_down_per_request(
        self, server: ServerProcess, account: UserAccount
    ) -> None:
        with server.client(account.api_key) as client:
            first = int(client.get("/account").headers["ratelimit-remaining"])
            second = int(client.get("/apps").headers["ratelimit-remaining"])
        assert second == first - 1

    def test_rate_limits_endpoint_is_not_counted(
        self, server: ServerProcess, account: UserAccount
    ) -> None:
        with server.client(account.api_key) as client:
            before = client.get("/account/rate-limits").json()["remaining"]
            again = client.get("/account/rate-limits")
        assert again.json()["remaining"] == before
        assert int(again.headers["ratelimit-remaining"]) == before

    def test_accounts_have_separate_pools(
        self, server: ServerProcess, account: UserAccount, other_account: UserAccount
    ) -> None:
        with server.client(account.api_key) as client:
            for _ in range(3):
                client.get("/account")
        with server.client(other_account.api_key) as client:
            fresh = client.get("/account/rate-limits").json()["remaining"]
        assert fresh == 4500

    def test_unauthenticated_responses_have_no_budget_header(self, server: ServerProcess) -> None:
        assert "ratelimit-remaining" not in _get(server, "/account", Accept=V3).headers


class TestETag:
    def test_if_none_match_gives_304(self, server: ServerProcess, account: UserAccount) -> None:
        with server.client(account.api_key) as client:
            first = client.get("/account")
            etag = first.headers["etag"]
            again = client.get("/account", headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == etag

    def test_changed_resource_gets_a_new_etag(
        self, server: ServerProcess, account: UserAccount
    ) -> None:
        with server.client(account.api_key) as client:
            etag = client.get("/account").headers["etag"]
            client.patch("/account", json={"name": "Changed Name"})
            after = client.get("/account", headers={"If-None-Match": etag})
        assert after.status_code == 200
        assert after.headers["etag"] != etag
        assert after.json()["name"] == "Changed Name"


class TestPublicEndpoints:
    def test_health_needs_no_credentials_or_accept(self, server: ServerProcess) -> None:
        response = httpx.get(server.url + "/health")
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "database": "up"}

    def test_openapi_describes_every_route_with_schemas(self, server: ServerProcess) -> None:
        from ostiary.web.api.scopes import PUBLIC_ROUTES, ROUTE_SCOPES

        spec = httpx.get(server.url + "/openapi.json").json()
        for method, path in [*ROUTE_SCOPES, *PUBLIC_ROUTES]:
            operation = spec["paths"][path][method.lower()]
            success = next(code for code in operation["responses"] if code.startswith("2"))
            content = operation["responses"][success]["content"]["application/json"]
            assert content["schema"], f"{method} {path} has no response schema"
            if method in ("POST", "PATCH") and "/actions/" not in path:
                assert "requestBody" in operation, f"{method} {path} has no request schema"


def test_every_api_route_requires_the_version(server: ServerProcess, account: UserAccount) -> None:
    from ostiary.web.api.scopes import PUBLIC_ROUTES, ROUTE_SCOPES

    for method, template in [*ROUTE_SCOPES, *PUBLIC_ROUTES]:
        path = template.format(
            account_identity="~",
            app_identity="some-app",
            collaborator_identity="x",
            release_identity="1",
            addon_identity="x",
            authorization_identity="~",
            client_identity="x",
            token_identity="x",
            alert_identity="x",
            session_identity="~",
            webhook_identity="x",
            delivery_identity="x",
        )
        response = httpx.request(
            method, server.url + path, headers={"Authorization": f"Bearer {account.api_key}"}
        )
        assert response.status_code == 400, (method, path)
        assert response.json()["id"] == "missing_version"


def test_sign_up_is_by_invitation_unless_opened(server: ServerProcess) -> None:
    """The default server does not let strangers create accounts."""
    page = httpx.get(f"{server.url}/signup")
    assert page.status_code == 403
    assert "created by invitation" in page.text
    attempt = httpx.post(
        f"{server.url}/signup",
        data={"email": "x@example.com", "password": "long enough pw", "csrf_token": "x"},
    )
    assert attempt.status_code == 403
    with server.client() as api:
        assert api.get("/account").status_code == 401


def test_dashboard_pages_need_a_session(server: ServerProcess) -> None:
    response = httpx.get(f"{server.url}/dashboard/tokens", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fdashboard%2Ftokens"
