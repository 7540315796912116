"""ostiary.db: the ids every table's rows get."""

from __future__ import annotations

import time
import uuid

from ostiary.db import new_id


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
