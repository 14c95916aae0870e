"""`tickets import FILE --workspace W`: all or nothing, the bad line named; the tickets then list and assist."""

from __future__ import annotations

import io
import json
from pathlib import Path

from copilot.cli import main


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _ticket(number: int, body: str = "Where do I download the invoice for my order?") -> str:
    return json.dumps(
        {
            "id": number,
            "subject": f"Question {number}",
            "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
            "status": "open",
            "tags": [],
            "messages": [{"from": "customer", "body": body}],
        }
    )


def test_import_then_list_then_reimport_replaces(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(_ticket(1) + "\n" + _ticket(2) + "\n", encoding="utf-8")
    assert run("tickets", "import", str(path), "--workspace", "acme") == (0, "Imported 2 tickets into 'acme'.\n", "")
    code, out, _ = run("assist", "2", "--workspace", "acme", "--json")  # a file workspace has no help desk to open
    assert code == 0 and json.loads(out)["summary"][0]["text"] == "Where do I download the invoice for my order?"
    code, out, _ = run("assist", "2", "--workspace", "acme")
    assert code == 0 and "none: 'acme' has no knowledge-base articles" in out
    code, out, _ = run("tickets", "acme", "--json")
    assert code == 0 and sorted(t["number"] for t in json.loads(out)) == [1, 2]
    path.write_text(_ticket(2, "Changed my mind, where is my order?") + "\n", encoding="utf-8")
    assert run("tickets", "import", str(path), "--workspace", "acme")[0] == 0
    assert len(json.loads(run("tickets", "acme", "--json")[1])) == 2


def test_a_bad_line_imports_nothing(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(_ticket(1) + "\n" + '{"id": 2, "subject": "x"}\n', encoding="utf-8")
    code, _, err = run("tickets", "import", str(path), "--workspace", "acme")
    assert code == 2 and "t.jsonl, line 2" in err and "Nothing was imported" in err
    assert run("tickets", "acme")[0] == 2  # no such workspace: nothing was created


def test_import_needs_a_workspace(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(_ticket(1) + "\n", encoding="utf-8")
    code, _, err = run("tickets", "import", str(path))
    assert code == 2 and "--workspace" in err


def test_a_help_desk_workspace_is_refused_and_nothing_is_stored(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(_ticket(1, "Overwrite the demo's first ticket") + "\n", encoding="utf-8")
    code, _, err = run("tickets", "import", str(path), "--workspace", "demo")
    assert code == 2 and "gets its tickets from its help desk" in err and "--workspace" in err
    # Nothing stored: the demo is still empty, so its first open fills it from the demo help desk.
    assert run("tickets", "demo", "--json")[:2] == (0, "[]\n")


def test_one_ticket_is_counted_in_the_singular(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(_ticket(1) + "\n", encoding="utf-8")
    assert run("tickets", "import", str(path), "--workspace", "acme")[1] == "Imported 1 ticket into 'acme'.\n"


def test_articles_imported_first_then_tickets_open_as_one_workspace(tmp_path: Path) -> None:
    kb = tmp_path / "kb.jsonl"
    article = {"id": "invoice", "title": "Download an invoice", "body": "Open Orders and tap Download invoice."}
    kb.write_text(json.dumps(article) + "\n", encoding="utf-8")
    assert run("kb", "import", str(kb), "--workspace", "acme")[0] == 0  # the workspace starts with articles only
    path = tmp_path / "t.jsonl"
    path.write_text(_ticket(1) + "\n", encoding="utf-8")
    assert run("tickets", "import", str(path), "--workspace", "acme")[0] == 0
    code, out, err = run("assist", "1", "--workspace", "acme", "--json")
    assert code == 0, err
    assert json.loads(out)["suggestions"][0]["article_id"] == "invoice"
