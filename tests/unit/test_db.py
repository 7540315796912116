"""ostiary.db: the ids every table's rows get, and SQLite's one writer at a time."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from pathlib import Path

import pytest

from ostiary import db
from ostiary.db import WriterLock, new_id
from tests.support.own_loop import run_in_own_loop
from tests.support.writer_holder import WriterHolder


def test_new_ids_are_version_7_uuids_carrying_the_time_in_milliseconds() -> None:
    before = time.time_ns() // 1_000_000
    text = new_id()
    made = uuid.UUID(text)
    after = time.time_ns() // 1_000_000
    assert made.version == 7
    assert made.variant == uuid.RFC_4122
    assert before <= made.int >> 80 <= after
    assert str(made) == text  # the canonical form: lower-case hex, 8-4-4-4-12


def test_ids_of_later_milliseconds_sort_after_and_none_repeat() -> None:
    first = new_id()
    time.sleep(0.002)
    later = [new_id() for _ in range(10_000)]
    assert all(first < other for other in later)  # text order is time order across moments
    assert len(set(later)) == len(later)


def _seconds_until_woken(lock: WriterLock) -> float:
    """How long after asking a waiting event loop is called back by ``lock.when_free``."""

    async def wait_for_the_role() -> float:
        loop = asyncio.get_running_loop()
        woken: asyncio.Future[float] = loop.create_future()
        asked_at = loop.time()
        lock.when_free(loop, lambda: woken.set_result(loop.time()))
        return await asyncio.wait_for(woken, 10) - asked_at

    return run_in_own_loop(wait_for_the_role)


@pytest.fixture
def database_path(tmp_path: Path) -> Path:
    return tmp_path / "ostiary.db"


def test_the_writer_role_is_taken_without_waiting_only_when_nobody_holds_it(
    database_path: Path,
) -> None:
    lock = WriterLock(str(database_path))
    holder = WriterHolder(database_path)
    try:
        assert not lock.try_acquire()  # another process has it
        holder.release()
        assert lock.try_acquire()
        taken_elsewhere: list[bool] = []
        other = threading.Thread(target=lambda: taken_elsewhere.append(lock.try_acquire()))
        other.start()
        other.join()
        assert taken_elsewhere == [False]  # another thread of this process has it
        lock.release()
        assert lock.try_acquire()
        lock.release()
    finally:
        holder.stop()


def test_a_release_in_another_process_wakes_the_loop_waiting_for_the_role(
    database_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the named pipe's wake-up the callback would come only after this fallback.
    monkeypatch.setattr(db, "WAKE_FALLBACK", 60.0)
    lock = WriterLock(str(database_path))
    holder = WriterHolder(database_path)

    async def wait_for_the_role() -> tuple[bool, float]:
        loop = asyncio.get_running_loop()
        woken: asyncio.Future[float] = loop.create_future()
        lock.when_free(loop, lambda: woken.set_result(loop.time()))
        await asyncio.sleep(0.05)
        still_waiting = not woken.done()
        released_at = loop.time()
        await loop.run_in_executor(None, holder.release)
        return still_waiting, await asyncio.wait_for(woken, 10) - released_at

    try:
        still_waiting, woken_after = run_in_own_loop(wait_for_the_role)
    finally:
        holder.stop()
    assert still_waiting
    assert woken_after < 5.0  # the release's byte, not the 60 s fallback
    assert lock.try_acquire()
    lock.release()


def test_without_named_pipes_a_waiting_loop_tries_again_after_the_fallback(
    database_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "_open_wake_pipe", lambda path: None)
    monkeypatch.setattr(db, "WAKE_FALLBACK", 0.05)
    lock = WriterLock(str(database_path))

    assert 0.04 <= _seconds_until_woken(lock) < 5.0


def test_a_regular_file_where_the_wake_pipe_goes_is_left_alone_and_waiters_poll(
    database_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wake = Path(f"{database_path}-writer-wake")
    wake.write_bytes(b"")  # restored by a tool that does not keep named pipes
    monkeypatch.setattr(db, "WAKE_FALLBACK", 0.05)
    lock = WriterLock(str(database_path))
    assert lock.try_acquire()
    lock.release()
    assert wake.read_bytes() == b""  # nothing written into it

    assert 0.04 <= _seconds_until_woken(lock) < 5.0


def test_one_writer_lock_per_database_and_process(database_path: Path) -> None:
    assert db.writer_lock(str(database_path)) is db.writer_lock(str(database_path))
    assert db.writer_lock(str(database_path)) is not db.writer_lock(f"{database_path}.other")
