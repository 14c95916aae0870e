"""Teaching triage from a file: a team's export of labelled past tickets joins its own labelled tickets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from copilot.app import Services
from copilot.assist.labels import example_counts, import_examples
from copilot.assist.ticket_assist import assist_builtin
from copilot.assist.workspace import open_workspace
from copilot.errors import ImportFileError
from copilot.store.tickets import find_ticket
from tests.test_cli import run

PHRASES = [
    "two identical payments left my account",
    "I see the same amount debited twice",
    "you billed me a second time for one order",
    "duplicate transaction on my statement",
    "my bank shows two charges for one purchase",
]


def _export(path: Path, count: int = 30) -> Path:
    rows = [
        {"id": f"old-{i}", "text": f"{PHRASES[i % len(PHRASES)]} ({i})", "label": "duplicate_charge"}
        for i in range(count)
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


async def test_imported_examples_teach_a_new_label(services: Services, tmp_path: Path) -> None:
    await open_workspace(services, "demo")
    ticket = await services.store.run(find_ticket, services.store.db, "demo", 3)  # "charged twice"
    before = await assist_builtin(services, ticket.id)
    assert "duplicate_charge" not in {label for label, _p in before.triage.candidates}
    assert await import_examples(services, _export(tmp_path / "export.jsonl"), "demo") == 30
    after = await assist_builtin(services, ticket.id)
    assert after.triage.intent == "duplicate_charge" or "duplicate_charge" in dict(after.triage.candidates)
    assert await example_counts(services, "demo") == {"duplicate_charge": 30}
    # The same ids again replace, they do not add; --replace forgets the earlier import.
    await import_examples(services, _export(tmp_path / "again.jsonl", 10), "demo")
    assert await example_counts(services, "demo") == {"duplicate_charge": 30}
    await import_examples(services, _export(tmp_path / "fresh.jsonl", 10), "demo", replace_all=True)
    assert await example_counts(services, "demo") == {"duplicate_charge": 10}


async def test_a_bad_line_names_itself_and_nothing_is_imported(services: Services, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "text": "fine", "label": "a"}\n{"id": 2, "text": "no label"}\n')
    with pytest.raises(ImportFileError, match="line 2: needs the fields id, text, label"):
        await import_examples(services, bad, "demo")
    empty_label = tmp_path / "empty.jsonl"
    empty_label.write_text('{"id": 1, "text": "fine", "label": " "}\n')
    with pytest.raises(ImportFileError, match=r"empty\.jsonl, line 1: label must be non-empty text"):
        await import_examples(services, empty_label, "demo")
    assert await example_counts(services, "demo") == {}


def test_cli_imports_and_lists(tmp_path: Path) -> None:
    code, out, _ = run("triage", "import", str(_export(tmp_path / "e.jsonl", 12)))
    assert code == 0 and "Imported 12 labelled examples into 'demo'" in out
    code, out, _ = run("triage", "labels", "--json")
    assert code == 0 and json.loads(out) == {"duplicate_charge": 12}
