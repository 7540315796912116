"""A Python client for Ostiary's Platform API and its OAuth 2.0 server, on httpx.

    from ostiary.client import Client

    with Client("https://ostiary.example.com", token="ostk_...") as api:
        for app in api.apps.list():
            print(app.name, api.config.get(app.name))

Errors raise :class:`ApiError` subclasses named after Heroku's error ids. Lists iterate lazily
across Range pages. Third-party apps use :class:`OAuthApp` (authorization code with PKCE and
state, refresh, the device flow) with a :class:`TokenStore`. A token that expires within 7 days
is told once per client as a :class:`TokenExpiringWarning` (``ostiary.client.expiry``).
"""

from __future__ import annotations

from ostiary.client.api import Client
from ostiary.client.errors import (
    ApiError,
    BadRequest,
    ClientError,
    Conflict,
    Forbidden,
    InsecureURL,
    InvalidParams,
    NotFound,
    OAuthError,
    RateLimited,
    ServerError,
    ServerUnreachable,
    TwoFactorRequired,
    Unauthorized,
    UntrustedCertificate,
)
from ostiary.client.expiry import TokenExpiringWarning
from ostiary.client.models import (
    Account,
    AddOn,
    App,
    Authorization,
    Collaborator,
    NotificationSettings,
    OAuthClient,
    Session,
)
from ostiary.client.oauth import AuthorizationRequest, DeviceAuthorization, OAuthApp, OAuthTokens
from ostiary.client.token_storage import FileTokenStore, MemoryTokenStore, TokenStore

__all__ = [
    "Account",
    "AddOn",
    "ApiError",
    "App",
    "Authorization",
    "AuthorizationRequest",
    "BadRequest",
    "Client",
    "ClientError",
    "Collaborator",
    "Conflict",
    "DeviceAuthorization",
    "FileTokenStore",
    "Forbidden",
    "InsecureURL",
    "InvalidParams",
    "MemoryTokenStore",
    "NotFound",
    "NotificationSettings",
    "OAuthApp",
    "OAuthClient",
    "OAuthError",
    "OAuthTokens",
    "RateLimited",
    "ServerError",
    "ServerUnreachable",
    "Session",
    "TokenExpiringWarning",
    "TokenStore",
    "TwoFactorRequired",
    "Unauthorized",
    "UntrustedCertificate",
]
