"""The events' hash chain: ``chain_hash = HMAC-SHA256(key, prev_hash || canonical_json(event))``.

The key is derived from the server secret, so someone who can write the database but not read
the secret cannot recompute the chain after editing, removing or reordering events. The event's
canonical JSON covers every column but ``chain_hash`` itself, ``seq`` included (sorted keys, no
whitespace, UTF-8, timestamps as RFC 3339 UTC to the microsecond).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ostiary.activity.records import LoggedEvent

# blake2b's personalisation separates this key from every other derived from the same secret.
_PERSON = b"ostiary-events"

CHAINED_FIELDS = (
    "id",
    "seq",
    "action",
    "created_at",
    "actor_id",
    "subject_id",
    "authorization_id",
    "token",
    "client_id",
    "app_id",
    "target_type",
    "target_id",
    "ip",
    "user_agent",
    "request_id",
    "outcome",
    "details",
)


def chain_key(secret: bytes) -> bytes:
    """The chain's HMAC key, derived from the server secret."""
    return hashlib.blake2b(secret, person=_PERSON).digest()


# The canonical form's encoder, built once: json.dumps with these arguments builds one per call.
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
)


def timestamp(moment: datetime) -> str:
    """A timestamp as the chain (and the activity log's API) writes it: UTC, microseconds, as
    ``strftime("%Y-%m-%dT%H:%M:%S.%fZ")`` writes it."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    if moment.year < 1000:  # strftime does not pad such a year with zeros; isoformat does
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    # isoformat writes the same characters, in a sixth of strftime's time (the sealer's
    # canonical form writes one for every event).
    return moment.isoformat(timespec="microseconds") + "Z"


def canonical_json(event: LoggedEvent) -> bytes:
    """The bytes of an event the chain hashes."""
    return canonical_fields({name: getattr(event, name) for name in CHAINED_FIELDS})


def canonical_fields(fields: Mapping[str, Any]) -> bytes:
    """The bytes the chain hashes, from an event's :data:`CHAINED_FIELDS` (``created_at`` a
    datetime, ``details`` a dict): what :func:`canonical_json` writes, without building a
    :class:`LoggedEvent` first (the sealer reads rows)."""
    document = dict(fields)
    document["created_at"] = timestamp(document["created_at"])
    return _CANONICAL.encode(document).encode("utf-8")


def link(key: bytes, previous: str, event: LoggedEvent) -> str:
    """The chain hash of ``event`` following the hash ``previous`` (hex)."""
    return link_bytes(key, previous, canonical_json(event))


def link_bytes(key: bytes, previous: str, canonical: bytes) -> str:
    """The chain hash of an event's canonical bytes following the hash ``previous`` (hex)."""
    return hmac.new(key, previous.encode("ascii") + canonical, hashlib.sha256).hexdigest()


def links(key: bytes, previous: str, event: LoggedEvent, stored: str | None) -> bool:
    """Whether ``stored`` is the chain hash of ``event`` after ``previous`` (constant time)."""
    return stored is not None and hmac.compare_digest(link(key, previous, event), stored)


def chain_mac(
    key: bytes,
    *,
    head_seq: int,
    head_hash: str,
    anchor_seq: int,
    anchor_hash: str,
    anchor_created_at: datetime | None,
) -> str:
    """The MAC of the chain's record (``event_chain``): its head, its anchor and the anchor's
    time, so that none can be moved without the server secret (hex)."""
    anchored = timestamp(anchor_created_at) if anchor_created_at is not None else ""
    # A prefix no event's message can start with (those start with a 64-hex previous hash).
    message = f"event_chain\n{head_seq}\n{head_hash}\n{anchor_seq}\n{anchor_hash}\n{anchored}"
    return hmac.new(key, message.encode("ascii"), hashlib.sha256).hexdigest()
