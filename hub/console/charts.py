"""Charts drawn on the server as inline SVG: no chart library, no script, no CDN. A bar
per day, its value written above it, and a title that says what the bars measure."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

__all__ = ["bar_chart"]

WIDTH, HEIGHT, TOP, BOTTOM = 640, 180, 22, 20


def bar_chart(title: str, points: list[tuple[str, float | None]], unit: str = "") -> Markup:
    """Bars for (label, value); a missing value leaves its day empty. Labels are days (YYYY-MM-DD)."""
    values = [v for _l, v in points if v is not None]
    top = max(values, default=0) or 1
    step = WIDTH / max(len(points), 1)
    bars = []
    for n, (label, value) in enumerate(points):
        x = n * step
        if value is not None:
            h = (HEIGHT - TOP - BOTTOM) * value / top
            y = HEIGHT - BOTTOM - h
            bars.append(f'<rect x="{x + step * .15:.1f}" y="{y:.1f}" width="{step * .7:.1f}" height="{h:.1f}">'
                        f'<title>{escape(label)}: {value:g}{escape(unit)}</title></rect>'
                        f'<text x="{x + step / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle">{value:g}</text>')
        if len(points) <= 16 or n % max(len(points) // 8, 1) == 0:
            bars.append(f'<text x="{x + step / 2:.1f}" y="{HEIGHT - 5}" text-anchor="middle">'
                        f'{escape(label[5:])}</text>')
    return Markup(
        f'<figure class="chart"><figcaption>{escape(title)}</figcaption>'
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" '
        f'font-size="10" fill="#3b6ea5">{"".join(bars)}'
        f'<line x1="0" y1="{HEIGHT - BOTTOM}" x2="{WIDTH}" y2="{HEIGHT - BOTTOM}" stroke="#999"/></svg></figure>')
