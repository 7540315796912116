"""In-memory stores implementing oauth2's storage Protocols: the protocol rules tested without a
database or a server."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from ostiary.oauth2.protocols import StoredCode, StoredRefresh, TokenSet


@dataclass(frozen=True, slots=True)
class FakeClient:
    """A registered client."""

    id: str
    owner_id: str | None = "owner"
    name: str = "Example"
    is_public: bool = False
    client_credentials_scopes: list[str] | None = None
    owner_active: bool = True


def tokens(label: str) -> TokenSet:
    """A recognisable token set."""
    return TokenSet(f"access-{label}", None, ["read"], "account", None, f"refresh-{label}")


@dataclass
class FakeCodes:
    """Codes by plaintext; what the rules asked for is recorded."""

    codes: dict[str, StoredCode] = field(default_factory=dict)
    revoked: list[str] = field(default_factory=list)
    redeemed: list[str] = field(default_factory=list)

    def find_code(self, code: str) -> StoredCode | None:
        return self.codes.get(code)

    def revoke_code_family(self, code: StoredCode) -> None:
        self.revoked.append(code.id)

    def redeem(self, code: StoredCode) -> TokenSet:
        self.redeemed.append(code.id)
        for plaintext, stored in self.codes.items():
            if stored.id == code.id:
                self.codes[plaintext] = replace(stored, used=True)
        return tokens(code.id)


@dataclass
class FakeRefreshes:
    """One refresh family: generation n is the plaintext ``r<n>``."""

    client_id: str
    now: datetime
    current: int = 0
    rotated_at: dict[int, datetime] = field(default_factory=dict)
    scopes: list[str] = field(default_factory=lambda: ["read", "write"])
    active: bool = True
    family_revoked: bool = False
    issued: list[tuple[int, bool]] = field(default_factory=list)

    def find_refresh(self, token: str) -> StoredRefresh | None:
        if not token.startswith("r") or not token[1:].isdigit():
            return None
        generation = int(token[1:])
        if generation > self.current:
            return None
        return StoredRefresh(
            authorization_id="family",
            client_id=self.client_id,
            generation=generation,
            current_generation=self.current,
            rotated_at=self.rotated_at.get(generation),
            scopes=self.scopes,
            authorization_active=self.active and not self.family_revoked,
        )

    def revoke_family(self, refresh: StoredRefresh) -> None:
        self.family_revoked = True

    def rotate(self, refresh: StoredRefresh, *, advance: bool) -> TokenSet:
        if advance:
            self.rotated_at[refresh.generation] = self.now
            self.current += 1
        self.issued.append((refresh.generation, advance))
        # The plaintext of the live generation (a sibling, when not advancing, reads the same).
        return TokenSet(
            f"access-{self.current}", None, self.scopes, "account", None, f"r{self.current}"
        )
