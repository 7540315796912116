"""Every route with every scope, against an expectation list written independently of the
server's table (``ostiary.web.api.scopes``). Allowed requests must succeed; refused ones get 403
``forbidden`` naming the scopes that would allow them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from ostiary.app import create_app
from ostiary.config import load_settings
from ostiary.web.api.scopes import PUBLIC_ROUTES, ROUTE_SCOPES
from tests.support.factories import PASSWORD, Factory, UserAccount
from tests.support.server import PASSWORD_WORK_TIMEOUT, ServerProcess

SCOPES = ["global", "identity", "read", "write", "read-protected", "write-protected", "create-apps"]

# Written out by hand from Heroku's scope descriptions, not derived from the server's table.
EVERYONE = "global identity read write read-protected write-protected create-apps"
APPS_READ = "global read write read-protected write-protected create-apps"
APPS_WRITE = "global write write-protected create-apps"
EXPECTED: dict[tuple[str, str], str] = {
    ("GET", "/account"): "global identity",
    ("GET", "/users/{account_identity}"): "global identity",
    ("PATCH", "/account"): "global",
    ("PATCH", "/users/{account_identity}"): "global",
    ("GET", "/account/rate-limits"): EVERYONE,
    ("GET", "/account/events"): "global identity",  # the activity log (issue 14)
    ("POST", "/oauth/authorizations"): EVERYONE,  # but never wider than the caller: see below
    ("GET", "/oauth/authorizations"): "global",
    ("GET", "/oauth/authorizations/{authorization_identity}"): "global",
    ("PATCH", "/oauth/authorizations/{authorization_identity}"): "global",
    ("DELETE", "/oauth/authorizations/{authorization_identity}"): "global",
    ("POST", "/oauth/authorizations/{authorization_identity}/actions/regenerate-tokens"): "global",
    ("POST", "/oauth/authorizations/{authorization_identity}/actions/reinstate"): "global",
    ("GET", "/account/alerts"): "global identity",
    ("POST", "/account/alerts/{alert_identity}/actions/mark-seen"): "global",
    ("GET", "/account/alert-policy"): "global identity",
    ("PATCH", "/account/alert-policy"): "global",
    ("GET", "/account/token-policy"): "global identity",
    ("PATCH", "/account/token-policy"): "global",
    ("GET", "/account/notification-settings"): "global identity",
    ("PATCH", "/account/notification-settings"): "global",
    ("GET", "/oauth/authorizations/{authorization_identity}/usage"): "global",
    ("POST", "/oauth/clients"): "global",
    ("GET", "/oauth/clients"): "global",
    ("PATCH", "/oauth/clients/{client_identity}"): "global",
    ("DELETE", "/oauth/clients/{client_identity}"): "global",
    ("POST", "/oauth/clients/{client_identity}/actions/rotate-credentials"): "global",
    ("DELETE", "/oauth/tokens/{token_identity}"): "global",
    ("GET", "/oauth/sessions"): "global",
    ("DELETE", "/oauth/sessions/{session_identity}"): "global",
    ("GET", "/apps"): APPS_READ,
    ("GET", "/users/{account_identity}/apps"): APPS_READ,
    ("POST", "/apps"): APPS_WRITE,
    ("GET", "/apps/{app_identity}"): APPS_READ,
    ("PATCH", "/apps/{app_identity}"): APPS_WRITE,
    ("DELETE", "/apps/{app_identity}"): APPS_WRITE,
    ("GET", "/apps/{app_identity}/collaborators"): APPS_READ,
    ("POST", "/apps/{app_identity}/collaborators"): APPS_WRITE,
    ("GET", "/apps/{app_identity}/collaborators/{collaborator_identity}"): APPS_READ,
    ("DELETE", "/apps/{app_identity}/collaborators/{collaborator_identity}"): APPS_WRITE,
    (
        "GET",
        "/apps/{app_identity}/config-vars",
    ): "global read-protected write-protected create-apps",
    ("PATCH", "/apps/{app_identity}/config-vars"): "global write-protected create-apps",
    ("GET", "/apps/{app_identity}/releases"): APPS_READ,
    ("GET", "/apps/{app_identity}/releases/{release_identity}"): APPS_READ,
    ("GET", "/apps/{app_identity}/addons"): APPS_READ,
    ("POST", "/apps/{app_identity}/addons"): APPS_WRITE,
    ("GET", "/apps/{app_identity}/addons/{addon_identity}"): APPS_READ,
    ("PATCH", "/apps/{app_identity}/addons/{addon_identity}"): APPS_WRITE,
    ("DELETE", "/apps/{app_identity}/addons/{addon_identity}"): APPS_WRITE,
    ("GET", "/addons"): APPS_READ,
    ("POST", "/actions/addons/resolve"): APPS_READ,
    ("GET", "/addon-attachments"): APPS_READ,
    ("GET", "/apps/{app_identity}/addon-attachments"): APPS_READ,
    ("GET", "/addons/{addon_identity}/addon-attachments"): APPS_READ,
    ("POST", "/actions/addon-attachments/resolve"): APPS_READ,
    (
        "GET",
        "/apps/{app_identity}/releases/{release_identity}/config-vars",
    ): "global read-protected write-protected create-apps",
    ("GET", "/apps/{app_identity}/dynos"): APPS_READ,
    ("GET", "/apps/{app_identity}/pipeline-couplings"): APPS_READ,
    ("GET", "/account/webhooks"): "global",
    ("POST", "/account/webhooks"): "global",
    ("GET", "/account/webhooks/{webhook_identity}"): "global",
    ("PATCH", "/account/webhooks/{webhook_identity}"): "global",
    ("DELETE", "/account/webhooks/{webhook_identity}"): "global",
    ("GET", "/account/webhook-deliveries"): "global",
    ("GET", "/account/webhook-deliveries/{delivery_identity}"): "global",
}

# Allowed answers that are not a 2xx: Heroku's 404 for an app that is in no pipeline.
ALLOWED_NOT_FOUND = {("GET", "/apps/{app_identity}/pipeline-couplings"): "pipeline_coupling"}


def test_every_served_route_is_in_the_scope_table_and_the_expectations(tmp_path: Any) -> None:
    app = create_app(load_settings(data_dir=tmp_path))
    served = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method, operation in operations.items()
        # The health check and the OAuth server's RFC endpoints are not Platform API routes.
        if not {"health", "oauth2"} & set(operation.get("tags", []))
    }
    assert served == set(ROUTE_SCOPES) | PUBLIC_ROUTES
    assert not set(ROUTE_SCOPES) & PUBLIC_ROUTES
    assert served - PUBLIC_ROUTES == set(EXPECTED)


@dataclass
class Target:
    """The resources one scoped token's requests point at."""

    scope: str
    app: str
    email: str
    scoped: httpx.Client
    owner: httpx.Client
    factory: Factory

    def fresh_app(self) -> str:
        """A new app this token may act on (created by it when it is create-apps only)."""
        maker = self.scoped if self.scope == "create-apps" else self.owner
        return str(maker.post("/apps").json()["name"])

    def collaborator(self, app: str) -> str:
        """A fresh collaborator on ``app``: its email."""
        email = self.factory.account("collab").email
        assert (
            self.owner.post(f"/apps/{app}/collaborators", json={"user": email}).status_code == 201
        )
        return email

    def authorization(self) -> str:
        """A fresh personal authorization of the owner: its id."""
        created = self.owner.post("/oauth/authorizations", json={"scope": ["read"]})
        return str(created.json()["id"])

    def alert(self) -> str:
        """A fresh alert of the owner (about a fresh authorization): its id."""
        from ostiary.alerts.records import Anomaly
        from ostiary.alerts.services import raise_alerts
        from ostiary.clock import utcnow

        account_id = str(self.owner.get("/account").json()["id"])
        anomaly = Anomaly("spike", account_id, self.authorization(), utcnow(), {})
        with self.factory.database.unit_of_work(write=True) as session:
            raise_alerts(session, [anomaly])
        return str(self.owner.get("/account/alerts").json()[0]["id"])

    def access_token_id(self) -> str:
        """The access token id of a fresh authorization."""
        created = self.owner.post("/oauth/authorizations", json={"scope": ["read"]})
        return str(created.json()["access_token"]["id"])

    def client(self) -> str:
        """A fresh client of the owner: its id."""
        body = {"name": "Target", "redirect_uri": "https://example.com/cb"}
        return str(self.owner.post("/oauth/clients", json=body).json()["id"])

    def login_session(self) -> str:
        """A fresh password-login session of the owner: its id."""
        response = httpx.post(
            str(self.owner.base_url.join("/oauth/authorizations")),
            headers={"Accept": self.owner.headers["accept"]},
            auth=(self.email, PASSWORD),
            json={"description": "scope test login"},
            timeout=PASSWORD_WORK_TIMEOUT,
        )
        return str(response.json()["session"]["id"])

    def addon(self, app: str) -> str:
        """A fresh add-on on ``app``: its id."""
        return str(
            self.owner.post(f"/apps/{app}/addons", json={"plan": "heroku-redis"}).json()["id"]
        )

    def webhook(self) -> str:
        """A fresh webhook of the owner (to loopback, where nothing listens): its id."""
        body = {"url": "https://127.0.0.1:9/scope-test", "include": ["event"]}
        return str(self.owner.post("/account/webhooks", json=body).json()["id"])

    def delivery(self) -> str:
        """A delivery to a fresh webhook of the owner: its id."""
        from ostiary.activity.records import LoggedEvent
        from ostiary.clock import utcnow
        from ostiary.db import new_id
        from ostiary.webhooks.services import enqueue_deliveries

        hook = self.webhook()
        account_id = self.owner.get("/account").json()["id"]
        event = LoggedEvent(new_id(), 1, "scope:test", utcnow(), account_id, None, None, None,
                            None, None, None, "success")  # fmt: skip
        with self.factory.database.unit_of_work(write=True) as session:
            enqueue_deliveries(session, [event])
        listed = self.owner.get("/account/webhook-deliveries").json()
        return str(next(d["id"] for d in listed if d["webhook"]["id"] == hook))

    def attachment(self, app: str) -> str:
        """The attachment name of a fresh add-on on ``app``."""
        addon = self.addon(app)
        attachments = self.owner.get(f"/addons/{addon}/addon-attachments").json()
        return str(attachments[0]["name"])


Request = tuple[str, str, dict[str, Any] | None]
BUILDERS: dict[tuple[str, str], Callable[[Target], Request]] = {
    ("GET", "/account"): lambda t: ("GET", "/account", None),
    ("GET", "/users/{account_identity}"): lambda t: ("GET", "/users/~", None),
    ("PATCH", "/account"): lambda t: ("PATCH", "/account", {"name": "Scoped"}),
    ("PATCH", "/users/{account_identity}"): lambda t: ("PATCH", "/users/~", {"beta": True}),
    ("GET", "/account/rate-limits"): lambda t: ("GET", "/account/rate-limits", None),
    ("GET", "/account/events"): lambda t: ("GET", "/account/events", None),
    ("POST", "/oauth/authorizations"): lambda t: (
        "POST",
        "/oauth/authorizations",
        {"scope": [t.scope], "description": "sub-token"},
    ),
    ("GET", "/oauth/authorizations"): lambda t: ("GET", "/oauth/authorizations", None),
    ("GET", "/oauth/authorizations/{authorization_identity}"): lambda t: (
        "GET",
        "/oauth/authorizations/~",
        None,
    ),
    ("PATCH", "/oauth/authorizations/{authorization_identity}"): lambda t: (
        "PATCH",
        f"/oauth/authorizations/{t.authorization()}",
        {"description": "renamed"},
    ),
    ("DELETE", "/oauth/authorizations/{authorization_identity}"): lambda t: (
        "DELETE",
        f"/oauth/authorizations/{t.authorization()}",
        None,
    ),
    (
        "POST",
        "/oauth/authorizations/{authorization_identity}/actions/regenerate-tokens",
    ): lambda t: (
        "POST",
        f"/oauth/authorizations/{t.authorization()}/actions/regenerate-tokens",
        None,
    ),
    (
        "POST",
        "/oauth/authorizations/{authorization_identity}/actions/reinstate",
    ): lambda t: ("POST", f"/oauth/authorizations/{t.authorization()}/actions/reinstate", None),
    ("GET", "/account/alerts"): lambda t: ("GET", "/account/alerts", None),
    ("POST", "/account/alerts/{alert_identity}/actions/mark-seen"): lambda t: (
        "POST",
        f"/account/alerts/{t.alert()}/actions/mark-seen",
        None,
    ),
    ("GET", "/account/alert-policy"): lambda t: ("GET", "/account/alert-policy", None),
    ("PATCH", "/account/alert-policy"): lambda t: (
        "PATCH",
        "/account/alert-policy",
        {"suspend_on": []},
    ),
    ("GET", "/account/token-policy"): lambda t: ("GET", "/account/token-policy", None),
    ("PATCH", "/account/token-policy"): lambda t: ("PATCH", "/account/token-policy", {}),
    ("GET", "/account/notification-settings"): lambda t: (
        "GET",
        "/account/notification-settings",
        None,
    ),
    ("PATCH", "/account/notification-settings"): lambda t: (
        "PATCH",
        "/account/notification-settings",
        {},
    ),
    ("GET", "/oauth/authorizations/{authorization_identity}/usage"): lambda t: (
        "GET",
        "/oauth/authorizations/~/usage",
        None,
    ),
    ("POST", "/oauth/clients"): lambda t: (
        "POST",
        "/oauth/clients",
        {"name": "Scoped", "redirect_uri": "https://example.com/cb"},
    ),
    ("GET", "/oauth/clients"): lambda t: ("GET", "/oauth/clients", None),
    ("PATCH", "/oauth/clients/{client_identity}"): lambda t: (
        "PATCH",
        f"/oauth/clients/{t.client()}",
        {"name": "Renamed"},
    ),
    ("DELETE", "/oauth/clients/{client_identity}"): lambda t: (
        "DELETE",
        f"/oauth/clients/{t.client()}",
        None,
    ),
    ("POST", "/oauth/clients/{client_identity}/actions/rotate-credentials"): lambda t: (
        "POST",
        f"/oauth/clients/{t.client()}/actions/rotate-credentials",
        None,
    ),
    ("DELETE", "/oauth/tokens/{token_identity}"): lambda t: (
        "DELETE",
        f"/oauth/tokens/{t.access_token_id()}",
        None,
    ),
    ("GET", "/oauth/sessions"): lambda t: ("GET", "/oauth/sessions", None),
    ("DELETE", "/oauth/sessions/{session_identity}"): lambda t: (
        "DELETE",
        f"/oauth/sessions/{t.login_session()}",
        None,
    ),
    ("GET", "/apps"): lambda t: ("GET", "/apps", None),
    ("GET", "/users/{account_identity}/apps"): lambda t: ("GET", "/users/~/apps", None),
    ("POST", "/apps"): lambda t: ("POST", "/apps", {}),
    ("GET", "/apps/{app_identity}"): lambda t: ("GET", f"/apps/{t.app}", None),
    ("PATCH", "/apps/{app_identity}"): lambda t: (
        "PATCH",
        f"/apps/{t.app}",
        {"maintenance": False},
    ),
    ("DELETE", "/apps/{app_identity}"): lambda t: ("DELETE", f"/apps/{t.fresh_app()}", None),
    ("GET", "/apps/{app_identity}/collaborators"): lambda t: (
        "GET",
        f"/apps/{t.app}/collaborators",
        None,
    ),
    ("POST", "/apps/{app_identity}/collaborators"): lambda t: (
        "POST",
        f"/apps/{t.app}/collaborators",
        {"user": t.factory.account("invitee").email},
    ),
    ("GET", "/apps/{app_identity}/collaborators/{collaborator_identity}"): lambda t: (
        "GET",
        f"/apps/{t.app}/collaborators/{t.collaborator(t.app)}",
        None,
    ),
    ("DELETE", "/apps/{app_identity}/collaborators/{collaborator_identity}"): lambda t: (
        "DELETE",
        f"/apps/{t.app}/collaborators/{t.collaborator(t.app)}",
        None,
    ),
    ("GET", "/apps/{app_identity}/config-vars"): lambda t: (
        "GET",
        f"/apps/{t.app}/config-vars",
        None,
    ),
    ("PATCH", "/apps/{app_identity}/config-vars"): lambda t: (
        "PATCH",
        f"/apps/{t.app}/config-vars",
        {"SCOPED": "yes"},
    ),
    ("GET", "/apps/{app_identity}/releases"): lambda t: ("GET", f"/apps/{t.app}/releases", None),
    ("GET", "/apps/{app_identity}/releases/{release_identity}"): lambda t: (
        "GET",
        f"/apps/{t.app}/releases/1",
        None,
    ),
    ("GET", "/apps/{app_identity}/addons"): lambda t: ("GET", f"/apps/{t.app}/addons", None),
    ("POST", "/apps/{app_identity}/addons"): lambda t: (
        "POST",
        f"/apps/{t.app}/addons",
        {"plan": "papertrail"},
    ),
    ("GET", "/apps/{app_identity}/addons/{addon_identity}"): lambda t: (
        "GET",
        f"/apps/{t.app}/addons/{t.addon(t.app)}",
        None,
    ),
    ("PATCH", "/apps/{app_identity}/addons/{addon_identity}"): lambda t: (
        "PATCH",
        f"/apps/{t.app}/addons/{t.addon(t.app)}",
        {"plan": "heroku-redis:mini"},
    ),
    ("DELETE", "/apps/{app_identity}/addons/{addon_identity}"): lambda t: (
        "DELETE",
        f"/apps/{t.app}/addons/{t.addon(t.app)}",
        None,
    ),
    ("GET", "/addons"): lambda t: ("GET", "/addons", None),
    ("POST", "/actions/addons/resolve"): lambda t: (
        "POST",
        "/actions/addons/resolve",
        {"addon": t.addon(t.app), "app": t.app},
    ),
    ("GET", "/addon-attachments"): lambda t: ("GET", "/addon-attachments", None),
    ("GET", "/apps/{app_identity}/addon-attachments"): lambda t: (
        "GET",
        f"/apps/{t.app}/addon-attachments",
        None,
    ),
    ("GET", "/addons/{addon_identity}/addon-attachments"): lambda t: (
        "GET",
        f"/addons/{t.addon(t.app)}/addon-attachments",
        None,
    ),
    ("POST", "/actions/addon-attachments/resolve"): lambda t: (
        "POST",
        "/actions/addon-attachments/resolve",
        {"addon_attachment": t.attachment(t.app), "app": t.app},
    ),
    ("GET", "/apps/{app_identity}/releases/{release_identity}/config-vars"): lambda t: (
        "GET",
        f"/apps/{t.app}/releases/1/config-vars",
        None,
    ),
    ("GET", "/apps/{app_identity}/dynos"): lambda t: ("GET", f"/apps/{t.app}/dynos", None),
    ("GET", "/apps/{app_identity}/pipeline-couplings"): lambda t: (
        "GET",
        f"/apps/{t.app}/pipeline-couplings",
        None,
    ),
    ("GET", "/account/webhooks"): lambda t: ("GET", "/account/webhooks", None),
    ("POST", "/account/webhooks"): lambda t: (
        "POST",
        "/account/webhooks",
        {"url": "https://127.0.0.1:9/scope-test", "include": ["alert"]},
    ),
    ("GET", "/account/webhooks/{webhook_identity}"): lambda t: (
        "GET",
        f"/account/webhooks/{t.webhook()}",
        None,
    ),
    ("PATCH", "/account/webhooks/{webhook_identity}"): lambda t: (
        "PATCH",
        f"/account/webhooks/{t.webhook()}",
        {"level": "sync"},
    ),
    ("DELETE", "/account/webhooks/{webhook_identity}"): lambda t: (
        "DELETE",
        f"/account/webhooks/{t.webhook()}",
        None,
    ),
    ("GET", "/account/webhook-deliveries"): lambda t: ("GET", "/account/webhook-deliveries", None),
    ("GET", "/account/webhook-deliveries/{delivery_identity}"): lambda t: (
        "GET",
        f"/account/webhook-deliveries/{t.delivery()}",
        None,
    ),
}


@pytest.fixture
def owner_account(factory: Factory) -> UserAccount:
    return factory.account("scopes")


@pytest.fixture
def owner(
    server: ServerProcess, factory: Factory, owner_account: UserAccount
) -> Iterator[httpx.Client]:
    _, token = factory.token(owner_account, ["global"])
    with server.client(token) as client:
        yield client


@pytest.mark.parametrize("scope", SCOPES)
def test_scope_table(
    scope: str,
    server: ServerProcess,
    factory: Factory,
    owner_account: UserAccount,
    owner: httpx.Client,
) -> None:
    assert set(BUILDERS) == set(EXPECTED)
    _, token = factory.token(owner_account, [scope])
    with server.client(token) as scoped:
        # A create-apps token may act only on apps it created itself.
        made = scoped.post("/apps") if scope == "create-apps" else None
        app = made.json()["name"] if made is not None else owner.post("/apps").json()["name"]
        target = Target(
            scope=scope,
            app=app,
            email=owner_account.email,
            scoped=scoped,
            owner=owner,
            factory=factory,
        )
        for route, allowed in EXPECTED.items():
            method, path, body = BUILDERS[route](target)
            response = scoped.request(method, path, json=body)
            if scope in allowed.split() and route in ALLOWED_NOT_FOUND:
                assert response.status_code == 404, (scope, route, response.text)
                assert response.json()["resource"] == ALLOWED_NOT_FOUND[route]
            elif scope in allowed.split():
                assert 200 <= response.status_code < 300, (scope, route, response.text)
            else:
                assert response.status_code == 403, (scope, route, response.text)
                assert response.json()["id"] == "forbidden"
                assert "global" in response.json()["message"]


def test_create_apps_cannot_touch_other_apps(
    server: ServerProcess, factory: Factory, owner_account: UserAccount, owner: httpx.Client
) -> None:
    existing = owner.post("/apps").json()["name"]
    _, token = factory.token(owner_account, ["create-apps"])
    with server.client(token) as scoped:
        own = scoped.post("/apps").json()["name"]
        assert [a["name"] for a in scoped.get("/apps").json()] == [own]
        for method, path in [
            ("GET", f"/apps/{existing}"),
            ("PATCH", f"/apps/{existing}/config-vars"),
            ("DELETE", f"/apps/{existing}"),
        ]:
            response = scoped.request(method, path, json={} if method == "PATCH" else None)
            assert response.status_code == 404, (method, path)
            assert response.json()["resource"] == "app"
        assert scoped.patch(f"/apps/{own}/config-vars", json={"A": "b"}).status_code == 200
    assert owner.get(f"/apps/{existing}").status_code == 200
