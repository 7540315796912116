"""Request bodies as JSON, for the routes that parse their own (FastAPI parses the others).

Every way a body can be unusable is one 422 ``invalid_params`` naming ``body``: not UTF-8, not
JSON, nested deeper than the decoder's recursion limit (a ``RecursionError``, which would
otherwise escape as a 500), or text the database cannot hold (see :func:`unstorable_text`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from ostiary.errors import InvalidParams

# NUL cannot be stored in PostgreSQL text, and a lone surrogate (which JSON's \\uD800 escapes can
# produce) cannot be encoded as UTF-8 by any driver or response. Other control characters are
# data: JSON, HTML and the Range headers escape them on the way out.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable_text(value: str) -> bool:
    """Whether ``value`` holds a character no column or response can carry."""
    return _UNSTORABLE.search(value) is not None


def first_unstorable(value: Any) -> str | None:
    """The dotted path of the first string (key or value) in a parsed JSON document that holds
    an unstorable character, or None. Iterative: a document may be nested as deeply as the
    decoder allowed."""
    pending: list[tuple[str, Any]] = [("", value)]
    while pending:
        path, item = pending.pop()
        if isinstance(item, str):
            if unstorable_text(item):
                return path or "body"
        elif isinstance(item, dict):
            for key, child in item.items():
                if unstorable_text(str(key)):
                    return path or "body"
                pending.append((f"{path}.{key}" if path else str(key), child))
        elif isinstance(item, list):
            pending.extend(
                (f"{path}.{index}" if path else str(index), child)
                for index, child in enumerate(item)
            )
    return None


def parse_json_body(raw: bytes) -> Any:
    """The parsed body, or InvalidParams (422) saying why it cannot be used."""
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError) as error:  # JSONDecodeError and UnicodeDecodeError
        raise InvalidParams(
            "body",
            "The request body is not valid JSON (it must be UTF-8 and not nested this deeply).",
        ) from error
    field = first_unstorable(parsed)
    if field is not None:
        raise InvalidParams(
            field, f"Invalid {field}: NUL and unpaired surrogate characters are not allowed."
        )
    return parsed
