"""The fitted ranking: its weights file, the rules beside it (entity first, special-case articles), and search."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sqlite_utils import Database

from copilot.engine.text import asks_nothing
from copilot.errors import CopilotError
from copilot.kb import articles, ranking, retrieve
from copilot.store.db import open_database


def test_the_shipped_weights_name_every_feature() -> None:
    raw = json.loads(ranking.ranking_path().read_text(encoding="utf-8"))
    fitted = ranking.parse_ranking(raw)
    assert fitted.dense.rank.shape == (len(ranking.RANK_FEATURES),)
    assert fitted.keywords.confidence.shape == (len(ranking.CONFIDENCE_FEATURES),)
    del raw["dense"]["rank"]["bm25_plain"]
    with pytest.raises(ValueError, match="lacks bm25_plain"):
        ranking.parse_ranking(raw)


def test_unreadable_weights_are_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "ranking.json"
    broken.write_text("{not json", encoding="utf-8")
    monkeypatch.setattr(ranking, "ranking_path", lambda: broken)
    ranking.load_ranking.cache_clear()
    try:
        with pytest.raises(CopilotError, match="cannot be read"):
            ranking.load_ranking()
    finally:
        ranking.load_ranking.cache_clear()


def test_entity_first_only_where_the_knowledge_base_is_organised_by_entity() -> None:
    scores = np.array([3.0, 2.0, 1.0])
    organised = {"entity": np.array([0.0, 0.0, 1.0])}  # share 1.0: the third is about the named entity
    loose = {"entity": np.array([0.0, 0.0, 0.09])}  # share 0.3: a few titles share a heading
    assert list(ranking.ranked(scores, organised)) == [2, 0, 1]
    assert list(ranking.ranked(scores, loose)) == [0, 1, 2]


def test_confidence_is_a_probability_that_grows_with_the_lead() -> None:
    model = ranking.load_ranking().model(True)
    n = 4
    features = {name: np.zeros(n) for name in (*ranking.RANK_FEATURES, "coverage")}
    features["sim_latest"] = np.array([0.7, 0.3, 0.2, 0.1])
    features["sim_conversation"] = features["sim_latest"].copy()
    clear = model.confidences(np.array([9.0, 1.0, 0.5, 0.0]), features)
    close = model.confidences(np.array([1.1, 1.0, 0.5, 0.0]), features)
    assert ((clear > 0) & (clear < 1)).all() and clear[0] > close[0]


def _kb(tmp_path: Path) -> Database:
    db = open_database(tmp_path / "kb.db")
    items = [
        articles.ArticleInput(
            "reset",
            "Reset your hub to factory settings",
            "Only when support asks you to: hold the button. The hub light blinks amber, then white. Setup again.",
        ),
        articles.ArticleInput(
            "setup", "Set up your hub", "Plug in the hub. A blinking amber light means it has no internet yet."
        ),
        articles.ArticleInput("billing", "Charged twice", "Send the last four digits of the card."),
    ]
    articles.import_articles(db, "ws", items, "test")
    return db


def test_an_article_for_special_cases_does_not_win_on_word_overlap(tmp_path: Path) -> None:
    db = _kb(tmp_path)
    query = retrieve.WeightedQuery.from_parts(
        retrieve.conversation_parts([("customer", "My hub light is blinking amber after setup, then white?")])
    )
    found = retrieve.search(db, query, workspace="ws")
    assert found[0].article_id == "setup"
    assert all(0.0 <= s.confidence <= 1.0 for s in found)
    assert [s.confidence for s in found] == sorted((s.confidence for s in found), reverse=True)


def test_a_thank_you_is_answered_by_no_article(tmp_path: Path) -> None:
    db = _kb(tmp_path)
    thanks = "Setup worked, the hub is online. Thanks for the quick help!"
    assert asks_nothing(thanks) and not asks_nothing("Thanks, but the hub still blinks amber.")
    assert not asks_nothing("Thanks! How do I pair a bulb?")
    asked = retrieve.WeightedQuery.from_parts(retrieve.conversation_parts([("customer", "Set up the hub: amber?")]))
    closing = retrieve.WeightedQuery.from_parts(retrieve.conversation_parts([("customer", thanks)]))
    top_asked = retrieve.search(db, asked, workspace="ws")[0]
    top_thanks = retrieve.search(db, closing, workspace="ws")[0]
    assert top_thanks.confidence <= 0.25 < top_asked.confidence


class _Words:
    name = "fake-words"

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        vocab = ("hub", "amber", "setup", "charged", "card", "reset")
        rows = np.array([[float(w in t.lower()) for w in vocab] + [0.1] for t in texts], dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_keywords_alone_until_every_article_has_its_vectors(tmp_path: Path) -> None:
    from copilot.kb.vectors import DenseIndex

    db = _kb(tmp_path)
    encoder = _Words()
    ids = ["billing", "reset", "setup"]
    texts = [r[0] for r in db.execute("SELECT title || char(10) || body FROM articles ORDER BY id")]
    vectors = encoder.encode(texts)
    query = retrieve.WeightedQuery.from_parts(
        retrieve.conversation_parts(
            [("customer", "My hub light is blinking amber after the setup, what does that mean?")]
        )
    )
    partial = DenseIndex(ids[:2], ["", ""], vectors[:2], vectors[:2], "partial")
    whole = DenseIndex(ids, ["", "", ""], vectors, vectors, "whole")
    # Still indexing: the third article would look unrelated in meaning, so meaning waits.
    assert not retrieve.features_of(
        retrieve.gather(db, query, workspace="ws", dense=retrieve.Dense(encoder, partial))
    ).dense
    assert retrieve.features_of(retrieve.gather(db, query, workspace="ws", dense=retrieve.Dense(encoder, whole))).dense


def test_the_confidence_reads_whether_the_signals_agree_on_the_first() -> None:
    n = 3
    features = {name: np.zeros(n) for name in (*ranking.RANK_FEATURES, "coverage")}
    features["sim_latest"] = np.array([0.7, 0.3, 0.2])
    features["sim_conversation"] = np.array([0.4, 0.6, 0.2])
    features["bm25_plain"] = np.array([1.0, 0.5, 0.2])
    columns = ranking.confidence_columns(np.array([2.0, 1.0, 0.0]), features)

    def column(name: str) -> list[float]:
        return [round(float(v), 3) for v in columns[:, ranking.CONFIDENCE_FEATURES.index(name)]]

    assert column("first_sim_latest") == [1.0, 0.0, 0.0] and column("first_sim_conversation") == [0.0, 1.0, 0.0]
    assert column("first_bm25_plain") == [1.0, 0.0, 0.0]
    assert column("lead_sim_latest") == [0.4, -0.4, -0.5]  # the first's lead over the runner-up, the others' gap
    assert column("above_near_sim_latest") == [0.3, -0.1, -0.2]  # against the mean of the closest candidates
