"""The Platform API client: authentication, errors, retries after 429, and Range pagination."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any, Protocol, Self, TypeVar

import httpx

from ostiary import __version__
from ostiary.client.errors import RateLimited, api_error, unreachable
from ostiary.client.expiry import (
    EXPIRES_HEADER,
    WARN_WITHIN,
    ExpiryHandler,
    expiring_within,
    parse_expiry,
    warn,
)
from ostiary.client.models import Account, Json
from ostiary.client.oauth import OAuthApp, RefreshingAuth
from ostiary.client.resources import (
    AddOns,
    Alerts,
    Apps,
    Authorizations,
    Clients,
    Collaborators,
    ConfigVars,
    Events,
    Notifications,
    Sessions,
)
from ostiary.client.token_storage import TokenStore
from ostiary.client.urls import checked_base_url, tls_verification

ACCEPT = "application/vnd.heroku+json; version=3"
USER_AGENT = f"ostiary-client/{__version__} httpx/{httpx.__version__}"


class _FromJson(Protocol):
    @classmethod
    def from_json(cls, data: Json) -> Self: ...


M = TypeVar("M", bound=_FromJson)


class Client:
    """A connection to one Ostiary (or Heroku-compatible) API.

    Give either ``token`` (an API key or authorization token) or ``token_store`` with ``oauth``
    (OAuth tokens refreshed shortly before they expire). ``verify`` is passed to httpx: False, or
    the path of a CA bundle for a server with a private certificate. A 429 answer is retried after
    its ``Retry-After``, at most ``max_retries`` times.

    When an answer says the ``token`` expires within ``warn_within`` (7 days), ``on_expiring`` is
    called once for this client (never with a token store: its OAuth access tokens are short
    on purpose and refreshed): by default a :class:`~ostiary.client.TokenExpiringWarning`
    through :mod:`warnings`; None says nothing. The last expiry seen is ``token_expires_at``.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        token_store: TokenStore | None = None,
        oauth: OAuthApp | None = None,
        verify: bool | str = True,
        timeout: float = 30.0,
        max_retries: int = 3,
        page_size: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
        warn_within: timedelta = WARN_WITHIN,
        on_expiring: ExpiryHandler | None = warn,
    ) -> None:
        self.base_url = checked_base_url(base_url)
        if token is not None and token_store is not None:
            raise ValueError("Give a token or a token store, not both.")
        auth: httpx.Auth | None = None
        if token_store is not None:
            if oauth is None:
                raise ValueError("A token store needs the OAuthApp that refreshes its tokens.")
            auth = RefreshingAuth(oauth, token_store)
        headers = {"Accept": ACCEPT, "User-Agent": USER_AGENT}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            auth=auth,
            verify=tls_verification(verify),
            timeout=timeout,
        )
        self.max_retries = max_retries
        self.page_size = page_size
        self._sleep = sleep
        self.warn_within = warn_within
        # A refreshing client's access token expires every hour by design, and is refreshed.
        self._on_expiring = on_expiring if token_store is None else None
        self._expiry_told = False
        self.token_expires_at: datetime | None = None
        self.apps = Apps(self)
        self.config = ConfigVars(self)
        self.collaborators = Collaborators(self)
        self.addons = AddOns(self)
        self.authorizations = Authorizations(self)
        self.clients = Clients(self)
        self.sessions = Sessions(self)
        self.events = Events(self)
        self.alerts = Alerts(self)
        self.notifications = Notifications(self)

    def request(
        self,
        method: str,
        api_path: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> httpx.Response:
        """Send a request; an error answer raises its :class:`ApiError`."""
        attempt = 0
        while True:
            try:
                response = self._http.request(
                    method,
                    api_path,
                    json=json,
                    headers=headers,
                    auth=auth if auth is not None else httpx.USE_CLIENT_DEFAULT,
                )
            except httpx.TransportError as error:
                raise unreachable(self.base_url, error) from error
            if not response.is_error:
                self._notice_expiry(response)
                return response
            failure = api_error(response)
            if isinstance(failure, RateLimited) and attempt < self.max_retries:
                attempt += 1
                self._sleep(failure.retry_after)
                continue
            raise failure

    def _notice_expiry(self, response: httpx.Response) -> None:
        """Remember the token's expiry, and tell of it once when it is near."""
        header = response.headers.get(EXPIRES_HEADER)
        if header is None:
            return
        self.token_expires_at = parse_expiry(header)
        if self._expiry_told or self._on_expiring is None:
            return
        expiring = expiring_within(header, self.warn_within)
        if expiring is not None:
            self._expiry_told = True
            self._on_expiring(expiring)

    def json(self, method: str, api_path: str, **kwargs: Any) -> Any:
        """The JSON answer of a request."""
        return self.request(method, api_path, **kwargs).json()

    def paginate(
        self, api_path: str, model: type[M], *, sort: str = "id", descending: bool = False
    ) -> Iterator[M]:
        """Every item of a list, fetched page by page as the iteration reaches it."""
        order = ", order=desc" if descending else ""
        range_header = f"{sort} ..; max={self.page_size}{order}" if self.page_size else None
        while True:
            response = self.request(
                "GET", api_path, headers={"Range": range_header} if range_header else None
            )
            for item in response.json():
                yield model.from_json(item)
            next_range = response.headers.get("next-range")
            if response.status_code != 206 or not next_range:
                return
            range_header = next_range

    def stream(self, method: str, api_path: str, *, accept: str) -> Iterator[bytes]:
        """The body of a request answered in another media type (an export), in chunks as they
        arrive; an error answer raises its :class:`ApiError` before the first chunk."""
        request = self._http.build_request(method, api_path, headers={"Accept": accept})
        try:
            response = self._http.send(request, stream=True)
        except httpx.TransportError as error:
            raise unreachable(self.base_url, error) from error
        try:
            if response.is_error:
                response.read()
                raise api_error(response)
            yield from response.iter_bytes()
        finally:
            response.close()

    def account(self) -> Account:
        """The account the token acts for."""
        return Account.from_json(self.json("GET", "/account"))

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
