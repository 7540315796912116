"""The account resource: ``/account`` and ``/users/~`` (Heroku schema definition ``account``)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Protocol

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from ostiary.accounts.models import Account
from ostiary.accounts.records import AccountSnapshot
from ostiary.accounts.services import update_account
from ostiary.clock import isoformat
from ostiary.errors import NotFound
from ostiary.second_factors.queries import enrolled_factors
from ostiary.unit import Unit
from ostiary.web.api.deps import Caller, CallerDep, UnitDep, authenticate_caller
from ostiary.web.api.shapes import Body, IdName, Timestamp

router = APIRouter(tags=["account"])


class AccountFields(Protocol):
    """What presenting an account needs; the ORM row and the auth snapshot both have it."""

    @property
    def id(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def name(self) -> str | None: ...
    @property
    def allow_tracking(self) -> bool: ...
    @property
    def beta(self) -> bool: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def last_login(self) -> datetime | None: ...
    @property
    def email_verified_at(self) -> datetime | None: ...


class AccountOut(BaseModel):
    """An account, in Heroku's shape (fields Ostiary has no value for are null or false)."""

    allow_tracking: bool
    beta: bool
    created_at: Timestamp
    email: str
    federated: bool
    id: str
    identity_provider: None
    last_login: Timestamp | None
    name: str | None
    sms_number: str | None
    suspended_at: Timestamp | None
    delinquent_at: Timestamp | None
    two_factor_authentication: bool
    updated_at: Timestamp
    verified: bool
    country_of_residence: str | None
    default_organization: IdName | None
    default_team: IdName | None


class AccountUpdate(Body):
    """The fields of an account its owner may change."""

    name: str | None = None
    allow_tracking: bool | None = None
    beta: bool | None = None


class RateLimitOut(BaseModel):
    """The requests the account may still make (Heroku schema definition ``rate-limit``)."""

    remaining: int


def _account_fields(account: AccountFields, *, two_factor: bool) -> dict[str, Any]:
    """The fields of an account in Heroku's shape, in :class:`AccountOut`'s order."""
    return {
        "allow_tracking": account.allow_tracking,
        "beta": account.beta,
        "created_at": isoformat(account.created_at) or "",
        "email": account.email,
        "federated": False,
        "id": account.id,
        "identity_provider": None,
        "last_login": isoformat(account.last_login),
        "name": account.name,
        "sms_number": None,
        "suspended_at": None,
        "delinquent_at": None,
        "two_factor_authentication": two_factor,
        "updated_at": isoformat(account.updated_at) or "",
        # Heroku's "verified" is about billing; Ostiary has none, and answers whether the
        # owner proved the email address (docs/account-recovery.md).
        "verified": account.email_verified_at is not None,
        "country_of_residence": None,
        "default_organization": None,
        "default_team": None,
    }


def present_account(account: AccountFields, *, two_factor: bool) -> AccountOut:
    """An account in Heroku's shape (``two_factor``: whether it has a second factor)."""
    return AccountOut(**_account_fields(account, two_factor=two_factor))


def _require_self(caller: Caller, identity: str) -> None:
    account = caller.principal.account
    if identity not in ("~", account.id, account.email):
        raise NotFound("user")


# The bytes pydantic writes for AccountOut: compact, UTF-8, its fields in order.
_COMPACT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _account_response(account: AccountSnapshot) -> Response:
    """The account as FastAPI answers an ``AccountOut`` (the same bytes), without building and
    validating a model twice for values that are plain strings, booleans and None (the hot GET;
    docs/architecture.md)."""
    return Response(
        _COMPACT_JSON.encode(
            _account_fields(account, two_factor=account.two_factor_authentication)
        ).encode(),
        media_type="application/json",
    )


# The hot GETs call authenticate_caller themselves rather than through Depends(): FastAPI's
# dependency solving cost a fifth of the request (docs/architecture.md, "Hot paths after issue
# 13"). The check is the same, and made before anything else.
@router.get("/account", response_model=AccountOut, summary="Account info")
async def get_account(request: Request) -> Response:
    """The authenticated account, answered from the row read with the token."""
    caller = await authenticate_caller(request)
    return _account_response(caller.principal.account)


@router.get("/users/{account_identity}", response_model=AccountOut, summary="Account info by user")
async def get_user(account_identity: str, request: Request) -> Response:
    """The authenticated account, addressed as ``~``, by id or by email."""
    caller = await authenticate_caller(request)
    _require_self(caller, account_identity)
    return _account_response(caller.principal.account)


async def _update(caller: Caller, unit: Unit, body: AccountUpdate) -> AccountOut:
    account = unit.session.get(Account, caller.account_id)
    if account is None:
        raise NotFound("account")
    changes = body.model_dump(exclude_unset=True)
    for flag in ("allow_tracking", "beta"):
        if flag in changes and changes[flag] is None:
            del changes[flag]
    update_account(unit, account, changes=changes)
    unit.session.flush()
    return present_account(account, two_factor=bool(enrolled_factors(unit.session, account.id)))


@router.patch("/account", response_model=AccountOut, summary="Account update")
async def patch_account(caller: CallerDep, unit: UnitDep, body: AccountUpdate) -> AccountOut:
    """Change the account's name, allow_tracking or beta."""
    return await _update(caller, unit, body)


@router.patch(
    "/users/{account_identity}", response_model=AccountOut, summary="Account update by user"
)
async def patch_user(
    account_identity: str, caller: CallerDep, unit: UnitDep, body: AccountUpdate
) -> AccountOut:
    """Change the account addressed as ``~``, by id or by email."""
    _require_self(caller, account_identity)
    return await _update(caller, unit, body)


@router.get(
    "/account/rate-limits",
    response_model=RateLimitOut,
    summary="Rate limit info",
    dependencies=[Depends(authenticate_caller)],
)
async def get_rate_limits(request: Request) -> RateLimitOut:
    """How many requests the account may still make; this request is not counted."""
    return RateLimitOut(remaining=request.state.rate_limit_remaining)
