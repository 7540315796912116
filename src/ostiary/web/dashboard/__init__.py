"""The dashboard: the web pages of account settings, under ``/dashboard`` (``/account`` and
``/apps`` are the API's). One module per page; ``common`` holds what they share."""

from __future__ import annotations

from fastapi import APIRouter

from ostiary.web.dashboard import (
    account,
    api_key,
    applications,
    apps,
    authorized,
    sessions,
    tokens,
)

# Included one by one, flat: FastAPI pays a route-matching pass per level of nesting.
ROUTERS: list[APIRouter] = [
    module.router for module in (account, api_key, tokens, applications, authorized, sessions, apps)
]
