"""Group commit: the direct write transactions of concurrent requests, committed together.

A worker answers requests on one event loop. A request that must write hands its writes (a
function of the :class:`~ostiary.prepared.DirectTransaction`) to :meth:`GroupCommit.run` and
waits. Once the requests ready in this turn of the loop have done the same, every waiting
function runs in one transaction, committed once; what arrives meanwhile forms the next batch.
A request is answered only after the commit that holds its rows: nothing is returned that is
not durable. On SQLite a batch waits for the writer lock and begins IMMEDIATE once instead of
once per request, and the pages its rows share (a table's last leaf, an index page) go to the
WAL once. On PostgreSQL a batch costs one COMMIT (one WAL flush) instead of one per request, and
it runs on a writer thread, so that its round trips no longer stop the event loop
(docs/architecture.md, "Hot paths after issue 13").

Nothing waits to fill a batch: a batch is whatever became ready while the previous one was
being written, a single request when the server is idle.

A failure does not spread. When a batch's transaction fails in any way (a function raised, an
INSERT broke a constraint, the COMMIT failed), the whole transaction is rolled back, so nothing of
it is written, and every function of the batch is run again alone, in a transaction of its own:
each request then gets its own result or its own error, exactly as without batching. The
functions must therefore write the same rows however often they run (what a rolled-back run
wrote is gone with it).
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from ostiary.prepared import DirectTransaction

T = TypeVar("T")
Work = Callable[[DirectTransaction], Any]
Outcome = tuple[bool, Any]  # (True, result) or (False, exception)


class _Batch:
    """One event loop's requests waiting for the writer, and whether a batch of it is being
    written (one at a time per loop: the next batch gathers meanwhile)."""

    __slots__ = ("busy", "pending")

    def __init__(self) -> None:
        self.pending: list[tuple[Work, asyncio.Future[Any]]] = []
        self.busy = False


class GroupCommit:
    """Commits the writes of the requests that wait together in one transaction.

    ``threaded``: the batches run on a writer thread of their own, so the event loop goes on
    while a batch waits for the database (PostgreSQL's round trips). Without it they run on the
    event loop, between two of its turns: SQLite answers in microseconds, and a writer thread
    would then wait for the interpreter lock after every statement (docs/architecture.md).
    """

    def __init__(
        self,
        transaction: Callable[[], AbstractContextManager[DirectTransaction]],
        *,
        threaded: bool = True,
    ) -> None:
        self._transaction = transaction
        self._writer = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="ostiary-writer")
            if threaded
            else None
        )
        # One batch per event loop: a test client's loop and a server's never share a batch.
        self._batches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Batch] = (
            weakref.WeakKeyDictionary()
        )
        self.commits = 0
        """Transactions committed (batches, and functions retried alone), for measuring; one
        thread counts (the writer, or the event loop's)."""

    async def run(self, work: Callable[[DirectTransaction], T]) -> T:
        """``work``'s result once the transaction it ran in is committed; or its exception
        (or the failed commit's), from a transaction of its own."""
        loop = asyncio.get_running_loop()
        batch = self._batches.get(loop)
        if batch is None:
            batch = self._batches[loop] = _Batch()
        future: asyncio.Future[T] = loop.create_future()
        batch.pending.append((work, future))
        if not batch.busy:
            batch.busy = True
            # After the callbacks already due in this turn of the loop: the other requests that
            # are ready now reach this point first and join the batch.
            loop.call_soon(self._write, loop, batch)
        return await future

    def _write(self, loop: asyncio.AbstractEventLoop, batch: _Batch) -> None:
        """Write the waiting functions, on the writer thread or right here (on the event loop)."""
        waiting, batch.pending = batch.pending, []
        works = [work for work, _ in waiting]
        try:
            if self._writer is None:
                outcomes = self._commit(works)
            else:
                done = self._writer.submit(self._commit, works)
        except BaseException as error:
            # Whatever stopped the batch (an interrupt, a writer that was shut down), its
            # requests get the error, and the batch is not left busy for ever: every later
            # request of this loop would wait on it.
            self._answer(loop, batch, waiting, [(False, error)] * len(works))
            if not isinstance(error, Exception):
                raise
            return
        if self._writer is None:
            self._answer(loop, batch, waiting, outcomes)
            return

        def answer(outcomes: Future[list[Outcome]]) -> None:
            error = outcomes.exception()
            results = [(False, error)] * len(works) if error is not None else outcomes.result()
            with contextlib.suppress(RuntimeError):  # the loop was closed meanwhile
                loop.call_soon_threadsafe(self._answer, loop, batch, waiting, results)

        done.add_done_callback(answer)

    def _answer(
        self,
        loop: asyncio.AbstractEventLoop,
        batch: _Batch,
        waiting: list[tuple[Work, asyncio.Future[Any]]],
        outcomes: list[Outcome],
    ) -> None:
        """Answer each waiting request, then write what gathered meanwhile (on the event loop)."""
        for (_, future), (succeeded, value) in zip(waiting, outcomes, strict=True):
            if future.done():  # the request was cancelled meanwhile
                continue
            if succeeded:
                future.set_result(value)
            else:
                future.set_exception(value)
        if batch.pending:
            self._write(loop, batch)
        else:
            batch.busy = False

    def _commit(self, works: list[Work]) -> list[Outcome]:
        """Run ``works`` in one transaction; if it fails, each alone."""
        if len(works) > 1:
            try:
                with self._transaction() as transaction:
                    results = [work(transaction) for work in works]
            except Exception:  # noqa: S110 (rolled back, nothing written: each is retried alone)
                pass
            else:
                self.commits += 1
                return [(True, result) for result in results]
        return [self._alone(work) for work in works]

    def _alone(self, work: Work) -> Outcome:
        try:
            with self._transaction() as transaction:
                result = work(transaction)
        except Exception as error:
            return (False, error)
        self.commits += 1
        return (True, result)
