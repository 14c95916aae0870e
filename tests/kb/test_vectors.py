from pathlib import Path

import numpy as np

from copilot.kb import articles, retrieve
from copilot.kb.vectors import index_key, load_index, refresh_embeddings
from copilot.store.db import open_database


class CountingEncoder:
    """A fake encoder: one dimension per topic word, so similarity is predictable."""

    name = "fake-topics"
    TOPICS = ("wifi", "refund", "pet", "reset")

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        self.encoded.extend(texts)
        vectors = np.array(
            [[float(topic in t.lower()) for topic in self.TOPICS] + [0.01] for t in texts], dtype=np.float32
        )
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _db(tmp_path: Path):  # type: ignore[no-untyped-def]
    db = open_database(tmp_path / "v.db")
    articles.import_articles(
        db,
        "ws",
        [
            articles.ArticleInput("net", "Internet", "Wifi needs 2.4 GHz."),
            articles.ArticleInput("money", "Money back", "A refund takes 5 days."),
            articles.ArticleInput("animals", "Animals", "A pet may stay."),
        ],
        "test",
    )
    return db


def test_only_changed_articles_are_embedded_again(tmp_path: Path) -> None:
    db = _db(tmp_path)
    enc = CountingEncoder()
    assert refresh_embeddings(db, enc, "ws") == 3
    key = index_key(db, "ws", enc.name)
    assert refresh_embeddings(db, enc, "ws") == 0
    articles.save_article(db, "ws", "money", "Money back", "A refund takes 3 days now.", "lead", "faster")
    assert refresh_embeddings(db, enc, "ws") == 1
    assert enc.encoded[-1].endswith("A refund takes 3 days now.")
    assert index_key(db, "ws", enc.name) != key
    index = load_index(db, "ws", enc.name)
    assert sorted(index.ids) == ["animals", "money", "net"]


def test_meaning_ranks_first_when_words_do_not_match(tmp_path: Path) -> None:
    db = _db(tmp_path)
    enc = CountingEncoder()
    refresh_embeddings(db, enc, "ws")
    dense = retrieve.Dense(enc, load_index(db, "ws", enc.name))
    # "wifi" appears only in the vector's view of the query; the words "money back" match another article.
    query = retrieve.WeightedQuery.from_parts([("money back? my wifi is down", 3.0)])
    keyword_only = retrieve.search(db, query, workspace="ws")
    assert keyword_only[0].article_id == "money"
    with_meaning = retrieve.search(db, query, workspace="ws", dense=dense)
    assert {with_meaning[0].article_id, with_meaning[1].article_id} == {"money", "net"}
    spanish = retrieve.WeightedQuery.from_parts([("¿Cuándo recibiré mi reembolso? Gracias.", 3.0)])
    assert retrieve.search(db, spanish, workspace="ws", dense=dense)[0].article_id == "money"  # via the glossary


def test_each_article_has_a_body_vector_and_old_stores_get_one(tmp_path: Path) -> None:
    db = _db(tmp_path)
    enc = CountingEncoder()
    refresh_embeddings(db, enc, "ws")
    assert "A refund takes 5 days." in enc.encoded  # the body alone, besides title and body
    index = load_index(db, "ws", enc.name)
    assert index.mixed.shape == (3, 5)
    rows = db.execute("SELECT title, body FROM articles ORDER BY id").fetchall()  # the index's order
    whole, body = enc.encode([f"{t}\n{b}" for t, b in rows]), enc.encode([b for _t, b in rows])
    expected = (body @ whole[0]) * np.float32(2 / 3) + (whole @ whole[0]) * np.float32(1 / 3)
    assert np.allclose(index.similarities(whole[0]), expected, atol=1e-6)  # body plus half the whole, rescaled
    # A store indexed before body vectors existed: its articles count as stale until they have one.
    db.execute("UPDATE article_embeddings SET body_vector = NULL WHERE article_id = 'net'")
    assert load_index(db, "ws", enc.name).ids == ["animals", "money"]
    assert refresh_embeddings(db, enc, "ws") == 1 and len(load_index(db, "ws", enc.name).ids) == 3


def test_a_long_paragraph_is_found_by_the_window_that_matches(tmp_path: Path) -> None:
    from copilot.kb.passages import PASSAGE_WORDS
    from copilot.kb.vectors import stale_articles

    db = _db(tmp_path)
    far = " ".join(f"Sentence {i} says the box joins your wifi network by itself." for i in range(20))
    near = " ".join(f"Sentence {i} is about the remote and its many buttons." for i in range(12))
    manual = f"{far} {near} To bring back the picture do a reset of the box. {near} {far}"
    assert len(manual.split()) > 2 * PASSAGE_WORDS
    articles.import_articles(db, "ws", [articles.ArticleInput("manual", "Remote manual", manual)], "test")
    encoder = CountingEncoder()
    assert refresh_embeddings(db, encoder, "ws") == 4
    # Only the long paragraph's windows got vectors of their own (a few dozen words each), not the short articles.
    windows = [t for t in encoder.encoded if t.startswith("Remote manual\n") and t != f"Remote manual\n{manual}"]
    assert windows and all(len(w.split()) <= PASSAGE_WORDS + 2 for w in windows)
    assert db.execute("SELECT count(*) FROM article_window_vectors").fetchone()[0] == len(windows)
    index = load_index(db, "ws", encoder.name)
    query = encoder.encode(["reset"])[0]
    sims = dict(zip(index.ids, index.similarities(query), strict=True))
    # The whole manual is about wifi and a reset; its window around the reset is about nothing else.
    assert sims["manual"] > 0.99 and float((index.mixed @ query)[index.position["manual"]]) < 0.8
    # Vectors made before windows existed: only the windows are encoded again, and the index key changes.
    key = index_key(db, "ws", encoder.name)
    db.execute("UPDATE article_embeddings SET windows = NULL")
    db.execute("DELETE FROM article_window_vectors")
    stale = stale_articles(db, encoder.name, "ws")
    assert len(stale) == 4 and all(s.current for s in stale)
    encoder.encoded.clear()
    refresh_embeddings(db, encoder, "ws")
    assert encoder.encoded == windows  # nothing but the windows
    assert index_key(db, "ws", encoder.name) == key and not stale_articles(db, encoder.name, "ws")
