"""A self-contained HTML page (inline SVG, no dependency, no script) with the simulated day:
queue length over the day, wait p50/p90 by arrival hour, fairness and occupancy by hour, for the
current config and (when given) the candidate."""
from __future__ import annotations

import html
import json

WIDTH, HEIGHT, PAD = 760, 220, 44
COLORS = {"current": "#1f77b4", "candidate": "#d62728"}


def _polyline(points: list[tuple[float, float]], x_max: float, y_max: float, color: str,
              dashed: bool = False) -> str:
    if not points:
        return ""
    scale_x = (WIDTH - 2 * PAD) / (x_max or 1)
    scale_y = (HEIGHT - 2 * PAD) / (y_max or 1)
    coords = " ".join(f"{PAD + x * scale_x:.1f},{HEIGHT - PAD - y * scale_y:.1f}"
                      for x, y in points)
    dash = ' stroke-dasharray="5,3"' if dashed else ""
    return (f'<polyline fill="none" stroke="{color}" stroke-width="1.6"{dash} '
            f'points="{coords}"/>')


def _frame(title: str, x_label: str, x_max: float, y_max: float, body: str) -> str:
    ticks = []
    for n in range(5):
        y_val = y_max * n / 4
        y = HEIGHT - PAD - (HEIGHT - 2 * PAD) * n / 4
        ticks.append(f'<text x="{PAD - 4}" y="{y + 4:.1f}" text-anchor="end" '
                     f'font-size="10">{y_val:.3g}</text>'
                     f'<line x1="{PAD}" x2="{WIDTH - PAD}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="#eee"/>')
    for n in range(0, 25, 3):
        x = PAD + (WIDTH - 2 * PAD) * n / 24
        ticks.append(f'<text x="{x:.1f}" y="{HEIGHT - PAD + 14}" text-anchor="middle" '
                     f'font-size="10">{n}h</text>')
    return (f'<h2>{html.escape(title)}</h2><svg xmlns="http://www.w3.org/2000/svg" '
            f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{html.escape(title)}">'
            f'{"".join(ticks)}<text x="{WIDTH / 2}" y="{HEIGHT - 6}" text-anchor="middle" '
            f'font-size="11">{html.escape(x_label)}</text>{body}</svg>')


def _chart(title: str, series: dict[str, list[tuple[float, float]]], x_label: str,
           x_max: float = 24.0, dashed: dict[str, list] | None = None) -> str:
    values = [y for points in list(series.values()) + list((dashed or {}).values())
              for _, y in points]
    y_max = max(values, default=1.0) or 1.0
    body = "".join(_polyline(points, x_max, y_max, COLORS[name])
                   for name, points in series.items())
    body += "".join(_polyline(points, x_max, y_max, COLORS[name], dashed=True)
                    for name, points in (dashed or {}).items())
    return _frame(title, x_label, x_max, y_max, body)


def _hourly(values: list, key: str | None = None) -> list[tuple[float, float]]:
    out = []
    for hour, value in enumerate(values):
        value = value.get(key) if key and value is not None else value
        if value is not None:
            out.append((hour + 0.5, value))
    return out


def render(results: dict[str, dict], title: str = "routing simulation") -> str:
    """The page for ``{"current": summary, "candidate": summary?}``."""
    queue = {name: [(t / 3600, n) for t, n in r["queue"]] for name, r in results.items()}
    p50 = {name: _hourly(r["wait_by_hour"], "p50") for name, r in results.items()}
    p90 = {name: _hourly(r["wait_by_hour"], "p90") for name, r in results.items()}
    fairness = {name: _hourly(r["fairness_by_hour"]) for name, r in results.items()}
    occupancy = {name: _hourly(r["occupancy_by_hour"]) for name, r in results.items()}
    legend = " ".join(f'<span style="color:{COLORS[n]}">&#9632; {n}</span>' for n in results)
    headline = {name: {k: r[k] for k in ("tickets", "unassigned", "sla_attainment",
                                         "sla_attainment_all", "wait_s", "fairness_min",
                                         "occupancy")}
                for name, r in results.items()}
    return ("<!doctype html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;"
            "margin:2em}pre{background:#f6f6f6;padding:1em}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><p>{legend}</p>"
            + _chart("Waiting tickets over the day", queue, "hour of day")
            + _chart("Wait by arrival hour, seconds (p50 solid, p90 dashed)", p50,
                     "hour of day", dashed=p90)
            + _chart("Fairness by hour (Jain's index of assignments per capacity-hour)",
                     fairness, "hour of day")
            + _chart("Occupancy by hour", occupancy, "hour of day")
            + f"<h2>Summary</h2><pre>{html.escape(json.dumps(headline, indent=2))}</pre>"
            "</body></html>")
