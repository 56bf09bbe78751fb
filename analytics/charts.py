"""Server-side SVG charts: plain shapes positioned here, coloured by CSS classes (no script, no
style attributes, so a strict Content-Security-Policy holds). Each chart goes beside a data
table holding the same numbers.

Every coordinate leaves here as a string written the SVG way ("63.5"): a float handed to a
template is localized ("63,5" in French and Arabic), which is no SVG length, and the browser then
drops the shape. The words a reader sees (tick labels, a bar's value) are localized here, in the
request's language."""

from dataclasses import dataclass, field

from django.utils import formats

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 640, 220, 44, 40, 10


def svg_number(value: float) -> str:
    """A coordinate as SVG reads it: a dot for decimals, one decimal at most, never localized."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _reader_number(value: float) -> str:
    """A number as the reader writes it (a decimal comma in French and Arabic); whole numbers
    without decimals."""
    if float(value).is_integer():
        value = int(value)
    return str(formats.localize(value))


@dataclass
class Bar:
    x: str
    y: str
    width: str
    height: str
    label: str
    value: str  # localized, for the reader
    label_x: str


@dataclass
class Chart:
    title: str
    bars: list[Bar] = field(default_factory=list)
    lines: list[dict] = field(default_factory=list)  # {"name", "points", "css"}
    ticks: list[tuple[str, str]] = field(default_factory=list)  # (y, label)
    x_labels: list[tuple[str, str]] = field(default_factory=list)  # (x, label)
    width: str = svg_number(WIDTH)
    height: str = svg_number(HEIGHT)
    view_box: str = f"0 0 {svg_number(WIDTH)} {svg_number(HEIGHT)}"
    baseline: str = svg_number(HEIGHT - PAD_BOTTOM)
    left: str = svg_number(PAD_LEFT)
    tick_x: str = svg_number(PAD_LEFT - 6)  # tick labels end just left of the plot
    label_y: str = svg_number(HEIGHT - PAD_BOTTOM + 16)  # x labels sit under the axis


def _ticks(top: float) -> list[tuple[str, str]]:
    plot = HEIGHT - PAD_BOTTOM - PAD_TOP
    return [(svg_number(HEIGHT - PAD_BOTTOM - plot * i / 4), _reader_number(top * i / 4)) for i in range(5)]


def _nice(maximum: float) -> float:
    if maximum <= 0:
        return 1
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000, 100000):
        if maximum <= step * 4:
            return step * 4
    return maximum


def bar_chart(title: str, data: list[tuple[str, float]]) -> Chart:
    top = _nice(max((v for _l, v in data), default=0))
    plot_w, plot_h = WIDTH - PAD_LEFT - 10, HEIGHT - PAD_BOTTOM - PAD_TOP
    slot = plot_w / max(len(data), 1)
    chart = Chart(title=title, ticks=_ticks(top))
    for i, (label, value) in enumerate(data):
        h = plot_h * (value / top) if top else 0
        x = PAD_LEFT + i * slot + slot * 0.1
        chart.bars.append(
            Bar(x=svg_number(x), y=svg_number(HEIGHT - PAD_BOTTOM - h), width=svg_number(slot * 0.8),
                height=svg_number(h), label=label, value=_reader_number(value), label_x=svg_number(x + slot * 0.4))
        )  # fmt: skip
    return chart


def line_chart(title: str, labels: list[str], series: list[tuple[str, list[float]]]) -> Chart:
    top = _nice(max((v for _n, values in series for v in values), default=0))
    plot_w, plot_h = WIDTH - PAD_LEFT - 10, HEIGHT - PAD_BOTTOM - PAD_TOP
    step = plot_w / max(len(labels) - 1, 1)
    chart = Chart(title=title, ticks=_ticks(top))
    for i, (name, values) in enumerate(series):
        points = " ".join(
            f"{svg_number(PAD_LEFT + j * step)},{svg_number(HEIGHT - PAD_BOTTOM - plot_h * (v / top))}"
            for j, v in enumerate(values)
        )
        chart.lines.append({"name": name, "points": points, "css": f"series-{i}"})
    every = max(1, len(labels) // 6)
    chart.x_labels = [(svg_number(PAD_LEFT + j * step), label) for j, label in enumerate(labels) if j % every == 0]
    return chart
