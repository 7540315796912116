"""The three hot routes, served without FastAPI's routing and per-request machinery.

``GET /account``, ``POST /oauth/token`` and ``POST /oauth/introspect`` are most of the traffic
an identity service answers. Their endpoints take nothing but the request (no dependency
injection, no body model), so FastAPI's route matching, its exception and exit-stack middlewares
and its endpoint wrapper do nothing for them but cost: about 40% of ``GET /account``'s CPU, as
profiled (docs/architecture.md, "Hot paths after issue 13"). The conventions middleware
(``web.middleware``) hands a request whose method and path match one of them straight to its
endpoint, after every check it makes of any request. The endpoint is the one FastAPI registered
(so the OpenAPI schema, HEAD, and every other method and path still go through FastAPI), its
errors go to the application's own exception handlers, looked up by class as Starlette does, and
the route is recorded in the scope for the scope checks and the request observers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

HOT_ROUTES: tuple[tuple[str, str], ...] = (
    ("GET", "/account"),
    ("POST", "/oauth/token"),
    ("POST", "/oauth/introspect"),
)

Endpoint = Callable[[Request], Awaitable[Response]]
ExceptionHandler = Callable[[Request, Exception], Awaitable[Response]]


class HotRoute:
    """One route's endpoint as an ASGI application of its own."""

    def __init__(
        self,
        route: APIRoute,
        handlers: Mapping[Any, Callable[..., Any]],
    ) -> None:
        self.route = route
        self._endpoint: Endpoint = route.endpoint
        self._handlers = handlers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the request as FastAPI would have."""
        scope["route"] = self.route
        scope["endpoint"] = self._endpoint
        scope["path_params"] = {}
        request = Request(scope, receive, send)
        try:
            response = await self._endpoint(request)
        except Exception as error:
            handler = self._handler_for(error)
            if handler is None:
                raise  # the conventions middleware answers 500, as for any route
            response = await handler(request, error)
        await response(scope, receive, send)

    def _handler_for(self, error: Exception) -> ExceptionHandler | None:
        for cls in type(error).__mro__:
            handler = self._handlers.get(cls)
            if handler is not None:
                found: ExceptionHandler = handler
                return found
        return None


def hot_routes(
    app: FastAPI, routers: Iterable[APIRouter], wanted: Iterable[tuple[str, str]] = HOT_ROUTES
) -> dict[tuple[str, str], ASGIApp]:
    """The wanted (method, path) routes, found in ``routers`` (those ``app`` includes, without a
    prefix), each as a :class:`HotRoute` answering errors with ``app``'s handlers; call it once
    every exception handler is registered. A route that takes parameters FastAPI would inject is
    refused: it must stay with FastAPI."""
    routes = [route for router in routers for route in router.routes if isinstance(route, APIRoute)]
    found: dict[tuple[str, str], ASGIApp] = {}
    for method, path in wanted:
        route = next((r for r in routes if r.path == path and method in (r.methods or ())), None)
        if route is None:
            raise LookupError(f"no route {method} {path}")
        dependant = route.dependant
        injected = (
            dependant.dependencies,
            dependant.path_params,
            dependant.query_params,
            dependant.header_params,
            dependant.cookie_params,
            dependant.body_params,
        )
        if any(injected):
            raise ValueError(f"{method} {path} needs FastAPI's injection; it cannot be hot")
        found[(method, path)] = HotRoute(route, app.exception_handlers)
    return found
