"""Text no column or response can carry: the one rule for every string a client sends.

NUL cannot be stored in PostgreSQL text, and a lone surrogate (which JSON's ``\\uD800`` escapes
produce) cannot be encoded as UTF-8 by any driver or response. Other control characters are
data: JSON, HTML and the Range headers escape them on the way out.
"""

from __future__ import annotations

import re
from typing import Any

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
