"""Fixed records: regions, stacks and the add-on catalogue, with stable ids."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Region:
    """A region an app can run in."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Stack:
    """An app's base image."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class AddOnService:
    """A kind of add-on: its config vars begin with its default attachment name."""

    id: str
    name: str
    attachment: str
    config_vars: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Plan:
    """A plan of an add-on service, with its monthly price."""

    id: str
    name: str
    service: AddOnService
    cents: int


REGIONS = {
    region.name: region
    for region in (
        Region("59accabd-516d-4f0e-83e6-6e3757701145", "us"),
        Region("ed30241c-ed8c-4bb6-9714-61953675d0b4", "eu"),
    )
}
DEFAULT_REGION = "us"

STACKS = {
    stack.name: stack for stack in (Stack("ee582d3c-717d-4a57-ba5f-8b3a39f3a817", "heroku-24"),)
}
DEFAULT_STACK = "heroku-24"

_POSTGRES = AddOnService(
    "6b0ae3f5-ba5f-4c04-9c22-1a7c1a6a1b0e", "heroku-postgresql", "DATABASE", ("DATABASE_URL",)
)
_REDIS = AddOnService(
    "4c3b2d1e-6c2f-4a8e-9a1b-0d9e8f7a6b5c", "heroku-redis", "REDIS", ("REDIS_URL",)
)
_PAPERTRAIL = AddOnService(
    "8d7c6b5a-4e3f-4a2b-8c1d-0e9f8a7b6c5d", "papertrail", "PAPERTRAIL", ("PAPERTRAIL_API_TOKEN",)
)

PLANS = {
    plan.name: plan
    for plan in (
        Plan(
            "a1b2c3d4-0001-4000-8000-000000000001", "heroku-postgresql:essential-0", _POSTGRES, 500
        ),
        Plan(
            "a1b2c3d4-0001-4000-8000-000000000002", "heroku-postgresql:essential-1", _POSTGRES, 900
        ),
        Plan("a1b2c3d4-0002-4000-8000-000000000001", "heroku-redis:mini", _REDIS, 300),
        Plan("a1b2c3d4-0003-4000-8000-000000000001", "papertrail:choklad", _PAPERTRAIL, 0),
    )
}
PLANS_BY_ID = {plan.id: plan for plan in PLANS.values()}
DEFAULT_PLAN_BY_SERVICE = {
    "heroku-postgresql": "heroku-postgresql:essential-0",
    "heroku-redis": "heroku-redis:mini",
    "papertrail": "papertrail:choklad",
}


def find_plan(identity: str) -> Plan | None:
    """A plan by id, by ``service:plan`` name, or by service name alone (its default plan)."""
    if identity in PLANS_BY_ID:
        return PLANS_BY_ID[identity]
    name = DEFAULT_PLAN_BY_SERVICE.get(identity, identity)
    return PLANS.get(name)
