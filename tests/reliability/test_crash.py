"""kill -9 of a two-worker SQLite server in the middle of concurrent writes, three times.

Six client threads set config vars (two at once, on two shared apps), create tokens
(``POST /oauth/authorizations``) and revoke them (``DELETE /oauth/authorizations/{id}``) while
the whole process group (uvicorn's master and both workers) is killed with SIGKILL at a random
moment. The database is checked at rest after each kill, and the server restarted on the same
data directory must show that nothing it acknowledged was lost: every acknowledged config write
(or a later one) is there, both vars of a write or neither, every acknowledged token works
unless its revocation was acknowledged, every acknowledged revocation holds, release numbers
are consecutive and as many as the writes, and ``PRAGMA integrity_check`` is ok.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.reliability.killable import group_of, kill_server, start_in_own_group
from tests.reliability.ledger import ConfigSlot, CreatedToken, Lane, TokenState, release_bounds
from tests.support.factories import Factory
from tests.support.server import ServerProcess

pytestmark = pytest.mark.server

ROUNDS = 3
LANES = 6
APPS = 2
MAX_OPS_PER_ROUND = 5_000  # per lane; the kill comes long before
KILL_AFTER = (150, 400)  # acknowledged requests (all lanes) before the kill, drawn per round
SETTINGS = {"OSTIARY_RATE_LIMIT_CAPACITY": "1000000000"}


def _send(lane: Lane, api: httpx.Client, rng: random.Random) -> None:
    """One request of a random kind; records what was sent before, and the answer after."""
    choice = rng.random()
    if choice < 0.45:
        slot = rng.choice(lane.slots)
        value = slot.next_value()
        answer = api.patch(f"/apps/{slot.app}/config-vars", json=dict.fromkeys(slot.keys, value))
        if answer.status_code == 200 and all(answer.json()[k] == value for k in slot.keys):
            slot.acknowledge(value)
        else:
            lane.unexpected.append(f"PATCH config-vars: {answer.status_code} {answer.text}")
    elif choice < 0.75 or not lane.live_tokens():
        answer = api.post(
            "/oauth/authorizations",
            json={"description": f"crash lane {lane.number}", "scope": ["identity"]},
        )
        if answer.status_code == 201:
            body = answer.json()
            lane.tokens.append(CreatedToken(body["id"], body["access_token"]["token"]))
        else:
            lane.unexpected.append(f"POST authorizations: {answer.status_code} {answer.text}")
    else:
        token = rng.choice(lane.live_tokens())
        token.state = TokenState.REVOKING  # until the answer comes, it may go either way
        answer = api.delete(f"/oauth/authorizations/{token.id}")
        if answer.status_code == 200:
            token.state = TokenState.REVOKED
        else:
            lane.unexpected.append(f"DELETE authorization: {answer.status_code} {answer.text}")
    lane.acknowledged += 1


def _traffic(server: ServerProcess, key: str, lane: Lane, seed: int) -> None:
    """A lane's requests until the server dies under it (or its bounded budget runs out)."""
    rng = random.Random(seed)
    with server.client(key) as api:
        for _ in range(MAX_OPS_PER_ROUND):
            try:
                _send(lane, api, rng)
            except httpx.TransportError:
                lane.interrupted += 1  # the kill cut this request off: outcome unknown
                return


def _wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.005)


def _check_at_rest(database: Path) -> None:
    """The database file as the crash left it: SQLite's own consistency checks pass."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    db.close()


def _releases(database: Path) -> dict[str, list[int]]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT apps.name, releases.version"
            " FROM releases JOIN apps ON apps.id = releases.app_id"
        ).fetchall()
    db.close()
    versions: dict[str, list[int]] = {}
    for app, version in rows:
        versions.setdefault(app, []).append(version)
    return versions


def _check_survivors(
    server: ServerProcess, key: str, lanes: list[Lane], apps: list[str], database: Path
) -> list[str]:
    """Everything the restarted server must still show; the problems found."""
    problems: list[str] = []
    with server.client(key) as api:
        answers = {app: api.get(f"/apps/{app}/config-vars") for app in apps}
    assert {answer.status_code for answer in answers.values()} == {200}
    configs = {app: answer.json() for app, answer in answers.items()}
    for lane in lanes:
        for slot in lane.slots:
            problems.append(slot.observe(configs[slot.app]) or "")

    tokens = [token for lane in lanes for token in lane.tokens]
    with server.client() as api:

        def status_of(token: CreatedToken) -> int:
            bearer = {"Authorization": f"Bearer {token.plaintext}"}
            return api.get("/account", headers=bearer).status_code

        with ThreadPoolExecutor(max_workers=4) as pool:
            statuses = list(pool.map(status_of, tokens))
    for token, status in zip(tokens, statuses, strict=True):
        problems.append(token.observe(status) or "")

    releases = _releases(database)
    for app in apps:
        versions = sorted(releases.get(app, []))
        if versions != list(range(1, len(versions) + 1)):
            problems.append(f"{app}: release versions not unique and consecutive: {versions}")
        low, high = release_bounds(lanes, app)
        if not low <= len(versions) <= high:
            problems.append(f"{app}: {len(versions)} releases for {low}..{high} writes")
    return [problem for problem in problems if problem]


def _crash_under_load(
    server: ServerProcess, key: str, lanes: list[Lane], rng: random.Random
) -> None:
    """Start every lane's traffic, SIGKILL the server's group mid-way, wait for the lanes."""
    processes = group_of(server)
    assert len(processes) >= 1 + 2, f"master and two workers expected: {processes}"
    kill_after = rng.randint(*KILL_AFTER)
    for lane in lanes:
        lane.acknowledged = 0
    threads = [
        threading.Thread(target=_traffic, args=(server, key, lane, rng.getrandbits(32)))
        for lane in lanes
    ]
    for thread in threads:
        thread.start()

    def killing_time() -> bool:
        if not all(thread.is_alive() for thread in threads):
            pytest.fail("a client stopped before the kill")
        return sum(lane.acknowledged for lane in lanes) >= kill_after

    _wait_for(killing_time, timeout=60, what=f"{kill_after} acknowledged requests")
    killed = kill_server(server)
    assert set(processes) <= set(killed)
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive()


def test_acknowledged_writes_survive_kill_9_of_every_process(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_in_own_group(data_dir, workers=2, settings=SETTINGS)
    database = data_dir / "ostiary.db"
    try:
        factory = Factory(data_dir)
        key = factory.account("crash").api_key
        factory.close()
        with server.client(key) as api:
            apps = [api.post("/apps").json()["name"] for _ in range(APPS)]
        lanes = [
            Lane(n, [ConfigSlot(app, (f"L{n}_A", f"L{n}_B")) for app in apps]) for n in range(LANES)
        ]
        for round_number in range(ROUNDS):
            _crash_under_load(server, key, lanes, random.Random(round_number))
            _check_at_rest(database)

            server = start_in_own_group(data_dir, workers=2, settings=SETTINGS)
            problems = _check_survivors(server, key, lanes, apps, database)
            unexpected = [answer for lane in lanes for answer in lane.unexpected]
            assert not unexpected, unexpected[:10]
            assert not problems, f"after kill {round_number + 1}: {problems[:20]}"
        # The kills landed mid-request, and every kind of request was acknowledged.
        assert sum(lane.interrupted for lane in lanes) > 0
        slots = [slot for lane in lanes for slot in lane.slots]
        assert sum(len(slot.committed) for slot in slots) > 0
        tokens = [token for lane in lanes for token in lane.tokens]
        assert {token.state for token in tokens} >= {TokenState.LIVE, TokenState.REVOKED}
    finally:
        if server.process is not None and server.process.poll() is None:
            kill_server(server)
