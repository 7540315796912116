"""Typed results. Each keeps the API's JSON as ``raw``, so nothing the server sends is lost and
``--json`` output is exactly the wire format."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Self

Json = dict[str, Any]


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _name(value: Any, key: str = "name") -> str | None:
    return value.get(key) if isinstance(value, dict) else None


@dataclass(frozen=True, slots=True)
class Account:
    """The account a token acts for (``GET /account``)."""

    id: str
    email: str
    name: str | None
    created_at: datetime | None
    raw: Json = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Json) -> Self:
        """From the API's JSON."""
        return cls(data["id"], data["email"], data.get("name"), _time(data.get("created_at")), data)


@dataclass(frozen=True, slots=True)
class App:
    """An app (``/apps``)."""

    id: str
    name: str
    region: str | None
    stack: str | None
    owner_email: str | None
    web_url: str | None
    git_url: str | None
    created_at: datetime | None
    raw: Json = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Json) -> Self:
        """From the API's JSON."""
        return cls(
            data["id"],
            data["name"],
            _name(data.get("region")),
            _name(data.get("stack")),
            _name(data.get("owner"), "email"),
            data.get("web_url"),
            data.get("git_url"),
            _time(data.get("created_at")),
            data,
        )


@dataclass(frozen=True, slots=True)
class RetiringToken:
    """An old token of an authorization still in a rotation's grace period: it works until
    ``retiring_at``; its last use shows who has not moved to the new token."""

    token: str
    retiring_at: datetime | None
    last_used_at: datetime | None
    last_used_ip: str | None

    @classmethod
    def from_json(cls, data: Json) -> Self:
        """From the API's JSON (an entry of an authorization's ``retiring``)."""
        return cls(
            data.get("token") or "",
            _time(data.get("retiring_at")),
            _time(data.get("last_used_at")),
            data.get("last_used_ip"),
        )


@dataclass(frozen=True, slots=True)
class Authorization:
    """A named token, the API key, or an OAuth grant (``/oauth/authorizations``).

    ``token`` is the plaintext only in the answer that created or regenerated it; listings show
    it redacted.
    """

    id: str
    description: str
    scopes: list[str]
    token: str | None
    expires_in: int | None
    expired: bool
    client_name: str | None
    created_at: datetime | None
    raw: Json = field(repr=False, compare=False)
    client_id: str | None = None
    parent_id: str | None = None
    retiring: list[RetiringToken] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: Json) -> Self:
        """From the API's JSON."""
        access = data.get("access_token") or {}
        client = data.get("client") or {}
        parent = data.get("parent") or {}
        return cls(
            data["id"],
            data.get("description") or "",
            list(data.get("scope") or []),
            access.get("token"),
            access.get("expires_in"),
            bool(data.get("expired")),
            _name(data.get("client")),
            _time(data.get("created_at")),
            data,
            client.get("id"),
            parent.get("id"),
            [RetiringToken.from_json(entry) for entry in data.get("retiring") or []],
        )

    def holds(self, token: str) -> bool:
        """Whether this authorization's (redacted) token is ``token``: the check the heroku
        CLI makes at logout, prefix and suffix around exactly ten stars."""
        shown = self.token or ""
        if shown == token:
            return True
        stars = shown.find("*" * 10)
        if stars < 0:
            return False
        return token.startswith(shown[:stars]) and token.endswith(shown[stars + 10 :])


@dataclass(frozen=True, slots=True)
class OAuthClient:
    """A registered OAuth client (``/oauth/clients``); ``secret`` only when just created or
    rotated."""

    id: str
    name: str
    redirect_uris: list[str]
    client_type: str
    client_credentials_scopes: list[str] | None
    secret: str | None
    raw: Json = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Json) -> Self:
        """From the API's JSON."""
        uris = data.get("redirect_uris") or (
            [data["redirect_uri"]] if data.get("redirect_uri") else []
        )
        return cls(
            data["id"],
            data["name"],
            list(uris),
            data.get("client_type") or "confidential",
            data.get("client_credentials_scopes"),
            data.get("secret"),
            data,
        )


@dataclass(frozen=True, slots=True)
class Session:
    """A login session (``/oauth/sessions``)."""

    id: str
    description: str
    expires_in: int | None
    created_at: datetime | None
    raw: Json = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Json) -> Self:
        """From the API's JSON."""
        return cls(
            data["id"],
            data.get("description") or "",
            data.get("expires_in"),
            _time(data.get("created_at")),
            data,
        )


@dataclass(frozen=True, slots=True)
class NotificationSettings:
    """Which notifications the account is mailed (``/account/notification-settings``): the
    informational ones on or off, and the security ones that always go."""

    new_sign_in: bool
    new_token: bool
    always_sent: list[str]
    mail_enabled: bool
    raw: Json = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Json) -> Self:
        """From the API's JSON."""
        return cls(
            bool(data.get("new_sign_in")),
            bool(data.get("new_token")),
            list(data.get("always_sent") or []),
            bool(data.get("mail_enabled")),
            data,
        )


@dataclass(frozen=True, slots=True)
class Collaborator:
    """Someone who may work on an app (``/apps/{app}/collaborators``)."""

    id: str
    email: str
    role: str | None
    app_name: str | None
    raw: Json = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Json) -> Self:
        """From the API's JSON."""
        return cls(
            data["id"],
            _name(data.get("user"), "email") or "",
            data.get("role"),
            _name(data.get("app")),
            data,
        )


@dataclass(frozen=True, slots=True)
class AddOn:
    """An add-on attached to an app (``/apps/{app}/addons``)."""

    id: str
    name: str
    plan: str | None
    state: str | None
    app_name: str | None
    raw: Json = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Json) -> Self:
        """From the API's JSON."""
        return cls(
            data["id"],
            data["name"],
            _name(data.get("plan")),
            data.get("state"),
            _name(data.get("app")),
            data,
        )


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert about one of the account's credentials (``GET /account/alerts``): unusual use,
    or a lifecycle notice (leaked, expiring, idle)."""

    id: str
    rule: str
    raised_at: datetime | None
    seen_at: datetime | None
    summary: str
    authorization_id: str | None
    suspended: bool
    raw: Json = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Json) -> Self:
        """From the API's JSON."""
        return cls(
            data["id"],
            data["rule"],
            _time(data.get("raised_at")),
            _time(data.get("seen_at")),
            data.get("summary") or "",
            _name(data.get("authorization"), "id"),
            bool(data.get("suspended")),
            data,
        )


@dataclass(frozen=True, slots=True)
class Event:
    """An event of the account's activity log (``GET /account/events``)."""

    id: str
    action: str
    created_at: datetime | None
    outcome: str
    source_ip: str | None
    user_agent: str | None
    authorization_id: str | None
    token: str | None
    raw: Json = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Json) -> Self:
        """From the API's JSON."""
        credential = data.get("authorization") or {}
        return cls(
            data["id"],
            data["action"],
            _time(data.get("created_at")),
            data.get("outcome") or "",
            data.get("source_ip"),
            data.get("user_agent"),
            credential.get("id"),
            credential.get("token"),
            data,
        )
