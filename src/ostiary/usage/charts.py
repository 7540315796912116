"""Charts drawn on the server as SVG (the dashboard runs no script; its CSP allows none): a
credential's requests per hour, and its status mix.

Only presentation attributes, no ``style``: the pages' CSP refuses inline styles. Each chart
has a ``viewBox`` and ``width="100%"`` so it scales to a phone's width, labelled axes, and a
text alternative (``role="img"``, ``<title>``). Every text drawn is a number, a date or a fixed
word, escaped all the same.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta

from markupsafe import Markup, escape

# Drawn small and scaled up rather than large and scaled down, so that its text stays
# readable on a phone (16 units are about 10 px there, 20 px on a desktop).
WIDTH, HEIGHT = 540, 300
LEFT, RIGHT, TOP, BOTTOM = 58, 8, 14, 56
FONT_SIZE = 16
LEGEND_COLUMNS = 3
BAR = "#5b4fc4"
AXIS = "#6b6a80"
GRID = "#e3e1ef"
STATUS_COLOURS = {
    "1xx": "#8a89a6",
    "2xx": "#2f855a",
    "3xx": "#3182ce",
    "4xx": "#c05621",
    "5xx": "#c53030",
}


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2 and 5 times a power of ten that is at least ``value`` (and 1)."""
    if value <= 1:
        return 1
    power = int(10 ** math.floor(math.log10(value)))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def hourly_chart(per_hour: Mapping[datetime, int], since: datetime, until: datetime) -> Markup:
    """Requests per hour from ``since`` to ``until`` (whole hours, UTC) as bars."""
    hours = max(1, int((until - since) / timedelta(hours=1)))
    counts = [per_hour.get(since + timedelta(hours=n), 0) for n in range(hours)]
    top = nice_ceiling(max(counts, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / hours
    total = sum(counts)
    label = (
        f"Requests per hour, {since:%Y-%m-%d} to {until:%Y-%m-%d} UTC: {total} in all, "
        f"at most {max(counts, default=0)} in an hour"
    )
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'preserveAspectRatio="xMidYMid meet" aria-label="{escape(label)}" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="{FONT_SIZE}">',
        f"<title>{escape(label)}</title>",
    ]
    for fraction in (0, 0.5, 1):
        y = TOP + plot_h * (1 - fraction)
        value = top * fraction
        text = f"{value:g}"
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{AXIS}">'
            f"{escape(text)}</text>"
        )
    for n, count in enumerate(counts):
        if not count:
            continue
        height = plot_h * count / top
        x = LEFT + n * step
        hour = since + timedelta(hours=n)
        parts.append(
            f'<rect x="{x:.2f}" y="{TOP + plot_h - height:.2f}" width="{max(step - 0.6, 0.6):.2f}" '
            f'height="{height:.2f}" fill="{BAR}">'
            f"<title>{hour:%b %d %H:00} UTC: {count}</title></rect>"
        )
    for n in range(hours + 1):
        moment = since + timedelta(hours=n)
        if moment.hour != 0 or n == hours:
            continue
        x = LEFT + n * step
        parts.append(
            f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{TOP + plot_h + 4}" stroke="{GRID}"/>'
            f'<text x="{x + 2:.1f}" y="{TOP + plot_h + 20}" fill="{AXIS}" font-size="13">'
            f"{moment:%b %d}</text>"
        )
    parts.append(
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
        f'stroke="{AXIS}"/>'
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="{AXIS}"/>'
        f'<text x="{LEFT + plot_w / 2:.0f}" y="{HEIGHT - 6}" text-anchor="middle" '
        f'fill="{AXIS}">Day (UTC)</text>'
        f'<text x="16" y="{TOP + plot_h / 2:.0f}" text-anchor="middle" fill="{AXIS}" '
        f'transform="rotate(-90 16 {TOP + plot_h / 2:.0f})">Requests per hour</text>'
        "</svg>"
    )
    return Markup("".join(parts))  # noqa: S704 - every value above is a number, a date or escaped


def status_bar(mix: Mapping[str, int]) -> Markup:
    """The status classes' shares of the requests as one stacked bar with a legend."""
    total = sum(mix.values())
    rows = max(1, math.ceil(len(mix) / LEGEND_COLUMNS))
    label = ", ".join(f"{cls}: {count}" for cls, count in mix.items()) or "no requests"
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {28 + 26 * rows}" width="100%" '
        f'aria-label="Status mix: {escape(label)}" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="sans-serif" font-size="{FONT_SIZE}">',
        f"<title>Status mix: {escape(label)}</title>",
    ]
    x = 0.0
    for index, (cls, count) in enumerate(mix.items()):
        legend_x = (index % LEGEND_COLUMNS) * (WIDTH // LEGEND_COLUMNS)
        legend_y = 32 + 26 * (index // LEGEND_COLUMNS)
        colour = STATUS_COLOURS.get(cls, AXIS)
        if total:
            width = WIDTH * count / total
            parts.append(
                f'<rect x="{x:.2f}" y="0" width="{width:.2f}" height="22" fill="{colour}">'
                f"<title>{escape(cls)}: {count}</title></rect>"
            )
            x += width
        parts.append(
            f'<rect x="{legend_x}" y="{legend_y}" width="14" height="14" fill="{colour}"/>'
            f'<text x="{legend_x + 19}" y="{legend_y + 13}" fill="#33324a">{escape(cls)} {count} '
            f"({100 * count / total if total else 0:.0f}%)</text>"
        )
    if not total:
        parts.append(f'<rect x="0" y="0" width="{WIDTH}" height="22" fill="{GRID}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - numbers and escaped class names only
