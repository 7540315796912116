"""What a crash test's clients sent and what the server acknowledged, and the rules it must keep.

A client that gets its answer knows the outcome of its request; one whose connection died with
the server does not (the write may or may not have committed). The ledger keeps both, so the
check after a restart can demand exactly what was promised: every acknowledged write is there
(or a later one), every acknowledged revocation holds, and an unknown outcome may go either way
but, once observed, must stay as observed.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass
class ConfigSlot:
    """Two config vars of one app that one client always sets together, to a fresh value.

    Setting both in one PATCH makes atomicity visible: after a crash both hold the same value.
    """

    app: str
    keys: tuple[str, str]
    sent: list[str] = field(default_factory=list)
    committed: set[int] = field(default_factory=set)  # indexes in ``sent`` known committed

    @property
    def durable(self) -> int:
        """The index of the newest value known committed (acknowledged or seen), or -1."""
        return max(self.committed, default=-1)

    def next_value(self) -> str:
        """A value never sent before, recorded as sent (its outcome unknown until answered)."""
        value = f"{self.keys[0]}-{len(self.sent)}"
        self.sent.append(value)
        return value

    def acknowledge(self, value: str) -> None:
        """The server answered 200 to setting ``value``: it must survive any crash."""
        self.committed.add(self.sent.index(value))

    def observe(self, config: dict[str, str]) -> str | None:
        """Check the app's config vars after a restart; a problem's description, or None."""
        values = {config.get(key) for key in self.keys}
        if len(values) != 1:
            return f"{self.app} {self.keys}: torn write, {sorted(map(str, values))}"
        (value,) = values
        if value is None:
            if self.durable >= 0:
                return f"{self.app} {self.keys}: acknowledged {self.sent[self.durable]!r} lost"
            return None
        if value not in self.sent:
            return f"{self.app} {self.keys}: {value!r} was never sent"
        index = self.sent.index(value)
        if index < self.durable:
            return (
                f"{self.app} {self.keys}: {value!r} is older than the acknowledged "
                f"{self.sent[self.durable]!r}"
            )
        self.committed.add(index)  # seen committed: it must stay at least this new
        return None


class TokenState(enum.Enum):
    """What the client knows about an authorization it created."""

    LIVE = "live"  # creation acknowledged, no revocation sent
    REVOKING = "revoking"  # revocation sent, its answer lost in the crash
    REVOKED = "revoked"  # revocation acknowledged


@dataclass
class CreatedToken:
    """An authorization whose 201 came back, with its token."""

    id: str
    plaintext: str
    state: TokenState = TokenState.LIVE

    def observe(self, status: int) -> str | None:
        """Check ``GET /account`` with the token after a restart; a problem, or None."""
        expected = {
            TokenState.LIVE: {200},
            TokenState.REVOKED: {401},
            TokenState.REVOKING: {200, 401},
        }[self.state]
        if status not in expected:
            return f"token {self.id} ({self.state.value}) answered {status}"
        if self.state is TokenState.REVOKING:
            self.state = TokenState.REVOKED if status == 401 else TokenState.LIVE
        return None


@dataclass
class Lane:
    """One client thread's share of the work: its config slots and its tokens."""

    number: int
    slots: list[ConfigSlot]
    tokens: list[CreatedToken] = field(default_factory=list)
    acknowledged: int = 0  # answered requests this round
    interrupted: int = 0  # requests cut off by the kill, over all rounds
    unexpected: list[str] = field(default_factory=list)

    def live_tokens(self) -> list[CreatedToken]:
        """Tokens this lane may still revoke."""
        return [token for token in self.tokens if token.state is TokenState.LIVE]


def release_bounds(lanes: Iterable[Lane], app: str) -> tuple[int, int]:
    """How many releases ``app`` may have: its first, plus one per write known committed at
    least, plus one per write sent at most."""
    slots = [slot for lane in lanes for slot in lane.slots if slot.app == app]
    return 1 + sum(len(slot.committed) for slot in slots), 1 + sum(len(slot.sent) for slot in slots)
