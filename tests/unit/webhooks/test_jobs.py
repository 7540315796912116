"""The sending runs apart from the monitoring: a delivery job stuck on a slow receiver never
holds up the usage flush or the sealing of the activity log (``app.lifespan``)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from fastapi import FastAPI

from ostiary import app as app_module
from ostiary.activity.services import RUN_SECONDS
from ostiary.config import load_settings
from ostiary.migrate import upgrade
from ostiary.web.context import Services
from tests.support.own_loop import run_in_own_loop


def _services(tmp_path: Path, **settings: object) -> Services:
    upgrade(f"sqlite:///{tmp_path / 'ostiary.db'}")
    return app_module.build_services(
        load_settings(
            data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'ostiary.db'}", **settings
        )
    )


def test_the_flush_the_sealing_and_the_sending_run_apart(tmp_path: Path) -> None:
    # A long sealing run (a backlog under load) must not hold up the flush and its alerts.
    services = _services(tmp_path, smtp_url="smtp://127.0.0.1:2525")
    assert [job.name for job in app_module.frequent_jobs(services)] == ["usage flush"]
    assert [job.name for job in app_module.sealing_jobs(services)] == ["seal events"]
    assert [job.name for job in app_module.delivery_jobs(services)] == [
        "webhook deliveries",
        "mail outbox",
    ]


def test_a_stuck_delivery_job_does_not_stop_the_sealing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    released = threading.Event()
    sending = threading.Event()
    sealed: list[int] = []

    def stuck(database: object, settings: object) -> None:
        sending.set()
        released.wait(20)  # a receiver trickling its headers, as if for ever

    def seal(database: object, key: object, subscribers: object, **options: object) -> None:
        sealed.append(1)

    monkeypatch.setattr(app_module, "send_deliveries", stuck)
    monkeypatch.setattr(app_module, "seal_events", seal)
    services = _services(tmp_path, usage_flush_seconds=0.1)
    app = FastAPI()
    app.state.services = services

    async def serve() -> None:
        async with app_module.lifespan(app):
            for _ in range(100):
                await asyncio.sleep(0.05)
                if sending.is_set() and len(sealed) >= 5:
                    break
            assert sending.is_set()
            before = len(sealed)
            await asyncio.sleep(0.5)
            assert len(sealed) > before  # still sealing while the delivery job is stuck
            released.set()

    try:
        run_in_own_loop(serve)
    finally:
        released.set()


def test_a_stop_ends_the_sealing_under_way_and_seals_once_more_briefly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[tuple[float, threading.Event | None]] = []

    def seal(
        database: object,
        key: object,
        subscribers: object,
        *,
        run_seconds: float,
        stop: threading.Event | None = None,
    ) -> int:
        runs.append((run_seconds, stop))
        return 0

    monkeypatch.setattr(app_module, "seal_events", seal)
    app = FastAPI()
    app.state.services = _services(tmp_path, usage_flush_seconds=0.1)

    async def serve() -> None:
        async with app_module.lifespan(app):
            for _ in range(100):
                await asyncio.sleep(0.05)
                if runs:
                    break

    run_in_own_loop(serve)
    running, stopping = runs[0], runs[-1]
    assert running[0] == RUN_SECONDS
    assert running[1] is not None
    assert running[1].is_set()  # a run still under way would have ended after its batch
    assert stopping[0] == app_module.STOP_SEALING_SECONDS
