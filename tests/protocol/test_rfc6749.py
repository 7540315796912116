"""RFC 6749 (and the Security BCP's rules for it): each test tries the attack and shows it
refused. Rule numbers refer to docs/oauth-server-rules.md."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.factories import UserAccount
from tests.support.oauth_flow import (
    CALLBACK,
    OAuthBrowser,
    api_status,
    hidden_fields,
    pkce_pair,
    query_of,
    register,
    token_request,
)
from tests.support.server import ServerProcess, trusting


def _code(browser: OAuthBrowser, client: dict[str, Any], **extra: str) -> dict[str, str]:
    return browser.code_for(
        response_type="code", client_id=client["id"], state="xyz", scope="read", **extra
    )


def _exchange(
    server: ServerProcess, client: dict[str, Any], code: str, **extra: str
) -> httpx.Response:
    return token_request(
        server,
        {"grant_type": "authorization_code", "code": code, **extra},
        auth=(client["id"], client["secret"]),
    )


def test_code_flow_end_to_end(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    client = register(tls_server, user.api_key)
    answer = _code(browser, client)
    assert answer["state"] == "xyz"
    assert answer["iss"] == f"https://localhost:{tls_server.port}"
    response = _exchange(tls_server, client, answer["code"])
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "read"
    assert body["user_id"] == user.id
    assert 28790 <= body["expires_in"] <= 28800
    assert "code_challenge" not in response.text  # R13
    assert api_status(tls_server, body["access_token"], "/apps") == 200
    assert api_status(tls_server, body["access_token"], "/account") == 403  # read has no identity


def test_r1_redirect_uri_must_match_exactly(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    client = register(tls_server, user.api_key)
    for attempt in [
        CALLBACK + "/extra",
        CALLBACK + "?x=1",
        CALLBACK.upper(),
        "https://evil.example/callback",
    ]:
        response = browser.authorize(
            response_type="code", client_id=client["id"], redirect_uri=attempt
        )
        assert response.status_code == 400, attempt
        assert "location" not in response.headers


def test_r1_loopback_port_may_vary(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    _, challenge = pkce_pair()
    client = register(
        tls_server, user.api_key, redirect_uri="http://127.0.0.1/cb", client_type="public"
    )
    answer = browser.code_for(
        response_type="code",
        client_id=client["id"],
        redirect_uri="http://127.0.0.1:49152/cb",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    assert "code" in answer
    wrong_path = browser.authorize(
        response_type="code",
        client_id=client["id"],
        redirect_uri="http://127.0.0.1:49152/other",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    assert wrong_path.status_code == 400


def test_r2_unknown_client_shows_an_error_page(browser: OAuthBrowser) -> None:
    response = browser.authorize(
        response_type="code", client_id="no-such-client", redirect_uri=CALLBACK
    )
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "not registered" in response.text


def test_r3_no_redirect_before_the_user_is_known(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    client = register(tls_server, user.api_key)
    response = browser.authorize(response_type="code", client_id=client["id"], state="s")
    assert response.status_code == 302
    assert response.headers["location"].startswith("/login?")  # our own login page, not the client


def test_r3_login_next_cannot_leave_the_site(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    page = browser.client.get("/login", params={"next": "https://evil.example/"})
    fields = hidden_fields(page.text)
    assert fields["next"] == "/"
    response = browser.client.post(
        "/login",
        data={
            **fields,
            "next": "//evil.example/x",
            "email": user.email,
            "password": browser.password,
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_r14_only_response_type_code(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    client = register(tls_server, user.api_key)
    response = browser.authorize(response_type="token", client_id=client["id"], state="s1")
    assert response.status_code == 302
    answer = query_of(response.headers["location"])
    assert answer["error"] == "unsupported_response_type"
    assert answer["state"] == "s1"
    assert "access_token" not in response.headers["location"]


def test_r15_no_password_grant(tls_server: ServerProcess, user: UserAccount) -> None:
    client = register(tls_server, user.api_key)
    response = token_request(
        tls_server,
        {"grant_type": "password", "username": user.email, "password": "x"},
        auth=(client["id"], client["secret"]),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_r10_code_is_bound_to_its_client(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    client, other = register(tls_server, user.api_key), register(tls_server, user.api_key)
    answer = _code(browser, client)
    stolen = token_request(
        tls_server,
        {"grant_type": "authorization_code", "code": answer["code"]},
        auth=(other["id"], other["secret"]),
    )
    assert stolen.status_code == 400
    assert stolen.json()["error"] == "invalid_grant"


def test_r10_code_is_bound_to_its_redirect_uri(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    client = register(tls_server, user.api_key, redirect_uris=["https://app.example.com/other"])
    answer = _code(browser, client, redirect_uri=CALLBACK)
    wrong = _exchange(
        tls_server, client, answer["code"], redirect_uri="https://app.example.com/other"
    )
    assert wrong.status_code == 400
    missing = _exchange(tls_server, client, answer["code"])
    assert missing.status_code == 400
    right = _exchange(tls_server, client, answer["code"], redirect_uri=CALLBACK)
    assert right.status_code == 200


def test_r11_second_use_of_a_code_revokes_its_tokens(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    client = register(tls_server, user.api_key)
    code = _code(browser, client)["code"]
    first = _exchange(tls_server, client, code)
    assert first.status_code == 200
    again = _exchange(tls_server, client, code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert api_status(tls_server, first.json()["access_token"], "/apps") == 401
    refresh = token_request(
        tls_server,
        {"grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"]},
        auth=(client["id"], client["secret"]),
    )
    assert refresh.status_code == 400


def test_r16_rotated_refresh_token_reuse_revokes_the_family(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    client = register(tls_server, user.api_key)
    tokens = _exchange(tls_server, client, _code(browser, client)["code"]).json()
    auth = (client["id"], client["secret"])
    chain = [tokens["refresh_token"]]
    for _ in range(2):
        rotated = token_request(
            tls_server, {"grant_type": "refresh_token", "refresh_token": chain[-1]}, auth=auth
        )
        assert rotated.status_code == 200
        chain.append(rotated.json()["refresh_token"])
    live_access = rotated.json()["access_token"]
    replay = token_request(
        tls_server, {"grant_type": "refresh_token", "refresh_token": chain[0]}, auth=auth
    )
    assert replay.status_code == 400
    assert api_status(tls_server, live_access, "/apps") == 401
    assert (
        token_request(
            tls_server, {"grant_type": "refresh_token", "refresh_token": chain[-1]}, auth=auth
        ).status_code
        == 400
    )


def test_r16_concurrent_refresh_keeps_one_live_family(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    client = register(tls_server, user.api_key)
    tokens = _exchange(tls_server, client, _code(browser, client)["code"]).json()
    auth = (client["id"], client["secret"])
    request = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda _: token_request(tls_server, request, auth=auth), range(2)))
    assert [a.status_code for a in answers] == [200, 200]
    for answer in answers:
        assert api_status(tls_server, answer.json()["access_token"], "/apps") == 200
    kept = answers[1].json()["refresh_token"]
    assert (
        token_request(
            tls_server, {"grant_type": "refresh_token", "refresh_token": kept}, auth=auth
        ).status_code
        == 200
    )


def test_r17_refresh_never_widens_scope(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    client = register(tls_server, user.api_key)
    tokens = _exchange(tls_server, client, _code(browser, client)["code"]).json()
    wider = token_request(
        tls_server,
        {
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "scope": "global",
        },
        auth=(client["id"], client["secret"]),
    )
    assert wider.status_code == 400
    assert wider.json()["error"] == "invalid_scope"


def test_r19_refresh_token_works_only_for_its_client(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    client, other = register(tls_server, user.api_key), register(tls_server, user.api_key)
    tokens = _exchange(tls_server, client, _code(browser, client)["code"]).json()
    stolen = token_request(
        tls_server,
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(other["id"], other["secret"]),
    )
    assert stolen.status_code == 400
    assert stolen.json()["error"] == "invalid_grant"


def test_r22_client_authentication_basic_and_post(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    client = register(tls_server, user.api_key)
    by_post = token_request(
        tls_server,
        {
            "grant_type": "authorization_code",
            "code": _code(browser, client)["code"],
            "client_id": client["id"],
            "client_secret": client["secret"],
        },
    )
    assert by_post.status_code == 200
    wrong = token_request(
        tls_server,
        {"grant_type": "authorization_code", "code": _code(browser, client)["code"]},
        auth=(client["id"], "ostc_wrong"),
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    assert wrong.headers["www-authenticate"].startswith("Basic")
    no_secret = token_request(
        tls_server,
        {
            "grant_type": "authorization_code",
            "code": _code(browser, client)["code"],
            "client_id": client["id"],
        },
    )
    assert no_secret.status_code == 401


def test_r23_repeated_client_failures_are_throttled(
    tls_server: ServerProcess, user: UserAccount
) -> None:
    client = register(tls_server, user.api_key)
    statuses = [
        token_request(
            tls_server, {"grant_type": "client_credentials"}, auth=(client["id"], "ostc_guess")
        ).status_code
        for _ in range(7)
    ]
    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429, 429]
    last = token_request(
        tls_server, {"grant_type": "client_credentials"}, auth=(client["id"], client["secret"])
    )
    assert last.status_code == 429  # even the right secret waits for the window
    assert int(last.headers["retry-after"]) >= 1


def test_r23_repeated_login_failures_are_throttled(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    page = browser.client.get("/login")
    fields = hidden_fields(page.text)
    statuses = [
        browser.client.post(
            "/login", data={**fields, "email": user.email, "password": "guess!"}
        ).status_code
        for _ in range(7)
    ]
    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429, 429]


def test_r26_iss_on_errors_too(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    client = register(tls_server, user.api_key)
    consent = browser.log_in(
        browser.authorize(response_type="code", client_id=client["id"], state="st")
    )
    denied = browser.decide(consent, "deny")
    answer = query_of(denied.headers["location"])
    assert answer == {
        **answer,
        "error": "access_denied",
        "state": "st",
        "iss": f"https://localhost:{tls_server.port}",
    }


def test_r28_post_decisions_redirect_with_303(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    client = register(tls_server, user.api_key)
    consent = browser.log_in(browser.authorize(response_type="code", client_id=client["id"]))
    assert browser.decide(consent, "allow").status_code == 303


def test_r29_r30_pages_refuse_framing_and_referrers(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    client = register(tls_server, user.api_key)
    for response in (
        browser.client.get("/login"),
        browser.log_in(browser.authorize(response_type="code", client_id=client["id"])),
    ):
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert "default-src 'self'" in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "http" not in response.text.split("<main", 1)[0].replace(
            'href="/', ""
        )  # no third-party resources


def test_r31_no_cors_on_the_authorization_endpoint(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    client = register(tls_server, user.api_key)
    response = browser.authorize(response_type="code", client_id=client["id"])
    assert "access-control-allow-origin" not in response.headers


def test_r35_token_responses_are_not_cached(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    client = register(tls_server, user.api_key)
    ok = _exchange(tls_server, client, _code(browser, client)["code"])
    failed = _exchange(tls_server, client, "ostg_unknown")
    for response in (ok, failed):
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["pragma"] == "no-cache"


def test_r36_repeated_parameters_are_refused(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    client = register(tls_server, user.api_key)
    response = httpx.post(
        f"https://localhost:{tls_server.port}/oauth/token",
        content=f"grant_type=client_credentials&grant_type=authorization_code&client_id={client['id']}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        verify=trusting(tls_server.cert_path),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    doubled = browser.client.get(
        f"/oauth/authorize?response_type=code&client_id={client['id']}&client_id={client['id']}"
    )
    assert doubled.status_code == 400


def test_consent_is_remembered_until_revoked(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    client = register(tls_server, user.api_key)
    _code(browser, client)
    again = browser.authorize(response_type="code", client_id=client["id"], scope="read")
    assert again.status_code == 302
    assert "code" in query_of(again.headers["location"])
    forced = browser.authorize(
        response_type="code", client_id=client["id"], scope="read", prompt="consent"
    )
    assert forced.status_code == 200
    with tls_server.client(user.api_key) as api:
        for item in api.get("/oauth/authorizations").json():
            if item["client"] and item["client"]["id"] == client["id"]:
                api.delete(f"/oauth/authorizations/{item['id']}")
    asked = browser.authorize(response_type="code", client_id=client["id"], scope="read")
    assert asked.status_code == 200
    assert "Authorize Example App" in asked.text


def test_prompt_consent_survives_the_login_it_leads_through(
    tls_server: ServerProcess, user: UserAccount
) -> None:
    """A signed-out user with remembered consent, sent with prompt=consent, is asked again after
    logging in, rather than handed a code silently."""
    client = register(tls_server, user.api_key)
    first = OAuthBrowser(tls_server, user.email)
    _code(first, client)
    first.close()
    fresh = OAuthBrowser(tls_server, user.email)
    try:
        response = fresh.authorize(
            response_type="code", client_id=client["id"], scope="read", prompt="consent"
        )
        after_login = fresh.log_in(response)
        assert after_login.status_code == 200
        assert "Authorize Example App" in after_login.text
    finally:
        fresh.close()


def test_consent_form_needs_its_csrf_token(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    client = register(tls_server, user.api_key)
    consent = browser.log_in(browser.authorize(response_type="code", client_id=client["id"]))
    forged = {**hidden_fields(consent.text), "csrf_token": "forged", "decision": "allow"}
    response = browser.client.post("/oauth/authorize", data=forged)
    assert response.status_code == 400
    assert "location" not in response.headers


def test_client_credentials_grant(tls_server: ServerProcess, user: UserAccount) -> None:
    allowed = register(tls_server, user.api_key, client_credentials_scopes=["read"])
    response = token_request(
        tls_server, {"grant_type": "client_credentials"}, auth=(allowed["id"], allowed["secret"])
    )
    assert response.status_code == 200
    body = response.json()
    assert body["scope"] == "read"
    assert "refresh_token" not in body
    assert body["user_id"] == user.id
    assert api_status(tls_server, body["access_token"], "/apps") == 200
    wider = token_request(
        tls_server,
        {"grant_type": "client_credentials", "scope": "write"},
        auth=(allowed["id"], allowed["secret"]),
    )
    assert wider.status_code == 400
    refused = register(tls_server, user.api_key)
    response = token_request(
        tls_server, {"grant_type": "client_credentials"}, auth=(refused["id"], refused["secret"])
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"
