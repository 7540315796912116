"""Notifications: which mail the account gets about what was done with it. The informational
ones (a new sign-in, a new token or authorization) can be turned off; the security ones
(password, second factors, recovery codes, API key) are listed as always sent
(docs/notifications.md)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from ostiary.notifications.queries import settings_of
from ostiary.notifications.records import KINDS, SETTING_MEANINGS, SETTING_NAMES
from ostiary.notifications.services import update_settings
from ostiary.unit import Unit
from ostiary.web.context import services_of
from ostiary.web.dashboard.pages import PREFIX, Visitor, act, done, render, show

router = APIRouter(include_in_schema=False)
NOTIFICATIONS = f"{PREFIX}/notifications"


def _page(request: Request, session: Session, visitor: Visitor) -> Response:
    settings = settings_of(session, visitor.account.id).as_dict()
    return render(
        request,
        visitor,
        "notifications.html",
        choices=[(name, SETTING_MEANINGS[name], settings[name]) for name in SETTING_NAMES],
        always=[kind.subject for kind in KINDS if kind.security],
        mail_enabled=services_of(request).settings.smtp_url is not None,
    )


@router.get(NOTIFICATIONS)
async def notifications_page(request: Request) -> Response:
    """The account's notification settings, with the form to change them."""
    return show(request, lambda session, visitor: _page(request, session, visitor))


@router.post(NOTIFICATIONS)
async def save(request: Request) -> Response:
    """Turn the informational notifications on or off: a box left unticked turns it off."""

    def work(unit: Unit, visitor: Visitor, form: FormData) -> Response:
        chosen = set(form.getlist("notify"))
        changes: dict[str, object] = {name: name in chosen for name in SETTING_NAMES}
        update_settings(unit, visitor.account.id, changes)
        return done(NOTIFICATIONS, "Your notification settings were saved.")

    return await act(request, NOTIFICATIONS, work)
