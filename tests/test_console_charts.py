"""The console's SVG charts (center.console.charts) and its CSV cells (center.console.spreadsheet),
without a server: well-formed XML with an accessible name and description, the scale, the marks
where their values put them, no data, and every label escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from markupsafe import Markup

from center.console import charts
from center.console.spreadsheet import cell, csv_text

SVG = "{http://www.w3.org/2000/svg}"


def parsed(svg: Markup) -> ET.Element:
    assert isinstance(svg, Markup)  # put in a page as it is, never escaped again
    return ET.fromstring(str(svg))


def named(root: ET.Element) -> tuple[str, str]:
    """The chart's accessible name and description, found as a screen reader finds them."""
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby"), root.get("aria-describedby")
    by_id = {element.get("id"): element for element in root.iter()}
    title, desc = by_id[title_id], by_id[desc_id]
    assert title.tag == f"{SVG}title" and desc.tag == f"{SVG}desc"
    assert list(root)[:2] == [title, desc]  # first, as SVG asks
    return title.text or "", desc.text or ""


def test_a_round_scale_from_zero() -> None:
    assert [charts.nice_ceiling(value) for value in (0, 1, 2, 3, 7, 10, 11, 99, 101, 250, 1234)] == [
        1,
        1,
        2,
        5,
        10,
        10,
        20,
        100,
        200,
        500,
        2000,
    ]
    assert charts.ticks(1) == [0, 1] and charts.ticks(2) == [0, 1, 2]
    assert charts.ticks(5) == [0, 1, 2, 3, 4, 5] and charts.ticks(10) == [0, 2, 4, 6, 8, 10]
    assert charts.ticks(20) == [0, 5, 10, 15, 20] and charts.ticks(500) == [0, 100, 200, 300, 400, 500]


def test_bars_are_valid_svg_with_a_name_a_description_and_lengths_to_scale() -> None:
    svg = charts.bars("per-town", "Copies per town", "Two towns.", [("131016", 5), ("271004", 8)], empty="-")
    root = parsed(svg)
    assert named(root) == ("Copies per town", "Two towns.")
    assert root.get("viewBox") == f"0 0 {charts.WIDTH} {root.get('height')}"
    marks = root.findall(f"{SVG}g[@class='mark']")
    assert [mark.find(f"{SVG}title").text for mark in marks] == ["131016: 5", "271004: 8"]  # type: ignore[union-attr]
    widths = [float(mark.find(f"{SVG}rect").get("width", "")) for mark in marks]  # type: ignore[union-attr]
    axis = [float(line.get("x1", "")) for line in root.iter(f"{SVG}line")]
    left, right = min(axis), max(axis)  # the scale's 0 and its 10
    assert widths[0] == pytest.approx((right - left) / 2, abs=0.1)
    assert widths[1] == pytest.approx((right - left) * 0.8, abs=0.1)
    assert [text.text for text in root.iter(f"{SVG}text") if text.get("fill") == charts.MUTED] == [
        "0",
        "2",
        "4",
        "6",
        "8",
        "10",
    ]
    assert "style" not in str(svg)  # the console's Content-Security-Policy allows no inline style


def test_every_text_is_escaped_and_a_long_label_is_cut_with_the_whole_in_its_tooltip() -> None:
    hostile = "<script>alert(\"x\")</script> & '=HYPERLINK()'"
    long = "refused_by_municipality (order_refused) and more"
    svg = charts.bars("hostile", hostile, hostile, [(hostile, 1), (long, 2)], empty=hostile)
    assert "<script>" not in str(svg) and "&lt;script&gt;" in str(svg)
    root = parsed(svg)
    assert named(root) == (hostile, hostile)
    tooltips = [mark.find(f"{SVG}title").text for mark in root.findall(f"{SVG}g[@class='mark']")]  # type: ignore[union-attr]
    assert tooltips == [f"{hostile}: 1", f"{long}: 2"]
    drawn = [text.text for text in root.iter(f"{SVG}text")]
    assert long[: charts.MAX_LABEL - 1] + "…" in drawn and long not in drawn
    lines = charts.lines("l", hostile, "d", [hostile, ""], [(hostile, [1, 2])], empty="")
    assert "<script>" not in str(lines) and parsed(lines).find(f"{SVG}g/{SVG}title").text == hostile  # type: ignore[union-attr]


def test_no_data_draws_the_axes_and_says_so() -> None:
    root = parsed(charts.bars("none", "t", "d", [], empty="No copy issued"))
    assert [text.text for text in root.iter(f"{SVG}text") if text.get("class") == "empty"] == [
        "No copy issued"
    ]
    assert not root.findall(f"{SVG}g[@class='mark']") and root.find(f"{SVG}g[@class='axis']") is not None
    root = parsed(charts.lines("none", "t", "d", ["00:00", "", ""], [], empty="Nothing"))
    assert [text.text for text in root.iter(f"{SVG}text") if text.get("class") == "empty"] == ["Nothing"]
    zeros = parsed(charts.bars("zeros", "t", "d", [("a", 0)], empty="-"))
    assert zeros.find(f".//{SVG}rect").get("width") == "0"  # type: ignore[union-attr]


def test_lines_put_each_value_at_its_height_with_a_legend_and_labels() -> None:
    labels = ["00:00", "", "", "03:00"]
    root = parsed(
        charts.lines("hours", "t", "d", labels, [("住民票", [0, 5, 10, 2]), ("tax", [1, 1, 1, 1])], empty="-")
    )
    series = root.findall(f"{SVG}g[@class='series']")
    assert [group.find(f"{SVG}title").text for group in series] == ["住民票", "tax"]  # type: ignore[union-attr]
    points = [
        tuple(float(n) for n in pair.split(","))
        for pair in series[0].find(f"{SVG}polyline").get("points", "").split()  # type: ignore[union-attr]
    ]
    xs, ys = [x for x, _ in points], [y for _, y in points]
    assert xs == sorted(xs) and xs[1] - xs[0] == pytest.approx(xs[3] - xs[2], abs=0.1)
    floor, top = ys[0], ys[2]  # 0 and 10, the scale's top
    assert ys[1] == pytest.approx((floor + top) / 2, abs=0.1) and ys[3] == pytest.approx(
        floor - (floor - top) / 5, abs=0.1
    )
    assert len(series[0].findall(f"{SVG}circle")) == 4  # few points: each is marked
    assert series[1].find(f"{SVG}polyline").get("stroke-dasharray")  # type: ignore[union-attr]
    drawn = [text.text for text in root.iter(f"{SVG}text")]
    assert "00:00" in drawn and "03:00" in drawn and "" not in drawn
    many = parsed(charts.lines("week", "t", "d", [""] * 168, [("a", list(range(168)))], empty="-"))
    assert not many.findall(f".//{SVG}circle")
    single = parsed(charts.lines("one", "t", "d", ["12-08"], [("a", [3])], empty="-"))
    assert single.find(f".//{SVG}circle").get("cx") == single.find(
        f".//{SVG}text[@text-anchor='middle']"
    ).get("x")  # type: ignore[union-attr]


def test_what_a_chart_cannot_draw_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        charts.bars("a", "t", "d", [("a", -1)], empty="-")
    with pytest.raises(ValueError, match="key"):
        charts.bars('a" onload="x', "t", "d", [], empty="-")
    with pytest.raises(ValueError, match="each point"):
        charts.lines("a", "t", "d", ["1", "2"], [("a", [1])], empty="-")


def test_ids_are_the_chart_s_own() -> None:
    svg = str(charts.bars("copies-by-type", "t", "d", [("a", 1)], empty="-"))
    assert set(re.findall(r' id="([^"]+)"', svg)) == {
        "copies-by-type",
        "copies-by-type-title",
        "copies-by-type-desc",
    }


def test_a_csv_cell_is_never_a_formula() -> None:
    assert [cell(value) for value in ("=1+1", "+81", "-5", "@SUM", "\tx", "ローソン", "", 12, -3)] == [
        "'=1+1",
        "'+81",
        "'-5",
        "'@SUM",
        "'\tx",
        "ローソン",
        "",
        12,
        -3,
    ]
    assert csv_text(["a", "b"], [("=x", 1)]) == "\ufeffa,b\r\n'=x,1\r\n"
