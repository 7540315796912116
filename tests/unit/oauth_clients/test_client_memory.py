"""What a worker remembers of clients for the client credentials grant (``ClientMemory``):
for a few seconds, under the secret that authenticated each, and within a bound."""

from __future__ import annotations

import time

import pytest

from ostiary.oauth_clients.oauth_storage import ClientMemory
from ostiary.oauth_clients.records import ClientRecord


def client(client_id: str = "c1", name: str = "fleet") -> ClientRecord:
    return ClientRecord(
        id=client_id,
        owner_id="owner",
        name=name,
        client_type="confidential",
        secret_hash="h1",
        client_credentials_scopes=["read"],
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    ticking = Clock()
    monkeypatch.setattr(time, "monotonic", ticking)
    return ticking


def test_a_client_is_recalled_only_with_the_secret_it_was_remembered_with(clock: Clock) -> None:
    memory = ClientMemory()
    memory.remember(client(), "secret-hash")
    assert memory.recall("c1", "secret-hash") == client()
    assert memory.recall("c1", "another-secret-hash") is None
    assert memory.recall("c2", "secret-hash") is None


def test_a_client_is_forgotten_after_the_time_it_is_trusted(clock: Clock) -> None:
    memory = ClientMemory(ttl=5.0)
    memory.remember(client(), "secret-hash")
    clock.now += 4.9
    assert memory.recall("c1", "secret-hash") is not None
    clock.now += 0.1
    assert memory.recall("c1", "secret-hash") is None


def test_forgetting_a_client_forgets_it_under_every_secret(clock: Clock) -> None:
    memory = ClientMemory()
    memory.remember(client(), "old-secret-hash")
    memory.remember(client(), "new-secret-hash")
    memory.remember(client("c2"), "old-secret-hash")
    memory.forget("c1")
    assert memory.recall("c1", "old-secret-hash") is None
    assert memory.recall("c1", "new-secret-hash") is None
    assert memory.recall("c2", "old-secret-hash") is not None


def test_the_memory_holds_at_most_its_size_dropping_the_longest_remembered(
    clock: Clock,
) -> None:
    memory = ClientMemory(size=3)
    for number in range(5):
        memory.remember(client(f"c{number}"), "secret-hash")
    assert [memory.recall(f"c{n}", "secret-hash") is not None for n in range(5)] == [
        False,
        False,
        True,
        True,
        True,
    ]


def test_remembering_again_replaces_what_was_remembered(clock: Clock) -> None:
    memory = ClientMemory(size=1)
    memory.remember(client(name="fleet"), "secret-hash")
    memory.remember(client(name="renamed"), "secret-hash")
    recalled = memory.recall("c1", "secret-hash")
    assert recalled is not None
    assert recalled.name == "renamed"
