"""An evaluation report a person can look at: one self-contained HTML file, plots as inline SVG.

Standard library only, so it runs in any processing container next to the step script that calls
it. A kind passes its metrics, its curves and (for classifiers) a confusion matrix.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

WIDTH, HEIGHT, PAD = 360, 300, 44


@dataclass(frozen=True)
class Curve:
    """A curve in the unit square, e.g. ROC (FPR, TPR) or precision-recall (recall, precision)."""

    title: str
    x_label: str
    y_label: str
    xs: Sequence[float]
    ys: Sequence[float]
    # The operating point to mark (the threshold the model is used at), if any.
    marker: tuple[float, float] | None = None
    marker_label: str = ""
    diagonal: bool = False


@dataclass(frozen=True)
class Report:
    """Everything one report shows."""

    title: str
    metrics: Mapping[str, float]
    curves: Sequence[Curve] = ()
    # Rows are true classes, columns predicted classes, in the order of `classes`.
    confusion: Sequence[Sequence[int]] | None = None
    classes: Sequence[str] = ("0", "1")
    notes: Sequence[str] = field(default_factory=tuple)


def _point(x: float, y: float) -> tuple[float, float]:
    return PAD + x * (WIDTH - 2 * PAD), HEIGHT - PAD - y * (HEIGHT - 2 * PAD)


def curve_svg(curve: Curve) -> str:
    """Return one curve as an SVG figure with axes, ticks and the marked operating point."""
    parts = [
        f'<svg class="curve" role="img" aria-label="{html.escape(curve.title)}" '
        f'width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}">',
        f"<title>{html.escape(curve.title)}</title>",
        f'<rect x="{PAD}" y="{PAD}" width="{WIDTH - 2 * PAD}" height="{HEIGHT - 2 * PAD}" '
        'fill="none" stroke="#999"/>',
    ]
    for tick in (0.0, 0.5, 1.0):
        x, y0 = _point(tick, 0.0)
        x0, y = _point(0.0, tick)
        parts.append(f'<text x="{x:.1f}" y="{y0 + 16:.1f}" text-anchor="middle">{tick:g}</text>')
        parts.append(f'<text x="{x0 - 6:.1f}" y="{y + 4:.1f}" text-anchor="end">{tick:g}</text>')
    parts.append(
        f'<text x="{WIDTH / 2:.0f}" y="{HEIGHT - 8}" text-anchor="middle">'
        f"{html.escape(curve.x_label)}</text>"
    )
    parts.append(
        f'<text x="12" y="{HEIGHT / 2:.0f}" text-anchor="middle" '
        f'transform="rotate(-90 12 {HEIGHT / 2:.0f})">{html.escape(curve.y_label)}</text>'
    )
    if curve.diagonal:
        (x1, y1), (x2, y2) = _point(0, 0), _point(1, 1)
        parts.append(
            f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#bbb" stroke-dasharray="4"/>'
        )
    points = " ".join(f"{px:.1f},{py:.1f}" for px, py in map(_point, curve.xs, curve.ys))
    parts.append(f'<polyline class="line" points="{points}" fill="none" stroke="#1f77b4"/>')
    if curve.marker:
        mx, my = _point(*curve.marker)
        parts.append(f'<circle class="marker" cx="{mx:.1f}" cy="{my:.1f}" r="5" fill="#d62728"/>')
        parts.append(
            f'<text x="{mx + 8:.1f}" y="{my - 8:.1f}">{html.escape(curve.marker_label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def confusion_table(matrix: Sequence[Sequence[int]], classes: Sequence[str]) -> str:
    """Return the confusion matrix as an HTML table, shaded by share of the row."""
    head = "".join(f"<th>predicted {html.escape(c)}</th>" for c in classes)
    rows = []
    for name, row in zip(classes, matrix, strict=True):
        total = sum(row) or 1
        cells = "".join(
            f'<td style="background: rgba(31,119,180,{count / total:.2f})">{count}</td>'
            for count in row
        )
        rows.append(f"<tr><th>actual {html.escape(name)}</th>{cells}</tr>")
    return f'<table class="confusion"><tr><th></th>{head}</tr>{"".join(rows)}</table>'


def render(report: Report) -> str:
    """Return the whole report as one HTML document."""
    metrics = "".join(
        f"<tr><th>{html.escape(name)}</th><td>{value:.4f}</td></tr>"
        for name, value in report.metrics.items()
    )
    sections = [
        f"<h1>{html.escape(report.title)}</h1>",
        f'<h2>Metrics</h2><table class="metrics">{metrics}</table>',
    ]
    if report.curves:
        figures = "".join(curve_svg(c) for c in report.curves)
        sections.append(f'<h2>Curves</h2><div class="figures">{figures}</div>')
    if report.confusion is not None:
        sections.append("<h2>Confusion matrix</h2>" + confusion_table(report.confusion, report.classes))
    if report.notes:
        items = "".join(f"<li>{html.escape(n)}</li>" for n in report.notes)
        sections.append(f"<h2>Notes</h2><ul>{items}</ul>")
    style = (
        "body{font-family:sans-serif;margin:2em;max-width:60em}"
        "table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 10px}"
        "svg text{font-size:11px}.figures{display:flex;flex-wrap:wrap;gap:1em}"
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(report.title)}</title><style>{style}</style></head>"
        f"<body>{''.join(sections)}</body></html>\n"
    )
