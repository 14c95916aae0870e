"""What routing through models costs in time and money. Prints figures; never fails on a slow machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from copilot.assist.routing import facts_of, messages_for
from copilot.assist.tasks import PER_TICKET, TaskInputs
from copilot.assist.ticket_assist import assist_builtin
from copilot.assist.workspace import open_workspace
from copilot.llm import prompts
from copilot.llm.catalog import Provider, resolve
from copilot.llm.client import ModelClient, load_litellm
from copilot.llm.router import route
from copilot.services import Services
from copilot.store.tickets import all_tickets
from tests.llm_server import LLMServer

pytestmark = pytest.mark.perf
REPO = Path(__file__).resolve().parents[2]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(capsys: pytest.CaptureFixture[str], title: str, data: dict[str, object]) -> None:
    with capsys.disabled():
        print(f"\nPERF {title}: {json.dumps(data)}")


@pytest.fixture
async def litellm_loaded() -> None:
    """litellm imported in the set-up (seconds of imports, not what the test measures: under xdist a perf test
    holds the machine alone only while it measures, its call)."""
    await load_litellm()


async def test_overhead_per_streamed_call(litellm_loaded: None, capsys: pytest.CaptureFixture[str]) -> None:
    """First token shown (our on_delta) minus the server's first byte: what litellm and the app add."""
    server = LLMServer()
    server.responder = lambda body: "Thanks for writing, here is what to do next."
    try:
        model = resolve("local/m", {"local": Provider("local", "openai_compatible", "Local", server.api_base)})
        assert model is not None
        client = ModelClient(lambda pid: "sk")
        await load_litellm()
        overhead: list[float] = []
        for i in range(21):
            shown: list[float] = []

            def first_piece(piece: str, shown: list[float] = shown) -> None:
                if not shown:
                    shown.append(time.time())

            await client.complete([model], [{"role": "user", "content": "hi"}], on_delta=first_piece)
            if i:  # the first call warms litellm's HTTP client
                overhead.append((shown[0] - server.first_byte_at[-1]) * 1000)
        report(capsys, "model call overhead, first token shown minus server's first byte (ms)",
               {"calls": len(overhead), "p50": round(percentile(overhead, 0.5), 2), "p95": round(percentile(overhead, 0.95), 2)})  # fmt: skip
        assert len(overhead) == 20
    finally:
        server.close()


STREAMS = textwrap.dedent(
    """
    import asyncio, sys, time
    import qasync
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QPlainTextEdit
    from copilot.llm.catalog import Provider, resolve
    from copilot.llm.client import ModelClient, load_litellm

    async def main():
        await load_litellm()
        model = resolve("local/m", {"local": Provider("local", "openai_compatible", "Local", sys.argv[1])})
        client = ModelClient(lambda pid: "sk")
        await client.complete([model], [{"role": "user", "content": "warm up"}])
        editors = [QPlainTextEdit() for _ in range(3)]
        for e in editors:
            e.show()
        gaps, last = [], [time.perf_counter()]
        tick = QTimer(); tick.setInterval(5)
        def beat():
            now = time.perf_counter(); gaps.append(now - last[0]); last[0] = now
        tick.timeout.connect(beat); tick.start()
        def sink(editor):
            return lambda piece: editor.insertPlainText(piece)
        started = time.perf_counter()
        await asyncio.gather(*(client.complete([model], [{"role": "user", "content": f"stream {i}"}], on_delta=sink(e)) for i, e in enumerate(editors)))
        tick.stop()
        print("STREAMS_S", round(time.perf_counter() - started, 2), flush=True)
        print("STALL_MS", round((max(gaps) - 0.005) * 1000, 1), flush=True)
        print("CHARS", sum(len(e.toPlainText()) for e in editors), flush=True)

    app = QApplication(sys.argv)
    loop = qasync.QEventLoop(app)
    with loop:
        loop.run_until_complete(main())
    """
)


def test_gui_stall_during_three_concurrent_streams(capsys: pytest.CaptureFixture[str]) -> None:
    server = LLMServer()
    server.responder = lambda body: " ".join(f"word{i}" for i in range(150))
    server.chunk_delay_s = 0.01
    try:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO)}
        out = subprocess.run(
            [sys.executable, "-c", STREAMS, server.api_base],
            capture_output=True,
            text=True,
            env=env,
            timeout=180,
            cwd=REPO,
        )
        assert out.returncode == 0, out.stderr
        lines = dict(line.split(" ", 1) for line in out.stdout.splitlines() if " " in line)
        report(
            capsys,
            "GUI during three concurrent streams",
            {"streams_s": float(lines["STREAMS_S"]), "longest_loop_stall_ms": float(lines["STALL_MS"])},
        )
        assert int(lines["CHARS"]) > 3 * 150 * 4
    finally:
        server.close()


# Typical answer lengths (tokens) for each task; input tokens are counted on the real prompts.
OUTPUT_TOKENS = {"summary": 90, "signals": 50, "triage": 20, "rerank": 15, "draft": 220, "tags": 15}


@pytest.mark.untimed  # dollars, not seconds: it needs no machine alone
async def test_cost_of_routing_versus_frontier_only(services: Services, capsys: pytest.CaptureFixture[str]) -> None:
    """Every model task on every demo ticket: routed (table defaults) versus all on the frontier tier."""
    litellm = await load_litellm()
    await open_workspace(services, "demo")
    tickets = await services.store.run(all_tickets, services.store.db, "demo")
    tiers = {"cheap": ["openai/gpt-4o-mini"], "frontier": ["openai/gpt-4o"]}
    litellm_name = {"openai/gpt-4o-mini": "gpt-4o-mini", "openai/gpt-4o": "gpt-4o"}
    routed = frontier = 0.0
    counts = {"cheap": 0, "frontier": 0, "built-in": 0}
    for ticket in tickets:
        result = await assist_builtin(services, ticket.id)
        facts = facts_of(result)
        inputs = TaskInputs("English", "friendly", "Sam", 0.0)
        for declared in PER_TICKET:
            task = declared.name
            values = inputs.values(result)
            messages = messages_for(declared, result, values, None, declared.context(result, inputs))
            tokens_in = litellm.token_counter(model="gpt-4o", messages=messages)
            r = route(task, facts, tiers, default_tier=declared.tier)
            counts[r.tier] += 1

            def cost(ref: str, tokens_in: int = tokens_in, task: str = task) -> float:
                cin, cout = litellm.cost_per_token(
                    model=litellm_name[ref], prompt_tokens=tokens_in, completion_tokens=OUTPUT_TOKENS[task]
                )
                return float(cin + cout)

            routed += 0.0 if r.built_in else cost(r.models[0])
            frontier += cost("openai/gpt-4o")
    report(capsys, f"cost of every task on the {len(tickets)} demo tickets (USD, gpt-4o-mini vs gpt-4o prices)", {
        "routed": round(routed, 4), "all_frontier": round(frontier, 4), "saving": f"{1 - routed / frontier:.0%}",
        "calls_by_tier": counts, "prompt_versions": [prompts.load(t.name).version for t in PER_TICKET]})  # fmt: skip
    assert frontier > routed > 0
