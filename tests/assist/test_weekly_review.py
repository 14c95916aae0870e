"""The weekly review on a seeded history whose answers are known: the numbers, the worst of the week, the
knowledge base's side, the CLI and the self-contained HTML report."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlite_utils import Database

from copilot.assist.conversation import open_ticket
from copilot.assist.weekly_report import render_html
from copilot.assist.weekly_review import iso_week, weekly_review
from copilot.assist.workspace import open_workspace
from copilot.cli import main
from copilot.services import Services
from copilot.store.tickets import find_ticket
from copilot.store.util import dumps

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday in ISO week 48


def _seed(db: Database, ids: dict[int, int]) -> None:
    def output(ticket: int, task: str, at: str, payload: dict[str, object]) -> int:
        cur = db.execute(
            "INSERT INTO ai_outputs (ticket_id, task, engine, model, prompt_version, inputs_hash, payload, created_at) "
            "VALUES (?, ?, 'litellm', 'local/small', 'v1', 'h', ?, ?)",
            [ids[ticket], task, dumps(payload), at],
        )
        return int(cur.lastrowid or 0)

    def draft(*articles: str) -> dict[str, object]:
        cites = [{"n": i + 1, "article_id": a, "title": a, "version": 1} for i, a in enumerate(articles)]
        return {"text": "Hi", "citations": cites}

    def sent(ticket: int, output_id: int, ratio: float, at: str) -> None:
        db.execute(
            "INSERT INTO sent_replies (ticket_id, visibility, body, ai_draft, output_id, edit_ratio, sent_at) "
            "VALUES (?, 'public', 'x', 'draft', ?, ?, ?)",
            [ids[ticket], output_id, ratio, at],
        )

    # Week 47: four outputs, one flag, two AI drafts sent (one accepted), two paid calls, two opens.
    a = output(1, "draft", "2026-11-17T10:05:00+00:00", draft("hub-setup"))
    b = output(2, "draft", "2026-11-17T11:05:00+00:00", draft("billing-double-charge"))
    output(1, "suggestions", "2026-11-17T10:05:00+00:00", {"items": [{"confidence": 0.9}]})
    output(2, "suggestions", "2026-11-17T11:05:00+00:00", {"items": [{"confidence": 0.1}]})
    db.execute(
        "INSERT INTO output_flags (output_id, ticket_id, target, target_text, reason, note, correction, flagged_by, "
        "created_at) VALUES (?, ?, 'draft', 'x', 'hallucination', '', '', 'lead', '2026-11-18T09:00:00+00:00')",
        [a, ids[1]],
    )
    for ticket, at in ((1, "2026-11-17T10:00:00+00:00"), (2, "2026-11-17T11:00:00+00:00")):
        db.execute("INSERT INTO ticket_opens (ticket_id, opened_at) VALUES (?, ?)", [ids[ticket], at])
    sent(1, a, 0.1, "2026-11-17T10:12:00+00:00")
    sent(2, b, 0.6, "2026-11-17T11:30:00+00:00")
    for ticket, cost in ((1, 0.01), (2, 0.03)):
        db.execute(
            "INSERT INTO model_calls (task, tier, model, cost_usd, ticket_id, outcome, created_at) "
            "VALUES ('draft', 'cheap', 'local/small', ?, ?, 'ok', '2026-11-17T10:06:00+00:00')",
            [cost, ids[ticket]],
        )
    # Week 48: a draft sent unchanged, and a ticket whose best article is unclear.
    c = output(3, "draft", "2026-11-24T09:00:00+00:00", draft("hub-setup"))
    output(3, "suggestions", "2026-11-24T09:00:00+00:00", {"items": [{"confidence": 0.5}, {"confidence": 0.3}]})
    sent(3, c, 0.0, "2026-11-24T09:20:00+00:00")


@pytest.fixture
async def seeded(services: Services) -> Services:
    await open_workspace(services, "demo")
    ids = {n: (await services.store.run(find_ticket, services.store.db, "demo", n)).id for n in (1, 2, 3)}
    await services.store.run(_seed, services.store.db, ids)
    return services


async def test_the_numbers_per_week_are_the_known_answers(seeded: Services) -> None:
    review = await weekly_review(seeded, "demo", weeks=3, now=NOW)
    assert [w.week for w in review.weeks] == ["2026-W46", "2026-W47", "2026-W48"]
    empty, last, this = review.weeks
    assert empty.ai_outputs == 0 and empty.acceptance is None and empty.flags_per_100 is None
    assert (last.ai_outputs, last.drafts_sent, last.flags) == (4, 2, 1)
    assert last.acceptance == 0.5 and last.median_edit_ratio == 0.35 and last.flags_per_100 == 25.0
    assert last.flags_by_reason == {"hallucination": 1} and last.flags_by_task == {"draft": 1}
    assert last.flags_by_model == {"local/small": 1}
    assert last.no_article_rate == 0.5  # 0.1 is under suggest.min_confidence (0.25)
    assert last.cost_usd == 0.04 and last.tickets == 2 and last.cost_per_ticket == 0.02
    assert last.median_minutes_to_send == 21.0  # 12 and 30 minutes from opening to sending
    assert (this.acceptance, this.median_edit_ratio, this.flags_per_100, this.no_article_rate) == (1.0, 0.0, 0.0, 0.0)
    assert this.median_minutes_to_send is None  # nobody opened ticket 3 in the app before sending


async def test_worst_of_the_week_and_the_knowledge_base_side(seeded: Services) -> None:
    review = await weekly_review(seeded, "demo", weeks=2, now=NOW)
    assert [(w.kind, w.ticket_number) for w in review.worst] == [("lowest confidence", 3)]
    cited = {a.article_id: a.citations for a in review.most_cited}
    assert cited == {"hub-setup": 2, "billing-double-charge": 1}
    doubts = {a.article_id: a.why for a in review.probably_outdated}
    assert doubts["hub-setup"] == "cited in a draft flagged as hallucination (#1)"
    assert doubts["billing-double-charge"] == "cited in a draft 60% rewritten (#2)"
    earlier = await weekly_review(seeded, "demo", weeks=1, now=datetime(2026, 11, 19, tzinfo=UTC))
    assert {w.kind for w in earlier.worst} == {"flagged", "most edited", "no article"}


async def test_opening_a_ticket_is_what_time_to_send_counts_from(services: Services) -> None:
    await open_workspace(services, "demo")
    ticket = await services.store.run(find_ticket, services.store.db, "demo", 4)
    await open_ticket(services, ticket.id)
    opens = services.store.db.execute("SELECT count(*) FROM ticket_opens WHERE ticket_id = ?", [ticket.id]).fetchone()
    assert opens[0] == 1


async def test_the_html_report_is_one_file_with_inline_charts_and_escaped_text(seeded: Services) -> None:
    seeded.store.db.execute("UPDATE tickets SET subject = '<img src=x onerror=alert(1)>' WHERE number = 3")
    page = render_html(await weekly_review(seeded, "demo", weeks=3, now=NOW))
    assert page.count('<svg class="chart"') == 4 and "<script" not in page.lower()
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "") and "https://" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "<img" not in page
    acceptance = page.split('id="chart-acceptance"')[1].split("</svg>")[0]
    assert acceptance.count("<circle") == 2  # weeks 47 and 48 have a value, week 46 has none


def test_review_week_from_the_command_line(tmp_path: Path) -> None:
    out = io.StringIO()
    report = tmp_path / "week.html"
    code = main(
        ["--home", str(tmp_path / "home"), "review", "week", "--weeks", "4", "--json", "--html", str(report)], out=out
    )
    data = json.loads(out.getvalue())
    assert (
        code == 0
        and len(data["weeks"]) == 4
        and data["weeks"][-1]["week"] == iso_week(datetime.now(UTC).isoformat())[0]
    )
    assert report.read_text(encoding="utf-8").startswith("<!doctype html>")


def test_review_week_in_text_leaves_out_weeks_without_work(tmp_path: Path) -> None:
    def week(*argv: str) -> str:
        out = io.StringIO()
        assert main(["--home", str(tmp_path / "home"), *argv], out=out) == 0
        return out.getvalue()

    fresh = week("review", "week")
    assert fresh.startswith("No reviews yet: in the last 8 weeks the copilot worked on no ticket.")
    assert "2026-W" not in fresh and "week      outputs" not in fresh
    week("assist", "3")
    worked = week("review", "week", "--workspace", "demo").splitlines()
    this_week = iso_week(datetime.now(UTC).isoformat())[0]
    assert worked[:2] == [
        "week      outputs  sent  accepted  median edit  flags/100  no article  cost/ticket",
        "(7 of the last 8 weeks had no copilot work and are left out)",
    ]
    row = worked[2].split()
    assert row[0] == this_week and int(row[1]) > 0 and row[2] == "0"  # outputs made, nothing sent yet
