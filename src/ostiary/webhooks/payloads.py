"""What a receiver gets: Heroku's webhook event envelope, its signature and its headers.

The envelope (``id, created_at, published_at, resource, action, actor, data, previous_data,
version, webhook_metadata``) is made when the event is enqueued; ``webhook_metadata`` names the
attempt too, so the body is finished, and signed, at each attempt. ``data`` is the activity-log
event without any secret (``rules.redacted``): its credential appears as an authorization id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime

from ostiary import __version__
from ostiary.activity.records import LoggedEvent
from ostiary.clock import isoformat
from ostiary.webhooks.records import Include
from ostiary.webhooks.rules import redacted

API_VERSION = "application/vnd.heroku+json; version=3"
USER_AGENT = f"Ostiary-Webhooks/{__version__}"


def event_data(event: LoggedEvent) -> dict[str, object]:
    """The event as ``data``: its activity-log fields, details redacted."""
    return {
        "id": event.id,
        "seq": event.seq,
        "action": event.action,
        "created_at": isoformat(event.created_at),
        "actor_id": event.actor_id,
        "subject_id": event.subject_id,
        "authorization_id": event.authorization_id,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "request_id": event.request_id,
        "outcome": event.outcome,
        "details": redacted(event.details),
    }


def envelope(
    event: LoggedEvent, include: Include, actor_email: str | None, published_at: datetime
) -> dict[str, object]:
    """The payload of one event, as stored with its delivery (without the attempt)."""
    return {
        "id": event.id,
        "created_at": isoformat(event.created_at),
        "published_at": isoformat(published_at),
        "resource": include,
        "action": event.action,
        "actor": {"id": event.actor_id, "email": actor_email},
        "data": event_data(event),
        "previous_data": {},
        "version": API_VERSION,
    }


def body_of(
    payload: dict[str, object],
    *,
    attempt_id: str,
    delivery_id: str,
    webhook_id: str,
    event_id: str,
    include: str,
) -> bytes:
    """The exact bytes POSTed for one attempt: the envelope and its ``webhook_metadata``."""
    document = dict(payload)
    document["webhook_metadata"] = {
        "attempt": {"id": attempt_id},
        "delivery": {"id": delivery_id},
        "event": {"id": event_id, "include": include},
        "webhook": {"id": webhook_id},
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode("utf-8")


def signature(secret: str, body: bytes) -> str:
    """``Heroku-Webhook-Hmac-SHA256``: the base64 HMAC-SHA256 of the body under the secret."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def headers_of(
    body: bytes,
    *,
    secret: str,
    authorization: str | None,
    delivery_id: str,
    sent_at: datetime,
) -> dict[str, str]:
    """The headers of one attempt, Heroku's names: the signature, the delivery's id and when
    it was sent, plus the webhook's own ``Authorization`` when it has one."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Heroku-Webhook-Hmac-SHA256": signature(secret, body),
        "Heroku-Webhook-Id": delivery_id,
        "Heroku-Webhook-Sent-At": isoformat(sent_at) or "",
    }
    if authorization:
        headers["Authorization"] = authorization
    return headers
