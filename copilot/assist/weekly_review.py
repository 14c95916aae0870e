"""The weekly review for team leads: the numbers that say whether the copilot helped this week more than last
(acceptance, edit ratio, flags per 100 AI outputs, "no good article" rate, cost per ticket, time to send), the
worst outputs of the week to click through, and the knowledge base's side (most cited, probably outdated, gaps).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlite_utils import Database

from copilot.assist.knowledge import KnowledgeGap, knowledge_gaps
from copilot.services import Services
from copilot.store import review as review_store

ACCEPTED_AT_MOST = 0.2  # an AI draft sent with at most this edit ratio counts as accepted
HEAVILY_EDITED = 0.5
UNCLEAR_BELOW = 0.6  # a best article under this confidence was not a clear match
WORST = 5


@dataclass(frozen=True)
class WeekFigures:
    week: str  # ISO week, "2026-W47"
    starts: str  # its Monday, YYYY-MM-DD
    ai_outputs: int
    drafts_sent: int
    acceptance: float | None  # share of AI drafts sent with edit ratio ≤ 0.2 (None: nothing sent)
    median_edit_ratio: float | None
    flags: int
    flags_per_100: float | None
    flags_by_reason: dict[str, int]
    flags_by_task: dict[str, int]
    flags_by_model: dict[str, int]
    suggestion_outputs: int
    no_article_rate: float | None
    cost_usd: float
    tickets: int  # tickets the copilot worked on
    cost_per_ticket: float | None
    median_minutes_to_send: float | None


@dataclass(frozen=True)
class WorstItem:
    kind: str  # flagged, most edited, lowest confidence, no article
    ticket_id: int
    ticket_number: int
    subject: str
    why: str


@dataclass(frozen=True)
class ArticleNote:
    article_id: str
    title: str
    citations: int
    why: str = ""


@dataclass(frozen=True)
class WeeklyReview:
    weeks: list[WeekFigures]
    worst: list[WorstItem]
    most_cited: list[ArticleNote]
    probably_outdated: list[ArticleNote]
    gaps: list[KnowledgeGap] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def iso_week(timestamp: str) -> tuple[str, str]:
    """("2026-W47", "2026-11-16") for an ISO-8601 time."""
    moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    year, week, weekday = moment.isocalendar()
    monday = (moment - timedelta(days=weekday - 1)).date().isoformat()
    return f"{year}-W{week:02d}", monday


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 4) if values else None


def _top_confidence(payload: dict[str, Any]) -> float:
    return max((float(item.get("confidence", 0.0)) for item in payload.get("items", [])), default=0.0)


def _minutes(opened: str, sent: str) -> float | None:
    if not opened:
        return None
    delta = datetime.fromisoformat(sent) - datetime.fromisoformat(opened)
    return delta.total_seconds() / 60


def compute_weeks(
    outputs: list[review_store.OutputRow],
    flags: list[review_store.FlagRow],
    sent: list[review_store.SentRow],
    costs: list[tuple[str, int | None, float]],
    min_confidence: float,
    weeks: list[tuple[str, str]],
) -> list[WeekFigures]:
    """The figures per week (pure: the same rows give the same figures)."""
    by_week: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for o in outputs:
        by_week[iso_week(o.created_at)[0]]["outputs"].append(o)
    for f in flags:
        by_week[iso_week(f.created_at)[0]]["flags"].append(f)
    for s in sent:
        by_week[iso_week(s.sent_at)[0]]["sent"].append(s)
    for c in costs:
        by_week[iso_week(c[0])[0]]["costs"].append(c)
    figures = []
    for week, monday in weeks:
        rows = by_week[week]
        outs, flg, snt, cst = rows["outputs"], rows["flags"], rows["sent"], rows["costs"]
        suggestions = [o for o in outs if o.task == "suggestions"]
        tickets = {o.ticket_id for o in outs} | {c[1] for c in cst if c[1] is not None}
        cost = round(sum(c[2] for c in cst), 6)
        minutes = [m for m in (_minutes(s.opened_at, s.sent_at) for s in snt) if m is not None]
        figures.append(
            WeekFigures(
                week=week,
                starts=monday,
                ai_outputs=len(outs),
                drafts_sent=len(snt),
                acceptance=_share(sum(1 for s in snt if s.edit_ratio <= ACCEPTED_AT_MOST), len(snt)),
                median_edit_ratio=_median([s.edit_ratio for s in snt]),
                flags=len(flg),
                flags_per_100=round(100 * len(flg) / len(outs), 2) if outs else None,
                flags_by_reason=dict(Counter(f.reason for f in flg).most_common()),
                flags_by_task=dict(Counter(f.task for f in flg).most_common()),
                flags_by_model=dict(Counter(f.model for f in flg).most_common()),
                suggestion_outputs=len(suggestions),
                no_article_rate=_share(
                    sum(1 for o in suggestions if _top_confidence(o.payload) < min_confidence), len(suggestions)
                ),
                cost_usd=cost,
                tickets=len(tickets),
                cost_per_ticket=round(cost / len(tickets), 6) if tickets else None,
                median_minutes_to_send=_median(minutes),
            )
        )
    return figures


def worst_of_week(
    outputs: list[review_store.OutputRow],
    flags: list[review_store.FlagRow],
    sent: list[review_store.SentRow],
    min_confidence: float,
    week: str,
) -> list[WorstItem]:
    """What a lead should open first: flagged outputs, the most edited drafts, the least sure suggestions, and
    tickets no article answered."""
    items = [
        WorstItem("flagged", f.ticket_id, f.ticket_number, f.subject, f"{f.task} flagged: {f.reason} ({f.model})")
        for f in flags
        if iso_week(f.created_at)[0] == week
    ][:WORST]
    edited = sorted(
        (s for s in sent if iso_week(s.sent_at)[0] == week and s.edit_ratio >= HEAVILY_EDITED),
        key=lambda s: -s.edit_ratio,
    )
    items += [
        WorstItem("most edited", s.ticket_id, s.ticket_number, s.subject, f"{s.edit_ratio:.0%} of the draft rewritten")
        for s in edited[:WORST]
    ]
    latest: dict[int, review_store.OutputRow] = {}
    for o in outputs:
        if o.task == "suggestions" and iso_week(o.created_at)[0] == week:
            latest[o.ticket_id] = o
    ranked = sorted(latest.values(), key=lambda o: _top_confidence(o.payload))
    unsure = [o for o in ranked if min_confidence <= _top_confidence(o.payload) < UNCLEAR_BELOW][:WORST]
    none = [o for o in ranked if _top_confidence(o.payload) < min_confidence][:WORST]
    items += [
        WorstItem(
            "lowest confidence",
            o.ticket_id,
            o.ticket_number,
            o.subject,
            f"best article {_top_confidence(o.payload):.0%}",
        )
        for o in unsure
    ]
    items += [
        WorstItem("no article", o.ticket_id, o.ticket_number, o.subject, f"best match {_top_confidence(o.payload):.0%}")
        for o in none
    ]
    return items


def article_side(
    outputs: list[review_store.OutputRow], flags: list[review_store.FlagRow], sent: list[review_store.SentRow]
) -> tuple[Counter[str], dict[str, str]]:
    """How often each article was cited in drafts, and why some look outdated (cited in a flagged or heavily
    edited draft)."""
    cited: Counter[str] = Counter()
    citations: dict[int, list[str]] = {}
    for o in outputs:
        if o.task == "draft":
            ids = [str(c["article_id"]) for c in o.payload.get("citations", [])]
            citations[o.id] = ids
            cited.update(set(ids))
    doubts: dict[str, str] = {}
    for f in flags:
        for article in citations.get(f.output_id, []):
            doubts.setdefault(article, f"cited in a draft flagged as {f.reason} (#{f.ticket_number})")
    for s in sent:
        if s.output_id is not None and s.edit_ratio >= HEAVILY_EDITED:
            for article in citations.get(s.output_id, []):
                doubts.setdefault(article, f"cited in a draft {s.edit_ratio:.0%} rewritten (#{s.ticket_number})")
    return cited, doubts


def _weeks_back(now: datetime, count: int) -> list[tuple[str, str]]:
    return [iso_week((now - timedelta(weeks=back)).isoformat()) for back in range(count - 1, -1, -1)]


def read_review(db: Database, workspace: str, weeks: int, min_confidence: float, now: datetime) -> WeeklyReview:
    span = _weeks_back(now, weeks)
    since = span[0][1]
    outputs = review_store.outputs_since(db, since, workspace)
    flags = review_store.flags_since(db, since, workspace)
    sent = review_store.sent_since(db, since, workspace)
    costs = review_store.model_costs_since(db, since, workspace)
    cited, doubts = article_side(outputs, flags, sent)
    titles = review_store.article_titles(db, workspace, sorted({*cited, *doubts}))
    return WeeklyReview(
        weeks=compute_weeks(outputs, flags, sent, costs, min_confidence, span),
        worst=worst_of_week(outputs, flags, sent, min_confidence, span[-1][0]),
        most_cited=[ArticleNote(a, titles.get(a, a), n) for a, n in cited.most_common(10)],
        probably_outdated=[ArticleNote(a, titles.get(a, a), cited[a], why) for a, why in sorted(doubts.items())],
    )


async def weekly_review(
    services: Services, workspace: str = "", *, weeks: int = 8, now: datetime | None = None
) -> WeeklyReview:
    """The last `weeks` ISO weeks up to `now`, for one workspace ("" = all), with its knowledge gaps."""
    moment = now or datetime.now(UTC)
    below = services.settings.suggest.min_confidence
    store = services.store
    review = await store.run(read_review, store.db, workspace, max(1, weeks), below, moment)
    gaps = await knowledge_gaps(services, workspace) if workspace else []
    return WeeklyReview(review.weeks, review.worst, review.most_cited, review.probably_outdated, gaps)
