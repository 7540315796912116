"""The dashboard: the web pages of account settings, under ``/dashboard`` (``/account`` and
``/apps`` are the API's). One module per page; ``pages`` is the page framework they share
(visitor, CSRF, re-authentication, rendering)."""

from __future__ import annotations

from fastapi import APIRouter

from ostiary.web.dashboard import (
    account,
    activity,
    alerts,
    api_key,
    apps,
    authorized,
    notifications,
    oauth_clients,
    passkeys,
    second_factors,
    sessions,
    token_policy,
    tokens,
    webhooks,
)

# Included one by one, flat: FastAPI pays a route-matching pass per level of nesting.
ROUTERS: list[APIRouter] = [
    module.router
    for module in (
        account,
        api_key,
        passkeys,
        tokens,
        token_policy,
        oauth_clients,
        authorized,
        sessions,
        second_factors,
        apps,
        activity,
        alerts,
        notifications,
        webhooks,
    )
]
