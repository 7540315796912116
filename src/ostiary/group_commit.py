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
(docs/architecture.md, "Hot paths after issue 13"). On SQLite a batch runs on the event loop,
once it holds the database's one writer role (a :class:`WriterRole`): taken at once when it is
free, and otherwise waited for without stopping the event loop, which goes on reading requests
that join the batch (docs/architecture.md, "Waiting for the writer without stopping the loop").

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
from typing import Any, Protocol, TypeVar

from ostiary.prepared import DirectTransaction

T = TypeVar("T")
Work = Callable[[DirectTransaction], Any]
Outcome = tuple[bool, Any]  # (True, result) or (False, exception)
Transaction = AbstractContextManager[DirectTransaction]

# How long a batch waits for the writer role on the event loop before it queues for it in the
# kernel as a plain write transaction does (blocking the loop, as every batch did before). The
# kernel hands a released lock to the writers queued there before a loop can try again, so a
# steady stream of such writers (sessions' write transactions, in any worker) would otherwise
# keep a batch waiting without bound. A batch usually waits a few milliseconds; past this one it
# costs what every batch cost before the loop could wait.
MAX_ROLE_WAIT = 0.1


class WriterRole(Protocol):
    """A database's one writer at a time (SQLite), as the group commit takes it."""

    def claim(self) -> Transaction | None:
        """A direct write transaction that holds the role, taken without waiting (it is given
        back when the transaction ends), or None while another writer holds it."""
        ...

    def when_free(self, loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
        """Call ``callback`` on ``loop`` once the role may be free again, without blocking."""
        ...


class _Batch:
    """One event loop's requests waiting for the writer, and whether a batch of it is being
    written (one at a time per loop: the next batch gathers meanwhile)."""

    __slots__ = ("busy", "pending", "waiting_since")

    def __init__(self) -> None:
        self.pending: list[tuple[Work, asyncio.Future[Any]]] = []
        self.busy = False
        self.waiting_since: float | None = None  # the loop's time the batch began to wait


class GroupCommit:
    """Commits the writes of the requests that wait together in one transaction.

    ``threaded``: the batches run on a writer thread of their own, so the event loop goes on
    while a batch waits for the database (PostgreSQL's round trips). Without it they run on the
    event loop, between two of its turns: SQLite answers in microseconds, and a writer thread
    would then wait for the interpreter lock after every statement (docs/architecture.md).
    ``role`` (SQLite's): a batch on the event loop first takes it, or waits for it on the loop.
    """

    def __init__(
        self,
        transaction: Callable[[], Transaction],
        *,
        threaded: bool = True,
        role: WriterRole | None = None,
    ) -> None:
        if role is not None and threaded:
            # A claimed role is held by the event loop's thread until its transaction ends.
            raise ValueError("a writer role is taken on the event loop: threaded must be False")
        self._transaction = transaction
        self._role = role
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
        """Write the waiting functions, on the writer thread or right here (on the event loop,
        holding the writer role when there is one, or waiting for it without blocking)."""
        claimed: Transaction | None = None
        waiting: list[tuple[Work, asyncio.Future[Any]]] | None = None
        try:
            if self._role is not None:
                claimed = self._role.claim()
                if claimed is None and not self._waited_too_long(loop, batch):
                    # The requests the loop reads meanwhile join this batch.
                    self._role.when_free(loop, lambda: self._write(loop, batch))
                    return
            batch.waiting_since = None
            waiting, batch.pending = batch.pending, []
            works = [work for work, _ in waiting]
            if self._writer is None:
                outcomes = self._commit(works, claimed)
            else:
                done = self._writer.submit(self._commit, works)
        except BaseException as error:
            # Whatever stopped the batch (an interrupt, a writer that was shut down), its
            # requests get the error, and the batch is not left busy for ever: every later
            # request of this loop would wait on it.
            if waiting is None:  # the role could not be asked for: every request gathered
                waiting, batch.pending = batch.pending, []
            self._answer(loop, batch, waiting, [(False, error)] * len(waiting))
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

    @staticmethod
    def _waited_too_long(loop: asyncio.AbstractEventLoop, batch: _Batch) -> bool:
        if batch.waiting_since is None:
            batch.waiting_since = loop.time()
        return loop.time() - batch.waiting_since > MAX_ROLE_WAIT

    def _commit(self, works: list[Work], claimed: Transaction | None = None) -> list[Outcome]:
        """Run ``works`` in one transaction (``claimed``, one that holds the writer role, or a
        new one); if it fails, each alone, in new transactions."""
        opened = claimed if claimed is not None else self._transaction()
        if len(works) == 1:
            return [self._alone(works[0], opened)]
        try:
            with opened as transaction:
                results = [work(transaction) for work in works]
        except Exception:  # noqa: S110 (rolled back, nothing written: each is retried alone)
            pass
        else:
            self.commits += 1
            return [(True, result) for result in results]
        return [self._alone(work) for work in works]

    def _alone(self, work: Work, opened: Transaction | None = None) -> Outcome:
        try:
            with opened if opened is not None else self._transaction() as transaction:
                result = work(transaction)
        except Exception as error:
            return (False, error)
        self.commits += 1
        return (True, result)
