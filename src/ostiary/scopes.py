"""Heroku's OAuth scopes and which scope implies which.

``global`` implies everything; ``write-protected`` implies ``write``, ``read-protected`` and
``read``; ``write`` and ``read-protected`` imply ``read``. ``identity`` and ``create-apps`` imply
only themselves. A credential may create an authorization only with scopes it implies, so no token
can mint a wider one.
"""

from __future__ import annotations

import re

from ostiary.errors import InvalidParams

IMPLIES: dict[str, frozenset[str]] = {
    "global": frozenset(
        {"global", "identity", "read", "write", "read-protected", "write-protected", "create-apps"}
    ),
    "identity": frozenset({"identity"}),
    "read": frozenset({"read"}),
    "write": frozenset({"write", "read"}),
    "read-protected": frozenset({"read-protected", "read"}),
    "write-protected": frozenset({"write-protected", "write", "read-protected", "read"}),
    "create-apps": frozenset({"create-apps"}),
}
ALL_SCOPES = frozenset(IMPLIES)


def parse_scopes(value: object, field: str = "scope") -> list[str]:
    """Scopes from a list, or a space- or comma-separated string; unknown ones are refused."""
    if isinstance(value, str):
        items = [part for part in re.split(r"[\s,]+", value) if part]
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        items = [item.strip() for item in value]
    else:
        raise InvalidParams(field, f"{field} must be a list of scope names.")
    if not items:
        raise InvalidParams(field, f"{field} must name at least one scope.")
    unknown = sorted(set(items) - ALL_SCOPES)
    if unknown:
        raise InvalidParams(
            field, f"Unknown scope {', '.join(unknown)}; known: {', '.join(sorted(ALL_SCOPES))}."
        )
    return sorted(set(items), key=items.index)


def implied_by(held: frozenset[str] | set[str] | list[str]) -> frozenset[str]:
    """Every scope that the held scopes imply."""
    result: set[str] = set()
    for scope in held:
        result |= IMPLIES.get(scope, frozenset())
    return frozenset(result)


def covers(held: frozenset[str] | set[str] | list[str], requested: list[str]) -> bool:
    """Whether a credential holding ``held`` may grant ``requested``."""
    return set(requested) <= implied_by(held)


MEANINGS: dict[str, str] = {
    "global": "do anything you can do: read and change your account, apps and tokens",
    "identity": "read your account's email and name",
    "read": "see your apps, add-ons, collaborators and releases (not config vars)",
    "write": "see, create, change and delete your apps, add-ons and collaborators",
    "read-protected": "see your apps and their resources, config vars included",
    "write-protected": "see and change your apps and their resources, config vars included",
    "create-apps": "create apps, and manage only the apps it creates",
}
