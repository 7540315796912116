"""The errors of webhooks, each a kind of the domain error tree (``ostiary.errors``)."""

from __future__ import annotations

from ostiary.errors import Conflict, InvalidParams, NotFound


class WebhookNotFound(NotFound):
    """No such webhook of the account."""

    def __init__(self) -> None:
        super().__init__("webhook")


class DeliveryNotFound(NotFound):
    """No such webhook delivery of the account."""

    def __init__(self) -> None:
        super().__init__("webhook delivery")


class InvalidWebhook(InvalidParams):
    """A field of a webhook is missing or not allowed (a non-https URL, an unknown type)."""


class WebhookLimitReached(Conflict):
    """The account has as many webhooks as it may (``OSTIARY_WEBHOOK_LIMIT``)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"An account may have at most {limit} webhooks; delete one first.")
