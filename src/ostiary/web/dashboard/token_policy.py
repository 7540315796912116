"""Token policy: the policy in force (each setting with whether it is the server's or the
account's), and a form to make it stricter, behind a recent password like every form that
changes what credentials may do (docs/token-lifecycle.md, "Policies")."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from ostiary.durations import describe_duration, parse_duration
from ostiary.errors import InvalidParams
from ostiary.policies.queries import find_account_policy, policy_in_force
from ostiary.policies.rules import is_out_of_policy
from ostiary.scopes import parse_scopes
from ostiary.tokens.models import Authorization
from ostiary.tokens.policy import change_token_policy
from ostiary.unit import Unit, lifetimes_of
from ostiary.web.context import services_of
from ostiary.web.dashboard.pages import (
    PREFIX,
    SCOPE_CHOICES,
    Visitor,
    act,
    confirm_identity,
    done,
    field,
    render,
    show,
)

router = APIRouter(include_in_schema=False)
TOKEN_POLICY = f"{PREFIX}/token-policy"
DURATIONS = {
    "max_lifetime": "Longest lifetime of a token",
    "api_key_max_age": "Longest age of the API key",
    "idle_revoke_after": "Revoke a token unused for",
}


def _duration(form: FormData, name: str) -> int | None:
    """A duration field: blank is the server's setting; else seconds or ``90d`` and the like."""
    value = field(form, name)
    if not value:
        return None
    try:
        seconds = parse_duration(value)
    except ValueError as error:
        raise InvalidParams(name, f"{DURATIONS[name]}: {error}.") from None
    if seconds <= 0:
        raise InvalidParams(name, f"{DURATIONS[name]} must be more than 0 seconds.")
    return seconds


def _changes(form: FormData) -> dict[str, object]:
    """The account's whole policy as the form states it (the form shows every setting)."""
    changes: dict[str, object] = {name: _duration(form, name) for name in DURATIONS}
    changes["allow_non_expiring"] = False if form.get("forbid_non_expiring") else None
    if form.get("limit_non_expiring_scopes"):
        chosen = [str(scope) for scope in form.getlist("non_expiring_scopes")]
        changes["non_expiring_scopes"] = (
            tuple(parse_scopes(chosen, "non_expiring_scopes")) if chosen else ()
        )
    else:
        changes["non_expiring_scopes"] = None
    return changes


def out_of_policy_ids(
    request: Request, session: Session, account_id: str, tokens: Sequence[Authorization]
) -> set[str]:
    """The ids of the tokens made before a stricter policy (the token list's badge)."""
    policy = policy_in_force(session, lifetimes_of(services_of(request).settings), account_id)
    return {
        token.id
        for token in tokens
        if is_out_of_policy(policy, list(token.scopes), token.expires_at, token.created_at)
    }


def _page(request: Request, session: Session, visitor: Visitor) -> Response:
    lifetimes = lifetimes_of(services_of(request).settings)
    return render(
        request,
        visitor,
        "token_policy.html",
        policy=policy_in_force(session, lifetimes, visitor.account.id),
        own=find_account_policy(session, visitor.account.id),
        durations=DURATIONS,
        scope_choices=SCOPE_CHOICES,
        describe=describe_duration,
        describe_short=_short,
    )


def _short(seconds: int) -> str:
    """A duration as the form takes it back (``90d``, ``12h``, or seconds)."""
    for unit, size in (("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return str(seconds)


@router.get(TOKEN_POLICY)
async def token_policy_page(request: Request) -> Response:
    """The token policy in force and the form to make it stricter."""
    return show(request, lambda session, visitor: _page(request, session, visitor))


@router.post(TOKEN_POLICY)
async def save(request: Request) -> Response:
    """Save the account's own settings; one weaker than the server's is refused, naming it."""

    def work(unit: Unit, visitor: Visitor, form: FormData) -> Response:
        confirm_identity(visitor)
        change_token_policy(unit, visitor.account.id, _changes(form))
        return done(TOKEN_POLICY, "Your token policy was saved.")

    return await act(request, TOKEN_POLICY, work, proof_field="password")
