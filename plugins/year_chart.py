"""Publications per year as an inline SVG bar chart, drawn on the server (no script, no asset).

Two pieces:

- ``year_chart(series, link=None, label="works")`` for templates: ``series`` is a list of
  ``(year, count)`` pairs or of facet values (``{"value", "count", "toggle_url"}``); ``link`` is a URL
  with ``{year}`` in it that each bar points at. Years without works between the first and the last
  are drawn as gaps, so the time axis is true.
- the facet type ``year_chart`` (``facets: [{year_chart: year}]`` in metadata.yml, defined with the
  other facets in plugins/related_facets.py) gives it the page's counts per year;
  ``templates/_facet_results.html`` draws it above the facets. Its bars select that year.

This module must not import ``ingest``: ``datasette publish`` copies only the plugins folder.
"""

from __future__ import annotations

from typing import List, Optional, Tuple

from datasette import hookimpl
from markupsafe import Markup, escape

WIDTH, HEIGHT = 720, 170
MARGIN_LEFT, MARGIN_BOTTOM, MARGIN_TOP = 36, 22, 10


def _points(series) -> List[Tuple[int, int, Optional[str], bool]]:
    """(year, count, url, selected) from pairs or facet values, integer years only."""
    points = []
    for item in series or []:
        if isinstance(item, dict):
            year, count = item.get("value"), item.get("count")
            url, selected = item.get("toggle_url"), bool(item.get("selected"))
        else:
            year, count = item[0], item[1]
            url, selected = None, False
        try:
            points.append((int(year), int(count or 0), url, selected))
        except (TypeError, ValueError):
            continue
    return sorted(points)


def nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 × 10^n at or above ``value``: a y-axis top a reader can read."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def year_chart(series, link: Optional[str] = None, label: str = "works", title: Optional[str] = None):
    """An accessible SVG bar chart (Markup) of works per year, or an empty string for no data."""
    points = _points(series)
    if not points:
        return Markup("")
    by_year = {year: (count, url, selected) for year, count, url, selected in points}
    first, last = points[0][0], points[-1][0]
    years = list(range(first, last + 1))
    top = nice_ceiling(max(count for _, count, _, _ in points))
    plot_width = WIDTH - MARGIN_LEFT - 4
    plot_height = HEIGHT - MARGIN_BOTTOM - MARGIN_TOP
    slot = plot_width / len(years)
    bar = max(1.0, min(slot * 0.8, 28.0))  # a lone year is a bar, not a wall
    total = sum(count for _, count, _, _ in points)
    summary = title or f"{total:,} {label} from {first} to {last}"
    out = [
        f'<svg class="year-chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet">',
        f"<title>{escape(summary)}</title>",
        f'<line class="axis" x1="{MARGIN_LEFT}" y1="{MARGIN_TOP + plot_height}" '
        f'x2="{WIDTH - 4}" y2="{MARGIN_TOP + plot_height}"/>',
        f'<text class="tick" x="{MARGIN_LEFT - 4}" y="{MARGIN_TOP + 8}" text-anchor="end">{top:,}</text>',
        f'<text class="tick" x="{MARGIN_LEFT - 4}" y="{MARGIN_TOP + plot_height}" text-anchor="end">0</text>',
    ]
    for index, year in enumerate(years):
        count, url, selected = by_year.get(year, (0, None, False))
        if not count:
            continue
        height = max(1.0, plot_height * count / top)
        x = MARGIN_LEFT + index * slot + (slot - bar) / 2
        y = MARGIN_TOP + plot_height - height
        if link and not url:
            url = link.replace("{year}", str(year))
        css = "bar selected" if selected else "bar"
        rect = (f'<rect class="{css}" data-year="{year}" data-count="{count}" x="{x:.1f}" y="{y:.1f}" '
                f'width="{bar:.1f}" height="{height:.1f}"><title>{year}: {count:,} {escape(label)}</title></rect>')
        out.append(f'<a href="{escape(url)}">{rect}</a>' if url else rect)
    label_every = max(1, round(len(years) / 12))
    for index, year in enumerate(years):
        if index % label_every == 0:
            x = MARGIN_LEFT + index * slot + slot / 2
            out.append(f'<text class="tick" x="{x:.1f}" y="{HEIGHT - 6}" text-anchor="middle">{year}</text>')
    out.append("</svg>")
    return Markup("".join(out))


@hookimpl
def extra_template_vars():
    return {"year_chart": year_chart}
