"""Speed figures for the issue notes. They print; they never fail on a slow machine.

Run alone: QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest tests/perf -q -s
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from copilot.assist.ticket_assist import assist_sync, options_from
from copilot.evaluation.data import percentile, read_jsonl
from copilot.evaluation.vector_cache import ENV
from copilot.kb import retrieve
from copilot.kb.articles import ArticleInput, import_articles
from copilot.services import Services
from copilot.store.db import open_database
from copilot.store.tickets import all_tickets
from tests.conftest import REPO

pytestmark = pytest.mark.perf


def report(capsys: pytest.CaptureFixture[str], name: str, figures: dict[str, float | int]) -> None:
    with capsys.disabled():
        print(f"\nPERF {name}: " + json.dumps(figures))


async def test_assist_one_ticket_builtin(demo_services: Services, capsys: pytest.CaptureFixture[str]) -> None:
    services = demo_services  # the demo opened, with its vectors: the default path, hybrid suggestions
    opts = options_from(services, workspace="demo")
    db = services.store.db

    def measure() -> list[float]:
        tickets = all_tickets(db, "demo")
        assist_sync(db, tickets[0].id, opts, services.caches)  # warm the triage model once
        times = []
        for t in tickets:
            t0 = time.perf_counter()
            assist_sync(db, t.id, opts, services.caches)
            times.append((time.perf_counter() - t0) * 1000)
        return times

    times = await services.store.run(measure)
    report(capsys, "assist built-in per ticket, hybrid suggestions (ms)", {
        "tickets": len(times), "p50": round(percentile(times, 0.5), 1),
        "p95": round(percentile(times, 0.95), 1), "max": round(max(times), 1)})  # fmt: skip
    assert len(times) >= 60


def test_kb_search_on_2869_articles(eval_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = open_database(tmp_path / "kb.db")
    kb = read_jsonl(eval_dir / "kb-dstc11-faq.jsonl", ("id", "title", "body"))
    t0 = time.perf_counter()
    import_articles(db, "eval", [ArticleInput(str(r["id"]), r["title"], r["body"]) for r in kb], "perf")
    index_s = time.perf_counter() - t0
    queries = read_jsonl(eval_dir / "retrieval-dstc11-faq-dev.jsonl", ("id", "text", "gold"))
    whole, last = [], []
    counts = retrieve.TermCounts()  # as the app keeps one per workspace
    for q in queries:
        t0 = time.perf_counter()
        retrieve.search_text(db, q["text"], workspace="eval", limit=10, counts=counts)
        whole.append((time.perf_counter() - t0) * 1000)
        last_turn = [line for line in q["text"].splitlines() if line.startswith("Customer:")][-1]
        t0 = time.perf_counter()
        retrieve.search_text(db, last_turn, workspace="eval", limit=10, counts=counts)
        last.append((time.perf_counter() - t0) * 1000)
    db.conn.close()
    report(capsys, "kb search, 2,869 articles (ms)", {
        "index_s": round(index_s, 2), "whole_conversation_p50": round(percentile(whole, 0.5), 2),
        "whole_conversation_p95": round(percentile(whole, 0.95), 2), "last_turn_p50": round(percentile(last, 0.5), 2),
        "last_turn_p95": round(percentile(last, 0.95), 2)})  # fmt: skip
    assert len(whole) == 176


COLD_START = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import qasync
    from PySide6.QtWidgets import QApplication
    from copilot.app import build_services
    from copilot.ui.main_window import MainWindow

    async def until_painted(w):
        w.start()
        import asyncio
        while w.inbox.model.rowCount() == 0:
            await asyncio.sleep(0.002)
        w.inbox.table.viewport().repaint()
        print("PAINTED", time.time(), flush=True)
        # Then the longest stall of the event loop while the copilot panel fills for a ticket.
        gaps, last = [], [time.perf_counter()]
        from PySide6.QtCore import QTimer
        tick = QTimer(); tick.setInterval(5)
        def beat():
            now = time.perf_counter(); gaps.append(now - last[0]); last[0] = now
        tick.timeout.connect(beat); tick.start()
        for row in range(1, 11):
            w.session.result = None
            w.inbox.select_row(row)
            while w.result is None or not w.runner.idle:
                await asyncio.sleep(0.001)
        tick.stop()
        print("STALL_MS", round((max(gaps) - 0.005) * 1000, 1), flush=True)

    app = QApplication(sys.argv)
    services = build_services(Path(sys.argv[1]))
    loop = qasync.QEventLoop(app)
    w = MainWindow(services, "demo", loop)
    w.show()
    with loop:
        loop.run_until_complete(until_painted(w))
    """
)


def test_cold_start_and_gui_stall(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO)}
    env.pop(ENV, None)  # as a user's app starts: every vector encoded, none read from the suite's vector cache
    runs = []
    stall = 0.0
    for _ in range(3):  # the first run seeds the demo workspace; later runs are the everyday start
        t0 = time.time()
        out = subprocess.run(
            [sys.executable, "-c", COLD_START, str(tmp_path / "home")], capture_output=True, text=True,
            env=env, timeout=180, cwd=REPO,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        painted = float(next(line.split()[1] for line in out.stdout.splitlines() if line.startswith("PAINTED")))
        runs.append(round(painted - t0, 2))
        stall = max(
            stall, float(next(line.split()[1] for line in out.stdout.splitlines() if line.startswith("STALL_MS")))
        )
    report(capsys, "GUI", {"cold_start_first_run_s": runs[0], "cold_start_s": min(runs[1:]),
                           "longest_loop_stall_ms_while_panel_fills": stall})  # fmt: skip
    assert all(r > 0 for r in runs)


def test_hybrid_index_and_query(eval_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import tracemalloc

    from copilot.kb.articles import save_article
    from copilot.kb.encoder import load_embedder
    from copilot.kb.vectors import load_index, refresh_embeddings

    encoder = load_embedder()
    if encoder is None:
        pytest.skip("the local embedding model is not installed")
    db = open_database(tmp_path / "kb.db")
    kb = read_jsonl(eval_dir / "kb-dstc11-faq.jsonl", ("id", "title", "body"))
    import_articles(db, "eval", [ArticleInput(str(r["id"]), r["title"], r["body"]) for r in kb], "perf")
    tracemalloc.start()
    t0 = time.perf_counter()
    refresh_embeddings(db, encoder, "eval")
    build_s = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    dense = retrieve.Dense(encoder, load_index(db, "eval", encoder.name))
    counts = retrieve.TermCounts()
    queries = read_jsonl(eval_dir / "retrieval-dstc11-faq-dev.jsonl", ("id", "text", "gold"))
    times = []
    for q in queries:
        query = retrieve.WeightedQuery.from_parts(
            retrieve.conversation_parts(retrieve.turns_from_transcript(q["text"]))
        )
        t0 = time.perf_counter()
        retrieve.search(db, query, workspace="eval", limit=10, dense=dense, counts=counts)
        times.append((time.perf_counter() - t0) * 1000)
    first = kb[0]
    t0 = time.perf_counter()
    save_article(db, "eval", str(first["id"]), first["title"], first["body"] + " Updated.", "perf", "perf")
    refresh_embeddings(db, encoder, "eval")
    load_index(db, "eval", encoder.name)
    reindex_ms = (time.perf_counter() - t0) * 1000
    db.conn.close()
    report(capsys, "hybrid retrieval, 2,869 articles", {
        "embed_all_s": round(build_s, 1), "embed_peak_python_mb": round(peak / 2**20, 1),
"query_p50_ms": round(percentile(times, 0.5), 1),
        "query_p95_ms": round(percentile(times, 0.95), 1), "reindex_one_edit_ms": round(reindex_ms, 1)})  # fmt: skip
    assert len(times) == 176
