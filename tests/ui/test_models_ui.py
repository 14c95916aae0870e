"""Model output in the window: the built-in draft at once, the routed model's draft streaming in, Stop."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import qasync
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from copilot.helpdesk.ticket_file import ticket_object
from copilot.services import Services
from copilot.store import regression as cases_store
from copilot.store import usage
from copilot.store.tickets import find_ticket
from copilot.ui.main_window import MainWindow
from tests.llm_server import LLMServer
from tests.ui.conftest import demo_window

FORMAL = "Dear Mr Hale, we apologise for the double charge. Please send the card's last four digits [1]. Regards"
DRAFT = "Hi Marcus, sorry about the double charge. Send us the last four digits of the card [1]. Best, Sam"
SHOWN = DRAFT.replace(" [1]", "")  # the customer never gets citation markers; the agent sees the sources


def answer(body: dict[str, Any]) -> str:
    system = body["messages"][0]["content"]
    if system.startswith("You summarise"):
        return json.dumps(
            {"wants": "Money back for a double charge", "now": "Charged twice", "tried": "Emails", "next": "Refund"}
        )
    if system.startswith("You choose the intent"):
        return json.dumps({"intent": "billing", "confidence": 0.8})
    if system.startswith("You read"):
        return json.dumps({"sentiment": "negative", "urgency": "high", "reasons": ["third time"]})
    if system.startswith("You order"):
        return json.dumps({"order": [1, 2]})
    if system.startswith("You rewrite"):
        return FORMAL
    return DRAFT


@pytest.fixture
def window(qtbot: QtBot, qloop: qasync.QEventLoop, services: Services, llm: LLMServer) -> Iterator[MainWindow]:
    row = usage.ProviderRow("local", "openai_compatible", "Local test server", llm.api_base)
    services.store.run_sync(usage.save_provider, services.store.db, row)
    services.store.run_sync(services.settings.set, services.store.db, "models.cheap", "local/small")
    services.store.run_sync(services.settings.set, services.store.db, "models.frontier", "local/large")
    yield from demo_window(qtbot, qloop, services)


def _two_cases(services: Services) -> list[cases_store.CaseInput]:
    out = []
    for number, article in ((3, "billing-double-charge"), (2, "invoice")):
        ticket = services.store.run_sync(find_ticket, services.store.db, "demo", number)
        out.append(cases_store.CaseInput("demo", number, ticket_object(ticket), {"articles": [article]}, "test", "kb"))
    return out


def _open(w: MainWindow, number: int) -> None:
    ticket = w.services.store.run_sync(find_ticket, w.services.store.db, "demo", number)
    w.inbox.select_ticket(ticket.id)


def test_model_draft_streams_in_after_the_built_in_one(qtbot: QtBot, window: MainWindow, llm: LLMServer) -> None:
    w = window
    llm.script = []
    _open(w, 3)
    qtbot.waitUntil(lambda: w.panel.stop_button.isVisible(), timeout=20_000)
    qtbot.waitUntil(
        lambda: w.panel.editor.toPlainText() == SHOWN and not w.panel.stop_button.isVisible(), timeout=30_000
    )
    assert "Drafted by local/" in w.panel.draft_meta.text() and "frontier: refund request" in w.panel.draft_meta.text()
    assert "You were charged twice" in w.panel.citations.text()
    assert "Money back for a double charge" in w.panel.text()
    assert not w.presenter.shown


def test_stop_keeps_the_built_in_draft(qtbot: QtBot, window: MainWindow, llm: LLMServer) -> None:
    w = window
    slow = " ".join(["word"] * 200)
    llm.responder = lambda body: answer(body) if not body.get("stream") else slow
    llm.chunk_delay_s = 0.05  # 200 words: 10 s of streaming
    _open(w, 3)
    qtbot.waitUntil(lambda: w.result is not None and w.result.ticket.number == 3, timeout=20_000)
    built_in = w.result.draft.text if w.result else ""
    qtbot.waitUntil(lambda: w.panel.editor.toPlainText().startswith("word"), timeout=60_000)
    w.panel.stop_button.click()
    qtbot.waitUntil(lambda: w.panel.editor.toPlainText() == built_in, timeout=30_000)
    assert not w.panel.stop_button.isVisible() and not w.presenter.shown


def test_providers_dialog_tests_and_saves_then_usage_shows_the_cost(
    qtbot: QtBot, window: MainWindow, llm: LLMServer, memory_keyring: object
) -> None:
    from copilot.ui.dialogs.providers import ProvidersDialog
    from copilot.ui.dialogs.replay import ReplayDialog
    from copilot.ui.dialogs.usage import UsageDialog

    w = window
    dialog = ProvidersDialog(w, w.services, w.runner)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.list.count() == 1, timeout=30_000)  # the fixture's "local"
    dialog.clear_form()
    dialog.kind.setCurrentIndex(dialog.kind.findData("openai_compatible"))
    dialog.name.setText("lab")
    dialog.base.setText(llm.api_base)
    dialog.key.setText("sk-lab")
    dialog.model.setText("tiny")
    dialog.test_button.click()
    qtbot.waitUntil(lambda: dialog.status.text().startswith(("✔", "✘")), timeout=30_000)
    assert dialog.status.text().startswith("✔ lab/tiny answered in"), dialog.status.text()
    assert llm.requests[-1]["_auth"] == "Bearer sk-lab"
    dialog.use_for_tiers.setChecked(True)
    dialog.save_button.click()
    # No replay on record for lab/tiny: the dialog asks to run one first, and that opens the replay.
    qtbot.waitUntil(lambda: dialog.findChild(QMessageBox, "replayFirstBox") is not None, timeout=30_000)
    box = dialog.findChild(QMessageBox, "replayFirstBox")
    assert "lab/tiny has no replay on record" in box.text()
    next(b for b in box.buttons() if b.text() == "Run a replay first").click()
    qtbot.waitUntil(lambda: dialog.findChild(ReplayDialog) is not None, timeout=30_000)
    assert not w.services.settings.text("models.cheap").startswith("lab/tiny")  # not before the replay
    replay = dialog.findChild(ReplayDialog)
    assert replay.candidate.currentText() == "lab/tiny"
    w.services.store.run_sync(cases_store.add_cases, w.services.store.db, "two", _two_cases(w.services))
    replay.sets.clear()
    replay._fill_sets(w.services.store.run_sync(cases_store.set_summaries, w.services.store.db))
    replay.sets.setCurrentIndex(replay.sets.findData("two"))
    replay.run_button.click()
    qtbot.waitUntil(lambda: replay.report is not None, timeout=60_000)
    assert replay.status.text().startswith("Verdict: NOT WORSE") and replay.progress.value() == 100
    assert "lab/tiny" in replay.view.toPlainText() and "#3" in replay.view.toPlainText()
    dialog.save_button.click()  # a replay is on record now: no question
    qtbot.waitUntil(lambda: "serves the cheap and frontier tiers" in dialog.status.text(), timeout=30_000)
    assert w.services.settings.text("models.cheap").startswith("lab/tiny")

    _open(w, 3)
    qtbot.waitUntil(
        lambda: w.result is not None and w.result.routing.get("draft", {}).get("model") == "lab/tiny", timeout=30_000
    )
    usage = UsageDialog(w, w.services, w.runner)
    qtbot.addWidget(usage)
    usage.show()
    qtbot.waitUntil(lambda: "model calls" in usage.totals.text(), timeout=30_000)
    models = usage.tables["per_model"]
    assert any(models.item(r, 0).text() == "lab/tiny" for r in range(models.rowCount()))
    assert not w.presenter.shown


def test_the_summary_appears_while_the_model_writes_it(qtbot: QtBot, window: MainWindow, llm: LLMServer) -> None:
    w = window
    llm.chunk_delay_s = 0.03
    _open(w, 3)
    qtbot.waitUntil(lambda: "a model is writing the summary" in w.panel.status.text(), timeout=30_000)
    partial = w.panel.text()
    assert "Wants:" in partial and "Next: Refund" not in partial  # lines appear as they are written
    qtbot.waitUntil(lambda: not w.panel.stop_button.isVisible(), timeout=60_000)
    assert "Money back for a double charge" in w.panel.text() and "Next: Refund" in w.panel.text()
    assert "by local/small" in w.panel.status.text()


def test_rewrite_streams_into_the_editor_and_undo_brings_the_agents_text_back(
    qtbot: QtBot, window: MainWindow, llm: LLMServer
) -> None:
    w = window
    _open(w, 3)
    qtbot.waitUntil(lambda: w.panel.editor.toPlainText() == SHOWN and w.runner.idle, timeout=30_000)
    w.panel.editor.setPlainText("hi marcus, my bad, two charges. send digits. sam")
    mine = w.panel.editor.toPlainText()
    assert w.panel.rewrite_button.isEnabled()
    formal = next(a for a in w.panel.rewrite_menu.actions() if a.text() == "Rewrite in a formal tone")
    formal.trigger()
    qtbot.waitUntil(lambda: w.panel.editor.toPlainText() == FORMAL and w.runner.idle, timeout=30_000)
    assert "Rewritten (formal) by local/small" in w.panel.draft_meta.text()
    assert f"<reply>\n{mine}\n</reply>" == llm.requests[-1]["messages"][1]["content"]
    w.panel.editor.undo()
    assert w.panel.editor.toPlainText() == mine
    # A model that refuses: the agent's text stays, and the reason is shown.
    from tests.llm_server import Reply

    llm.script = [Reply(status=401, error_body={"error": {"message": "bad key", "type": "auth"}})] * 2  # both tiers
    w.panel.editor.setPlainText(mine + " thanks")  # new text: not answered from the cache
    formal.trigger()
    qtbot.waitUntil(lambda: bool(w.presenter.shown), timeout=30_000)
    assert w.panel.editor.toPlainText() == mine + " thanks"


def test_the_budget_banner_warns_at_80_percent(qtbot: QtBot, window: MainWindow) -> None:
    w = window
    db = w.services.store.db
    assert not w.banner.isVisible()
    w.services.store.run_sync(w.services.settings.set, db, "budget.monthly_usd", "10")
    w.services.store.run_sync(
        db.execute,
        "INSERT INTO model_calls (task, tier, model, cost_usd, outcome, created_at) "
        "VALUES ('draft', 'frontier', 'x', 8.2, 'ok', datetime('now'))",
    )
    w.refresh_budget()
    qtbot.waitUntil(w.banner.isVisible, timeout=30_000)
    assert w.banner.text().startswith("82% of this month's model budget spent")
