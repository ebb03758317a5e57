"""Bar charts drawn by the server as SVG: no script, no chart library, numbers always shown.

Each chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` (the same figures as
words), horizontal bars (they fit a phone), the value written at the end of each bar, and an
optional goal line.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH = 360
LABEL_WIDTH = 120
BAR_HEIGHT = 18
ROW_HEIGHT = 26
TOP = 8
VALUE_ROOM = 64
INSIDE_FROM = 0.55  # of the span: longer bars carry their value inside, in white


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    text: str  # the value as shown ("42 s", "87 %", "—")
    passes: bool | None = None  # against the goal: styled as met / not met


def _short(label: str, limit: int = 18) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    description: str,
    maximum: float | None = None,
    goal: float | None = None,
    goal_text: str = "",
) -> SafeString:
    values = [b.value for b in bars if b.value is not None]
    top = max([maximum or 0, *(values or [0]), goal or 0]) or 1
    span = WIDTH - LABEL_WIDTH - VALUE_ROOM
    height = TOP + ROW_HEIGHT * max(len(bars), 1) + (22 if goal is not None else 6)
    rows = []
    for index, bar in enumerate(bars):
        y = TOP + index * ROW_HEIGHT
        length = 0 if bar.value is None else max(1.0, span * bar.value / top)
        state = "" if bar.passes is None else (" met" if bar.passes else " missed")
        inside = length > span * INSIDE_FROM
        value_x = LABEL_WIDTH + length - 4 if inside else LABEL_WIDTH + length + 4
        rows.append(
            format_html(
                '<g class="bar{}"><title>{}: {}</title>'
                '<text class="label" x="{}" y="{}" text-anchor="end">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="{}" rx="2"></rect>'
                '<text class="value{}" x="{}" y="{}" text-anchor="{}">{}</text></g>',
                state,
                bar.label,
                bar.text,
                LABEL_WIDTH - 6,
                y + 13,
                _short(bar.label),
                LABEL_WIDTH,
                y,
                f"{length:.1f}",
                BAR_HEIGHT,
                " inside" if inside else "",
                f"{value_x:.1f}",
                y + 13,
                "end" if inside else "start",
                bar.text,
            )
        )
    goal_mark = SafeString("")
    if goal is not None:
        x = LABEL_WIDTH + span * goal / top
        bottom = TOP + ROW_HEIGHT * len(bars)
        goal_mark = format_html(
            '<g class="goal"><line x1="{}" y1="{}" x2="{}" y2="{}"></line>'
            '<text x="{}" y="{}" text-anchor="middle">{}</text></g>',
            f"{x:.1f}",
            TOP - 4,
            f"{x:.1f}",
            bottom,
            f"{x:.1f}",
            bottom + 14,
            goal_text,
        )
    return format_html(
        '<svg class="kpi-chart" viewBox="0 0 {} {}" width="100%" role="img" '
        'aria-labelledby="{}-t {}-d" data-testid="kpi-chart">'
        '<title id="{}-t">{}</title><desc id="{}-d">{}</desc>{}{}</svg>',  # goal under bars
        WIDTH,
        height,
        _slug(title),
        _slug(title),
        _slug(title),
        title,
        _slug(title),
        description,
        goal_mark,
        format_html_join("", "{}", ((row,) for row in rows)),
    )


def _slug(text: str) -> str:
    return f"chart-{zlib.crc32(text.encode()):08x}"
