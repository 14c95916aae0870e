"""Regression cases: the demo's set, versions, export and import in the `eval assist` shape, and the cases that
come from real work (a resolved flag with a correction, an accepted reply, the gold lines of a ticket import)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from sqlite_utils import Database

from copilot.assist import regression
from copilot.assist.review import flag_output, resolve_flag
from copilot.assist.workspace import open_workspace
from copilot.cli import main
from copilot.errors import ValidationError
from copilot.evaluation.grounding import unsupported_sentences
from copilot.services import Services
from copilot.store import regression as cases_store
from copilot.store.tickets import find_ticket
from copilot.store.util import dumps


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


async def test_the_demo_set_is_the_demo_gold_seeded_once(services: Services) -> None:
    cases = await regression.list_cases(services, "demo")
    assert (
        len(cases) == 66 and {c.source for c in cases} == {"demo gold"} and {c.status for c in cases} == {"confirmed"}
    )
    three = next(c for c in cases if c.number == 3)
    assert three.expect["articles"] == ["billing-double-charge"] and three.ticket["subject"].startswith("CHARGED")
    assert three.kb_version.startswith("kb-") and three.workspace == "demo"
    assert await regression.ensure_demo_set(services) == 66  # nothing written twice
    assert len(await services.store.run(cases_store.case_versions, services.store.db, "demo", 3)) == 1


async def test_export_import_round_trip_and_a_changed_case_is_a_new_version(services: Services, tmp_path: Path) -> None:
    path = tmp_path / "demo.jsonl"
    assert await regression.export_cases(services, "demo", path) == 66
    first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    assert (
        first["gold"]["articles"] == ["getting-started-hub", "hub-offline"] and first["case"]["source"] == "demo gold"
    )
    assert await regression.import_cases(services, "copy", path, "demo") == (66, 0)
    assert await regression.import_cases(services, "copy", path, "demo") == (0, 66)
    lines = path.read_text(encoding="utf-8").splitlines()
    changed = json.loads(lines[0])
    changed["gold"]["must_not_include"] = ["factory reset", "reinstall"]
    path.write_text(json.dumps(changed) + "\n", encoding="utf-8")
    assert await regression.import_cases(services, "copy", path, "demo") == (1, 0)
    versions = await services.store.run(cases_store.case_versions, services.store.db, "copy", 1)
    assert [v.version for v in versions] == [1, 2] and versions[1].expect["must_not_include"][1] == "reinstall"
    copy = await regression.list_cases(services, "copy")
    assert len(copy) == 66 and next(c for c in copy if c.number == 1).version == 2


async def test_a_line_without_gold_is_refused(services: Services, tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps({"id": 5, "subject": "s", "customer": {"name": "A"},
                                "messages": [{"from": "customer", "body": "hello"}]}) + "\n")  # fmt: skip
    with pytest.raises(ValidationError, match="ticket 5 has no 'gold'"):
        await regression.import_cases(services, "x", path, "demo")


def _draft(db: Database, ticket_id: int, articles: list[str], at: str) -> int:
    cites = [{"n": i + 1, "article_id": a, "title": a, "version": 1} for i, a in enumerate(articles)]
    cur = db.execute(
        "INSERT INTO ai_outputs (ticket_id, task, engine, model, prompt_version, inputs_hash, payload, created_at) "
        "VALUES (?, 'draft', 'litellm', 'local/small', 'v1', 'h', ?, ?)",
        [ticket_id, dumps({"text": "Hi", "citations": cites}), at],
    )
    return int(cur.lastrowid or 0)


async def test_a_resolved_flag_with_a_correction_becomes_a_case(services: Services) -> None:
    await open_workspace(services, "demo")
    ticket = await services.store.run(find_ticket, services.store.db, "demo", 3)
    output = await services.store.run(_draft, services.store.db, ticket.id, ["billing-double-charge"], "2099-01-01")
    flag = await flag_output(services, output, target="draft:sentence:2", target_text="Happy to help!",
                             reason="incorrect", correction='Ask for the "last four digits" of the card.')  # fmt: skip
    with pytest.raises(ValidationError, match="resolved flag"):
        await regression.add_flag_case(services, flag, "weekly")
    await resolve_flag(services, flag, "prompt fixed")
    case = await regression.add_flag_case(services, flag, "weekly")
    assert (case.number, case.source, case.status) == (3, f"flag #{flag}", "confirmed")
    assert (
        case.expect
        == {
            "articles": ["billing-double-charge"],
            "must_not_include": ["Happy to help!"],
            "must_include": ["last four digits"],
            "intent": ticket.intent,
        }
        or not ticket.intent
    )
    assert case.expect["must_include"] == ["last four digits"] and case.note.startswith("Ask for")
    assert len(case.ticket["messages"]) == len(ticket.messages)  # the whole thread was there before the draft


async def test_accepted_replies_are_offered_as_candidates_a_lead_confirms(services: Services) -> None:
    await open_workspace(services, "demo")
    ids = {n: (await services.store.run(find_ticket, services.store.db, "demo", n)).id for n in (2, 4)}

    def seed(db: Database) -> None:
        for number, ratio in ((2, 0.1), (4, 0.6)):
            output = _draft(db, ids[number], ["invoice" if number == 2 else "pair-bulb"], "2099-01-01")
            db.execute(
                "INSERT INTO sent_replies (ticket_id, visibility, body, ai_draft, output_id, edit_ratio, sent_at) "
                "VALUES (?, 'public', 'x', 'draft', ?, ?, '2099-01-02')",
                [ids[number], output, ratio],
            )

    await services.store.run(seed, services.store.db)
    assert await regression.offer_accepted_replies(services, "demo", "weekly") == [2]
    assert await regression.offer_accepted_replies(services, "demo", "weekly") == []  # offered once
    assert await regression.list_cases(services, "weekly", "confirmed") == []  # not replayed before confirmation
    [candidate] = await regression.list_cases(services, "weekly", "candidate")
    assert candidate.expect["articles"] == ["invoice"] and candidate.source == "accepted reply"
    assert candidate.kb_version.startswith("kb-") and candidate.kb_version.endswith("; cited invoice@v1")
    assert await regression.confirm_cases(services, "weekly", []) == [2]
    assert [c.number for c in await regression.list_cases(services, "weekly", "confirmed")] == [2]


def test_gold_lines_of_a_ticket_import_become_cases(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    rows = [{"id": n, "subject": f"s{n}", "customer": {"name": "A"}, "messages": [{"from": "customer", "body": "hi"}],
             **({"gold": {"articles": ["invoice"]}} if n == 1 else {})} for n in (1, 2)]  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    code, _, err = cli("tickets", "import", str(path), "--workspace", "shop", "--set", "shop-cases")
    assert code == 0, err
    code, out, _ = cli("eval", "cases", "list", "--set", "shop-cases", "--json")
    [case] = json.loads(out)
    assert case["id"] == 1 and case["gold"] == {"articles": ["invoice"]} and case["case"]["source"] == "tickets import"
    code, out, _ = cli("eval", "cases", "list")
    assert "shop-cases" in out and "demo" in out


def test_unsupported_sentences_are_those_whose_words_no_source_has() -> None:
    passage = "Open Orders, choose the order and tap Download invoice."
    draft = ("Hi Dana, thanks for getting in touch! Open Orders, choose the order and tap Download invoice. "
             "We will refund you in full and send a gift voucher today.")  # fmt: skip
    assert unsupported_sentences(draft, [passage, "Dana Cole", "Where is my invoice?"]) == [
        "We will refund you in full and send a gift voucher today."
    ]
    assert unsupported_sentences("You'll find the full guide here: Download an invoice (https://x.example/a).",
                                 ["Download an invoice"]) == []  # fmt: skip


def test_eval_cases_edit_changes_only_what_is_given_and_a_deleted_case_stays_out() -> None:
    code, out, err = cli("eval", "cases", "edit", "--set", "demo", "2", "--no-article", "--must-not", "refund")
    assert code == 0, err
    assert (
        out
        == '#2 v2 of \'demo\' expects: no good article; says "Download invoice"; never "refund"; intent billing; also flags, sentiment\n'
    )
    code, out, err = cli("eval", "cases", "edit", "--set", "demo", "2", "--articles", "invoice,nope")
    assert code == 2 and "'nope' is not an article of 'demo'" in err and "Did you mean" not in err
    code, out, err = cli("eval", "cases", "edit", "--set", "demo", "2", "--any-article", "--must", "", "--intent", "")
    assert code == 0, err
    code, out, _ = cli("eval", "cases", "list", "--set", "demo", "--json")
    two = next(c for c in json.loads(out) if c["id"] == 2)
    assert two["gold"] == {"must_not_include": ["refund"], "sentiment": "neutral", "flags": []}
    assert two["case"]["version"] == 3 and two["case"]["source"] == "demo gold"
    code, _, err = cli("eval", "cases", "edit", "--set", "demo", "2", "--articles", "invoices")
    assert code == 2 and "Did you mean invoice?" in err and "kb search" in err
    code, _, err = cli("eval", "cases", "edit", "--set", "nosuch", "2", "--must", "x")
    assert code == 2 and "There is no regression set 'nosuch'" in err


async def test_a_deleted_case_leaves_the_set_and_undo_brings_it_back(services: Services) -> None:
    await regression.list_cases(services, "demo")
    gone = await regression.delete_case(services, "demo", 5)
    assert gone.status == cases_store.DELETED and gone.version == 2
    assert 5 not in [c.number for c in await regression.list_cases(services, "demo")]
    assert await regression.case_sets(services) == [("demo", 65, 0)]  # not seeded again
    with pytest.raises(Exception, match="has no case #5"):
        await regression.edit_case(services, "demo", 5, regression.Expectations(()))
    back = await regression.undo_case(services, "demo", 5, 1)
    assert (back.version, back.status) == (3, "confirmed")
    assert 5 in [c.number for c in await regression.list_cases(services, "demo")]
