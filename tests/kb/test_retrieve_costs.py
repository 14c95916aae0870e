"""What keeps a search's cost flat as the knowledge base grows gives the same answers as the plain way: the
article version row, ranking keyword matches before reading their workspace, the nearest vectors without sorting
them all, and the batched import."""

from pathlib import Path

import numpy as np
import pytest
from sqlite_utils import Database

from copilot.kb import articles, retrieve
from copilot.store.db import open_database
from copilot.store.util import fts_any_query


def _version(db: Database) -> int:
    return int(db.execute("SELECT version FROM articles_version").fetchone()[0])


def test_the_version_row_moves_with_every_article_write(tmp_path: Path) -> None:
    db = open_database(tmp_path / "kb.db")
    start = _version(db)
    articles.import_articles(db, "ws", [articles.ArticleInput("a", "Refunds", "A refund within 14 days.")], "t")
    after_import = _version(db)
    assert after_import > start
    counts = retrieve.TermCounts()
    counts.refresh(db)
    assert counts.frequency(db, "thirty") == 0
    # An edit in the same second as the import: the old check (count and latest updated_at) could not see it.
    articles.save_article(db, "ws", "a", "Refunds", "A refund within thirty days.", "lead", "policy")
    assert _version(db) > after_import
    counts.refresh(db)
    assert counts.frequency(db, "thirty") == 1
    db.execute("DELETE FROM article_versions")
    db.execute("DELETE FROM articles")
    counts.refresh(db)
    assert counts.in_workspace(db, "ws") == 0


def _workspaces(tmp_path: Path) -> Database:
    """Two workspaces sharing words, with identical articles (equal scores) in both and within each."""
    db = open_database(tmp_path / "two.db")
    big = [
        articles.ArticleInput(
            f"b{i}", f"Printer note {i % 7}", f"The printer jams {'often ' * (i % 5)}on paper {i % 3}."
        )
        for i in range(60)
    ]
    # The small workspace's articles say "printer" far more, so they fill the best few of every match: the big
    # workspace's best must then come from the full query.
    small = [
        articles.ArticleInput(f"s{i}", "Printer printer printer", "Printer printer printer jams on paper.")
        for i in range(25)
    ]
    articles.import_articles(db, "big", big, "t")
    articles.import_articles(db, "small", small, "t")
    return db


def test_ranking_matches_before_reading_their_workspace_finds_the_same_articles(tmp_path: Path) -> None:
    db = _workspaces(tmp_path)
    counts = retrieve.TermCounts()
    counts.refresh(db)
    texts = ["printer jams", "paper often", "printer paper note", "jams often often", "printer", "nothing matches"]
    for text in texts:
        query = retrieve.WeightedQuery.from_parts([(text, 1.0)])
        for workspace in ("big", "small", None):
            share = counts.in_workspace(db, workspace) / counts.articles if workspace else 1.0
            for limit in (1, 5, 30, 90):
                for weight in (1.0, 3.0):
                    joined = retrieve._fts_ids(db, workspace, query, limit, title_weight=weight)
                    ranked_first = retrieve._fts_ids(db, workspace, query, limit, title_weight=weight, share=share)
                    assert ranked_first == joined, (text, workspace, limit, weight)
                    by_word = retrieve._fts_ids(
                        db, workspace, query, limit, title_weight=weight, share=share, counts=counts
                    )
                    assert by_word == joined, (text, workspace, limit, weight)
    # The workspace's own articles, in bm25 order with equal scores in row order.
    query = retrieve.WeightedQuery.from_parts([("printer", 1.0)])
    assert retrieve._fts_ids(db, "small", query, 3, share=1.0) == ["s0", "s1", "s2"]
    assert all(a.startswith("b") for a in retrieve._fts_ids(db, "big", query, 30, share=0.7))


def test_ranking_word_by_word_gives_fts5s_order_and_scores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-word scores added up are FTS5's bm25 of the OR-query, bit for bit, so the best matches are the same
    articles in the same order (equal scores in row order), whatever is remembered or forgotten between searches."""
    db = open_database(tmp_path / "kb.db")
    rng = np.random.default_rng(3)
    vocabulary = [
        "printer",
        "jams",
        "paper",
        "wi-fi",
        "router",
        "reset",
        "refund",
        "order",
        "shipping",
        "label",
        "tray",
        "e-mail",
        "hub",
        "cable",
    ]
    items = []
    for i in range(400):
        body = " ".join(rng.choice(vocabulary, size=int(rng.integers(3, 40))))
        title = " ".join(rng.choice(vocabulary, size=int(rng.integers(1, 4))))
        items.append(articles.ArticleInput(f"a{i}", title, body if i % 50 else "printer jams"))  # some equal texts
    articles.import_articles(db, "ws", items, "t")
    monkeypatch.setattr(retrieve, "SCORES_HELD", 500)  # forget words between searches too
    counts = retrieve.TermCounts()
    counts.refresh(db)
    for _ in range(25):
        words = [str(w) for w in rng.choice(vocabulary, size=int(rng.integers(1, 12)))]  # repeats, phrases
        for weight in retrieve.TITLE_WEIGHTS:
            expected = db.execute(
                f"SELECT rowid, bm25(articles_fts, {weight}, 1.0) FROM articles_fts WHERE articles_fts MATCH ? "
                f"ORDER BY bm25(articles_fts, {weight}, 1.0), rowid",
                [fts_any_query(words)],
            ).fetchall()
            for n in (1, 40, 1000):
                assert counts.best_rows(db, words, weight, n) == ([int(r[0]) for r in expected[:n]], len(expected))
            unique = list(dict.fromkeys(words))
            totals: dict[int, float] = {}
            for word in unique:  # in the query's order, from 0, as FTS5 adds them
                rows, scores = counts.word_scores(db, word)
                for row, score in zip(rows.tolist(), scores[weight].tolist(), strict=True):
                    totals[row] = totals.get(row, 0.0) + score
            assert {int(r[0]): float(r[1]) for r in expected} == totals
    assert counts.best_rows(db, ["nowhere"], 1.0, 5) == ([], 0)
    assert counts.best_rows(db, ["printer"], 2.0, 5) is None  # a weight it does not keep: FTS5 ranks
    # An edit is seen at the next refresh.
    articles.save_article(db, "ws", "a1", "Nowhere", "nowhere at all", "lead", "edit")
    counts.refresh(db)
    assert counts.best_rows(db, ["nowhere"], 1.0, 5) == (
        [int(db.execute("SELECT rowid FROM articles WHERE id = 'a1'").fetchone()[0])],
        1,
    )


def test_the_nearest_vectors_are_those_a_full_sort_finds() -> None:
    rng = np.random.default_rng(7)
    for size, n in ((5, 40), (40, 40), (300, 40), (1000, 1)):
        values = rng.choice(np.linspace(-1, 1, 25, dtype=np.float32), size)  # many equal values
        expected = [int(i) for i in np.argsort(-values, kind="stable")[:n]]
        assert retrieve._nearest(values, n) == expected


def test_a_batched_import_creates_versions_and_updates_as_before(tmp_path: Path) -> None:
    db = open_database(tmp_path / "kb.db")
    first = [
        articles.ArticleInput("a", "Refunds", "Within 14 days.", ("billing",)),
        articles.ArticleInput("b", "Hub: Wi-Fi", "2.4 GHz only."),
        articles.ArticleInput("c", "Returns", "Send it back."),
    ]
    assert articles.import_articles(db, "ws", first, "t") == (3, 0)
    again = [
        articles.ArticleInput("c", "Returns", "Send it back."),  # unchanged
        articles.ArticleInput("d", "Shipping", "Two days."),  # new
        articles.ArticleInput("a", "Refunds", "Within 30 days.", ("billing", "policy")),  # changed
        articles.ArticleInput("b", "Hub: Wi-Fi", "2.4 GHz only.", product="Hub Pro"),  # only its product
    ]
    assert articles.import_articles(db, "ws", again, "u") == (1, 1)
    a = articles.get_article(db, "ws", "a")
    assert (a.version, a.body, a.tags) == (2, "Within 30 days.", ("billing", "policy"))
    assert [(v.version, v.author, v.reason) for v in articles.history(db, "ws", "a")] == [
        (2, "u", "Re-imported"),
        (1, "t", "Imported"),
    ]
    assert [v.version for v in articles.history(db, "ws", "b")] == [1]
    entity = db.execute("SELECT entity, version FROM articles WHERE id = 'b'").fetchone()
    assert tuple(entity) == ("Hub Pro", 1)
    assert [v.reason for v in articles.history(db, "ws", "d")] == ["Imported"]
    assert [h.article_id for h in retrieve.search_text(db, "thirty days refunds", workspace="ws")][:1] == ["a"]
