"""The Platform API's resources, one class per noun, reached as attributes of a Client."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from ostiary.client.models import (
    AddOn,
    Alert,
    App,
    Authorization,
    Collaborator,
    Event,
    NotificationSettings,
    OAuthClient,
    Session,
)
from ostiary.client.urls import api_path as _path

if TYPE_CHECKING:
    from ostiary.client.api import Client


class _Resource:
    def __init__(self, client: Client) -> None:
        self._client = client


class Apps(_Resource):
    """``/apps``."""

    def list(self) -> Iterator[App]:
        """The apps the token may see."""
        return self._client.paginate("/apps", App)

    def create(
        self, name: str | None = None, *, region: str | None = None, stack: str | None = None
    ) -> App:
        """A new app; without a name the server makes one up."""
        body = {k: v for k, v in {"name": name, "region": region, "stack": stack}.items() if v}
        return App.from_json(self._client.json("POST", "/apps", json=body))

    def info(self, app: str) -> App:
        """An app by name or id."""
        return App.from_json(self._client.json("GET", _path("apps", app)))

    def rename(self, app: str, new_name: str) -> App:
        """Give an app a new name."""
        return App.from_json(
            self._client.json("PATCH", _path("apps", app), json={"name": new_name})
        )

    def destroy(self, app: str) -> App:
        """Delete an app, with its config vars, collaborators and add-ons."""
        return App.from_json(self._client.json("DELETE", _path("apps", app)))


class ConfigVars(_Resource):
    """``/apps/{app}/config-vars``."""

    def get(self, app: str) -> dict[str, str]:
        """Every config var of an app."""
        return dict(self._client.json("GET", _path("apps", app, "config-vars")))

    def update(self, app: str, changes: Mapping[str, str | None]) -> dict[str, str]:
        """Set config vars; a None value removes that var. One release for the whole change."""
        return dict(
            self._client.json("PATCH", _path("apps", app, "config-vars"), json=dict(changes))
        )


class Collaborators(_Resource):
    """``/apps/{app}/collaborators``."""

    def list(self, app: str) -> Iterator[Collaborator]:
        """The app's collaborators."""
        return self._client.paginate(_path("apps", app, "collaborators"), Collaborator)

    def add(self, app: str, email: str) -> Collaborator:
        """Let an account work on the app."""
        body = self._client.json("POST", _path("apps", app, "collaborators"), json={"user": email})
        return Collaborator.from_json(body)

    def remove(self, app: str, email: str) -> Collaborator:
        """Take a collaborator off the app."""
        body = self._client.json("DELETE", _path("apps", app, "collaborators", email))
        return Collaborator.from_json(body)


class AddOns(_Resource):
    """``/apps/{app}/addons``."""

    def list(self, app: str) -> Iterator[AddOn]:
        """The app's add-ons."""
        return self._client.paginate(_path("apps", app, "addons"), AddOn)

    def create(self, app: str, plan: str, *, name: str | None = None) -> AddOn:
        """Attach an add-on by plan, e.g. ``heroku-postgresql:essential-0``."""
        body: dict[str, Any] = {"plan": plan}
        if name:
            body["name"] = name
        return AddOn.from_json(self._client.json("POST", _path("apps", app, "addons"), json=body))

    def destroy(self, app: str, addon: str) -> AddOn:
        """Detach an add-on."""
        return AddOn.from_json(self._client.json("DELETE", _path("apps", app, "addons", addon)))


class Authorizations(_Resource):
    """``/oauth/authorizations``: named tokens, the API key (``~``) and OAuth grants."""

    def list(self) -> Iterator[Authorization]:
        """Every authorization of the account, tokens redacted."""
        return self._client.paginate("/oauth/authorizations", Authorization)

    def create(
        self,
        *,
        scopes: Sequence[str] | None = None,
        description: str = "",
        expires_in: int | None = None,
        auth: tuple[str, str] | None = None,
        two_factor_code: str | None = None,
    ) -> Authorization:
        """A new token, shown once in ``token``. ``auth`` (email, password) logs in instead of
        using the client's token, as ``login -i`` does."""
        body: dict[str, Any] = {"description": description, "expires_in": expires_in}
        if scopes is not None:
            body["scope"] = list(scopes)
        headers = {"Heroku-Two-Factor-Code": two_factor_code} if two_factor_code else None
        answer = self._client.json(
            "POST", "/oauth/authorizations", json=body, auth=auth, headers=headers
        )
        return Authorization.from_json(answer)

    def info(self, authorization_id: str) -> Authorization:
        """One authorization; ``~`` is the API key."""
        return Authorization.from_json(
            self._client.json("GET", _path("oauth", "authorizations", authorization_id))
        )

    def update(self, authorization_id: str, *, description: str) -> Authorization:
        """Change an authorization's description."""
        answer = self._client.json(
            "PATCH",
            _path("oauth", "authorizations", authorization_id),
            json={"description": description},
        )
        return Authorization.from_json(answer)

    def regenerate(self, authorization_id: str, *, grace_period: int = 0) -> Authorization:
        """A new token for the authorization; the old one stops working at once, or after
        ``grace_period`` seconds (at most 7 days), listed meanwhile in ``retiring``."""
        answer = self._client.json(
            "POST",
            _path("oauth", "authorizations", authorization_id, "actions", "regenerate-tokens"),
            json={"grace_period": grace_period} if grace_period else None,
        )
        return Authorization.from_json(answer)

    def revoke(self, authorization_id: str) -> Authorization:
        """Delete an authorization; its tokens stop working at once."""
        return Authorization.from_json(
            self._client.json("DELETE", _path("oauth", "authorizations", authorization_id))
        )


class Clients(_Resource):
    """``/oauth/clients``: the OAuth applications the account registered."""

    def list(self) -> Iterator[OAuthClient]:
        """The account's clients (no secrets)."""
        return self._client.paginate("/oauth/clients", OAuthClient)

    def create(
        self,
        name: str,
        redirect_uris: Sequence[str],
        *,
        public: bool = False,
        client_credentials_scopes: Sequence[str] | None = None,
    ) -> OAuthClient:
        """Register a client; a confidential one's ``secret`` is in this answer only."""
        body: dict[str, Any] = {
            "name": name,
            "redirect_uris": list(redirect_uris),
            "client_type": "public" if public else "confidential",
        }
        if client_credentials_scopes is not None:
            body["client_credentials_scopes"] = list(client_credentials_scopes)
        return OAuthClient.from_json(self._client.json("POST", "/oauth/clients", json=body))

    def info(self, client_id: str) -> OAuthClient:
        """One client."""
        return OAuthClient.from_json(self._client.json("GET", _path("oauth", "clients", client_id)))

    def update(
        self, client_id: str, *, name: str | None = None, redirect_uris: Sequence[str] | None = None
    ) -> OAuthClient:
        """Rename a client or replace its redirect URIs."""
        body: dict[str, Any] = {}
        if name is not None:
            body["name"] = name
        if redirect_uris is not None:
            body["redirect_uris"] = list(redirect_uris)
        answer = self._client.json("PATCH", _path("oauth", "clients", client_id), json=body)
        return OAuthClient.from_json(answer)

    def rotate(self, client_id: str, *, grace_period: int = 0) -> OAuthClient:
        """A new secret (in this answer only); the old one stops working at once, or after
        ``grace_period`` seconds (at most 7 days) during which both authenticate the client."""
        answer = self._client.json(
            "POST",
            _path("oauth", "clients", client_id, "actions", "rotate-credentials"),
            json={"grace_period": grace_period} if grace_period else None,
        )
        return OAuthClient.from_json(answer)

    def destroy(self, client_id: str) -> OAuthClient:
        """Delete a client and revoke everything granted to it."""
        return OAuthClient.from_json(
            self._client.json("DELETE", _path("oauth", "clients", client_id))
        )


class Sessions(_Resource):
    """``/oauth/sessions``: where the account is logged in."""

    def list(self) -> Iterator[Session]:
        """The account's live sessions."""
        return self._client.paginate("/oauth/sessions", Session)

    def destroy(self, session_id: str) -> Session:
        """End a session (``~``: the current one) and revoke what was authorized through it."""
        return Session.from_json(
            self._client.json("DELETE", _path("oauth", "sessions", session_id))
        )


class Alerts(_Resource):
    """``/account/alerts``: what looked wrong about the account's credentials, newest first."""

    def list(self) -> Iterator[Alert]:
        """Every alert, newest first, fetched page by page."""
        return self._client.paginate("/account/alerts", Alert, sort="raised_at", descending=True)

    def mark_seen(self, alert_id: str) -> Alert:
        """Mark one alert seen (the dashboard's notice counts the unseen ones)."""
        path = _path("account", "alerts", alert_id, "actions", "mark-seen")
        return Alert.from_json(self._client.json("POST", path))

    def reinstate(self, authorization_id: str) -> Authorization:
        """Lift the suspension an alert put on a credential (``~``: the API key)."""
        path = _path("oauth", "authorizations", authorization_id, "actions", "reinstate")
        return Authorization.from_json(self._client.json("POST", path))


class Notifications(_Resource):
    """``/account/notification-settings``: which mail the account gets about its use."""

    def info(self) -> NotificationSettings:
        """The settings: the informational notifications on or off, and what always goes."""
        path = "/account/notification-settings"
        return NotificationSettings.from_json(self._client.json("GET", path))

    def update(
        self, *, new_sign_in: bool | None = None, new_token: bool | None = None
    ) -> NotificationSettings:
        """Turn informational notifications on or off (None leaves one as it is)."""
        changes = {
            name: value
            for name, value in (("new_sign_in", new_sign_in), ("new_token", new_token))
            if value is not None
        }
        path = "/account/notification-settings"
        return NotificationSettings.from_json(self._client.json("PATCH", path, json=changes))


EXPORT_TYPES = {"csv": "text/csv", "jsonl": "application/x-ndjson"}


class Events(_Resource):
    """``/account/events``: the account's activity log, newest first."""

    @staticmethod
    def _path(filters: Mapping[str, str | None]) -> str:
        query = urlencode({name: value for name, value in filters.items() if value})
        return "/account/events" + (f"?{query}" if query else "")

    def list(
        self,
        *,
        action: str | None = None,
        authorization_id: str | None = None,
        app: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> Iterator[Event]:
        """The events matching the filters (``since``/``until`` RFC 3339, ``action`` exact or a
        prefix ending in ``*``), newest first, fetched page by page."""
        path = self._path(
            {
                "action": action,
                "authorization_id": authorization_id,
                "app": app,
                "since": since,
                "until": until,
            }
        )
        return self._client.paginate(path, Event, sort="created_at", descending=True)

    def export(
        self,
        export_format: str,
        *,
        action: str | None = None,
        authorization_id: str | None = None,
        app: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> Iterator[bytes]:
        """The whole filtered range as ``csv`` or ``jsonl`` (NDJSON), streamed in chunks."""
        path = self._path(
            {
                "action": action,
                "authorization_id": authorization_id,
                "app": app,
                "since": since,
                "until": until,
            }
        )
        return self._client.stream("GET", path, accept=EXPORT_TYPES[export_format])
