"""The server-drawn charts: one bar per hour with requests, labelled axes, a text alternative,
a viewBox to scale by, and no inline style (the pages' CSP refuses it)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from ostiary.usage.charts import hourly_chart, nice_ceiling, status_bar

SINCE = datetime(2026, 11, 24, 13, tzinfo=UTC)
UNTIL = SINCE + timedelta(days=7)


def test_the_scale_rounds_up_to_one_two_or_five() -> None:
    assert [nice_ceiling(v) for v in (0, 1, 2, 3, 7, 10, 11, 180, 501)] == [
        1,
        1,
        2,
        5,
        10,
        10,
        20,
        200,
        1000,
    ]


def test_the_hourly_chart_draws_each_busy_hour_with_labelled_axes() -> None:
    chart = hourly_chart({SINCE: 3, SINCE + timedelta(hours=30): 7}, SINCE, UNTIL)
    assert chart.count("<rect") == 2
    assert 'viewBox="0 0 540 300"' in chart
    assert 'width="100%"' in chart
    assert "Requests per hour" in chart
    assert "Day (UTC)" in chart
    assert 'role="img"' in chart
    assert "10 in all, at most 7 in an hour" in chart
    assert len(re.findall(r">Nov 2[5-9]<|>Nov 30<|>Dec 01<", chart)) == 7  # each midnight
    assert "style=" not in chart


def test_the_status_bar_shares() -> None:
    bar = status_bar({"2xx": 3, "4xx": 1})
    assert "2xx 3 (75%)" in bar
    assert "4xx 1 (25%)" in bar
    assert "style=" not in bar
    assert "no requests" in status_bar({})
