"""Wake-ups for long polls: "something about this topic changed, read the database again".

A long poll (the heroku CLI's ``GET /auth/cli/callback/{id}``) listens on its topic while it
waits; whoever changes what it waits for (the approval of that login) publishes the topic after
its transaction commits. The database stays the truth: a wake-up only says when to re-read, and
a listener re-reads anyway after its fallback interval, so a lost wake-up delays an answer but
never changes it.

:class:`Wakeups` reaches listeners in this process only; :class:`RedisWakeups` also
publishes on a Redis channel that every worker and node subscribes to, so an approval on one
node answers the long poll held by another at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from ostiary.shared_state import SharedState, SharedStateUnavailable

logger = logging.getLogger("ostiary.wakeups")

RESUBSCRIBE_SECONDS = 1.0
READY_SECONDS = 0.25
SUBSCRIBER_TIMEOUT = 30.0


class Wakeup:
    """One listener's flag, set by a publication of its topic."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._loop = asyncio.get_running_loop()

    def set(self) -> None:
        """Wake the listener (from any thread)."""
        self._loop.call_soon_threadsafe(self._event.set)

    async def wait(self, timeout: float) -> bool:
        """Wait until woken or ``timeout`` seconds pass; True when woken."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            return False
        self._event.clear()
        return True


class Wakeups:
    """Wake-ups within this process (:class:`RedisWakeups` reaches every node)."""

    def __init__(self) -> None:
        self._listeners: dict[str, set[Wakeup]] = {}

    async def start(self) -> None:
        """Begin receiving publications (nothing to do in one process)."""

    async def close(self) -> None:
        """Stop receiving publications."""

    @contextlib.asynccontextmanager
    async def listening(self, topic: str) -> AsyncIterator[Wakeup]:
        """A flag set whenever ``topic`` is published, while the block runs. Listen before
        reading the database, so a publication between the read and the wait is not missed."""
        wakeup = Wakeup()
        self._listeners.setdefault(topic, set()).add(wakeup)
        try:
            yield wakeup
        finally:
            listeners = self._listeners.get(topic)
            if listeners is not None:
                listeners.discard(wakeup)
                if not listeners:
                    del self._listeners[topic]

    def publish(self, topic: str) -> None:
        """Wake this process's listeners of ``topic`` (call after the change is committed)."""
        self._wake(topic)

    def _wake(self, topic: str) -> None:
        for wakeup in tuple(self._listeners.get(topic, ())):
            wakeup.set()


class RedisWakeups(Wakeups):
    """Wake-ups across workers and nodes through one Redis pub/sub channel."""

    def __init__(self, shared: SharedState) -> None:
        # Imported here, at startup: a server without OSTIARY_REDIS_URL never loads redis-py.
        import redis.asyncio

        super().__init__()
        self._redis = redis.asyncio
        self._shared = shared
        self._channel = shared.key("wakeups")
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def start(self) -> None:
        """Subscribe in the background (reconnecting whenever Redis comes back)."""
        if self._task is None:
            self._task = asyncio.create_task(self._receive(), name="ostiary-wakeups")

    async def close(self) -> None:
        """Unsubscribe and stop the background task."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

    @contextlib.asynccontextmanager
    async def listening(self, topic: str) -> AsyncIterator[Wakeup]:
        """As :meth:`Wakeups.listening`; waits briefly for the subscription to be live."""
        if not self._subscribed.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._subscribed.wait(), READY_SECONDS)
        async with super().listening(topic) as wakeup:
            yield wakeup

    def publish(self, topic: str) -> None:
        """Wake the listeners of ``topic`` here and, through Redis, on every other node."""
        self._wake(topic)
        with contextlib.suppress(SharedStateUnavailable):  # the fallback re-read answers
            self._shared.call("wakeups", lambda client: client.publish(self._channel, topic))

    async def _receive(self) -> None:
        while True:
            # A read timeout longer than the wait for a message: a link that died without a
            # reset is found at the next health-check PING instead of never.
            client = self._redis.Redis.from_url(
                self._shared.url,
                socket_connect_timeout=1.0,
                socket_timeout=SUBSCRIBER_TIMEOUT,
                health_check_interval=10,
            )
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(self._channel)
                    self._subscribed.set()
                    while True:
                        message = await pubsub.get_message(
                            ignore_subscribe_messages=True, timeout=5.0
                        )
                        if message is not None and message["type"] == "message":
                            self._wake(message["data"].decode(errors="replace"))
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if self._subscribed.is_set():
                    logger.warning(
                        "wake-ups lost their Redis subscription (%s): long polls re-read the "
                        "database until it is back",
                        type(error).__name__,
                    )
                self._subscribed.clear()
            finally:
                with contextlib.suppress(Exception):
                    await client.aclose()
            await asyncio.sleep(RESUBSCRIBE_SECONDS)
