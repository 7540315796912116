"""The grace choice of the dashboard's Rotate forms (tokens, applications' secrets): how long
the old credential keeps working (docs/token-lifecycle.md, "Rotation without downtime")."""

from __future__ import annotations

from starlette.datastructures import FormData

from ostiary.errors import InvalidParams
from ostiary.security.grace import parse_grace_period
from ostiary.web.dashboard.pages import field

GRACE_CHOICES = [
    ("", "No grace: the old one stops now"),
    ("3600", "1 hour"),
    ("86400", "1 day"),
    ("604800", "7 days"),
]
"""The offered graces in seconds ("" is none), as the form's select lists them."""


def chosen_grace(form: FormData) -> int:
    """The grace the form chose, in seconds; only an offered one is accepted."""
    grace = field(form, "grace_period")
    if grace not in {value for value, _ in GRACE_CHOICES}:
        raise InvalidParams("grace_period", "Choose one of the offered grace periods.")
    return parse_grace_period(grace or None)
