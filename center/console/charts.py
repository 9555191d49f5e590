"""Charts drawn on the server as SVG (グラフ): horizontal bars for totals by category, lines for
counts over time. No chart service and no script: the console's page holds the SVG itself, so it
works on a closed network and under the console's Content-Security-Policy (colours are
presentation attributes, not style).

Each chart is an image with a name and a description (``role="img"``, its ``<title>`` named by
``aria-labelledby``, its ``<desc>`` by ``aria-describedby``), for a screen reader to announce; the
page puts the same
figures in a table beside it, which is what a screen reader reads in detail. Every text drawn
(labels, names, the title) is escaped. The scale starts at zero and ends at a round number
(1, 2 or 5 times a power of ten) at or above the largest value; with no data the axes are drawn
with a note instead of marks.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

from markupsafe import Markup

WIDTH = 720
FONT = 12  # px
CHAR = 7.2  # px: the width of a Latin character at FONT, for the labels' room (wide ones count 2)
BAR = 22  # px: a bar's thickness
BAR_GAP = 8
PLOT = 200.0  # px: a line chart's height for its values
MAX_LABEL = 28  # characters of a label drawn (the whole label is the mark's tooltip)
MARKED = 31  # a line of at most this many points marks each of them
INK, MUTED, GRID, ACCENT = "#1a1a1a", "#4a4a4a", "#c8c8c8", "#0b4f8a"
# at least 3:1 against white (WCAG's contrast for graphics); a dash pattern tells the lines apart too
PALETTE = ("#0b4f8a", "#a4000f", "#1d5e20", "#6a3d9a", "#8a5300", "#00636b", "#4a4a4a")
DASHES = ("", "8 4", "2 3", "10 3 2 3", "4 4", "12 2", "1 2")
_KEY = re.compile(r"[a-z][a-z0-9-]{0,40}")


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, … at or above ``value`` (1 for nothing)."""
    if value <= 1:
        return 1
    power = 1
    while power * 10 <= value:
        power *= 10
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def ticks(top: int) -> list[int]:
    """The values marked on a scale from 0 to ``top`` (a :func:`nice_ceiling`): in steps of a fifth
    (10: 0, 2, … 10), a quarter for a 2 (20: 0, 5, … 20), or of one when those are not whole."""
    step = top // 4 if str(top)[0] == "2" else top // 5
    return list(range(0, top + 1, max(1, step)))


def bars(key: str, title: str, description: str, values: Sequence[tuple[str, int]], *, empty: str) -> Markup:
    """One horizontal bar per ``(label, value)``, in the order given, with its value at its end."""
    _check(key, [value for _, value in values])
    label_room = min(MAX_LABEL, max((_width(label) for label, _ in values), default=0)) * CHAR + 12
    left, right, top = max(60.0, label_room), 56.0, 28.0
    bottom = top + max(1, len(values)) * (BAR + BAR_GAP)
    scale = nice_ceiling(max((value for _, value in values), default=0))
    span = WIDTH - left - right
    parts = [_grid_x(scale, left, span, top, bottom)]
    for number, (label, value) in enumerate(values):
        y = top + number * (BAR + BAR_GAP)
        length = span * value / scale
        middle = y + BAR / 2 + 4
        parts.append(
            _el(
                "g",
                {"class": "mark"},
                _el("title", {}, escape(f"{label}: {value:,}"))
                + _text(left - 8, middle, _short(label), anchor="end")
                + _el("rect", {"x": left, "y": y, "width": length, "height": BAR, "fill": ACCENT})
                + _text(left + length + 6, middle, f"{value:,}"),
            )
        )
    if not values:
        parts.append(_text(left + span / 2, top + BAR, empty, anchor="middle", fill=MUTED, cls="empty"))
    return _svg(key, title, description, bottom + 24, parts)


def lines(
    key: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    *,
    empty: str,
) -> Markup:
    """One line per ``(name, values)`` over the points of ``labels`` (a label of ``""`` is not
    drawn: the caller thins them), with a legend above. Every series has a value per point."""
    _check(key, [value for _, values in series for value in values])
    if any(len(values) != len(labels) for _, values in series):
        raise ValueError("every series needs a value for each point")
    left, right, top = 56.0, 16.0, 28.0 + 20 * math.ceil(len(series) / 3)
    span, floor = WIDTH - left - right, top + PLOT
    scale = nice_ceiling(max((max(values, default=0) for _, values in series), default=0))

    def x(point: int) -> float:
        return left + (span / 2 if len(labels) == 1 else point * span / (len(labels) - 1))

    def y(value: int) -> float:
        return floor - PLOT * value / scale

    parts = [_grid_y(scale, left, span, floor)]
    for point, label in enumerate(labels):
        if label:
            parts.append(
                _el("line", {"x1": x(point), "y1": floor, "x2": x(point), "y2": floor + 4, "stroke": MUTED})
            )
            parts.append(_text(x(point), floor + 18, label, anchor="middle"))
    for number, (name, values) in enumerate(series):
        stroke: dict[str, str | float] = {"stroke": PALETTE[number % len(PALETTE)], "stroke-width": 2}
        if DASHES[number % len(DASHES)]:
            stroke["stroke-dasharray"] = DASHES[number % len(DASHES)]
        points = " ".join(f"{x(point):.1f},{y(value):.1f}" for point, value in enumerate(values))
        marks = "".join(
            _el("circle", {"cx": x(point), "cy": y(value), "r": 3, "fill": stroke["stroke"]})
            for point, value in enumerate(values)
            if len(values) <= MARKED
        )
        legend_x, legend_y = left + (number % 3) * 220, 14.0 + 20 * (number // 3)
        parts.append(
            _el(
                "g",
                {"class": "series"},
                _el("title", {}, escape(name))
                + _el("polyline", {"points": points, "fill": "none", **stroke})
                + marks
                + _el("line", {"x1": legend_x, "y1": legend_y, "x2": legend_x + 28, "y2": legend_y, **stroke})
                + _text(legend_x + 34, legend_y + 4, _short(name)),
            )
        )
    if not series:
        parts.append(_text(left + span / 2, top + PLOT / 2, empty, anchor="middle", fill=MUTED, cls="empty"))
    return _svg(key, title, description, floor + 40, parts)


def _svg(key: str, title: str, description: str, height: float, parts: list[str]) -> Markup:
    attributes: dict[str, str | float] = {
        "xmlns": "http://www.w3.org/2000/svg",
        "class": "chart",
        "id": key,
        "role": "img",
        "aria-labelledby": f"{key}-title",
        "aria-describedby": f"{key}-desc",
        "viewBox": f"0 0 {WIDTH} {round(height)}",
        "width": WIDTH,
        "height": round(height),
        "font-size": FONT,
        "font-family": "inherit",
    }
    heading = _el("title", {"id": f"{key}-title"}, escape(title))
    heading += _el("desc", {"id": f"{key}-desc"}, escape(description))
    return Markup(_el("svg", attributes, heading + "".join(parts)))


def _grid_x(scale: int, left: float, span: float, top: float, bottom: float) -> str:
    """The vertical grid lines of a bar chart's scale, with their values below."""
    drawn = ""
    for value in ticks(scale):
        at = left + span * value / scale
        drawn += _el("line", {"x1": at, "y1": top - 6, "x2": at, "y2": bottom, "stroke": GRID})
        drawn += _text(at, bottom + 16, f"{value:,}", anchor="middle", fill=MUTED)
    return _el("g", {"class": "axis"}, drawn)


def _grid_y(scale: int, left: float, span: float, floor: float) -> str:
    """The horizontal grid lines of a line chart's scale, with their values on the left."""
    drawn = ""
    for value in ticks(scale):
        at = floor - PLOT * value / scale
        drawn += _el("line", {"x1": left, "y1": at, "x2": left + span, "y2": at, "stroke": GRID})
        drawn += _text(left - 6, at + 4, f"{value:,}", anchor="end", fill=MUTED)
    return _el("g", {"class": "axis"}, drawn)


def _text(x: float, y: float, words: str, *, anchor: str = "start", fill: str = INK, cls: str = "") -> str:
    attributes: dict[str, str | float] = {"x": x, "y": y, "text-anchor": anchor, "fill": fill}
    if cls:
        attributes["class"] = cls
    return _el("text", attributes, escape(words))


def _el(name: str, attributes: dict[str, str | float], body: str = "") -> str:
    """An element; ``body`` is markup already (escape text before)."""
    written = "".join(f" {key}={quoteattr(_number(value))}" for key, value in attributes.items())
    return f"<{name}{written}>{body}</{name}>" if body else f"<{name}{written}/>"


def _number(value: str | float) -> str:
    if isinstance(value, float):
        return f"{value:.1f}".removesuffix(".0")
    return str(value)


def _check(key: str, values: Sequence[int]) -> None:
    if not _KEY.fullmatch(key):
        raise ValueError("a chart's key is lower-case letters, digits and '-'")
    if any(value < 0 for value in values):
        raise ValueError("a chart draws counts: none is negative")


def _width(text: str) -> int:
    """Room a label takes, in Latin characters (a wide character, e.g. Japanese, counts 2)."""
    return sum(2 if ord(character) > 0x2E7F else 1 for character in _short(text))


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"
