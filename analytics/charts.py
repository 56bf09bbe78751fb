"""Server-side SVG charts: plain shapes positioned here, coloured by CSS classes (no script, no
style attributes, so a strict Content-Security-Policy holds). Each chart goes beside a data
table holding the same numbers."""

from dataclasses import dataclass, field

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 640, 220, 44, 40, 10


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: float
    label_x: float


@dataclass
class Chart:
    title: str
    width: int = WIDTH
    height: int = HEIGHT
    bars: list[Bar] = field(default_factory=list)
    lines: list[dict] = field(default_factory=list)  # {"name", "points", "css"}
    ticks: list[tuple[float, str]] = field(default_factory=list)  # (y, label)
    x_labels: list[tuple[float, str]] = field(default_factory=list)
    baseline: float = HEIGHT - PAD_BOTTOM
    left: float = PAD_LEFT


def _ticks(top: float) -> list[tuple[float, str]]:
    plot = HEIGHT - PAD_BOTTOM - PAD_TOP
    return [(HEIGHT - PAD_BOTTOM - plot * i / 4, f"{top * i / 4:g}") for i in range(5)]


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
            Bar(x=round(x, 1), y=round(HEIGHT - PAD_BOTTOM - h, 1), width=round(slot * 0.8, 1), height=round(h, 1),
                label=label, value=value, label_x=round(x + slot * 0.4, 1))
        )  # fmt: skip
    return chart


def line_chart(title: str, labels: list[str], series: list[tuple[str, list[float]]]) -> Chart:
    top = _nice(max((v for _n, values in series for v in values), default=0))
    plot_w, plot_h = WIDTH - PAD_LEFT - 10, HEIGHT - PAD_BOTTOM - PAD_TOP
    step = plot_w / max(len(labels) - 1, 1)
    chart = Chart(title=title, ticks=_ticks(top))
    for i, (name, values) in enumerate(series):
        points = " ".join(
            f"{PAD_LEFT + j * step:.1f},{HEIGHT - PAD_BOTTOM - plot_h * (v / top):.1f}" for j, v in enumerate(values)
        )
        chart.lines.append({"name": name, "points": points, "css": f"series-{i}"})
    every = max(1, len(labels) // 6)
    chart.x_labels = [(PAD_LEFT + j * step, label) for j, label in enumerate(labels) if j % every == 0]
    return chart
