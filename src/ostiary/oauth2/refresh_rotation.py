"""Refresh token rotation and reuse detection (RFC 9700 section 4.14.2; rule R16).

Every use of a refresh token rotates it: the authorization's generation counter names the one
live token. Presenting an older generation means a copy leaked, and the whole family is revoked.
Two refreshes of one token at once must not log a legitimate client out: the immediate
predecessor of the live generation is accepted for :data:`GRACE` after its rotation, and answered
with a sibling of the live generation instead of a new one.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from ostiary.oauth2.protocols import StoredRefresh

GRACE = timedelta(seconds=30)


class Presented(enum.Enum):
    """Which refresh token of its family a request presented."""

    CURRENT = "current"  # the live generation: rotate it
    RACING = "racing"  # the predecessor, just rotated: answer a sibling of the live one
    REUSED = "reused"  # anything older: a leaked copy, revoke the family


def classify(refresh: StoredRefresh, now: datetime, grace: timedelta = GRACE) -> Presented:
    """What presenting this refresh token means at ``now``."""
    if refresh.generation == refresh.current_generation:
        return Presented.CURRENT
    if (
        refresh.generation == refresh.current_generation - 1
        and refresh.rotated_at is not None
        and now - refresh.rotated_at <= grace
    ):
        return Presented.RACING
    return Presented.REUSED
