"""The application counts usage with a request observer and flushes it as the first frequent
job; ``OSTIARY_USAGE_RECORDING=false`` turns both off (the benchmark's baseline)."""

from __future__ import annotations

from pathlib import Path

from ostiary.app import build_services, frequent_jobs
from ostiary.config import load_settings
from ostiary.periodic import default_jobs


def test_usage_is_observed_and_flushed_by_default(tmp_path: Path) -> None:
    services = build_services(load_settings(data_dir=tmp_path))
    assert services.usage is not None
    assert services.request_observers[0] == services.usage.buffer.observe
    assert [job.name for job in frequent_jobs(services)][:1] == ["usage flush"]


def test_recording_can_be_turned_off(tmp_path: Path) -> None:
    services = build_services(load_settings(data_dir=tmp_path, usage_recording=False))
    assert services.usage is None
    assert (
        len(services.request_observers)
        == len(build_services(load_settings(data_dir=tmp_path)).request_observers) - 1
    )
    assert "usage flush" not in [job.name for job in frequent_jobs(services)]


def test_old_usage_is_pruned_by_the_periodic_jobs() -> None:
    assert "prune usage" in [job.name for job in default_jobs()]
