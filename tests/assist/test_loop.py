"""The copilot loop on the demo workspace, through the same use cases the GUI and CLI call."""

from __future__ import annotations

import pytest

from copilot.assist import conversation, knowledge, review
from copilot.assist.indexing import refresh_vectors
from copilot.assist.routing import assist_ticket
from copilot.assist.workspace import open_workspace
from copilot.errors import ValidationError
from copilot.services import Services
from copilot.store.outputs import FlagQuery, get_output
from copilot.store.tickets import InboxFilter, find_ticket


async def _ticket_id(services: Services, number: int) -> int:
    await open_workspace(services, "demo")
    await refresh_vectors(services, "demo")  # as the app does in the background after opening
    t = await services.store.run(find_ticket, services.store.db, "demo", number)
    return t.id


async def test_demo_workspace_seeds_once_with_badges(services: Services) -> None:
    assert await open_workspace(services, "demo") >= 60
    assert await open_workspace(services, "demo") >= 60  # second open: no duplicates
    rows = await conversation.list_inbox(services, "demo", InboxFilter())
    assert len(rows) == len({r.number for r in rows}) >= 60
    urgent = await conversation.list_inbox(services, "demo", InboxFilter(urgent_only=True))
    assert urgent and all(r.urgent for r in urgent)
    found = await conversation.list_inbox(services, "demo", InboxFilter(query="chargeb"))
    assert [r.number for r in found] == [3]


async def test_assist_gives_everything_with_provenance(services: Services) -> None:
    result = await assist_ticket(services, await _ticket_id(services, 3))
    assert {f.kind for f in result.flags} >= {"legal_threat", "churn_risk", "asks_for_human", "frustration"}
    assert result.suggestions[0].article_id == "billing-double-charge"
    assert result.draft.grounded and result.draft.citations[0].article_id == "billing-double-charge"
    assert result.draft.text.startswith("Hi Marcus,")
    assert result.triage.priority in {"high", "urgent"}
    out = await services.store.run(get_output, services.store.db, result.output_ids["draft"])
    assert out.provenance.engine == "built-in" and out.provenance.prompt_version.startswith("draft-")
    assert out.payload["text"] == result.draft.text
    again = await assist_ticket(services, result.ticket.id)
    assert again.output_ids == result.output_ids  # identical inputs reuse the stored outputs


async def test_unanswerable_question_says_so(services: Services) -> None:
    # Conflict minerals and a supplier code of conduct: no article covers it. (#9, bulbs in a sauna, is one the
    # calibrated confidence still gets wrong: "Colours or whites look wrong" at 0.51, just over the 0.5 line.)
    result = await assist_ticket(services, await _ticket_id(services, 33))
    assert not result.draft.grounded and result.draft.citations == ()
    assert "checking this with the team" in result.draft.text


async def test_the_suggestions_say_what_ranked_them(services: Services) -> None:
    """Keywords alone for a ticket the meaning model cannot read, said beside the suggestions (and in the panel)."""
    from copilot.ui.widgets.panel_html import SectionRenderer

    spanish = await assist_ticket(services, await _ticket_id(services, 15))
    english = await assist_ticket(services, await _ticket_id(services, 2))
    assert spanish.provenance["suggestions"].model.startswith("keywords only: the meaning model reads English")
    # English: meaning too, or keywords while the demo's articles are still being indexed (no local model: said so).
    assert english.provenance["suggestions"].model in (
        "keywords and meaning",
        "keywords only: articles are still being indexed for meaning search",
        "keywords only: no local meaning model is installed",
    )

    def ignore(*_args: object) -> None:
        return None

    html = SectionRenderer(ignore, ignore, ignore, ignore, ignore, ignore)._articles_html(spanish, 0.5)
    assert "Ranked by keywords only: the meaning model reads English" in html


async def test_a_thank_you_gets_a_short_reply_without_an_article(services: Services) -> None:
    result = await assist_ticket(services, await _ticket_id(services, 55))  # "Thank you!": asks for nothing
    assert result.draft.citations == () and "You're very welcome" in result.draft.text
    assert "couldn't find" not in result.draft.text and all(s.confidence <= 0.25 for s in result.suggestions)


@pytest.mark.parametrize(
    ("number", "lang", "greeting", "article"),
    [
        (15, "es", "Hola María:", "refund-timing"),
        (18, "de", "Hallo Jonas,", "hub-offline"),
        (26, "fr", "Bonjour Camille,", "damaged-delivery"),
        (47, "fr", "Bonjour Julien,", "cancel-plus"),
    ],
)
async def test_reply_in_the_customers_language(
    services: Services, number: int, lang: str, greeting: str, article: str
) -> None:
    result = await assist_ticket(services, await _ticket_id(services, number))
    assert result.draft.language == lang
    assert result.draft.text.startswith(greeting)
    # The support glossary lets a Spanish, German or French ticket find the English article.
    assert result.suggestions[0].article_id == article


async def test_send_keeps_ai_draft_and_edit_ratio(services: Services) -> None:
    ticket_id = await _ticket_id(services, 2)
    result = await assist_ticket(services, ticket_id)
    await conversation.save_draft(services, ticket_id, "half typed", result.draft.text, result.output_ids["draft"])
    assert (await conversation.open_ticket(services, ticket_id)).draft is not None
    edited = result.draft.text.replace("Thanks for getting in touch!", "Thanks for writing, Daniel.")
    sent = await conversation.send_reply(
        services, ticket_id, edited, internal=False, ai_draft=result.draft.text, output_id=result.output_ids["draft"]
    )
    assert sent.state.value == "sent" and sent.attempts == 1
    view = await conversation.open_ticket(services, ticket_id)
    assert view.ticket.messages[-1].body == edited.strip() and view.draft is None and not view.unsent
    assert view.sent[-1].ai_draft == result.draft.text and 0 < view.sent[-1].edit_ratio < 0.3
    note = await conversation.send_reply(services, ticket_id, "Checked the order.", internal=True, ai_draft="")
    assert note.kind.value == "note"
    view = await conversation.open_ticket(services, ticket_id)
    assert view.sent[-1].visibility.value == "internal" and view.sent[-1].edit_ratio == 1.0
    with pytest.raises(ValidationError):
        await conversation.send_reply(services, ticket_id, "   ", internal=False)


async def test_flag_review_and_resolve(services: Services) -> None:
    result = await assist_ticket(services, await _ticket_id(services, 12))
    flag_id = await review.flag_output(
        services, result.output_ids["draft"], target="draft:sentence:3", target_text="Store credit: immediately.",
        reason="outdated", note="refund window is 30 days now", correction="You can get a refund to your card.",
    )  # fmt: skip
    [flag] = await review.list_flags(services, FlagQuery(reason="outdated"))
    assert flag.id == flag_id and flag.provenance.engine == "built-in" and flag.task == "draft"
    assert flag.provenance.inputs_hash and not flag.is_resolved
    assert await review.list_flags(services, FlagQuery(reason="incorrect")) == []
    assert await review.list_flags(services, FlagQuery(engine_or_model="builtin-rules-1"))
    await review.resolve_flag(services, flag_id, "article fixed")
    [done] = await review.list_flags(services)
    assert done.outcome == "article fixed" and done.is_resolved
    assert await review.list_flags(services, FlagQuery(include_resolved=False)) == []
    with pytest.raises(ValidationError):
        await review.flag_output(services, result.output_ids["draft"], target="x", target_text="x", reason="meh")


async def test_corrected_article_is_what_the_copilot_cites_next(services: Services) -> None:
    ticket_id = await _ticket_id(services, 12)
    before = await assist_ticket(services, ticket_id)
    refund = await knowledge.get_article(services, "demo", "refund-policy")
    assert "14 days" in refund.body
    fixed = refund.body.replace(
        "You can ask for a refund within 14 days of delivery. After 14 days we can offer store credit instead of a refund.",
        "You can ask for a refund within 30 days of delivery. The refund goes back to your card or original "
        "payment method; store credit only if you prefer it.",
    )
    assert fixed != refund.body
    await knowledge.save_article(services, "demo", "refund-policy", refund.title, fixed, "Policy changed on 1 October")
    hits = await knowledge.search_kb(services, "refund within 30 days of delivery", "demo")
    assert hits[0].article_id == "refund-policy" and "30 days" in hits[0].passage
    after = await assist_ticket(services, ticket_id)
    cited = {s.article_id: s for s in after.suggestions}
    assert cited["refund-policy"].article_version == 2
    assert "14 days" not in cited["refund-policy"].passage
    assert "30 days" in cited["refund-policy"].passage or "card" in cited["refund-policy"].passage
    assert after.output_ids["suggestions"] != before.output_ids["suggestions"]


async def test_not_relevant_hides_an_article_for_that_ticket(services: Services) -> None:
    ticket_id = await _ticket_id(services, 3)
    first = (await assist_ticket(services, ticket_id)).suggestions[0].article_id
    await knowledge.mark_not_relevant(services, first, ticket_id)
    assert first not in {s.article_id for s in (await assist_ticket(services, ticket_id)).suggestions}
