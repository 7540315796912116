"""User agents as people read them (``ostiary.agents``)."""

from __future__ import annotations

import pytest

from ostiary.agents import Agent, agent_of

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (FIREFOX, Agent("Firefox", "Linux")),
        (CHROME_MAC, Agent("Chrome", "Mac OS X")),
        ("heroku/10.0.0 linux-x64 node-v20.0.0", Agent("heroku", "Linux")),
        ("curl/8.5.0", Agent("curl")),
        ("python-httpx/0.27.0", Agent("python-httpx")),
        ("", Agent("unknown")),
        (None, Agent("unknown")),
        ("Mozilla/5.0", Agent("unknown")),
        ("<script>", Agent("unknown")),
    ],
)
def test_agents_are_named_by_family_and_system(header: str | None, expected: Agent) -> None:
    assert agent_of(header) == expected


def test_described_as_a_person_says_it() -> None:
    assert agent_of(FIREFOX).describe() == "Firefox on Linux"
    assert agent_of("curl/8.5.0").describe() == "curl"
