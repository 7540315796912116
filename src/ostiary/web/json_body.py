"""Request bodies as JSON, for the routes that parse their own (FastAPI parses the others).

Every way a body can be unusable is one 422 ``invalid_params`` naming ``body``: not UTF-8, not
JSON, nested deeper than the decoder's recursion limit (a ``RecursionError``, which would
otherwise escape as a 500), or text the database cannot hold (``ostiary.text``).
"""

from __future__ import annotations

import json
from typing import Any

from ostiary.errors import InvalidParams
from ostiary.text import first_unstorable


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
