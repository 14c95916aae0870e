import json
from pathlib import Path

import pytest

from copilot.errors import ImportFileError, NotFoundError, ValidationError
from copilot.kb import articles, importer, retrieve
from copilot.store.db import open_database


def _db(tmp_path: Path):  # type: ignore[no-untyped-def]
    db = open_database(tmp_path / "kb.db")
    items = [
        articles.ArticleInput("refunds", "Refunds", "You can ask for a refund within 14 days of delivery."),
        articles.ArticleInput("wifi", "Wi-Fi requirements", "The Hub needs a 2.4 GHz network. 5 GHz is not supported."),
    ]
    articles.import_articles(db, "ws", items, "test")
    return db


def test_malformed_jsonl_names_the_line_and_imports_nothing(tmp_path: Path) -> None:
    path = tmp_path / "kb.jsonl"
    good = json.dumps({"id": "a", "title": "A", "body": "text"})
    path.write_text(f"{good}\n{{not json\n")
    with pytest.raises(ImportFileError, match=r"kb.jsonl, line 2: not valid JSON"):
        importer.read_articles(path)
    path.write_text(f'{good}\n{{"id": "b", "title": "B"}}\n')
    with pytest.raises(ImportFileError, match=r"line 2: missing or empty body"):
        importer.read_articles(path)
    path.write_bytes(good.encode() + b"\n" + b'{"id": "c", "title": "\xff", "body": "x"}\n')
    with pytest.raises(ImportFileError, match=r"line 2: not valid UTF-8"):
        importer.read_articles(path)


def test_markdown_folder_with_front_matter(tmp_path: Path) -> None:
    (tmp_path / "reset.md").write_text("---\ntags: hub, reset\n---\n# Reset the hub\n\nHold the button.\n")
    (tmp_path / "notes.txt").write_text("ignored")
    [item] = importer.read_articles(tmp_path)
    assert (item.id, item.title, item.body, item.tags) == (
        "reset",
        "Reset the hub",
        "Hold the button.",
        ("hub", "reset"),
    )
    (tmp_path / "bad.md").write_text("no heading here")
    with pytest.raises(ImportFileError, match=r"bad.md: the first line must be a '# Title'"):
        importer.read_articles(tmp_path)


def test_edit_creates_a_version_and_search_sees_it_at_once(tmp_path: Path) -> None:
    db = _db(tmp_path)
    assert retrieve.search_text(db, "refund window thirty", workspace="ws")[0].article_id == "refunds"
    assert not retrieve.search_text(db, "thirty", workspace="ws")
    saved = articles.save_article(
        db, "ws", "refunds", "Refunds", "Refunds are possible within thirty days.", "lead", "policy"
    )
    assert saved.version == 2
    [hit] = retrieve.search_text(db, "thirty", workspace="ws")
    assert hit.article_id == "refunds" and "thirty" in hit.passage
    history = articles.history(db, "ws", "refunds")
    assert [(v.version, v.author, v.reason) for v in history] == [(2, "lead", "policy"), (1, "test", "Imported")]
    diff = articles.diff_versions(history[1], history[0])
    assert "-You can ask for a refund within 14 days" in diff and "+Refunds are possible within thirty days." in diff
    reverted = articles.revert_article(db, "ws", "refunds", 1, "lead")
    assert reverted.version == 3 and "14 days" in reverted.body
    assert not retrieve.search_text(db, "thirty", workspace="ws")


def test_edits_that_cannot_be_saved(tmp_path: Path) -> None:
    db = _db(tmp_path)
    with pytest.raises(ValidationError, match="Nothing changed"):
        articles.save_article(
            db, "ws", "wifi", "Wi-Fi requirements", articles.get_article(db, "ws", "wifi").body, "a", "r"
        )
    with pytest.raises(ValidationError, match="why"):
        articles.save_article(db, "ws", "wifi", "Wi-Fi", "new body", "a", "  ")
    with pytest.raises(ValidationError, match="empty"):
        articles.save_article(db, "ws", "wifi", "Wi-Fi", " ", "a", "r")


def test_suggestions_carry_passage_highlights_and_ranked_confidence(tmp_path: Path) -> None:
    db = _db(tmp_path)
    hits = retrieve.search_text(db, "my hub will not join the 5 GHz network", workspace="ws")
    assert hits[0].article_id == "wifi"
    assert "network" in hits[0].highlights and "GHz" in hits[0].passage
    assert [h.confidence for h in hits] == sorted((h.confidence for h in hits), reverse=True)
    assert retrieve.search_text(db, "the and of", workspace="ws") == []


def test_articles_about_the_named_entity_rank_first(tmp_path: Path) -> None:
    db = open_database(tmp_path / "kb.db")
    items = [
        articles.ArticleInput("a1", "Acme Router X: Reset the router", "Hold the reset button for 10 seconds."),
        articles.ArticleInput("a2", "Acme Router X: Wi-Fi password", "The Wi-Fi password is on the label."),
        articles.ArticleInput("b1", "Beta Modem 2: Reset the modem", "Unplug the modem, wait, and reset it."),
        articles.ArticleInput("b2", "Beta Modem 2: Lights", "A red light means no signal; reset the modem."),
        articles.ArticleInput("c1", "Shipping times", "Orders ship the same day."),
    ]
    articles.import_articles(db, "ws", items, "test")
    assert articles.get_article(db, "ws", "a1").title.startswith("Acme")
    turns = [
        ("customer", "I bought the Acme Router X last month."),
        ("agent", "Thanks! How can I help?"),
        ("customer", "How do I reset it? Reset reset reset."),
    ]
    query = retrieve.WeightedQuery.from_parts(retrieve.conversation_parts(turns))
    hits = retrieve.search(db, query, workspace="ws")
    assert hits[0].article_id == "a1"  # the Beta modem articles say "reset" more often, but are about another product
    transcript = "Customer: I have the Beta Modem 2.\nAgent: OK.\nCustomer: how do I reset it?"
    assert retrieve.turns_from_transcript(transcript)[-1] == ("customer", "how do I reset it?")
    query = retrieve.WeightedQuery.from_parts(retrieve.conversation_parts(retrieve.turns_from_transcript(transcript)))
    assert retrieve.search(db, query, workspace="ws")[0].article_id == "b1"


def test_the_entity_named_last_is_what_they_refers_to() -> None:
    from copilot.kb.entities import EntityIndex

    index = EntityIndex(("Acme Router X", "Acme", "Beta Modem 2"))
    turns = [
        ("customer", "My Acme Router X keeps dropping. The Acme Router X is new."),
        ("agent", "Sorry to hear that. Let's sort it out."),
        ("customer", "I may buy a beta-modem 2 for the office as well."),
        ("agent", "Good choice."),
        ("customer", "Does it support guest networks?"),
    ]
    parts = retrieve.conversation_parts(turns)
    # The customer named the router more often, but "it" is the product named last.
    assert index.detect(parts) == "Beta Modem 2"
    assert index.detect(parts[:1]) == "Acme Router X"  # the longer name wins over "Acme" inside it
    assert index.detect([("nothing named here", 3.0)]) == "" and EntityIndex(()).detect(parts) == ""


def test_a_ticket_field_names_the_entity_when_the_thread_does_not(tmp_path: Path) -> None:
    db = open_database(tmp_path / "kb.db")
    items = [
        articles.ArticleInput("a1", "Acme Router X: Reset the router", "Hold the reset button for 10 seconds."),
        articles.ArticleInput("a2", "Acme Router X: Wi-Fi password", "The Wi-Fi password is on the label."),
        articles.ArticleInput("b1", "Beta Modem 2: Reset the modem", "Unplug the modem, wait, and reset it."),
        articles.ArticleInput("b2", "Beta Modem 2: Lights", "A red light means no signal; reset the modem reset."),
    ]
    articles.import_articles(db, "ws", items, "test")
    query = retrieve.WeightedQuery.from_parts(
        retrieve.conversation_parts([("customer", "A red light is on. How do I reset it?")])
    )
    assert retrieve.search(db, query, workspace="ws")[0].article_id.startswith("b")  # words alone: the modem
    tagged = query.with_fields(("acme router x", "vip"))
    assert retrieve.search(db, tagged, workspace="ws")[0].article_id == "a1"  # the help desk's product field


def test_an_articles_metadata_names_its_product(tmp_path: Path) -> None:
    from copilot.kb.importer import parse_markdown_article

    db = open_database(tmp_path / "kb.db")
    text = "---\ntags: setup\nproduct: Lumen Hub\n---\n# Reset to factory settings\nHold the button for 10 seconds."
    hub_reset = parse_markdown_article("hub-reset", text, "hub-reset.md")
    assert hub_reset.entity == "Lumen Hub"
    items = [
        hub_reset,
        articles.ArticleInput("hub-wifi", "Wi-Fi needs 2.4 GHz", "Join a 2.4 GHz network.", (), "Lumen Hub"),
        articles.ArticleInput("bulb-reset", "Reset a bulb", "Switch it off and on five times to reset.", (), "Bulb"),
        articles.ArticleInput("bulb-colour", "Colours", "Pick a colour in the app.", (), "Bulb"),
    ]
    articles.import_articles(db, "ws", items, "test")
    turns = [("customer", "My Lumen Hub is acting up."), ("customer", "How do I reset it? reset reset")]
    query = retrieve.WeightedQuery.from_parts(retrieve.conversation_parts(turns))
    assert retrieve.search(db, query, workspace="ws")[0].article_id == "hub-reset"  # not the bulb's reset
    # Editing the text keeps the metadata's product; a re-import with another product moves it, no new version.
    articles.save_article(
        db, "ws", "hub-reset", "Reset to factory settings", "Hold it for 15 seconds.", "lead", "longer"
    )
    assert db.execute("SELECT entity FROM articles WHERE id = 'hub-reset'").fetchone()[0] == "Lumen Hub"
    moved = articles.ArticleInput("hub-wifi", "Wi-Fi needs 2.4 GHz", "Join a 2.4 GHz network.", (), "Lumen Hub 2")
    assert articles.import_articles(db, "ws", [moved], "test") == (0, 0)
    assert db.execute("SELECT entity, version FROM articles WHERE id = 'hub-wifi'").fetchone() == ("Lumen Hub 2", 1)


def test_front_matter_is_read_as_yaml() -> None:
    from copilot.kb.importer import parse_markdown_article

    flow = parse_markdown_article("a", '---\ntags: [billing, refunds]\nproduct: "Lumen Hub"\n---\n# T\nBody', "a.md")
    assert (flow.tags, flow.product) == (("billing", "refunds"), "Lumen Hub")
    block = parse_markdown_article("b", "---\ntags:\n  - setup\n  - hub\n---\n# T\nBody", "b.md")
    assert block.tags == ("setup", "hub")
    plain = parse_markdown_article("c", "---\ntags: returns, orders\n---\n# T\nBody", "c.md")
    assert plain.tags == ("returns", "orders")
    with pytest.raises(ImportFileError, match="not valid YAML") as bad:
        parse_markdown_article("d", "---\ntags: a\ntitle: [unclosed\n---\n# T\nBody", "d.md")
    assert "\n" not in bad.value.message and "(line 3: " in bad.value.message  # one line, counted in the file
    with pytest.raises(ImportFileError, match="never closed") as unclosed:
        parse_markdown_article("e", "---\ntags: a\n# T\nBody", "e.md")
    assert "Nothing was imported" in unclosed.value.hint


def test_article_ids_are_scoped_by_workspace(tmp_path: Path) -> None:
    """Importing, saving or reverting "invoice" in one workspace leaves another workspace's "invoice" alone."""
    db = open_database(tmp_path / "two.db")
    mine = articles.ArticleInput("invoice", "Invoices", "Invoices are sent on the 1st.")
    theirs = articles.ArticleInput("invoice", "Invoice copies", "Ask billing for a copy of an invoice.")
    assert articles.import_articles(db, "a", [mine], "test") == (1, 0)
    assert articles.import_articles(db, "b", [theirs], "test") == (1, 0)  # created, not an update of a's
    before = articles.get_article(db, "a", "invoice")
    articles.save_article(db, "b", "invoice", "Invoice copies", "Billing sends copies within a day.", "lead", "sla")
    articles.revert_article(db, "b", "invoice", 1, "lead")
    articles.import_articles(db, "b", [articles.ArticleInput("invoice", "Invoice copies", "Changed again.")], "t")
    assert articles.get_article(db, "a", "invoice") == before
    assert [v.version for v in articles.history(db, "a", "invoice")] == [1]
    assert [v.version for v in articles.history(db, "b", "invoice")] == [4, 3, 2, 1]
    assert articles.get_article(db, "b", "invoice").body == "Changed again."
    assert [h.title for h in retrieve.search_text(db, "invoice", workspace="a")] == ["Invoices"]
    assert [h.title for h in retrieve.search_text(db, "invoice", workspace="b")] == ["Invoice copies"]
    with pytest.raises(NotFoundError):
        articles.get_article(db, "c", "invoice")
