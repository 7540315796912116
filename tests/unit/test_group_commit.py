"""Group commit (ostiary.group_commit) on a real SQLite file: requests waiting together share one
commit, each is answered only once its rows are committed, and a failure in a batch fails only
its own request, with nothing of it written."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from sqlalchemy import bindparam, select

from ostiary import group_commit
from ostiary.db import Database, table_of
from ostiary.events import INSERT_EVENT, SYSTEM, Event, event_row
from ostiary.group_commit import GroupCommit
from ostiary.prepared import DirectTransaction
from tests.support.own_loop import run_in_own_loop
from tests.support.writer_holder import WriterHolder

_events = table_of(Event)
_BY_ACTION = select(_events.c.id).where(_events.c.action == bindparam("action"))


@pytest.fixture(params=[True, False], ids=["writer-thread", "event-loop"])
def threaded(request: pytest.FixtureRequest) -> bool:
    """Both ways a batch runs: on a writer thread (PostgreSQL), on the event loop (SQLite)."""
    return bool(request.param)


def _insert(action: str) -> Callable[[DirectTransaction], str]:
    """A request's writes: one event row (the same row however often it runs)."""
    row = event_row(SYSTEM, action, actor_id=None)

    def write(transaction: DirectTransaction) -> str:
        transaction.execute(INSERT_EVENT, **row)
        return action

    return write


def _stored(database: Database, action: str) -> bool:
    return database.prepared(_BY_ACTION).first(action=action) is not None


def test_requests_waiting_together_share_one_commit(database: Database, threaded: bool) -> None:
    commit = GroupCommit(database.direct_write, threaded=threaded)

    async def requests() -> list[str]:
        return list(await asyncio.gather(*(commit.run(_insert(f"test:{n}")) for n in range(8))))

    assert run_in_own_loop(requests) == [f"test:{n}" for n in range(8)]
    assert commit.commits == 1
    assert all(_stored(database, f"test:{n}") for n in range(8))


def test_a_request_is_answered_only_after_its_rows_are_committed(
    database: Database, threaded: bool
) -> None:
    commit = GroupCommit(database.direct_write, threaded=threaded)
    seen_by_another_connection: list[bool] = []

    async def request(action: str) -> None:
        await commit.run(_insert(action))
        # The lookup runs on its own autocommit connection: it sees committed rows only.
        seen_by_another_connection.append(_stored(database, action))

    async def requests() -> None:
        await asyncio.gather(request("test:a"), request("test:b"), request("test:c"))
        await request("test:alone")

    run_in_own_loop(requests)
    assert seen_by_another_connection == [True, True, True, True]


def test_a_failure_in_a_batch_fails_only_its_own_request(
    database: Database, threaded: bool
) -> None:
    commit = GroupCommit(database.direct_write, threaded=threaded)

    def fail_after_inserting(transaction: DirectTransaction) -> str:
        _insert("test:failed")(transaction)
        raise RuntimeError("this request's write failed")

    async def requests() -> list[object]:
        return list(
            await asyncio.gather(
                commit.run(_insert("test:before")),
                commit.run(fail_after_inserting),
                commit.run(_insert("test:after")),
                return_exceptions=True,
            )
        )

    before, failed, after = run_in_own_loop(requests)
    assert (before, after) == ("test:before", "test:after")
    assert isinstance(failed, RuntimeError)
    assert _stored(database, "test:before")
    assert _stored(database, "test:after")
    assert not _stored(database, "test:failed")  # nothing half-written


def test_a_constraint_broken_by_one_request_leaves_the_others_committed(
    database: Database, threaded: bool
) -> None:
    commit = GroupCommit(database.direct_write, threaded=threaded)
    duplicate = _insert("test:twice")  # the same event id: the second insert breaks the key

    async def requests() -> list[object]:
        return list(
            await asyncio.gather(
                commit.run(duplicate),
                commit.run(_insert("test:other")),
                commit.run(duplicate),
                return_exceptions=True,
            )
        )

    first, other, second = run_in_own_loop(requests)
    assert (first, other) == ("test:twice", "test:other")
    assert isinstance(second, database.engine.dialect.loaded_dbapi.IntegrityError)
    assert _stored(database, "test:other")
    with database.direct_write() as transaction:
        assert len(transaction.rows(_BY_ACTION, action="test:twice")) == 1


def test_a_failed_commit_is_retried_for_each_request_alone(
    database: Database, threaded: bool
) -> None:
    """The batch's COMMIT fails (a full disk, say): nothing of it stays, and each request is
    written in a transaction of its own."""
    calls = 0

    @contextmanager
    def failing_first_commit() -> Iterator[DirectTransaction]:
        nonlocal calls
        calls += 1
        with database.direct_write() as transaction:
            yield transaction
            if calls == 1:
                raise OSError("disk full")  # before COMMIT: the transaction rolls back

    transaction: Callable[[], AbstractContextManager[DirectTransaction]] = failing_first_commit
    commit = GroupCommit(transaction, threaded=threaded)

    async def requests() -> list[str]:
        return list(
            await asyncio.gather(commit.run(_insert("test:x")), commit.run(_insert("test:y")))
        )

    assert run_in_own_loop(requests) == ["test:x", "test:y"]
    assert calls == 3  # the batch, then each alone
    assert commit.commits == 2
    assert _stored(database, "test:x")
    assert _stored(database, "test:y")


def test_what_arrives_while_a_batch_is_written_forms_the_next_batch(
    database: Database, threaded: bool
) -> None:
    commit = GroupCommit(database.direct_write, threaded=threaded)

    async def requests() -> None:
        first = asyncio.ensure_future(commit.run(_insert("test:first")))
        await asyncio.sleep(0)  # the first batch (one request) goes to the writer
        later = [asyncio.ensure_future(commit.run(_insert(f"test:later-{n}"))) for n in range(5)]
        await asyncio.gather(first, *later)

    run_in_own_loop(requests)
    assert commit.commits == 2


def test_a_writer_that_cannot_take_the_batch_fails_it_without_hanging_the_next(
    database: Database,
) -> None:
    commit = GroupCommit(database.direct_write, threaded=True)
    assert commit._writer is not None
    commit._writer.shutdown()  # submit() now raises, as after an interpreter shutdown began

    async def requests() -> tuple[list[object], bool]:
        first = await asyncio.gather(commit.run(_insert("test:a")), return_exceptions=True)
        # The batch is not left busy: a later request is answered too, not queued for ever.
        later = await asyncio.wait_for(
            asyncio.gather(commit.run(_insert("test:b")), return_exceptions=True), 5
        )
        return [*first, *later], _stored(database, "test:a")

    outcomes, stored = run_in_own_loop(requests)
    assert all(isinstance(outcome, RuntimeError) for outcome in outcomes)
    assert not stored


def test_a_batch_waits_for_another_workers_writer_without_stopping_the_event_loop(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(group_commit, "MAX_ROLE_WAIT", 30.0)  # this holder lets go after 1 s
    commit = database.group_commit  # SQLite's: on the event loop, with the writer role
    holder = WriterHolder(tmp_path / "ostiary.db")
    # From another thread: a loop stopped in the lock would still be let go, a second late.
    release = threading.Timer(1.0, holder.release)

    async def requests() -> tuple[float, bool, int, list[str]]:
        loop = asyncio.get_running_loop()
        release.start()
        first = [asyncio.ensure_future(commit.run(_insert(f"test:first:{n}"))) for n in range(3)]
        ticks = [loop.time()]
        for _ in range(10):
            await asyncio.sleep(0.01)
            ticks.append(loop.time())
        waited = not any(request.done() for request in first)
        later = [asyncio.ensure_future(commit.run(_insert(f"test:later:{n}"))) for n in range(3)]
        await asyncio.sleep(0.01)
        before = commit.commits
        answers = await asyncio.wait_for(asyncio.gather(*first, *later), 10)
        longest_gap = max(b - a for a, b in itertools.pairwise(ticks))
        return longest_gap, waited, commit.commits - before, list(answers)

    try:
        longest_gap, waited, commits, answers = run_in_own_loop(requests)
    finally:
        release.join()
        holder.stop()
    assert longest_gap < 0.5  # the loop kept turning while the batch waited
    assert waited
    assert commits == 1  # the requests that came while it waited joined the batch
    assert answers == [f"test:first:{n}" for n in range(3)] + [f"test:later:{n}" for n in range(3)]
    assert all(_stored(database, action) for action in answers)


def test_a_batch_that_waited_too_long_for_the_role_waits_as_a_plain_write_does(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(group_commit, "MAX_ROLE_WAIT", 0.05)
    commit = database.group_commit
    holder = WriterHolder(tmp_path / "ostiary.db")
    # Past the deadline the event loop blocks in the lock, so the release comes from a timer.
    release = threading.Timer(0.8, holder.release)

    async def request() -> tuple[str, float]:
        loop = asyncio.get_running_loop()
        ticks: list[float] = []

        async def tick() -> None:
            while True:
                ticks.append(loop.time())
                await asyncio.sleep(0.01)

        ticker = asyncio.ensure_future(tick())
        await asyncio.sleep(0)
        release.start()
        answer = await commit.run(_insert("test:patient"))
        ticks.append(loop.time())
        ticker.cancel()
        return answer, max(later - earlier for earlier, later in itertools.pairwise(ticks))

    try:
        answer, longest_gap = run_in_own_loop(request)
    finally:
        release.join()
        holder.stop()
    assert answer == "test:patient"
    assert _stored(database, "test:patient")
    assert longest_gap > 0.4  # the loop was blocked in the lock, not waiting on the pipe


def test_a_writer_role_is_only_taken_on_the_event_loop(database: Database) -> None:
    role = database.group_commit._role
    assert role is not None  # SQLite's
    with pytest.raises(ValueError, match="threaded"):
        GroupCommit(database.direct_write, threaded=True, role=role)
