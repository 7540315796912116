"""Leak response on a real server: GitHub's secret scanning partner endpoint, signed with a key
pair this test makes and writes as the server's key file, and the public leak report.

A signed payload revokes a real token and labels a fake one; the token is then refused (401),
its owner's alert is listed, delivered to the owner's webhook and mailed. Unsigned, mis-keyed
and tampered payloads are refused and revoke nothing. A public report answers the same whatever
the token was, and each address has a budget of them.

An OAuth client's secret reported either way stops authenticating the client (401
``invalid_client``) until its owner rotates it, the client-credentials token it minted dies, a
user's grant to the client carries on with the rotated secret, and the owner is alerted. A
reported authorization code revokes its grant.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from ostiary.events import Event
from ostiary.security.tokens import TokenKind, mint_token
from ostiary.tokens.models import Authorization, AuthorizationKind
from ostiary.tokens.services import issue_access_token, issue_refresh_token
from ostiary.web.leaks import RECEIVED
from tests.support.factories import Factory, UserAccount
from tests.support.polling import wait_for
from tests.support.server import ServerProcess, start_server
from tests.support.smtp_sink import Sink, smtp_sink
from tests.support.webhook_receiver import Receiver, webhook_receiver

KEY_ID = "90a421169f0a406205f1563a953312f0be898d3c7b6c06b681aa86a874555f4a"
SECRET = "the-receiver-knows-this-secret"
REPORT_LIMIT = 6
FOUND_AT = "https://github.com/someone/project/blob/abc123/.env"


class GitHub:
    """The test's stand-in for GitHub: a P-256 key pair whose public half the server trusts."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())

    def key_file(self, path: Path) -> Path:
        """GitHub's ``public_keys`` document naming this key, written to ``path``."""
        pem = (
            self.key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        document = {"public_keys": [{"key_identifier": KEY_ID, "key": pem, "is_current": True}]}
        path.write_text(json.dumps(document))
        return path

    def sign(self, body: bytes) -> str:
        """The ``GITHUB-PUBLIC-KEY-SIGNATURE`` of a body."""
        return base64.b64encode(self.key.sign(body, ec.ECDSA(hashes.SHA256()))).decode()


@pytest.fixture(scope="module")
def github() -> GitHub:
    """The module's GitHub key pair."""
    return GitHub()


@pytest.fixture(scope="module")
def scanned(
    tmp_path_factory: pytest.TempPathFactory, github: GitHub
) -> Iterator[tuple[ServerProcess, Receiver, Sink]]:
    """A server trusting the test's GitHub key, sealing and sending every half second, mailing
    the test's SMTP server, and believing X-Forwarded-For from loopback (so each test reports
    from an address of its own)."""
    root = tmp_path_factory.mktemp("leaks")
    with smtp_sink() as sink, webhook_receiver() as receiver:
        server = start_server(
            root / "server",
            settings={
                "OSTIARY_GITHUB_SCANNING_KEYS": str(github.key_file(root / "github-keys.json")),
                "OSTIARY_USAGE_FLUSH_SECONDS": "0.5",
                "OSTIARY_SMTP_URL": f"smtp://127.0.0.1:{sink.port}",
                "OSTIARY_MAIL_FROM": "ostiary@example.test",
                "OSTIARY_LOGIN_REQUEST_LIMIT": str(REPORT_LIMIT),
                "OSTIARY_TRUSTED_PROXIES": "127.0.0.1",
                "OSTIARY_ACCESS_LOG": "off",
                "OSTIARY_WEBHOOK_ALLOW_LOOPBACK": "true",
            },
        )
        try:
            yield server, receiver, sink
        finally:
            server.stop()


def _post(server: ServerProcess, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        return client.post(
            path, content=body, headers={"Content-Type": "application/json", **headers}
        )


def _signed(github: GitHub, body: bytes) -> dict[str, str]:
    return {
        "GITHUB-PUBLIC-KEY-IDENTIFIER": KEY_ID,
        "GITHUB-PUBLIC-KEY-SIGNATURE": github.sign(body),
    }


def _works(server: ServerProcess, token: str) -> bool:
    with server.client(token) as client:
        status = client.get("/account").status_code
    assert status in (200, 401)
    return status == 200


def _alerts(server: ServerProcess, account: UserAccount) -> list[dict[str, Any]]:
    with server.client(account.api_key) as client:
        listed = client.get("/account/alerts")
        assert listed.status_code in (200, 206), listed.text
        alerts: list[dict[str, Any]] = listed.json()
        return alerts


def _payload(*tokens: str) -> bytes:
    return json.dumps(
        [
            {"token": token, "type": "ostiary_token", "url": FOUND_AT, "source": "content"}
            for token in tokens
        ]
    ).encode()


def test_a_signed_report_revokes_the_real_token_labels_the_fake_and_tells_the_owner(
    scanned: tuple[ServerProcess, Receiver, Sink], github: GitHub
) -> None:
    server, receiver, sink = scanned
    factory = Factory(server.data_dir)
    account = factory.account("leaky")
    with server.client(account.api_key) as client:
        created = client.post(
            "/account/webhooks",
            json={"url": receiver.url, "include": ["alert"], "level": "notify", "secret": SECRET},
        )
        assert created.status_code == 201, created.text
    authorization_id, leaked = factory.token(account, ["global"])
    assert _works(server, leaked)
    fake = leaked[:-1] + ("A" if leaked[-1] != "A" else "B")  # the checksum fails
    unknown = mint_token(TokenKind.AUTHORIZATION)  # well formed, never issued
    body = _payload(leaked, fake, unknown)

    answered = _post(server, "/leaks/github", body, _signed(github, body))

    assert answered.status_code == 200, answered.text
    assert answered.json() == [
        {"token_raw": leaked, "token_type": "ostiary_token", "label": "true_positive"},
        {"token_raw": fake, "token_type": "ostiary_token", "label": "false_positive"},
        {"token_raw": unknown, "token_type": "ostiary_token", "label": "false_positive"},
    ]
    assert not _works(server, leaked)
    assert _works(server, account.api_key), "only the leaked token is revoked"

    wait_for(
        "the leaked alert", lambda: any(a["rule"] == "leaked" for a in _alerts(server, account))
    )
    alert = next(a for a in _alerts(server, account) if a["rule"] == "leaked")
    assert FOUND_AT in json.dumps(alert)

    def delivered() -> list[dict[str, Any]]:
        with receiver.lock:
            return [json.loads(d.body) for d in receiver.received if d.signed_with(SECRET)]

    wait_for(
        "the webhook delivery", lambda: any(d["action"] == "alert:leaked" for d in delivered())
    )

    def mailed() -> list[str]:
        return [sink.parts(index)[0] for index in range(len(sink.messages))]

    wait_for("the mail", lambda: any(FOUND_AT in text for text in mailed()))
    assert all(leaked not in text for text in mailed())
    for delivery in receiver.received:
        assert leaked.encode() not in delivery.body

    # GitHub reporting the revoked token again is still a true positive (it is ours).
    again = _post(server, "/leaks/github", _payload(leaked), _signed(github, _payload(leaked)))
    assert again.json()[0]["label"] == "true_positive"
    assert authorization_id
    factory.close()


def test_unsigned_mis_keyed_and_tampered_reports_are_refused_and_revoke_nothing(
    scanned: tuple[ServerProcess, Receiver, Sink], github: GitHub
) -> None:
    server, _, _ = scanned
    factory = Factory(server.data_dir)
    account = factory.account("careful")
    _, token = factory.token(account, ["global"])
    body = _payload(token)
    other = GitHub()
    tampered = _payload(token).replace(b"content", b"commit!")
    attempts = [
        ({}, body, 401),
        ({"GITHUB-PUBLIC-KEY-IDENTIFIER": KEY_ID}, body, 401),
        (
            {
                "GITHUB-PUBLIC-KEY-IDENTIFIER": "unknown",
                "GITHUB-PUBLIC-KEY-SIGNATURE": github.sign(body),
            },
            body,
            403,
        ),
        (_signed(other, body), body, 403),  # signed, but not by GitHub's key
        (_signed(github, body), tampered, 403),  # GitHub's signature over another body
    ]
    for headers, sent, status in attempts:
        refused = _post(server, "/leaks/github", sent, headers)
        assert refused.status_code == status, refused.text
        assert refused.json()["id"] in ("unauthorized", "forbidden")
        assert token not in refused.text
    too_large = b"[" + b'{"token": "x"},' * 100_000 + b'{"token": "x"}]'  # over 1 MiB
    refused = _post(server, "/leaks/github", too_large, _signed(github, too_large))
    assert refused.status_code == 413
    assert _works(server, token)
    factory.close()


def test_a_server_without_github_keys_has_no_such_endpoint(server: ServerProcess) -> None:
    body = _payload(mint_token(TokenKind.API_KEY))
    answered = _post(server, "/leaks/github", body, {})
    assert answered.status_code == 404
    assert answered.json()["id"] == "not_found"


def test_a_public_report_answers_the_same_whatever_the_token_and_revokes_a_real_one(
    scanned: tuple[ServerProcess, Receiver, Sink],
) -> None:
    server, _, _ = scanned
    factory = Factory(server.data_dir)
    account = factory.account("reported")
    _, real = factory.token(account, ["global"])
    look_alike = real[:-1] + ("A" if real[-1] != "A" else "B")
    made_up = mint_token(TokenKind.API_KEY)
    address = {"X-Forwarded-For": "203.0.113.40", "X-Forwarded-Proto": "https"}
    answers = []
    for token in (real, real, look_alike, made_up):  # real, then revoked already, then fakes
        report = json.dumps({"token": token, "url": "https://pastebin.test/abc"}).encode()
        answered = _post(server, "/leaks", report, address)
        answers.append((answered.status_code, answered.json()))
    assert answers[0][0] == 202
    assert all(answer == answers[0] for answer in answers), "no answer tells a real token"
    assert not _works(server, real)
    wait_for(
        "the leaked alert", lambda: any(a["rule"] == "leaked" for a in _alerts(server, account))
    )
    assert "pastebin.test" in json.dumps(_alerts(server, account))
    factory.close()


def test_public_reports_are_limited_per_address(
    scanned: tuple[ServerProcess, Receiver, Sink],
) -> None:
    server, _, _ = scanned
    address = {"X-Forwarded-For": "198.51.100.77", "X-Forwarded-Proto": "https"}
    report = json.dumps({"token": mint_token(TokenKind.API_KEY), "url": "https://x.test"})
    answers = [_post(server, "/leaks", report.encode(), address) for _ in range(REPORT_LIMIT + 2)]
    statuses = [answer.status_code for answer in answers]
    assert statuses[:REPORT_LIMIT] == [202] * REPORT_LIMIT
    assert statuses[-1] == 429
    assert answers[-1].json()["id"] == "rate_limit"
    assert "Too many reports" in answers[-1].json()["message"]
    assert int(answers[-1].headers["Retry-After"]) >= 1
    # Another address still has its budget.
    other = _post(
        server,
        "/leaks",
        report.encode(),
        {"X-Forwarded-For": "198.51.100.78", "X-Forwarded-Proto": "https"},
    )
    assert other.status_code == 202
    bad = _post(
        server,
        "/leaks",
        b'{"token": 5}',
        {"X-Forwarded-For": "198.51.100.79", "X-Forwarded-Proto": "https"},
    )
    assert bad.status_code == 422
    assert bad.json()["id"] == "invalid_params"


class _Client:
    """A confidential client registered through the API by its owner, allowed the
    client-credentials grant, with a token it minted and a user's grant to it."""

    def __init__(self, server: ServerProcess, factory: Factory, name: str) -> None:
        self.server = server
        self.owner = factory.account("client-owner")
        with server.client(self.owner.api_key) as api:
            created = api.post(
                "/oauth/clients",
                json={
                    "name": name,
                    "redirect_uri": "https://app.example.com/cb",
                    "client_credentials_scopes": ["identity"],
                },
            )
        assert created.status_code == 201, created.text
        self.id: str = created.json()["id"]
        self.secret: str = created.json()["secret"]
        minted = self.token_request({"grant_type": "client_credentials"}, self.secret)
        assert minted.status_code == 200, minted.text
        self.machine_token: str = minted.json()["access_token"]
        # A user's grant to the client, as the token endpoint made it (its refresh token).
        user = factory.account("client-user")
        with factory.database.unit_of_work(write=True) as session:
            grant = Authorization(
                account_id=user.id,
                kind=AuthorizationKind.OAUTH,
                scopes=["identity"],
                description=f"Authorized {name}",
                client_id=self.id,
            )
            session.add(grant)
            session.flush()
            self.user_token = issue_access_token(factory.unit(session), grant).plaintext
            self.user_refresh = issue_refresh_token(factory.unit(session), grant).plaintext

    def token_request(self, form: dict[str, str], secret: str) -> httpx.Response:
        """``POST /oauth/token`` authenticated as this client with ``secret``."""
        return httpx.post(f"{self.server.url}/oauth/token", data=form, auth=(self.id, secret))

    def rotate(self) -> str:
        """A new secret, through the API's rotate action."""
        with self.server.client(self.owner.api_key) as api:
            rotated = api.post(f"/oauth/clients/{self.id}/actions/rotate-credentials")
        assert rotated.status_code == 200, rotated.text
        secret: str = rotated.json()["secret"]
        return secret


def _refused_as_invalid_client(answer: httpx.Response) -> bool:
    return answer.status_code == 401 and answer.json()["error"] == "invalid_client"


def _assert_the_secret_is_retired_until_rotated(
    server: ServerProcess, client: _Client, factory: Factory
) -> None:
    """After a report of the client's current secret: it authenticates nothing (401
    ``invalid_client``, no secret at all either), the client-credentials token it minted is
    dead, the user's grant still works, and after a rotation the new secret serves both."""
    machine = {"grant_type": "client_credentials"}
    assert _refused_as_invalid_client(client.token_request(machine, client.secret))
    assert _refused_as_invalid_client(client.token_request(machine, ""))
    no_secret = httpx.post(
        f"{server.url}/oauth/token", data={**machine, "client_id": client.id}
    )  # as if public: still confidential
    assert _refused_as_invalid_client(no_secret)
    assert not _works(server, client.machine_token)
    assert _works(server, client.user_token), "a user's grant to the client stays"

    new_secret = client.rotate()
    refreshed = client.token_request(
        {"grant_type": "refresh_token", "refresh_token": client.user_refresh}, new_secret
    )
    assert refreshed.status_code == 200, refreshed.text
    assert _works(server, refreshed.json()["access_token"])
    minted = client.token_request(machine, new_secret)
    assert minted.status_code == 200, minted.text
    assert _works(server, minted.json()["access_token"])
    assert _refused_as_invalid_client(client.token_request(machine, client.secret))

    wait_for(
        "the leaked alert",
        lambda: any(a["rule"] == "leaked" for a in _alerts(server, client.owner)),
    )
    alert = next(a for a in _alerts(server, client.owner) if a["rule"] == "leaked")
    assert alert["authorization"] is None
    assert alert["credential"]["kind"] == "client_secret"
    assert alert["credential"]["id"] == client.id
    assert client.secret not in json.dumps(alert)
    with factory.database.unit_of_work(write=False) as session:
        details = [str(event.details) for event in session.scalars(select(Event))]
    assert all(client.secret not in text for text in details)


def test_a_publicly_reported_client_secret_stops_working_until_the_owner_rotates(
    scanned: tuple[ServerProcess, Receiver, Sink],
) -> None:
    server, _, sink = scanned
    factory = Factory(server.data_dir)
    client = _Client(server, factory, "Reported deployer")
    assert _works(server, client.machine_token)
    address = {"X-Forwarded-For": "203.0.113.41", "X-Forwarded-Proto": "https"}
    report = json.dumps({"token": client.secret, "url": "https://pastebin.test/cs"}).encode()

    answered = _post(server, "/leaks", report, address)

    assert answered.status_code == 202
    assert answered.json() == RECEIVED
    _assert_the_secret_is_retired_until_rotated(server, client, factory)
    wait_for(
        "the mail",
        lambda: any(
            "pastebin.test/cs" in sink.parts(index)[0] for index in range(len(sink.messages))
        ),
    )
    assert all(client.secret not in sink.parts(index)[0] for index in range(len(sink.messages)))
    factory.close()


def test_a_signed_report_of_a_client_secret_labels_it_and_retires_it(
    scanned: tuple[ServerProcess, Receiver, Sink], github: GitHub
) -> None:
    server, _, _ = scanned
    factory = Factory(server.data_dir)
    client = _Client(server, factory, "Scanned deployer")
    look_alike = client.secret[:-1] + ("A" if client.secret[-1] != "A" else "B")
    body = _payload(client.secret, look_alike)

    answered = _post(server, "/leaks/github", body, _signed(github, body))

    assert answered.status_code == 200, answered.text
    assert answered.json() == [
        {"token_raw": client.secret, "token_type": "ostiary_token", "label": "true_positive"},
        {"token_raw": look_alike, "token_type": "ostiary_token", "label": "false_positive"},
    ]
    _assert_the_secret_is_retired_until_rotated(server, client, factory)
    # Reported again once rotated away: still ours (a true positive), and the new one works.
    again = _payload(client.secret)
    assert _post(server, "/leaks/github", again, _signed(github, again)).json()[0]["label"] == (
        "true_positive"
    )
    factory.close()


def test_a_reported_code_revokes_its_grant(
    scanned: tuple[ServerProcess, Receiver, Sink],
) -> None:
    server, _, _ = scanned
    factory = Factory(server.data_dir)
    client = _Client(server, factory, "Coded app")
    with server.client(client.owner.api_key) as api:
        granted = api.post(
            "/oauth/authorizations", json={"client": client.id, "scope": ["identity"]}
        )
    assert granted.status_code == 201, granted.text
    code = granted.json()["grant"]["code"]
    access = granted.json()["access_token"]["token"]
    refresh = granted.json()["refresh_token"]["token"]
    assert _works(server, access)
    address = {"X-Forwarded-For": "203.0.113.42", "X-Forwarded-Proto": "https"}
    report = json.dumps({"token": code, "url": "https://logs.test/callback?x=1"}).encode()

    assert _post(server, "/leaks", report, address).status_code == 202

    assert not _works(server, access)
    exchanged = client.token_request(
        {"grant_type": "authorization_code", "code": code}, client.secret
    )
    assert exchanged.status_code == 400
    assert exchanged.json()["error"] == "invalid_grant"
    refreshed = client.token_request(
        {"grant_type": "refresh_token", "refresh_token": refresh}, client.secret
    )
    assert refreshed.json()["error"] == "invalid_grant"
    assert _works(server, client.machine_token), "the client itself is untouched"
    wait_for(
        "the leaked alert",
        lambda: any(
            a["rule"] == "leaked" and a["authorization"] == {"id": granted.json()["id"]}
            for a in _alerts(server, client.owner)
        ),
    )
    factory.close()
