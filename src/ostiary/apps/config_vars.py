"""Config vars: a flat map per app; every change is a release.

As on Heroku, an app's config (all keys and values together, counted in UTF-8 bytes) holds at
most 32 kB (:data:`MAX_CONFIG_BYTES`); a change that would pass it is refused whole with 422
``invalid_params`` naming the limit. (Heroku's exact error for it is unpublished.) A value may
not hold NUL or an unpaired surrogate: no environment or column can carry them.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from ostiary.apps.models import App, ConfigVar
from ostiary.apps.releases import create_release
from ostiary.errors import InvalidParams
from ostiary.text import unstorable_text
from ostiary.unit import Unit

KEY_PATTERN = re.compile(r"^\w+$", re.ASCII)
MAX_CONFIG_BYTES = 32 * 1024


def config_of(session: Session, app: App) -> dict[str, str]:
    """The app's config vars as a map, sorted by key."""
    rows = session.scalars(select(ConfigVar).where(ConfigVar.app_id == app.id)).all()
    return {row.key: row.value for row in sorted(rows, key=lambda row: row.key)}


def _validate(changes: dict[str, object]) -> dict[str, str | None]:
    checked: dict[str, str | None] = {}
    for key, value in changes.items():
        if unstorable_text(key):  # not even the error may name it: no response can carry it
            raise InvalidParams("body", "Config var names cannot hold NUL or unpaired surrogates.")
        if not KEY_PATTERN.fullmatch(key):  # match() would let "KEY\n" through
            # The field is the name as sent; an empty one names the body, as framework
            # validation errors do (never ``"field": ""``).
            raise InvalidParams(
                key or "body",
                f"Config var name {key!r} is invalid: use letters, digits and underscores.",
            )
        if value is not None and not isinstance(value, str):
            raise InvalidParams(key, f"Config var {key} must be a string or null.")
        if value is not None and unstorable_text(value):
            raise InvalidParams(key, f"Config var {key} cannot hold NUL or unpaired surrogates.")
        checked[key] = value
    return checked


def _size(config: dict[str, str]) -> int:
    return sum(len(key.encode()) + len(value.encode()) for key, value in config.items())


def _check_size(existing: dict[str, str], changes: dict[str, str | None]) -> None:
    merged = dict(existing)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    size = _size(merged)
    if size > MAX_CONFIG_BYTES and size > _size(existing):
        raise InvalidParams(
            "body",
            f"Config vars are limited to {MAX_CONFIG_BYTES // 1024} kB per app (keys and values "
            f"together); this change would make them {size} bytes.",
        )


def update_config(
    unit: Unit,
    app: App,
    changes: dict[str, object],
    *,
    actor_id: str,
) -> dict[str, str]:
    """Set (string) and unset (null) config vars; a change makes a release. Returns the new map."""
    session = unit.session
    checked = _validate(changes)
    existing = {
        row.key: row
        for row in session.scalars(select(ConfigVar).where(ConfigVar.app_id == app.id)).all()
    }
    _check_size({key: row.value for key, row in existing.items()}, checked)
    set_keys, unset_keys = [], []
    for key, value in checked.items():
        row = existing.get(key)
        if value is None:
            if row is not None:
                session.delete(row)
                unset_keys.append(key)
        elif row is None:
            session.add(ConfigVar(app_id=app.id, key=key, value=value))
            set_keys.append(key)
        elif row.value != value:
            row.value = value
            set_keys.append(key)
    if set_keys or unset_keys:
        session.flush()
        parts = []
        if set_keys:
            parts.append(f"Set {', '.join(set_keys)} config vars")
        if unset_keys:
            parts.append(f"Remove {', '.join(unset_keys)} config vars")
        create_release(unit, app, "; ".join(parts), actor_id)
        unit.record(
            "app:config-vars:update",
            actor_id=actor_id,
            target_type="app",
            target_id=app.id,
            details={"set": set_keys, "unset": unset_keys},
        )
    return config_of(session, app)
