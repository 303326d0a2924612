"""Charts as server-rendered SVG, each with a table alternative in the page (the template puts
the same numbers in a ``<table>``): no JavaScript, readable by screen readers, printable."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

WIDTH = 640
BAR = 28
GAP = 12
LABEL = 200
VALUE = 110


def bar_chart(bars: Sequence[tuple[str, int]], *, title: str,
              value_text: Callable[[int], str] = str, chart_id: str = "chart") -> Markup:
    """Horizontal bars, one per (label, value ≥ 0), each labelled with its value in text (the
    length is never the only way to read it). ``title`` names the chart for assistive
    technology (``<title>`` + ``aria-labelledby``)."""
    top = max((v for _, v in bars), default=0)
    span = WIDTH - LABEL - VALUE
    height = max(len(bars), 1) * (BAR + GAP) + GAP
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bar-chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'aria-labelledby="{escape(chart_id)}-title">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
    ]
    for i, (label, value) in enumerate(bars):
        if value < 0:
            raise ValueError(f"bar values are counts or sums, not negative: {label}={value}")
        y = GAP + i * (BAR + GAP)
        length = 0 if top == 0 else max(round(span * value / top), 1 if value else 0)
        middle = y + BAR / 2
        parts.append(
            f'<text x="{LABEL - 8}" y="{middle}" text-anchor="end" dominant-baseline="middle">'
            f"{escape(label)}</text>"
            f'<rect x="{LABEL}" y="{y}" width="{length}" height="{BAR}" class="bar"/>'
            f'<text x="{LABEL + length + 8}" y="{middle}" dominant-baseline="middle">'
            f"{escape(value_text(value))}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))
