"""The errors of the leak response, each a kind of the domain error tree (``ostiary.errors``)."""

from __future__ import annotations

from ostiary.errors import Forbidden, NotFound, RateLimited, Unauthorized


class ScanningNotConfigured(NotFound):
    """``POST /leaks/github`` on a server without ``OSTIARY_GITHUB_SCANNING_KEYS``: the route is
    as absent as any other unknown path."""

    def __init__(self) -> None:
        super().__init__(
            "GitHub secret scanning endpoint",
            "GitHub secret scanning is not configured on this server "
            "(OSTIARY_GITHUB_SCANNING_KEYS).",
        )


class UnsignedPayload(Unauthorized):
    """A payload without GitHub's signature headers (401: no credential at all)."""

    def __init__(self) -> None:
        super().__init__(
            "A signed payload is required: GITHUB-PUBLIC-KEY-IDENTIFIER and "
            "GITHUB-PUBLIC-KEY-SIGNATURE."
        )


class BadSignature(Forbidden):
    """A payload signed with a key not in the key set, or whose signature does not verify
    (403: a credential was presented and it is wrong)."""

    def __init__(self) -> None:
        super().__init__("The payload's signature does not verify with a configured GitHub key.")


class TooManyReports(RateLimited):
    """An address's budget of public leak reports is spent (429, Retry-After)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.message = f"Too many reports from this address. Try again in {retry_after} seconds."
        self.args = (self.message,)
