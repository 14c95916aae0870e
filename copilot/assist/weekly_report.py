"""The weekly review as one self-contained HTML file a lead can mail: charts drawn inline as SVG, no scripts,
no remote loads, every text from tickets escaped."""

from __future__ import annotations

import html
from collections.abc import Callable

from copilot.assist.weekly_review import WeekFigures, WeeklyReview

CHARTS: tuple[tuple[str, str, Callable[[WeekFigures], float | None], str], ...] = (
    ("acceptance", "Acceptance (AI drafts sent nearly as written)", lambda w: w.acceptance, "share"),
    ("edit", "Median edit ratio", lambda w: w.median_edit_ratio, "share"),
    ("flags", "Flags per 100 AI outputs", lambda w: w.flags_per_100, "number"),
    ("noarticle", '"No good article" rate', lambda w: w.no_article_rate, "share"),
)
WIDTH, HEIGHT, PAD = 320, 120, 24


def _fmt(value: float | None, kind: str) -> str:
    if value is None:
        return "–"
    return f"{value:.0%}" if kind == "share" else f"{value:g}"


def chart_svg(name: str, weeks: list[WeekFigures], value: Callable[[WeekFigures], float | None], kind: str) -> str:
    """A small line chart: one point per week that has a value, the weeks along the bottom."""
    values = [value(w) for w in weeks]
    known = [v for v in values if v is not None]
    top = 1.0 if kind == "share" else max([*known, 1.0])
    step = (WIDTH - 2 * PAD) / max(1, len(weeks) - 1)
    points = [
        (PAD + i * step, HEIGHT - PAD - (v / top) * (HEIGHT - 2 * PAD)) for i, v in enumerate(values) if v is not None
    ]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3"/>' for x, y in points)
    labels = "".join(
        f'<text x="{PAD + i * step:.1f}" y="{HEIGHT - 6}" text-anchor="middle">{html.escape(w.week[-3:])}</text>'
        for i, w in enumerate(weeks)
    )
    return (
        f'<svg class="chart" id="chart-{name}" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" xmlns="http://www.w3.org/2000/svg">'
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" class="axis"/>'
        f'<polyline points="{line}" fill="none"/>{dots}{labels}</svg>'
    )


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>" if rows else "<p class='dim'>Nothing this time.</p>"


STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1100px; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 8px 12px; }
.card b { display: block; margin-bottom: 4px; } .now { font-size: 22px; }
svg.chart { display: block; margin-top: 4px; } svg.chart polyline { stroke: #1565c0; stroke-width: 2; }
svg.chart circle { fill: #1565c0; }
svg.chart .axis { stroke: #bbb; } svg.chart text { font-size: 10px; fill: #666; }
table { border-collapse: collapse; margin: 6px 0; } td, th { border-bottom: 1px solid #eee; padding: 4px 10px;
text-align: left; } .dim { color: #777; }
"""


def render_html(review: WeeklyReview, title: str = "Weekly review") -> str:
    weeks = review.weeks
    latest = weeks[-1] if weeks else None
    cards = "".join(
        f"<div class='card'><b>{html.escape(label)}</b>"
        f"<span class='now'>{_fmt(value(latest), kind) if latest else '–'}</span> "
        f"<span class='dim'>this week</span>{chart_svg(name, weeks, value, kind)}</div>"
        for name, label, value, kind in CHARTS
    )
    per_week = _table(
        ["week", "AI outputs", "drafts sent", "acceptance", "median edit", "flags/100", "no article", "cost/ticket",
         "minutes to send"],
        [
            [w.week, str(w.ai_outputs), str(w.drafts_sent), _fmt(w.acceptance, "share"),
             _fmt(w.median_edit_ratio, "share"), _fmt(w.flags_per_100, "number"), _fmt(w.no_article_rate, "share"),
             "–" if w.cost_per_ticket is None else f"${w.cost_per_ticket:.4f}",
             _fmt(None if w.median_minutes_to_send is None else round(w.median_minutes_to_send, 1), "number")]
            for w in weeks
        ],
    )  # fmt: skip
    flags_by = ""
    if latest and latest.flags:
        parts = [("reason", latest.flags_by_reason), ("task", latest.flags_by_task), ("model", latest.flags_by_model)]
        flags_by = "".join(
            f"<p><b>Flags by {what}:</b> {html.escape(', '.join(f'{k} {n}' for k, n in counts.items()))}</p>"
            for what, counts in parts
        )
    worst = _table(
        ["", "ticket", "subject", "why"],
        [[w.kind, f"#{w.ticket_number}", w.subject, w.why] for w in review.worst],
    )
    cited = _table(["article", "citations"], [[a.title, str(a.citations)] for a in review.most_cited])
    outdated = _table(["article", "why"], [[a.title, a.why] for a in review.probably_outdated])
    gaps = _table(
        ["topic", "tickets", "best match", "words"],
        [[g.topic, str(g.tickets), f"{g.best_confidence:.0%}", ", ".join(g.words)] for g in review.gaps],
    )
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
        f"<div class='charts'>{cards}</div><h2>Week by week</h2>{per_week}{flags_by}"
        f"<h2>Worst of the week</h2>{worst}<h2>Knowledge base</h2><h3>Most cited</h3>{cited}"
        f"<h3>Probably outdated</h3>{outdated}<h3>Gaps</h3>{gaps}</body></html>\n"
    )
