"""Knowledge gaps: the tickets where the copilot had "No good article", grouped for a team lead."""

from __future__ import annotations

import json

from copilot.assist.knowledge import knowledge_gaps
from copilot.assist.ticket_assist import assist_builtin
from copilot.assist.workspace import open_workspace
from copilot.engine.text import asks_nothing
from copilot.services import Services
from copilot.store.tickets import find_ticket
from tests.test_cli import run


async def test_weak_best_matches_become_gaps_grouped_by_topic(services: Services) -> None:
    await open_workspace(services, "demo")
    assert await knowledge_gaps(services, "demo") == []  # nothing assisted yet: nothing known
    below = services.settings.number("suggest.min_confidence")
    weak, strong = [], []
    for number in range(20, 41):
        ticket = await services.store.run(find_ticket, services.store.db, "demo", number)
        result = await assist_builtin(services, ticket.id)
        best = max((s.confidence for s in result.suggestions), default=0.0)
        thanks = asks_nothing(ticket.customer_messages()[-1].body)  # #20 "Replacement arrived and works. Thanks"
        (weak if best < below and not thanks else strong).append((number, ticket.intent or "unlabelled"))
    assert weak and strong  # the demo has both
    gaps = await knowledge_gaps(services, "demo")
    assert sum(g.tickets for g in gaps) == len(weak)
    assert {g.topic for g in gaps} == {topic for _n, topic in weak}
    assert [g.tickets for g in gaps] == sorted((g.tickets for g in gaps), reverse=True)
    shown = {n for g in gaps for n, _subject in g.examples}
    assert shown <= {n for n, _t in weak} and not shown & {n for n, _t in strong}
    assert all(g.best_confidence < below for g in gaps)
    assert 20 not in shown


def test_cli_lists_gaps() -> None:
    assert run("assist", "29", "--json")[0] == 0  # a ticket the demo's articles do not cover
    code, out, _ = run("kb", "gaps", "--json")
    gaps = json.loads(out)
    assert code == 0 and any(29 in [n for n, _s in g["examples"]] for g in gaps)


async def test_a_thank_you_that_asks_nothing_is_no_gap(services: Services) -> None:
    await open_workspace(services, "demo")
    below = services.settings.number("suggest.min_confidence")
    for number in (55, 29):  # "Thank you!" (resolved) and a question the articles do not cover
        ticket = await services.store.run(find_ticket, services.store.db, "demo", number)
        result = await assist_builtin(services, ticket.id)
        assert max(s.confidence for s in result.suggestions) < below  # both had "No good article"
    shown = {n for g in await knowledge_gaps(services, "demo") for n, _subject in g.examples}
    assert shown == {29}
