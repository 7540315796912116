"""Alerts raised at authentication, over HTTP against the real server: a dormant credential and
a revoked or expired token presented each raise their alert once (two requests, one alert, one
``alert:*`` event); suspension answers 401 until the owner reinstates; another account can
neither see nor reinstate (attack tests); the alert API's scopes and pagination."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import func, select, update

from ostiary.alerts.models import Alert
from ostiary.clock import utcnow
from ostiary.events import Event
from ostiary.tokens.models import Authorization
from tests.support.factories import Factory, UserAccount
from tests.support.oauth_flow import register
from tests.support.server import ServerProcess


def _back_date(factory: Factory, authorization_id: str, **columns: object) -> None:
    with factory.database.unit_of_work(write=True) as session:
        session.execute(
            update(Authorization).where(Authorization.id == authorization_id).values(**columns)
        )


def _alerts_and_events(factory: Factory, authorization_id: str, rule: str) -> tuple[int, int]:
    with factory.database.unit_of_work(write=False) as session:
        alerts = session.scalar(
            select(func.count())
            .select_from(Alert)
            .where(Alert.authorization_id == authorization_id, Alert.rule == rule)
        )
        events = session.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.target_id == authorization_id, Event.action == f"alert:{rule}")
        )
    return int(alerts or 0), int(events or 0)


def _event(factory: Factory, authorization_id: str, rule: str) -> Event:
    with factory.database.unit_of_work(write=False) as session:
        return session.scalars(
            select(Event).where(
                Event.target_id == authorization_id, Event.action == f"alert:{rule}"
            )
        ).one()


def _dormant(factory: Factory, account: UserAccount, days: int = 40) -> tuple[str, str]:
    authorization_id, token = factory.token(account, ["global"])
    _back_date(factory, authorization_id, last_used_at=utcnow() - timedelta(days=days))
    return authorization_id, token


def _policy(server: ServerProcess, account: UserAccount, rules: list[str]) -> httpx.Response:
    with server.client(account.api_key) as client:
        return client.patch("/account/alert-policy", json={"suspend_on": rules})


class TestDormantUse:
    def test_first_use_after_40_days_raises_one_alert(
        self, server: ServerProcess, factory: Factory, account: UserAccount
    ) -> None:
        authorization_id, token = _dormant(factory, account)
        with server.client(token) as client:
            assert client.get("/account", headers={"User-Agent": "curl/8.5.0"}).status_code == 200
            assert client.get("/account").status_code == 200
        assert _alerts_and_events(factory, authorization_id, "dormant-use") == (1, 1)
        event = _event(factory, authorization_id, "dormant-use")
        assert event.actor_id == account.id
        assert event.details["facts"]["days"] == 40  # type: ignore[index]
        assert event.details["credential"]["description"] == "test token"  # type: ignore[index]
        assert event.details["facts"]["user_agent"] == "curl/8.5.0"  # type: ignore[index]
        assert token not in str(event.details)
        with server.client(account.api_key) as client:
            listed = client.get("/account/alerts").json()
        assert [(a["rule"], a["authorization"]["id"]) for a in listed] == [
            ("dormant-use", authorization_id)
        ]
        assert listed[0]["summary"] == "test token was used after 40 days unused."
        assert listed[0]["seen_at"] is None

    def test_a_credential_never_used_counts_from_its_creation(
        self, server: ServerProcess, factory: Factory, account: UserAccount
    ) -> None:
        authorization_id, token = factory.token(account, ["global"])
        _back_date(factory, authorization_id, created_at=utcnow() - timedelta(days=31))
        with server.client(token) as client:
            assert client.get("/account").status_code == 200
        assert _alerts_and_events(factory, authorization_id, "dormant-use") == (1, 1)

    def test_regular_use_raises_nothing(
        self, server: ServerProcess, factory: Factory, account: UserAccount
    ) -> None:
        authorization_id, token = _dormant(factory, account, days=29)
        with server.client(token) as client:
            assert client.get("/account").status_code == 200
        assert _alerts_and_events(factory, authorization_id, "dormant-use") == (0, 0)


class TestDeadCredential:
    def test_a_revoked_token_presented_twice_raises_one_alert_for_its_owner(
        self, server: ServerProcess, factory: Factory, account: UserAccount
    ) -> None:
        authorization_id, token = factory.token(account, ["global"])
        with server.client(account.api_key) as owner:
            assert owner.delete(f"/oauth/authorizations/{authorization_id}").status_code == 200
        with server.client(token) as client:
            for _ in range(3):
                refused = client.get("/account")
                assert refused.status_code == 401
                assert refused.json() == {
                    "id": "unauthorized",
                    "message": "Invalid credentials provided.",
                }
        assert _alerts_and_events(factory, authorization_id, "dead-credential") == (1, 1)
        event = _event(factory, authorization_id, "dead-credential")
        assert event.actor_id == account.id
        assert event.details["facts"]["reason"] == "revoked token"  # type: ignore[index]
        assert event.details["facts"]["address"] == "127.0.0.1"  # type: ignore[index]
        assert token not in str(event.details)

    def test_an_expired_token_presented_again_raises_its_alert(
        self, server: ServerProcess, factory: Factory, account: UserAccount
    ) -> None:
        authorization_id, token = factory.token(
            account, ["global"], expires_at=utcnow() - timedelta(minutes=1)
        )
        with server.client(token) as client:
            assert client.get("/account").status_code == 401
            assert client.get("/account").status_code == 401
        assert _alerts_and_events(factory, authorization_id, "dead-credential") == (1, 1)
        facts = _event(factory, authorization_id, "dead-credential").details["facts"]
        assert facts["reason"] == "expired token"  # type: ignore[index]

    def test_an_unknown_token_raises_nothing(self, server: ServerProcess, factory: Factory) -> None:
        # Counted by rule: the session server's usage flush may raise flush-time alerts for
        # other tests' traffic at any moment; a dead-credential alert is raised by the request.
        dead = select(func.count()).select_from(Alert).where(Alert.rule == "dead-credential")
        with factory.database.unit_of_work(write=False) as session:
            before = session.scalar(dead)
        with server.client("ostk_" + "x" * 36) as client:
            assert client.get("/account").status_code == 401
        with factory.database.unit_of_work(write=False) as session:
            assert session.scalar(dead) == before


class TestSuspension:
    def test_suspended_until_the_owner_reinstates(
        self, server: ServerProcess, factory: Factory, account: UserAccount
    ) -> None:
        assert _policy(server, account, ["dormant-use"]).json() == {"suspend_on": ["dormant-use"]}
        authorization_id, token = _dormant(factory, account)
        with server.client(token) as client:
            # The request that revealed the dormancy is refused already, and every later one.
            for _ in range(2):
                refused = client.get("/account")
                assert refused.status_code == 401
                assert refused.json()["id"] == "unauthorized"
                assert "suspended after a security alert" in refused.json()["message"]
                assert (
                    f"/oauth/authorizations/{authorization_id}/actions/reinstate"
                    in (refused.json()["message"])
                )
        with server.client(account.api_key) as owner:
            listed = owner.get("/account/alerts").json()
            assert [(a["rule"], a["suspended"]) for a in listed] == [("dormant-use", True)]
            reinstated = owner.post(f"/oauth/authorizations/{authorization_id}/actions/reinstate")
            assert reinstated.status_code == 200
            assert reinstated.json()["id"] == authorization_id
            assert owner.get("/account/alerts").json()[0]["suspended"] is False
        with server.client(token) as client:
            assert client.get("/account").status_code == 200
        assert _alerts_and_events(factory, authorization_id, "dormant-use") == (1, 1)

    def test_a_suspended_token_is_inactive_to_introspection_too(
        self, server: ServerProcess, factory: Factory, account: UserAccount
    ) -> None:
        _policy(server, account, ["dormant-use"])
        authorization_id, token = _dormant(factory, account)
        client = register(server, account.api_key)
        auth = (client["id"], client["secret"])

        def active() -> bool:
            answer = httpx.post(f"{server.url}/oauth/introspect", data={"token": token}, auth=auth)
            return bool(answer.json()["active"])

        assert active()  # dormant, but not yet used: not yet suspended
        with server.client(token) as api:
            assert api.get("/account").status_code == 401
        assert not active()
        with server.client(account.api_key) as owner:
            owner.post(f"/oauth/authorizations/{authorization_id}/actions/reinstate")
        assert active()

    def test_another_account_can_neither_see_nor_reinstate(
        self,
        server: ServerProcess,
        factory: Factory,
        account: UserAccount,
        other_account: UserAccount,
    ) -> None:
        _policy(server, account, ["dormant-use"])
        authorization_id, token = _dormant(factory, account)
        with server.client(token) as client:
            assert client.get("/account").status_code == 401
        with server.client(account.api_key) as owner:
            alert_id = owner.get("/account/alerts").json()[0]["id"]
        with server.client(other_account.api_key) as intruder:
            assert intruder.get("/account/alerts").json() == []
            reinstating = intruder.post(
                f"/oauth/authorizations/{authorization_id}/actions/reinstate"
            )
            assert reinstating.status_code == 404
            assert reinstating.json()["id"] == "not_found"
            seeing = intruder.post(f"/account/alerts/{alert_id}/actions/mark-seen")
            assert seeing.status_code == 404
            # Its own policy cannot touch another account's credential either.
            assert intruder.get("/account/alert-policy").json() == {"suspend_on": []}
        with server.client(token) as client:
            assert client.get("/account").status_code == 401
        with server.client(account.api_key) as owner:
            assert owner.get("/account/alerts").json()[0]["seen_at"] is None

    def test_a_narrow_token_reads_alerts_but_cannot_reinstate(
        self, server: ServerProcess, factory: Factory, account: UserAccount
    ) -> None:
        _policy(server, account, ["dormant-use"])
        authorization_id, token = _dormant(factory, account)
        with server.client(token) as client:
            assert client.get("/account").status_code == 401
        _, identity = factory.token(account, ["identity"])
        with server.client(identity) as narrow:
            assert len(narrow.get("/account/alerts").json()) == 1
            refused = narrow.post(f"/oauth/authorizations/{authorization_id}/actions/reinstate")
            assert refused.status_code == 403
            assert narrow.patch("/account/alert-policy", json={"suspend_on": []}).status_code == 403


class TestSuspensionReachesWhatTheCredentialMade:
    def test_a_stolen_keys_child_is_suspended_with_it_and_cannot_reinstate_it(
        self, server: ServerProcess, factory: Factory, account: UserAccount
    ) -> None:
        """Attack: a stolen credential X makes a child Y (POST /oauth/authorizations) before X
        is suspended; Y must stop with X, and must not lift X's suspension even once the owner
        has reinstated Y alone."""
        _policy(server, account, ["dormant-use"])
        stolen_id, stolen = factory.token(account, ["global"])
        with server.client(stolen) as attacker:
            made = attacker.post("/oauth/authorizations", json={"description": "mine"})
        assert made.status_code == 201, made.text
        child_id, child = made.json()["id"], made.json()["access_token"]["token"]
        _back_date(factory, stolen_id, last_used_at=utcnow() - timedelta(days=40))
        with server.client(stolen) as attacker:
            assert attacker.get("/account").status_code == 401  # dormant use: suspended
        with server.client(child) as attacker:
            refused = attacker.get("/account")
            assert refused.status_code == 401
            assert "suspended after a security alert" in refused.json()["message"]
            assert (
                attacker.post(f"/oauth/authorizations/{stolen_id}/actions/reinstate").status_code
                == 401
            )
        with server.client(account.api_key) as owner:
            reinstated = owner.post(f"/oauth/authorizations/{child_id}/actions/reinstate")
            assert reinstated.status_code == 200
        with server.client(child) as attacker:
            assert attacker.get("/account").status_code == 200
            lifting = attacker.post(f"/oauth/authorizations/{stolen_id}/actions/reinstate")
            assert lifting.status_code == 403
            assert lifting.json()["id"] == "forbidden"
            assert (
                "cannot be reinstated by itself or by a token made with it"
                in (lifting.json()["message"])
            )
        with server.client(stolen) as attacker:
            assert attacker.get("/account").status_code == 401
        with server.client(account.api_key) as owner:
            assert (
                owner.post(f"/oauth/authorizations/{stolen_id}/actions/reinstate").status_code
                == 200
            )
        with server.client(stolen) as client:
            assert client.get("/account").status_code == 200


class TestDeadTokensCannotSuspend:
    def test_the_policy_refuses_dead_credential(
        self, server: ServerProcess, account: UserAccount
    ) -> None:
        refused = _policy(server, account, ["dead-credential"])
        assert refused.status_code == 422
        assert refused.json()["id"] == "invalid_params"
        assert "'dead-credential' cannot suspend" in refused.json()["message"]

    def test_an_old_api_key_after_regenerate_does_not_suspend_the_new_one(
        self, server: ServerProcess, factory: Factory, account: UserAccount
    ) -> None:
        """Attack: whoever holds a copy of the API key from before its regeneration presents
        it to suspend the owner's live key (a policy stored before the rule was refused)."""
        from ostiary.alerts.models import AlertPolicy

        with factory.database.unit_of_work(write=True) as session:
            session.merge(AlertPolicy(account_id=account.id, suspend_on=["dead-credential"]))
        with server.client(account.api_key) as owner:
            regenerated = owner.post("/oauth/authorizations/~/actions/regenerate-tokens")
            assert regenerated.status_code == 200, regenerated.text
            new_key = regenerated.json()["access_token"]["token"]
            key_id = regenerated.json()["id"]
        with server.client(account.api_key) as attacker:
            assert attacker.get("/account").status_code == 401
        assert _alerts_and_events(factory, key_id, "dead-credential") == (1, 1)
        with server.client(new_key) as owner:
            assert owner.get("/account").status_code == 200
            assert [a["suspended"] for a in owner.get("/account/alerts").json()] == [False]


def _token_request(
    server: ServerProcess, form: dict[str, str], auth: tuple[str, str]
) -> httpx.Response:
    return httpx.post(f"{server.url}/oauth/token", data=form, auth=auth)


class TestClientCredentialsSuspension:
    def test_another_scope_set_does_not_escape_the_suspension(
        self, server: ServerProcess, factory: Factory, account: UserAccount
    ) -> None:
        """Attack: a suspended client asks for a different scope set, which used to create a
        fresh, unsuspended authorization."""
        client = register(server, account.api_key, client_credentials_scopes=["read", "identity"])
        auth = (client["id"], client["secret"])
        form = {"grant_type": "client_credentials", "scope": "read"}
        issued = _token_request(server, form, auth)
        assert issued.status_code == 200, issued.text
        with factory.database.unit_of_work(write=True) as session:
            suspended = session.execute(
                update(Authorization)
                .where(Authorization.client_id == client["id"])
                .values(suspended_at=utcnow(), suspended_by="alert-1")
            )
            assert suspended.rowcount == 1  # type: ignore[attr-defined]
        for scope in ("identity", "read", "read identity"):
            refused = _token_request(server, {**form, "scope": scope}, auth)
            assert refused.status_code == 401
            assert refused.json()["error"] == "invalid_client"
            assert (
                "suspended after a security alert (alert alert-1)"
                in (refused.json()["error_description"])
            )
        with factory.database.unit_of_work(write=False) as session:
            made = session.scalars(
                select(Authorization.id).where(Authorization.client_id == client["id"])
            ).all()
        assert len(made) == 1  # no fresh authorization
        with factory.database.unit_of_work(write=True) as session:
            session.execute(
                update(Authorization)
                .where(Authorization.client_id == client["id"])
                .values(suspended_at=None, suspended_by=None)
            )
        assert _token_request(server, {**form, "scope": "identity"}, auth).status_code == 200


class TestAlertApi:
    def test_policy_refuses_an_unknown_rule(
        self, server: ServerProcess, account: UserAccount
    ) -> None:
        refused = _policy(server, account, ["spike", "everything"])
        assert refused.status_code == 422
        assert refused.json()["id"] == "invalid_params"
        assert _policy(server, account, []).json() == {"suspend_on": []}

    def test_alerts_newest_first_in_pages_and_marked_seen(
        self, server: ServerProcess, factory: Factory, account: UserAccount
    ) -> None:
        made = []
        for _ in range(3):
            authorization_id, token = _dormant(factory, account)
            with server.client(token) as client:
                client.get("/account")
            made.append(authorization_id)
        with server.client(account.api_key) as owner:
            listed = owner.get("/account/alerts").json()
            assert [a["authorization"]["id"] for a in listed] == made[::-1]
            first = owner.get(
                "/account/alerts", headers={"Range": "raised_at ..; max=2, order=desc"}
            )
            assert first.status_code == 206
            assert [a["authorization"]["id"] for a in first.json()] == made[:0:-1]
            rest = owner.get("/account/alerts", headers={"Range": first.headers["Next-Range"]})
            assert rest.status_code == 200
            assert [a["authorization"]["id"] for a in rest.json()] == made[:1]
            seen = owner.post(f"/account/alerts/{listed[0]['id']}/actions/mark-seen")
            assert seen.status_code == 200
            assert seen.json()["seen_at"] is not None
            bad = owner.get(
                "/account/alerts", headers={"Range": "raised_at yesterday..; order=desc"}
            )
            assert bad.status_code == 400
