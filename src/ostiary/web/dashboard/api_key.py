"""The API key page: hidden by default; revealing its identifying parts and regenerating it ask
for the password unless it was proved in the last five minutes.

Ostiary stores only a keyed hash of every token, so the full key exists only in the answer that
created it: "reveal" shows its redacted form and when it was made and last used, and a lost key
is replaced by regenerating it (the new one is shown once).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from ostiary.durations import describe_duration
from ostiary.errors import InvalidParams
from ostiary.policies.queries import policy_in_force
from ostiary.policies.rules import api_key_expiry
from ostiary.security.tokens import redact
from ostiary.tokens.models import Authorization
from ostiary.tokens.queries import api_key_of, live_tokens
from ostiary.unit import Unit, lifetimes_of
from ostiary.web.context import services_of
from ostiary.web.dashboard.pages import (
    PREFIX,
    Visitor,
    act,
    confirm_identity,
    new_token,
    render,
    show,
)

router = APIRouter(include_in_schema=False)
API_KEY = f"{PREFIX}/api-key"


def _page(
    request: Request, session: Session, visitor: Visitor, key: Authorization, **context: Any
) -> Response:
    # The key's own age limit (OSTIARY_API_KEY_MAX_AGE, or the account's stricter one), counted
    # from its current token, as the authenticator refuses it.
    max_age = policy_in_force(
        session, lifetimes_of(services_of(request).settings), visitor.account.id
    ).settings.api_key_max_age
    access = live_tokens(session, [key])[key.id].access
    ends = api_key_expiry(access.created_at, max_age) if access is not None else None
    return render(
        request,
        visitor,
        "api_key.html",
        key=key,
        regenerate_by=ends,
        max_age=describe_duration(max_age) if max_age else None,
        **context,
    )


@router.get(API_KEY)
async def api_key_page(request: Request) -> Response:
    """The API key, hidden."""
    return show(
        request,
        lambda session, visitor: _page(
            request, session, visitor, api_key_of(session, visitor.account.id)
        ),
    )


@router.post(f"{API_KEY}/reveal")
async def reveal(request: Request) -> Response:
    """Show the key's redacted form, after a recent password."""

    def work(unit: Unit, visitor: Visitor, form: FormData) -> Response:
        confirm_identity(visitor)
        key = api_key_of(unit.session, visitor.account.id)
        access = live_tokens(unit.session, [key])[key.id].access
        shown = redact(access.display_head, access.display_tail) if access else None
        return _page(request, unit.session, visitor, key, revealed=shown)

    return await act(request, API_KEY, work, proof_field="password")


@router.post(f"{API_KEY}/regenerate")
async def regenerate_key(request: Request) -> Response:
    """Replace the key (after a confirmation and a recent password); show the new one once."""

    def work(unit: Unit, visitor: Visitor, form: FormData) -> Response:
        if form.get("confirm") != "yes":
            raise InvalidParams("confirm", "Tick the box to confirm: the old key stops working.")
        confirm_identity(visitor)
        key = api_key_of(unit.session, visitor.account.id, for_update=True)
        new_key = new_token(unit, key)
        return _page(request, unit.session, visitor, key, new_key=new_key)

    return await act(request, API_KEY, work, proof_field="password")
