"""The charts' coordinates are written the SVG way in every language (a dot, never a comma), while
the numbers a reader sees (tick labels, a bar's value) follow the reader's locale."""

import re

from django.template.loader import render_to_string
from django.utils import translation

from analytics import charts

SVG_NUMBER = re.compile(r"^-?\d+(\.\d)?$")


def test_coordinates_take_a_dot_and_reader_numbers_a_comma_in_french():
    with translation.override("fr"):
        bars = charts.bar_chart("Moyenne", [("a", 7.5), ("b", 3)])
        empty = charts.bar_chart("Rien", [("a", 0)])  # an empty chart's axis runs 0..1
        lines = charts.line_chart("Semaines", ["s1", "s2", "s3"], [("Inscrits", [1, 2, 3])])

    geometry = [v for bar in bars.bars for v in (bar.x, bar.y, bar.width, bar.height, bar.label_x)]
    geometry += [y for y, _label in bars.ticks] + [x for x, _label in lines.x_labels]
    geometry += [n for point in lines.lines[0]["points"].split() for n in point.split(",")]
    assert geometry and all(SVG_NUMBER.match(v) for v in geometry), geometry
    assert [label for _y, label in bars.ticks] == ["0", "2", "4", "6", "8"]
    assert [label for _y, label in empty.ticks] == ["0", "0,25", "0,5", "0,75", "1"]
    assert [bar.value for bar in bars.bars] == ["7,5", "3"]


def test_the_rendered_chart_has_no_localized_number_in_its_attributes():
    with translation.override("ar"):
        chart = charts.bar_chart("Mean", [("a", 33.3), ("b", 66.7)])
        html = render_to_string("analytics/_bar_chart.html", {"chart": chart, "id": "c"})

    attributes = re.findall(r'\b(?:x|y|x1|x2|y1|y2|width|height)="([^"]*)"', html)
    assert attributes and all(SVG_NUMBER.match(v) for v in attributes), attributes
    assert 'viewBox="0 0 640 220"' in html
    assert "a: 33,3" in html  # the bar's title, for the reader
