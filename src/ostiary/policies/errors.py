"""The policy's domain errors: a request outside the policy in force, which the API answers
with 422 ``invalid_params`` naming the setting and its limit."""

from __future__ import annotations

from ostiary.errors import InvalidParams


class OutsidePolicy(InvalidParams):
    """A token asked for outside the policy in force (its lifetime, its expiry, its scopes)."""


class LoosensPolicy(InvalidParams):
    """An account's policy change that would be weaker than the server's setting."""
