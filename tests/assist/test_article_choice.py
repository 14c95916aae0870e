"""'Use this article': the agent says which article answers a ticket, and the copilot lists and cites it."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from copilot.assist import knowledge
from copilot.assist.indexing import refresh_vectors
from copilot.assist.providers import save_provider
from copilot.assist.routing import assist_ticket, facts_of
from copilot.assist.tasks import passages, reranked
from copilot.assist.workspace import open_workspace
from copilot.errors import NotFoundError
from copilot.kb.articles import chosen_for
from copilot.services import Services
from copilot.store.tickets import find_ticket
from tests.conftest import MemoryKeyring
from tests.llm_server import LLMServer
from tests.test_cli import run


async def _ticket_id(services: Services, number: int, vectors: bool = True) -> int:
    await open_workspace(services, "demo")
    if vectors:  # as the app does after opening; the ranking's figures below are those with meaning search
        await refresh_vectors(services, "demo")
    return (await services.store.run(find_ticket, services.store.db, "demo", number)).id


def _feedback(services: Services, ticket_id: int) -> list[tuple[str, str]]:
    rows = services.store.run_sync(
        lambda db: db.execute(
            "SELECT article_id, verdict FROM article_feedback WHERE ticket_id = ? ORDER BY id", [ticket_id]
        ).fetchall(),
        services.store.db,
    )
    return [(str(a), str(v)) for a, v in rows]


async def test_a_chosen_article_under_the_line_is_first_and_grounds_the_draft(services: Services) -> None:
    ticket_id = await _ticket_id(services, 12)  # a return: the ranking puts "Return a product" under the line
    line = services.settings.suggest.min_confidence
    before = await assist_ticket(services, ticket_id)
    returns = next(s for s in before.suggestions if s.article_id == "returns")
    assert returns.confidence < line and not before.draft.grounded and not returns.chosen

    await knowledge.choose_article(services, ticket_id, "returns")
    after = await assist_ticket(services, ticket_id)
    first = after.suggestions[0]
    assert first.article_id == "returns" and first.chosen
    assert first.confidence == returns.confidence  # the ranking's own figure, not a made-up one
    assert [s.article_id for s in after.suggestions if s.chosen] == ["returns"]
    assert after.draft.grounded and after.draft.citations[0].article_id == "returns"
    assert "Return a product" in after.draft.text and "checking this with the team" not in after.draft.text
    assert after.draft.note.startswith("Grounded on “Return a product”, the article you chose (the copilot ranked it")
    # Provenance says so: both outputs are new (a cached draft from before the choice is never reused).
    assert after.output_ids["suggestions"] != before.output_ids["suggestions"]
    assert after.output_ids["draft"] != before.output_ids["draft"]
    assert after.provenance["draft"].inputs_hash != before.provenance["draft"].inputs_hash
    # With a model tier: a re-rank keeps it first, and the draft's prompt may cite it although under the line.
    assert reranked(after, [3, 2, 1]).suggestions[0] == first
    assert [s.article_id for s in reranked(after, [3, 2, 1]).suggestions[1:3]] == [
        after.suggestions[2].article_id,
        after.suggestions[1].article_id,
    ]
    assert passages(after, line)[0][1] == "returns"
    assert facts_of(before).retrieval_confidence < line and facts_of(after).retrieval_confidence == 1.0  # no re-rank
    unchosen = replace(after, suggestions=(replace(first, chosen=False), *after.suggestions[1:]))
    assert "returns" not in {p[1] for p in passages(unchosen, line)}

    # "Don't use": the ranking decides again, and the earlier outputs are the ones shown again.
    assert await knowledge.clear_article_choice(services, ticket_id) == "returns"
    cleared = await assist_ticket(services, ticket_id)
    assert not any(s.chosen for s in cleared.suggestions) and not cleared.draft.grounded
    assert cleared.output_ids == before.output_ids
    assert await knowledge.clear_article_choice(services, ticket_id) == ""  # nothing left to undo


async def test_choosing_another_replaces_the_choice_and_an_unlisted_article_comes_first(services: Services) -> None:
    ticket_id = await _ticket_id(services, 12)
    listed = {s.article_id for s in (await assist_ticket(services, ticket_id)).suggestions}
    assert "warranty-claim" not in listed
    await knowledge.choose_article(services, ticket_id, "returns")
    await knowledge.choose_article(services, ticket_id, "warranty-claim")
    assert _feedback(services, ticket_id) == [("warranty-claim", "chosen")]
    result = await assist_ticket(services, ticket_id)
    assert result.suggestions[0].article_id == "warranty-claim" and result.suggestions[0].chosen
    assert len(result.suggestions) == services.settings.suggest.count
    assert [s.article_id for s in result.suggestions].count("warranty-claim") == 1
    assert result.draft.citations[0].article_id == "warranty-claim"


async def test_hiding_the_chosen_article_clears_the_choice_and_choosing_shows_it_again(services: Services) -> None:
    ticket_id = await _ticket_id(services, 12)
    await knowledge.choose_article(services, ticket_id, "returns")
    await knowledge.mark_not_relevant(services, "returns", ticket_id)
    assert _feedback(services, ticket_id) == [("returns", "not_relevant")]
    hidden = await assist_ticket(services, ticket_id)
    assert "returns" not in {s.article_id for s in hidden.suggestions}
    await knowledge.choose_article(services, ticket_id, "returns")  # the agent changed their mind
    assert _feedback(services, ticket_id) == [("returns", "chosen")]
    assert (await assist_ticket(services, ticket_id)).suggestions[0].article_id == "returns"


async def test_an_unknown_article_is_refused_and_nothing_is_written(services: Services) -> None:
    ticket_id = await _ticket_id(services, 12, vectors=False)
    await knowledge.choose_article(services, ticket_id, "returns")
    with pytest.raises(NotFoundError):
        await knowledge.choose_article(services, ticket_id, "no-such-article")
    assert _feedback(services, ticket_id) == [("returns", "chosen")]
    with pytest.raises(NotFoundError):
        await knowledge.choose_article(services, 999_999, "returns")


RESET_STEP = "2. Go to **Settings > Advanced > Factory reset**."
FIXED_STEP = "2. Go to **Devices > Hub > Remove and reset**."


async def test_a_correction_saved_from_a_ticket_is_what_its_next_draft_cites(services: Services) -> None:
    ticket_id = await _ticket_id(services, 11)  # "Factory reset option not in the app"
    article = await knowledge.get_article(services, "demo", "factory-reset-hub")
    assert RESET_STEP in article.body
    fixed = article.body.replace(RESET_STEP, FIXED_STEP)
    await knowledge.save_article(
        services, "demo", article.id, article.title, fixed, "The menu moved", ticket_id=ticket_id
    )
    assert services.store.run_sync(chosen_for, services.store.db, ticket_id) == "factory-reset-hub"
    result = await assist_ticket(services, ticket_id)
    first = result.suggestions[0]
    assert first.article_id == "factory-reset-hub" and first.chosen and first.article_version == 2
    assert result.draft.grounded and result.draft.citations[0].article_id == "factory-reset-hub"
    assert "Devices > Hub > Remove and reset" in result.draft.text
    # A correction saved elsewhere (no ticket) chooses nothing.
    other = await _ticket_id(services, 12)
    refund = await knowledge.get_article(services, "demo", "refund-policy")
    await knowledge.save_article(services, "demo", refund.id, refund.title, refund.body + "\n\nMore.", "Clearer")
    assert services.store.run_sync(chosen_for, services.store.db, other) == ""


async def test_a_failed_save_from_a_ticket_chooses_nothing(services: Services) -> None:
    from copilot.errors import ValidationError

    ticket_id = await _ticket_id(services, 11, vectors=False)
    article = await knowledge.get_article(services, "demo", "factory-reset-hub")
    with pytest.raises(ValidationError):  # nothing changed
        await knowledge.save_article(
            services, "demo", article.id, article.title, article.body, "No change", ticket_id=ticket_id
        )
    assert _feedback(services, ticket_id) == []


async def test_a_ticket_with_a_chosen_article_is_no_gap(services: Services) -> None:
    ticket_id = await _ticket_id(services, 12)
    await assist_ticket(services, ticket_id)
    gaps = await knowledge.knowledge_gaps(services, "demo")
    assert 12 in {n for g in gaps for n, _s in g.examples}
    await knowledge.choose_article(services, ticket_id, "returns")
    gaps = await knowledge.knowledge_gaps(services, "demo")  # before the next assist, too
    assert 12 not in {n for g in gaps for n, _s in g.examples} and sum(g.tickets for g in gaps) == 0


def test_cli_sets_and_clears_the_choice() -> None:
    code, out, err = run("assist", "12", "--use-article", "returns", "--json")
    assert code == 0, err
    first = json.loads(out)["suggestions"][0]
    assert first["article_id"] == "returns" and first["chosen"] is True
    code, out, _ = run("assist", "12", "--use-article", "returns")
    assert code == 0 and "chosen by you (ranked" in out and "Return a product" in out
    code, out, _ = run("assist", "12", "--clear-article", "--json")
    assert code == 0 and not any(s["chosen"] for s in json.loads(out)["suggestions"])
    code, _, err = run("assist", "12", "--use-article", "no-such-article")
    assert code != 0 and "no-such-article" in err and "Traceback" not in err


async def test_a_model_drafting_is_given_the_chosen_article_and_its_citation_kept(
    services: Services, llm: LLMServer, memory_keyring: MemoryKeyring
) -> None:
    """With a model for the draft: the prompt carries the chosen article's passage although it is under the line,
    its [1] marker becomes the draft's citation, and no model is paid to re-order the suggestions under it."""
    llm.responder = lambda body: (
        "Hi Sophie, you can return it: sign in, open Orders and choose Return items [1]. Best, Sam"
        if "Article passages you may cite" in body["messages"][-1]["content"]
        else "{}"
    )
    await save_provider(services, "local", "openai_compatible", llm.api_base, "sk-local")
    await services.store.run(services.settings.set, services.store.db, "models.cheap", "local/small")
    await services.store.run(services.settings.set, services.store.db, "models.frontier", "local/large")
    ticket_id = await _ticket_id(services, 12)
    await knowledge.choose_article(services, ticket_id, "returns")
    result = await assist_ticket(services, ticket_id)
    asked = [r for r in llm.requests if "Article passages you may cite" in r["messages"][-1]["content"]]
    assert len(asked) == 1 and "[1] Return a product:" in asked[0]["messages"][-1]["content"]
    assert result.draft.citations[0].article_id == "returns" and "[1]" not in result.draft.text
    assert not any(r["messages"][0]["content"].startswith("You order knowledge-base articles") for r in llm.requests)
    assert result.suggestions[0].chosen and result.suggestions[0].article_id == "returns"
