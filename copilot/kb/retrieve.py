"""Find the articles that answer a ticket: FTS5 bm25 candidates, re-scored by weighted term coverage,
with the best passage and the reason (the matching words) for each."""

from __future__ import annotations

import functools
import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlite_utils import Database

from copilot.domain import Suggestion
from copilot.engine.text import detect_language, english_equivalents, key_terms, sentences, stem
from copilot.errors import CopilotError
from copilot.kb.entities import EntityIndex
from copilot.kb.vectors import DenseIndex, TextEncoder
from copilot.store.util import fts_any_query

log = logging.getLogger(__name__)

MAX_QUERY_TERMS = 48
LATEST_WEIGHT = 3.0  # the latest customer message
SUBJECT_WEIGHT = 1.5
FIELD_WEIGHT = 1.5  # a help-desk field (tag, product) that names an entity counts like the subject
CANDIDATES = 30
SELECTIVE_TERMS = 32
COMMON_SHARE = 0.1


@dataclass(frozen=True)
class WeightedQuery:
    """Query terms with weights: the latest customer message counts most."""

    weights: dict[str, float]  # keyed by our light stem
    surface: dict[str, str]  # stem -> a word as written, for FTS5 (which applies its own porter stemmer)
    parts: tuple[tuple[str, float], ...] = ()  # the weighted texts it was built from, in conversation order
    fields: tuple[str, ...] = ()  # the ticket's help-desk fields (tags, product …): they name entities too

    @classmethod
    def from_parts(cls, parts: list[tuple[str, float]]) -> WeightedQuery:
        weights: dict[str, float] = {}
        surface: dict[str, str] = {}
        for text, weight in parts:
            for term in key_terms(text):
                # A Spanish, German or French support word also asks for its English equivalents.
                english = english_equivalents(term)
                own = weight * 0.3 if english else weight  # the original word rarely appears in an English KB
                for word, w in ((term, own), *((e, weight * 0.8) for e in english)):
                    s = stem(word)
                    weights[s] = weights.get(s, 0.0) + w
                    surface.setdefault(s, word)
        top = dict(sorted(weights.items(), key=lambda kv: kv[1], reverse=True)[:MAX_QUERY_TERMS])
        return cls(top, {s: surface[s] for s in top}, tuple(parts))

    def focused(self) -> WeightedQuery:
        """Only the most weighted text (the latest customer message): what decides among one entity's articles."""
        if not self.parts:
            return self
        top = max(w for _t, w in self.parts)
        return WeightedQuery.from_parts([(t, w) for t, w in self.parts if w == top])

    def without(self, text: str) -> WeightedQuery:
        """The same query minus the words of `text` (e.g. an entity's name, which all its articles share)."""
        drop = {stem(t) for t in key_terms(text)}
        kept = {t: w for t, w in self.weights.items() if t not in drop}
        return WeightedQuery(kept, {t: self.surface[t] for t in kept}, self.parts, self.fields)

    def with_fields(self, fields: tuple[str, ...]) -> WeightedQuery:
        return WeightedQuery(self.weights, self.surface, self.parts, tuple(f for f in fields if f.strip()))

    def entity_evidence(self) -> list[tuple[str, float]]:
        """What entity detection reads: the ticket's fields first (oldest, so a product named in the thread
        later still wins), then the conversation."""
        return [*((f, FIELD_WEIGHT) for f in self.fields), *self.parts]

    def is_empty(self) -> bool:
        return not self.weights

    def heaviest(self, n: int, keep: Callable[[str], bool] = lambda _word: True) -> WeightedQuery:
        """The n most weighted words (that `keep` accepts; all of them when it accepts none)."""
        ranked = sorted(self.weights.items(), key=lambda kv: kv[1], reverse=True)
        kept = dict([(t, w) for t, w in ranked if keep(self.surface[t])][:n]) or dict(ranked[:n])
        return WeightedQuery(kept, {t: self.surface[t] for t in kept}, self.parts, self.fields)


@dataclass(frozen=True)
class Hit:
    article_id: str
    title: str
    body: str
    version: int
    bm25: float


def conversation_parts(turns: list[tuple[str, str]], subject: str = "") -> list[tuple[str, float]]:
    """Weigh a conversation for search: the latest customer turn most, then the subject, the customer's
    earlier turns, and the agent's turns least. turns: (role "customer" or "agent", text), oldest first."""
    last_customer = max((i for i, (role, _t) in enumerate(turns) if role == "customer"), default=None)
    parts = [(subject, SUBJECT_WEIGHT)] if subject else []
    for i, (role, text) in enumerate(turns):
        parts.append((text, LATEST_WEIGHT if i == last_customer else 1.0 if role == "customer" else 0.5))
    return parts


def turns_from_transcript(text: str) -> list[tuple[str, str]]:
    """Split "Customer: ..." / "Agent: ..." lines into turns; text without such lines is one customer turn."""
    turns: list[tuple[str, str]] = []
    for line in text.splitlines():
        head, sep, rest = line.partition(":")
        role = head.strip().lower()
        if sep and role in ("customer", "agent", "user", "assistant"):
            turns.append(("customer" if role in ("customer", "user") else "agent", rest.strip()))
        elif turns:
            turns[-1] = (turns[-1][0], f"{turns[-1][1]}\n{line}")
        elif line.strip():
            turns.append(("customer", line))
    return turns


def _fts_candidates(
    db: Database, workspace: str | None, query: WeightedQuery, limit: int, entity: str = ""
) -> list[Hit]:
    if query.is_empty():
        return []
    match = fts_any_query([query.surface[t] for t in query.weights])
    ws_clause = ("AND a.workspace = :ws " if workspace else "") + ("AND a.entity = :entity" if entity else "")
    sql = (
        "SELECT a.id, a.title, a.body, a.version, bm25(articles_fts, 3.0, 1.0) AS score "
        "FROM articles_fts JOIN articles a ON a.rowid = articles_fts.rowid "
        f"WHERE articles_fts MATCH :q {ws_clause} ORDER BY score LIMIT :limit"
    )
    rows = db.execute(sql, {"q": match, "ws": workspace, "entity": entity, "limit": limit}).fetchall()
    return [Hit(r[0], r[1], r[2], r[3], -float(r[4])) for r in rows]


@functools.lru_cache(maxsize=8192)
def _stems(text: str) -> frozenset[str]:
    """The stemmed content words of a text (articles come up again and again across searches)."""
    return frozenset(stem(t) for t in key_terms(text))


def _coverage(query: WeightedQuery, text: str, idf: dict[str, float] | None = None) -> tuple[float, list[str]]:
    """Share of the query's weight found in the text; with idf, rare words count for more than common ones."""
    present = _stems(text)

    def weight(t: str) -> float:
        return query.weights[t] * (idf.get(t, 1.0) if idf else 1.0)

    total = sum(weight(t) for t in query.weights)
    found = [t for t in query.weights if t in present]
    return (sum(weight(t) for t in found) / total if total else 0.0), found


class TermCounts:
    """How many articles contain each word, and the entities articles are about, remembered until the articles
    change (the caller keeps one)."""

    def __init__(self) -> None:
        self._version: tuple[int, str] | None = None
        self._df: dict[str, int] = {}
        self._entities: dict[str | None, EntityIndex] = {}
        self.articles = 0

    def refresh(self, db: Database) -> None:
        """Forget what it knows if the articles changed (once per search)."""
        row = db.execute("SELECT count(*), coalesce(max(updated_at), '') FROM articles").fetchone()
        version = (int(row[0]), str(row[1]))
        if version != self._version:
            self._version, self._df, self._entities, self.articles = version, {}, {}, max(1, version[0])

    def entities(self, db: Database, workspace: str | None) -> EntityIndex:
        if workspace not in self._entities:
            self._entities[workspace] = EntityIndex.load(db, workspace)
        return self._entities[workspace]

    def idf(self, db: Database, query: WeightedQuery) -> dict[str, float]:
        idf: dict[str, float] = {}
        for t, word in query.surface.items():
            self.frequency(db, word)
            idf[t] = math.log((self.articles + 1) / (self._df[word] + 0.5))
        return idf

    def frequency(self, db: Database, word: str) -> int:
        """How many articles hold the word (asked once per word while the articles stay the same)."""
        if word not in self._df:
            self._df[word] = int(
                db.execute("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ?", [f'"{word}"']).fetchone()[0]
            )
        return self._df[word]


def best_passage(query: WeightedQuery, body: str) -> tuple[str, list[str]]:
    """The one or two consecutive sentences of the article that cover the query best."""
    sents = sentences(body)
    if not sents:
        return body[:200], []
    best = (0.0, 0)
    for i in range(len(sents)):
        window = " ".join(sents[i : i + 2])
        score, _ = _coverage(query, window)
        if score > best[0]:
            best = (score, i)
    passage = " ".join(sents[best[1] : best[1] + 2])
    _, found = _coverage(query, passage)
    return passage, found


@dataclass(frozen=True)
class Dense:
    """The dense half of hybrid search: a local encoder and the workspace's article vectors."""

    encoder: TextEncoder
    index: DenseIndex


LEXICAL_BONUS = 0.05  # keyword rank breaks near-ties in meaning (DSTC11 FAQ dev: recall@5 same, recall@1 -0.01)


def _fuse(lexical: list[str], similarity: dict[str, float], entity_ids: set[str]) -> list[str]:
    """Meaning first, keywords as tie-breaker: the named entity's articles in front, then by similarity of
    meaning plus a small bonus for a high keyword rank. Measured on DSTC11 FAQ (dev): recall@5 0.93 this way,
    0.87 with reciprocal-rank fusion, where keyword noise from earlier turns outranks the answer."""
    lexical_rank = {a: i for i, a in enumerate(lexical)}

    def score(article_id: str) -> tuple[bool, float]:
        bonus = LEXICAL_BONUS / (1 + lexical_rank[article_id]) if article_id in lexical_rank else 0.0
        return article_id in entity_ids, similarity.get(article_id, -1.0) + bonus

    return sorted(dict.fromkeys([*similarity, *lexical]), key=score, reverse=True)


def _query_vector(encoder: TextEncoder, query: WeightedQuery) -> npt.NDArray[np.float32]:
    """The latest customer message's meaning (with the subject's, when the ticket has one, at a quarter of the
    weight: "any news??" alone says nothing). Earlier turns stay out: mixing them in lowered recall@1 on DSTC11
    FAQ dev (0.886 against 0.898), since the entity boost already carries the conversation's context."""
    latest = max((w for _t, w in query.parts), default=0.0)
    texts = [(t, w) for t, w in query.parts if t.strip() and w in (latest, SUBJECT_WEIGHT)] or [("", 1.0)]
    texts = sorted(texts, key=lambda p: p[1], reverse=True)[:2]
    vectors = encoder.encode([t for t, _w in texts])
    weights = np.array([w * w for _t, w in texts], dtype=np.float32)[:, None]
    mean = (vectors * weights).sum(axis=0)
    unit: npt.NDArray[np.float32] = (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)
    return unit


def _hits_by_id(db: Database, ids: list[str]) -> dict[str, Hit]:
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = db.execute(f"SELECT id, title, body, version FROM articles WHERE id IN ({marks})", ids).fetchall()
    return {r[0]: Hit(r[0], r[1], r[2], r[3], 0.0) for r in rows}


def search(
    db: Database,
    query: WeightedQuery,
    *,
    workspace: str | None = None,
    limit: int = 5,
    exclude: set[str] | None = None,
    dense: Dense | None = None,
    counts: TermCounts | None = None,
) -> list[Suggestion]:
    """Ranked suggestions with the best passage and a confidence: keyword (FTS5 bm25) and, when a local
    encoder is available, dense similarity of the latest customer message, fused. Pass the same `counts`
    across searches to remember word statistics."""
    if query.is_empty():
        return []
    counts = counts or TermCounts()
    counts.refresh(db)
    evidence = query.entity_evidence()
    entity = counts.entities(db, workspace).detect(evidence) if evidence else ""
    idf = counts.idf(db, query)
    # Candidates from the whole knowledge base: the heaviest words that are in at most a tenth of the articles.
    # Words nearly every article has add FTS5 work and little signal; they still count for coverage below.
    # (DSTC11 FAQ dev, keyword only: p95 19-20 ms this way, 22-31 ms with every word.)
    common = max(COMMON_SHARE * counts.articles, 20)  # a small knowledge base keeps every word
    selective = query.heaviest(SELECTIVE_TERMS, lambda word: counts.frequency(db, word) <= common)
    hits = _fts_candidates(db, workspace, selective, CANDIDATES)
    if entity:
        # Articles about the product/place the ticket names come first, ranked on the rest of the wording.
        # Among them, the latest customer message decides first; the whole thread fills in after it.
        about = _fts_candidates(db, workspace, query.focused().without(entity), CANDIDATES, entity=entity)
        about += _fts_candidates(
            db, workspace, query.without(entity).heaviest(SELECTIVE_TERMS), CANDIDATES, entity=entity
        )
        unique: dict[str, Hit] = {}
        for h in [*about, *hits]:
            unique.setdefault(h.article_id, h)
        hits = list(unique.values())
    similarity: dict[str, float] = {}
    focused = "\n".join(t for t, _w in query.focused().parts)
    query_vector = None
    if dense is not None and dense.index.ids and detect_language(focused) == "en":  # the model is English-only
        try:
            query_vector = _query_vector(dense.encoder, query)
        except CopilotError as exc:  # a provider's embedding model is unreachable: keywords alone this time
            log.warning("meaning search skipped: %s", exc.message)
    if dense is not None and query_vector is not None:
        sims = dense.index.similarities(query_vector)
        order = [int(i) for i in np.argsort(-sims)[: CANDIDATES * 2]]
        ids, entities = dense.index.ids, dense.index.entities
        entity_ids = {ids[i] for i in range(len(ids)) if entity and entities[i] == entity}
        similarity = {ids[i]: float(sims[i]) for i in order}
        similarity.update({ids[i]: float(sims[i]) for i in range(len(ids)) if ids[i] in entity_ids})
        by_id = {h.article_id: h for h in hits}
        fused = _fuse([h.article_id for h in hits], similarity, entity_ids)
        by_id.update(_hits_by_id(db, [a for a in fused[: limit * 2] if a not in by_id]))
        hits = [by_id[a] for a in fused if a in by_id]
    hits = [h for h in hits if h.article_id not in (exclude or set())]
    if not hits:
        return []
    top_bm25 = max(h.bm25 for h in hits) or 1.0
    # Confidence answers a different question from rank: how much of the ticket's rare, weighted wording
    # the article covers, or how close in meaning it is. Shown non-increasing down the list.
    ranked: list[tuple[float, Hit]] = []
    ceiling = 1.0
    for h in hits[:limit]:
        coverage, _ = _coverage(query, f"{h.title}\n{h.body}", idf)
        title_cov, _ = _coverage(query, h.title, idf)
        lexical = min(1.0, 1.6 * coverage * (0.6 + 0.25 * h.bm25 / top_bm25 + 0.15 * title_cov))
        meaning = min(1.0, max(0.0, (similarity.get(h.article_id, 0.0) - 0.35) / 0.45))
        ceiling = min(ceiling, max(lexical, meaning))
        ranked.append((round(ceiling, 3), h))
    out: list[Suggestion] = []
    for confidence, h in ranked:
        passage, found = best_passage(query, h.body)
        out.append(Suggestion(h.article_id, h.title, passage, tuple(found), confidence, h.version))
    return out


def search_text(
    db: Database, text: str, *, workspace: str | None = None, limit: int = 10, counts: TermCounts | None = None
) -> list[Suggestion]:
    return search(db, WeightedQuery.from_parts([(text, 1.0)]), workspace=workspace, limit=limit, counts=counts)


def article_tags(db: Database, article_id: str) -> list[str]:
    row = db.execute("SELECT tags FROM articles WHERE id = ?", [article_id]).fetchone()
    return list(json.loads(row[0])) if row else []
