"""User agents as a person reads them: a family ("Firefox", "heroku", "curl") and a system.

The activity log describes each event's agent ("Firefox on Linux"), and the anomaly rules watch
for a credential's new agent family. Browsers and systems are recognised by ua-parser (the
maintained uap-core rules); for what it does not know, which is most API clients, the family is
the first product token (``heroku/10.1.0 linux-x64`` is ``heroku``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

UNKNOWN = "unknown"
_PRODUCT = re.compile(r"^\s*([A-Za-z][A-Za-z0-9._+-]{0,39})")
_UNRECOGNISED = frozenset({"Other", ""})


@dataclass(frozen=True, slots=True)
class Agent:
    """What software made a request: its family and, when known, its operating system."""

    family: str
    system: str | None = None

    def describe(self) -> str:
        """How a person would say it: "Firefox on Linux", "curl"."""
        return f"{self.family} on {self.system}" if self.system else self.family


@functools.lru_cache(maxsize=4096)
def agent_of(user_agent: str | None) -> Agent:
    """The agent a ``User-Agent`` header names; ``unknown`` for none or an unreadable one."""
    if not user_agent or not user_agent.strip():
        return Agent(UNKNOWN)
    # Loaded on first use: its rules take a few MB and a moment to compile, which a worker that
    # never describes an agent should not pay for.
    from ua_parser import parse

    parsed = parse(user_agent[:400])
    family = parsed.user_agent.family if parsed.user_agent else ""
    system = parsed.os.family if parsed.os else ""
    if family in _UNRECOGNISED:
        match = _PRODUCT.match(user_agent)
        family = match.group(1) if match else UNKNOWN
        if family.lower() == "mozilla":
            family = UNKNOWN
    return Agent(family, system if system not in _UNRECOGNISED else None)
