"""Charts as SVG drawn on the server by pygal: no JavaScript, nothing fetched by the browser.

pygal's default SVG links its tooltip script from a CDN; ``js=[]`` leaves it
out, so a chart is plain markup the page embeds and the console works on a
machine with no internet.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pygal
from markupsafe import Markup
from pygal.style import Style

STYLE = Style(
    background="transparent",
    plot_background="#ffffff",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#9aa5b1",
    opacity="0.85",
    opacity_hover="0.95",
    colors=("#0b6e4f", "#c0392b", "#e67e22", "#2c7fb8", "#7f8c8d", "#8e44ad"),
    font_family="DejaVu Sans, Liberation Sans, Arial, sans-serif",
    label_font_size=11,
    major_label_font_size=11,
    legend_font_size=12,
    title_font_size=14,
    value_font_size=10,
)


def _config(chart: pygal.Graph, title: str) -> None:
    chart.config.js = []  # no script from a CDN
    chart.config.disable_xml_declaration = True
    chart.config.title = title
    chart.config.style = STYLE
    chart.config.legend_at_bottom = True
    chart.config.show_minor_x_labels = True
    chart.config.truncate_legend = -1
    chart.config.truncate_label = -1


_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S)


def _render(chart: pygal.Graph) -> Markup:
    """The SVG without pygal's inline config script (inert anyway: the console's CSP allows no script).

    pygal escapes the labels and values it is given.
    """
    return Markup(_SCRIPT.sub("", chart.render(is_unicode=True)))


def _daily(
    chart: pygal.Graph,
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int | None]]],
    every: int,
) -> Markup:
    _config(chart, title)
    chart.config.x_labels = list(labels)
    chart.config.x_labels_major_every = every
    chart.config.show_minor_x_labels = False
    for name, values in series:
        chart.add(name, list(values))
    return _render(chart)


def daily_bars(
    title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[int | None]]], every: int = 1
) -> Markup:
    return _daily(pygal.Bar(width=900, height=320, margin=12, spacing=6), title, labels, series, every)


def daily_lines(
    title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[int | None]]], every: int = 1
) -> Markup:
    line = pygal.Line(width=900, height=320, margin=12, allow_interruptions=True, dots_size=2.5)
    return _daily(line, title, labels, series, every)


def share_bars(title: str, rows: Sequence[tuple[str, float | None]], target: float | None = None) -> Markup:
    """Horizontal bars of a share (0..1) per partner, in percent."""
    chart = pygal.HorizontalBar(width=900, height=60 + 34 * max(1, len(rows)), margin=12, range=(0, 100))
    _config(chart, title)
    chart.config.show_legend = False
    chart.config.x_labels = [name for name, _ in rows]
    chart.config.value_formatter = lambda v: f"{v:.1f}%"
    chart.add(title, [None if v is None else round(v * 100, 1) for _, v in rows])
    return _render(chart)
