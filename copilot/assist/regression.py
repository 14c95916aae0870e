"""Regression cases from real work: a resolved flag with a correction, a reply the agent sent nearly as drafted
(offered as a candidate a lead confirms), the `gold` lines of a ticket import, and the demo's own gold.
Cases are exported and imported as the JSON Lines `eval assist` reads (the ticket with an inline `gold`)."""

from __future__ import annotations

import asyncio
import difflib
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from copilot.assist.weekly_review import ACCEPTED_AT_MOST
from copilot.config.paths import resources_dir
from copilot.domain import Ticket
from copilot.errors import NotFoundError, ValidationError
from copilot.evaluation.assist import read_gold
from copilot.helpdesk.demo import DEMO_WORKSPACE
from copilot.helpdesk.ticket_file import TicketRecord, read_ticket_file, ticket_object
from copilot.services import Services
from copilot.store import outputs
from copilot.store import regression as cases_store
from copilot.store import tickets as ticket_store
from copilot.store.regression import CANDIDATE, CONFIRMED, CaseInput, RegressionCase

DEMO_SET = "demo"
_QUOTED = re.compile(r"[\"“]([^\"”]{3,120})[\"”]")


async def ensure_demo_set(services: Services) -> int:
    """The demo's set, seeded once from resources/demo (its tickets and gold.jsonl). Returns its size."""
    from copilot.assist.workspace import open_workspace

    existing = await services.store.run(cases_store.latest_cases, services.store.db, DEMO_SET)
    seeded = bool(existing) or await services.store.run(cases_store.set_exists, services.store.db, DEMO_SET)
    if seeded:
        return len(existing)  # seeded once: cases a lead deleted stay deleted
    demo = resources_dir() / "demo"
    gold = read_gold(demo / "gold.jsonl")
    records = [r for r in read_ticket_file(demo / "tickets.json") if r.ticket.number in gold]
    await open_workspace(services, DEMO_WORKSPACE)
    version = await services.store.run(cases_store.kb_version, services.store.db, DEMO_WORKSPACE)
    inputs = [
        CaseInput(DEMO_WORKSPACE, r.ticket.number, ticket_object(r.ticket), gold[r.ticket.number], "demo gold", version)
        for r in records
    ]
    await services.store.run(cases_store.add_cases, services.store.db, DEMO_SET, inputs, "demo")
    return len(inputs)


async def list_cases(services: Services, set_name: str, status: str = "") -> list[RegressionCase]:
    if set_name == DEMO_SET:
        await ensure_demo_set(services)
    return await services.store.run(cases_store.latest_cases, services.store.db, set_name, status)


async def case_sets(services: Services) -> list[tuple[str, int, int]]:
    await ensure_demo_set(services)
    return await services.store.run(cases_store.set_summaries, services.store.db)


def case_line(case: RegressionCase) -> dict[str, Any]:
    """One case as a line of `eval assist` input: the ticket, its `gold`, and where the case came from."""
    meta = {"set": case.set_name, "workspace": case.workspace, "version": case.version, "status": case.status,
            "source": case.source, "kb_version": case.kb_version, "note": case.note}  # fmt: skip
    return {**case.ticket, "gold": case.expect, "case": meta}


async def export_cases(services: Services, set_name: str, path: Path) -> int:
    cases = await list_cases(services, set_name)
    if not cases:
        raise NotFoundError(f"There is no regression set '{set_name}'.", "See `support-copilot eval cases list`.")
    text = "".join(json.dumps(case_line(c), ensure_ascii=False) + "\n" for c in cases)
    await asyncio.to_thread(path.write_text, text, encoding="utf-8")
    return len(cases)


async def import_cases(services: Services, set_name: str, path: Path, workspace: str) -> tuple[int, int]:
    """Cases from JSON Lines in the `eval assist` shape; every line is checked first and a line without `gold`
    is refused. Returns (new versions, unchanged)."""
    records = read_ticket_file(path)
    bare = [r.ticket.number for r in records if not r.gold]
    if bare:
        raise ValidationError(
            f"{path.name}: ticket {bare[0]} has no 'gold', so a replay could not tell right from wrong.",
            "Give each line a gold object (articles, intent, must_include, must_not_include).",
        )
    meta = _case_meta(path)
    version = await services.store.run(cases_store.kb_version, services.store.db, workspace)
    inputs = [
        CaseInput(
            workspace,
            r.ticket.number,
            ticket_object(r.ticket),
            r.gold,
            str(meta.get(r.ticket.number, {}).get("source") or f"import {path.name}"),
            str(meta.get(r.ticket.number, {}).get("kb_version") or version),
            note=str(meta.get(r.ticket.number, {}).get("note") or ""),
        )
        for r in records
    ]
    return await services.store.run(cases_store.add_cases, services.store.db, set_name, inputs, services.agent_name())


def _case_meta(path: Path) -> dict[int, dict[str, Any]]:
    """The `case` object of exported lines (source, KB version, note), by ticket number."""
    out: dict[int, dict[str, Any]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        obj = json.loads(line) if line.strip().startswith("{") else None
        if isinstance(obj, dict) and isinstance(obj.get("case"), dict):
            out[int(obj.get("id") or obj.get("number") or 0)] = obj["case"]
    return out


async def add_import_gold(services: Services, set_name: str, workspace: str, records: list[TicketRecord]) -> int:
    """The `gold` lines of a ticket import become cases of `set_name`. Returns how many had gold."""
    with_gold = [r for r in records if r.gold]
    if not with_gold:
        return 0
    version = await services.store.run(cases_store.kb_version, services.store.db, workspace)
    inputs = [
        CaseInput(workspace, r.ticket.number, ticket_object(r.ticket), r.gold, "tickets import", version)
        for r in with_gold
    ]
    await services.store.run(cases_store.add_cases, services.store.db, set_name, inputs, services.agent_name())
    return len(with_gold)


async def add_flag_case(services: Services, flag_id: int, set_name: str) -> RegressionCase:
    """A resolved flag with a correction becomes a case: the thread as it was answered, the flagged text as
    must-not-include, the draft's cited articles (less a flagged article), quoted phrases of the correction
    as must-include, and the ticket's intent when it is labelled."""

    def _build(db: Database) -> RegressionCase:
        flag = next((f for f in outputs.list_flags(db) if f.id == flag_id), None)
        if flag is None:
            raise NotFoundError(f"Flag {flag_id} does not exist.")
        if not flag.is_resolved or not flag.correction.strip():
            raise ValidationError(
                "Only a resolved flag with a correction can become a regression case.",
                "Write the correction when flagging, and resolve the flag first.",
            )
        output = outputs.get_output(db, flag.output_id)
        ticket = _as_answered(ticket_store.get_ticket(db, flag.ticket_id), output.created_at)
        expect: dict[str, Any] = {}
        draft = _draft_payload(db, flag.ticket_id, output.created_at) if output.task != "draft" else output.payload
        cited = [str(c["article_id"]) for c in (draft or {}).get("citations", [])]
        if flag.target.startswith("article:"):
            cited = [a for a in cited if a != flag.target.partition(":")[2]]
        if cited:
            expect["articles"] = cited
        if flag.target_text.strip() and not flag.target.startswith("article:"):
            expect["must_not_include"] = [flag.target_text.strip()]
        quoted = _QUOTED.findall(flag.correction)
        if quoted:
            expect["must_include"] = quoted
        if ticket.intent:
            expect["intent"] = ticket.intent
        case = CaseInput(
            ticket.workspace,
            ticket.number,
            ticket_object(ticket),
            expect,
            f"flag #{flag.id}",
            answered_with(cases_store.kb_version(db, ticket.workspace), draft),
            note=flag.correction.strip(),
        )
        cases_store.add_cases(db, set_name, [case], flag.resolved_by)
        return next(c for c in cases_store.latest_cases(db, set_name) if c.number == ticket.number)

    return await services.store.run(_build, services.store.db)


async def offer_accepted_replies(services: Services, workspace: str, set_name: str) -> list[int]:
    """Replies sent from an AI draft with edit ratio <= 0.2 whose ticket is not yet in the set become
    candidate cases (the thread before the reply, the draft's cited articles, the ticket's intent).
    Returns the new candidates' ticket numbers; `confirm_cases` turns them into cases."""

    def _offer(db: Database) -> list[int]:
        deleted = cases_store.latest_cases(db, set_name, cases_store.DELETED)  # a lead removed them: not again
        known = {c.number for c in [*cases_store.latest_cases(db, set_name), *deleted]}
        rows = db.execute(
            "SELECT s.ticket_id, s.output_id, s.sent_at FROM sent_replies s JOIN tickets t ON t.id = s.ticket_id "
            "WHERE t.workspace = ? AND s.ai_draft != '' AND s.edit_ratio <= ? ORDER BY s.sent_at",
            [workspace, ACCEPTED_AT_MOST],
        ).fetchall()
        version = cases_store.kb_version(db, workspace)
        inputs: dict[int, CaseInput] = {}
        for ticket_id, output_id, sent_at in rows:
            ticket = _as_answered(ticket_store.get_ticket(db, ticket_id), sent_at)
            if ticket.number in known or not ticket.messages:
                continue
            payload = outputs.get_output(db, output_id).payload if output_id else {}
            expect: dict[str, Any] = {"articles": [str(c["article_id"]) for c in payload.get("citations", [])]}
            if ticket.intent:
                expect["intent"] = ticket.intent
            inputs[ticket.number] = CaseInput(
                workspace,
                ticket.number,
                ticket_object(ticket),
                expect,
                "accepted reply",
                answered_with(version, payload),
                CANDIDATE,
            )
        cases_store.add_cases(db, set_name, list(inputs.values()))
        return sorted(inputs)

    return await services.store.run(_offer, services.store.db)


@dataclass(frozen=True)
class Expectations:
    """What a lead edits in a case: the article decision, the strings, the intent. Other gold keys
    (sentiment, flags) are kept as they were."""

    articles: tuple[str, ...] | None  # None: not checked; (): "no good article" is the right answer
    must_include: tuple[str, ...] = ()
    must_not_include: tuple[str, ...] = ()
    intent: str = ""

    @classmethod
    def of(cls, expect: dict[str, Any]) -> Expectations:
        articles = expect.get("articles")
        return cls(
            None if articles is None else tuple(str(a) for a in articles),
            tuple(str(s) for s in expect.get("must_include", [])),
            tuple(str(s) for s in expect.get("must_not_include", [])),
            str(expect.get("intent") or ""),
        )

    def applied_to(self, expect: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in expect.items() if k not in _EDITED}
        if self.articles is not None:
            out["articles"] = _clean(self.articles)
        for key, values in (("must_include", self.must_include), ("must_not_include", self.must_not_include)):
            if _clean(values):
                out[key] = _clean(values)
        if self.intent.strip():
            out["intent"] = self.intent.strip()
        return out


_EDITED = ("articles", "must_include", "must_not_include", "intent")


def _clean(values: tuple[str, ...]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if v.strip()))


def describe(expect: dict[str, Any]) -> str:
    """A case's expectations in a line: what a lead reads in the list."""
    e = Expectations.of(expect)
    parts = []
    if e.articles is not None:
        parts.append("cite " + " or ".join(e.articles) if e.articles else "no good article")
    parts += [f'says "{s}"' for s in e.must_include] + [f'never "{s}"' for s in e.must_not_include]
    if e.intent:
        parts.append(f"intent {e.intent}")
    others = sorted(set(expect) - set(_EDITED))
    return "; ".join(parts + (["also " + ", ".join(others)] if others else [])) or "nothing yet"


async def edit_case(services: Services, set_name: str, number: int, edited: Expectations) -> RegressionCase:
    """New expectations for a case, as its next version. Articles must be in the workspace's knowledge base,
    and a case must still expect something (else a replay could not tell right from wrong)."""

    def _edit(db: Database) -> RegressionCase:
        case = _newest(db, set_name, number)
        expect = edited.applied_to(case.expect)
        known = {str(r[0]) for r in db.execute("SELECT id FROM articles WHERE workspace = ?", [case.workspace])}
        unknown = [a for a in expect.get("articles", []) if a not in known]
        if unknown:
            close = difflib.get_close_matches(unknown[0], sorted(known), n=3, cutoff=0.6)
            guess = f"Did you mean {' or '.join(close)}? " if close else ""
            raise ValidationError(
                f"'{unknown[0]}' is not an article of '{case.workspace}'.",
                f"{guess}`support-copilot kb search WORDS` shows each article's id in [brackets].",
            )
        if not expect:
            raise ValidationError(
                "The case would expect nothing.", "Keep an article decision, a string, or the intent (or delete it)."
            )
        return cases_store.revise_case(db, set_name, number, expect=expect, by=services.agent_name())

    return await services.store.run(_edit, services.store.db)


async def delete_case(services: Services, set_name: str, number: int) -> RegressionCase:
    """Remove a case from the set (a new, deleted version: `undo_case` brings it back)."""

    def _delete(db: Database) -> RegressionCase:
        _newest(db, set_name, number)
        return cases_store.revise_case(db, set_name, number, status=cases_store.DELETED, by=services.agent_name())

    return await services.store.run(_delete, services.store.db)


async def undo_case(services: Services, set_name: str, number: int, version: int) -> RegressionCase:
    """Undo a deletion or an edit: the case as it was at `version` (the newest before the change) becomes its
    next version, so the history keeps every step."""

    def _undo(db: Database) -> RegressionCase:
        try:
            return cases_store.restore_case(db, set_name, number, version, services.agent_name())
        except KeyError:
            raise NotFoundError(f"Case #{number} of '{set_name}' has no version {version}.") from None

    return await services.store.run(_undo, services.store.db)


def _newest(db: Database, set_name: str, number: int) -> RegressionCase:
    versions = cases_store.case_versions(db, set_name, number)
    if not versions or versions[-1].status == cases_store.DELETED:
        raise NotFoundError(f"'{set_name}' has no case #{number}.", "See `support-copilot eval cases list --set NAME`.")
    return versions[-1]


async def confirm_cases(services: Services, set_name: str, numbers: list[int]) -> list[int]:
    return await services.store.run(cases_store.confirm_cases, services.store.db, set_name, numbers)


def answered_with(fingerprint: str, draft: dict[str, Any] | None) -> str:
    """The knowledge base's fingerprint now, and the versions of the articles the draft cited when it was
    written ("kb-1a2b3c4d5e; cited invoice@v3")."""
    cited = [
        f"{c['article_id']}@v{c.get('article_version', c.get('version', '?'))}"
        for c in (draft or {}).get("citations", [])
    ]
    return f"{fingerprint}; cited {', '.join(cited)}" if cited else fingerprint


def _as_answered(ticket: Ticket, moment: str) -> Ticket:
    """The thread as it stood when it was answered: messages written before `moment`."""
    before = tuple(m for m in ticket.messages if m.created_at < moment)
    return replace(ticket, messages=before or ticket.messages)


def _draft_payload(db: Database, ticket_id: int, until: str) -> dict[str, Any] | None:
    row = db.execute(
        "SELECT payload FROM ai_outputs WHERE ticket_id = ? AND task = 'draft' AND created_at <= ? "
        "ORDER BY created_at DESC, id DESC LIMIT 1",
        [ticket_id, until],
    ).fetchone()
    return json.loads(row[0]) if row else None


__all__ = ["CANDIDATE", "CONFIRMED", "DEMO_SET"]
