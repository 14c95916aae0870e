"""Find the articles that answer a ticket: candidates from FTS5 keywords, the named entity and meaning
similarity (`gather`, on the store thread), features measured the same way on any knowledge base (`features_of`)
and one fitted ranking with a calibrated confidence (`rank`, kb/ranking.py), with the best passage and the
reason (the matching words) for each.

Long because the weighted query, candidate generation and the features are one pipeline whose pieces only make
sense together; the fitted weights and their model live in kb/ranking.py."""

from __future__ import annotations

import functools
import json
import logging
import math
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlite_utils import Database

from copilot.domain import Suggestion
from copilot.engine.text import (
    asks_nothing,
    detect_language,
    english_equivalents,
    key_terms,
    sentences,
    stem,
    tables_as_sentences,
)
from copilot.errors import CopilotError
from copilot.kb.entities import EntityIndex
from copilot.kb.passages import passages
from copilot.kb.ranking import load_ranking, ranked
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
WIDER_SHARE = 0.5  # a workspace with at least this part of all articles ranks the matches before reading theirs
WIDER = 4  # how many more matches than wanted it ranks when other workspaces' may be among them
SCORES_HELD = 1_000_000  # article rows with per-word bm25 scores remembered (a row and two scores each: 24 MB)
TITLE_WEIGHTS = (3.0, 1.0)  # the title weights keyword candidates are ranked with


@dataclass(frozen=True)
class WeightedQuery:
    """Query terms with weights: the latest customer message counts most."""

    weights: dict[str, float]  # keyed by our light stem
    surface: dict[str, str]  # stem -> a word as written, for FTS5 (which applies its own porter stemmer)
    parts: tuple[tuple[str, float], ...] = ()  # the weighted texts it was built from, in conversation order
    fields: tuple[str, ...] = ()  # the ticket's help-desk fields (tags, product …): they name entities too

    @classmethod
    def from_parts(cls, parts: list[tuple[str, float]], cap: int = MAX_QUERY_TERMS) -> WeightedQuery:
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
        top = dict(sorted(weights.items(), key=lambda kv: kv[1], reverse=True)[:cap])
        return cls(top, {s: surface[s] for s in top}, tuple(parts))

    def plain(self, cap: int) -> WeightedQuery:
        """Every word of the conversation once (up to `cap` words): plain bm25, which no turn outweighs."""
        parts = [(t, 1.0) for t, _w in self.parts]
        every = WeightedQuery.from_parts(parts, cap)
        ones = dict.fromkeys(every.weights, 1.0)
        return WeightedQuery(ones, every.surface, tuple(parts), self.fields)

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


def _fts_ids(
    db: Database,
    workspace: str | None,
    query: WeightedQuery,
    limit: int,
    *,
    entity: str = "",
    title_weight: float = 3.0,
    share: float = 0.0,
    counts: TermCounts | None = None,
) -> list[str]:
    """The ids of the workspace's `limit` best bm25 matches (of the named entity's articles, when given), best
    first, equal scores in row order. share: the part of all articles the workspace holds (1: every one). counts:
    refreshed word statistics, whose remembered per-word scores rank the matches without FTS5's OR-query."""
    if query.is_empty():
        return []
    words = [query.surface[t] for t in query.weights]
    match = fts_any_query(words)
    score = f"bm25(articles_fts, {title_weight}, 1.0)"
    if not entity and share >= WIDER_SHARE:
        # Joining every match to its article (to read its workspace) costs as much as ranking the matches: rank
        # them alone and keep the workspace's among the best few, which are its best unless too few are.
        wider = limit if share >= 1 else limit * WIDER
        best = counts.best_rows(db, words, title_weight, wider) if counts is not None else None
        if best is not None:
            rowids, matched = best
        else:
            rows = db.execute(
                f"SELECT rowid FROM articles_fts WHERE articles_fts MATCH :q ORDER BY {score}, rowid LIMIT :n",
                {"q": match, "n": wider},
            ).fetchall()
            rowids, matched = [int(r[0]) for r in rows], len(rows)
        ids = _ids_in_workspace(db, rowids, workspace)
        if len(ids) >= limit or matched < wider:
            return ids[:limit]
    ws_clause = ("AND a.workspace = :ws " if workspace else "") + ("AND a.entity = :entity" if entity else "")
    sql = (
        f"SELECT a.id FROM articles_fts JOIN articles a ON a.rowid = articles_fts.rowid "
        f"WHERE articles_fts MATCH :q {ws_clause} ORDER BY {score}, articles_fts.rowid LIMIT :limit"
    )
    rows = db.execute(sql, {"q": match, "ws": workspace, "entity": entity, "limit": limit}).fetchall()
    return [str(r[0]) for r in rows]


def _ids_in_workspace(db: Database, rowids: list[int], workspace: str | None) -> list[str]:
    """The ids of these articles (by row) that are in the workspace, in the order given. Looked up by row: a
    workspace condition in SQL would have SQLite walk the workspace's every article instead."""
    if not rowids:
        return []
    rows = db.execute(
        "SELECT rowid, id, workspace FROM articles WHERE rowid IN (SELECT value FROM json_each(?))",
        [json.dumps(rowids)],
    ).fetchall()
    found = {int(r[0]): str(r[1]) for r in rows if workspace is None or r[2] == workspace}
    return [found[r] for r in rowids if r in found]


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
        self._version: int | None = None
        self._df: dict[str, int] = {}
        self._entities: dict[str | None, EntityIndex] = {}
        self._in_workspace: dict[str | None, int] = {}
        self._average = 0.0
        self._scores: OrderedDict[str, tuple[npt.NDArray[np.int64], dict[float, npt.NDArray[np.float64]]]] = (
            OrderedDict()
        )
        self._held = 0  # (row, score) pairs remembered in _scores
        self.articles = 0

    def refresh(self, db: Database) -> None:
        """Forget what it knows if the articles changed (once per search: one row, which triggers keep)."""
        version = int(db.execute("SELECT version FROM articles_version").fetchone()[0])
        if version != self._version:
            total = int(db.execute("SELECT count(*) FROM articles").fetchone()[0])
            self._version, self._df, self._entities, self.articles = version, {}, {}, max(1, total)
            self._in_workspace, self._average = {}, 0.0
            self._scores, self._held = OrderedDict(), 0

    def in_workspace(self, db: Database, workspace: str | None) -> int:
        """How many articles the workspace holds (every article for None)."""
        if workspace not in self._in_workspace:
            where = " WHERE workspace = ?" if workspace else ""
            row = db.execute(f"SELECT count(*) FROM articles{where}", [workspace] if workspace else []).fetchone()
            self._in_workspace[workspace] = int(row[0])
        return self._in_workspace[workspace]

    def average_length(self, db: Database) -> float:
        """The mean article length in content words (bm25's length normalisation)."""
        if not self._average:
            lengths = [_term_counts(f"{r[0]}\n{r[1]}")[1] for r in db.execute("SELECT title, body FROM articles")]
            self._average = max(1.0, sum(lengths) / len(lengths)) if lengths else 1.0
        return self._average

    def bm25_idf(self, db: Database, surface: dict[str, str]) -> dict[str, float]:
        """bm25's inverse document frequency of each word (keyed by stem; `surface` gives the word as written)."""
        n = self.articles
        return {
            t: math.log(1 + (n - self.frequency(db, w) + 0.5) / (self.frequency(db, w) + 0.5))
            for t, w in surface.items()
        }

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

    def word_scores(
        self, db: Database, word: str
    ) -> tuple[npt.NDArray[np.int64], dict[float, npt.NDArray[np.float64]]]:
        """The rows of the articles holding the word, and for each title weight in TITLE_WEIGHTS FTS5's bm25 of the
        word alone in each (negative, lower is better). Remembered while the articles stay the same, up to
        SCORES_HELD rows (the least recently used words go first)."""
        held = self._scores.get(word)
        if held is not None:
            self._scores.move_to_end(word)
            return held
        scores = ", ".join(f"bm25(articles_fts, {w}, 1.0)" for w in TITLE_WEIGHTS)
        rows = db.execute(
            f"SELECT rowid, {scores} FROM articles_fts WHERE articles_fts MATCH ?", [f'"{word}"']
        ).fetchall()
        table = np.array(rows, dtype=np.float64).reshape(-1, 1 + len(TITLE_WEIGHTS))  # row ids are exact < 2**53
        held = (table[:, 0].astype(np.int64), {w: table[:, 1 + i].copy() for i, w in enumerate(TITLE_WEIGHTS)})
        self._df.setdefault(word, len(rows))
        self._scores[word] = held
        self._held += len(rows)
        while self._held > SCORES_HELD and len(self._scores) > 1:
            _word, (gone, _by_weight) = self._scores.popitem(last=False)
            self._held -= len(gone)
        return held

    def best_rows(self, db: Database, words: list[str], title_weight: float, n: int) -> tuple[list[int], int] | None:
        """The rows of the n best matches of an OR-query of these words in FTS5's bm25 order (equal scores in row
        order), and how many articles match; None for a title weight not in TITLE_WEIGHTS. FTS5's bm25 of an
        OR-query is, for each article, the sum over the query's words, in the query's order, of each word's idf
        times its saturated frequency in the article: the per-word scores added in that order are the same
        numbers. Asked word by word, each word's scores are remembered for later searches (the common words come
        up in nearly every one), and no article is visited once per word of the query, as the OR-query's merge does
        (at 30,000 articles a long transcript's 60 words match most articles)."""
        if title_weight not in TITLE_WEIGHTS or n < 1:
            return None
        parts = [self.word_scores(db, w) for w in dict.fromkeys(words)]
        rowids = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
        if not len(rowids):
            return [], 0
        scores = np.concatenate([p[1][title_weight] for p in parts])
        # bincount adds each article's scores in the order given (the query's), starting from 0, as FTS5 does.
        if int(rowids.max()) < 4 * len(rowids) + 100_000:
            present = np.bincount(rowids) > 0
            matched = np.flatnonzero(present)
            totals = np.bincount(rowids, weights=scores)[matched]
        else:  # sparse row ids: number them first
            matched, where = np.unique(rowids, return_inverse=True)
            totals = np.bincount(where, weights=scores, minlength=len(matched))
        if len(matched) > n:
            nth = totals[np.argpartition(totals, n - 1)[n - 1]]
            top = np.flatnonzero(totals <= nth)
        else:
            top = np.arange(len(matched))
        best = top[np.lexsort((matched[top], totals[top]))][:n]
        return [int(r) for r in matched[best]], len(matched)

    def frequency(self, db: Database, word: str) -> int:
        """How many articles hold the word (asked once per word while the articles stay the same)."""
        if word not in self._df:
            self._df[word] = int(
                db.execute("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ?", [f'"{word}"']).fetchone()[0]
            )
        return self._df[word]


_LIST_MARK = re.compile(r"^[ \t]*(?:\d+[.)]|[-*])[ \t]+", re.MULTILINE)


def best_passage(query: WeightedQuery, body: str) -> tuple[str, list[str]]:
    """The one or two consecutive sentences of the article that cover the query best (a table's row with its
    column names)."""
    sents = sentences(tables_as_sentences(_LIST_MARK.sub("", body)))  # "… for any reason. 1." read no "1."
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
    """The meaning half of search: a local encoder (or a provider's embedding model) and the article vectors."""

    encoder: TextEncoder
    index: DenseIndex


K1, B = 1.2, 0.75  # bm25's usual saturation and length normalisation
POOL = 40  # candidates taken from each source (keywords, plain keywords, each meaning vector)
ENTITY_POOL = 200  # a named entity's articles all compete, up to this many
PLAIN_TERMS = 200  # "every word once": up to this many distinct words of the conversation
CAVEAT_SHARE = 1 / 3
NOTHING_ASKED = 0.25

# An article for special cases ("only when support asks you to") must not win on word overlap.
_CAVEAT = re.compile(
    r"\b(?:only (?:when|if) (?:support|an agent|our (?:support )?team|we|you are asked|asked|instructed|told)"
    r"|(?:do not|don't|never) (?:use|do|try) (?:this|it) unless"
    r"|as a last resort|unless (?:support|an agent|our (?:support )?team) (?:asks|tells))",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=16384)  # every search asks it of each candidate, and candidates come up again
def has_caveat(body: str) -> bool:
    """The article says it is for special cases only: what support asks for, or a last resort."""
    return _CAVEAT.search(body) is not None


@functools.lru_cache(maxsize=16384)
def _term_counts(text: str) -> tuple[dict[str, int], int]:
    """Stemmed content words with their counts, and the text's length in content words."""
    counts: dict[str, int] = {}
    for term in key_terms(text):
        s = stem(term)
        counts[s] = counts.get(s, 0) + 1
    return counts, sum(counts.values())


@dataclass(frozen=True)
class _Terms:
    """A query's words with their weight times idf, and their order (bm25's sum adds them in the query's order)."""

    scaled: dict[str, float]
    position: dict[str, int]

    @classmethod
    def of(cls, weights: dict[str, float], idf: dict[str, float]) -> _Terms:
        scaled = {t: w * idf.get(t, 0.0) for t, w in weights.items()}
        return cls(scaled, {t: i for i, t in enumerate(scaled)})


def _bm25(terms: _Terms, text: str, average: float) -> float:
    counts, length = _term_counts(text)
    norm = K1 * (1 - B + B * length / max(average, 1.0))
    # Only the words the text holds (found by a set operation, not a loop over the query's up to 200 words).
    present = sorted(terms.scaled.keys() & counts.keys(), key=terms.position.__getitem__)
    return sum(terms.scaled[t] * counts[t] * (K1 + 1) / (counts[t] + norm) for t in present)


def _scaled(values: list[float]) -> npt.NDArray[np.float64]:
    """Scaled so the best candidate has 1: comparable across knowledge bases and queries."""
    array = np.array(values, dtype=np.float64)
    top = float(array.max()) if len(array) else 0.0
    return array / top if top > 0 else array


def latest_text(query: WeightedQuery) -> str:
    """The most weighted text (the latest customer message)."""
    parts = [(t, w) for t, w in query.parts if t.strip()]
    top = max((w for _t, w in parts), default=0.0)
    return next((t for t, w in reversed(parts) if w == top), "")


def conversation_text(query: WeightedQuery) -> str:
    """The whole conversation for meaning: the latest customer message first, then the rest newest first (the
    encoder reads a few hundred words; what it cuts should be the oldest)."""
    parts = [(t, w) for t, w in query.parts if t.strip()]
    if not parts:
        return ""
    latest = max(w for _t, w in parts)
    ordered = [t for t, w in parts if w == latest] + [t for t, w in reversed(parts) if w != latest]
    kept: list[str] = []
    words = 0
    for text in ordered:  # about CONVERSATION_WORDS words: encoding costs grow with length, older turns say less
        if kept and words >= CONVERSATION_WORDS:
            break
        kept.append(text)
        words += len(text.split())
    return "\n".join(kept)


CONVERSATION_WORDS = 100


def _latest_texts(query: WeightedQuery) -> list[tuple[str, float]]:
    """The latest customer message and the subject, most weighted first (what "the latest meaning" is made of)."""
    latest = max((w for _t, w in query.parts), default=0.0)
    texts = [(t, w) for t, w in query.parts if t.strip() and w in (latest, SUBJECT_WEIGHT)] or [("", 1.0)]
    return sorted(texts, key=lambda p: p[1], reverse=True)[:2]


def reads_meaning(query: WeightedQuery) -> bool:
    """Whether meaning similarity applies: the local model reads English only."""
    return detect_language("\n".join(t for t, _w in query.focused().parts)) == "en"


def query_texts(query: WeightedQuery) -> list[str]:
    """Every text a search for this query encodes (to encode them ahead, off the store thread, in one batch)."""
    if query.is_empty() or not reads_meaning(query):
        return []
    return list(dict.fromkeys([*(t for t, _w in _latest_texts(query)), conversation_text(query)]))


def _query_vectors(
    encoder: TextEncoder, query: WeightedQuery
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """The latest customer message's meaning (with the subject's at a quarter of the weight: "any news??" alone
    says nothing), and the whole conversation's (in OR-ShARC-like threads the latest message is "Yes" or "No").
    One encoder call."""
    texts = _latest_texts(query)
    whole = conversation_text(query)
    extra = [whole] if whole and whole not in [t for t, _w in texts] else []
    vectors = encoder.encode([t for t, _w in texts] + extra)
    weights = np.array([w * w for _t, w in texts], dtype=np.float32)[:, None]
    mean = (vectors[: len(texts)] * weights).sum(axis=0)
    unit: npt.NDArray[np.float32] = (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)
    if extra:
        return unit, vectors[-1]
    known = [t for t, _w in texts]
    return unit, (vectors[known.index(whole)] if whole in known else unit)


def _nearest(values: npt.NDArray[np.float32], n: int) -> list[int]:
    """Positions of the n largest values, largest first (equal values: the lower position first). Only the values
    at or above the n-th largest are sorted, not all of them."""
    if len(values) > n:
        nth = values[np.argpartition(values, len(values) - n)[len(values) - n]]
        top = np.flatnonzero(values >= nth)
    else:
        top = np.arange(len(values))
    return [int(i) for i in top[np.lexsort((top, -values[top]))][:n]]


def _hits_by_id(db: Database, ids: list[str], workspace: str | None) -> dict[str, Hit]:
    if not ids:
        return {}
    found: dict[str, Hit] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        where = f"id IN ({marks})" + (" AND workspace = ?" if workspace else "")
        rows = db.execute(
            f"SELECT id, title, body, version FROM articles WHERE {where}",
            [*chunk, *([workspace] if workspace else [])],
        ).fetchall()
        found.update({r[0]: Hit(r[0], r[1], r[2], r[3], 0.0) for r in rows})
    return found


@dataclass(frozen=True)
class Candidates:
    """The articles that may answer a ticket, with the features the ranking reads (one value per article)."""

    hits: list[Hit]
    features: dict[str, npt.NDArray[np.float64]]
    dense: bool  # meaning similarity was measured (otherwise keywords alone)
    query: WeightedQuery | None = None
    coverage_idf: dict[str, float] | None = None

    def with_coverage(self, positions: list[int]) -> dict[str, npt.NDArray[np.float64]]:
        """The features plus "coverage" (the share of the ticket's weighted rare words each article holds) for the
        candidates at these positions (0 elsewhere): the confidence reads it for the articles shown."""
        coverage = np.zeros(len(self.hits))
        if self.query is not None:
            for i in positions:
                h = self.hits[i]
                share = CAVEAT_SHARE if has_caveat(h.body) else 1.0
                coverage[i] = share * _coverage(self.query, f"{h.title}\n{h.body}", self.coverage_idf)[0]
        return {**self.features, "coverage": coverage}


@dataclass(frozen=True)
class Gathered:
    """What ranking one query needs from the store, read on the store thread: the candidate articles, word
    statistics, the named entity's articles and meaning similarities. Scoring it (`features_of`, `rank`) reads
    nothing more, so it runs on the compute thread."""

    query: WeightedQuery
    hits: list[Hit]
    idf: dict[str, float]  # bm25's, for the weighted, latest and plain words
    coverage_idf: dict[str, float]
    average: float  # mean article length in content words
    about_entity: frozenset[str]  # the named entity's articles
    entity_share: float  # how entity-organised the knowledge base is
    sim_latest: npt.NDArray[np.float64] | None  # one value per hit (None: keywords alone)
    sim_whole: npt.NDArray[np.float64] | None


def gather(
    db: Database,
    query: WeightedQuery,
    *,
    workspace: str | None = None,
    dense: Dense | None = None,
    counts: TermCounts | None = None,
    exclude: set[str] | None = None,
    include: str = "",
) -> Gathered | None:
    """Candidates from every source (keywords of the weighted thread, every word once, the named entity's
    articles, the nearest in meaning to the latest message and to the whole conversation), with what scoring them
    needs. None when nothing matches. Reads the store (its thread); the query's vectors should be encoded ahead.
    `include`: an article that is a candidate whatever it matches (the one the agent chose for the ticket)."""
    if query.is_empty():
        return None
    counts = counts or TermCounts()
    counts.refresh(db)
    entities = counts.entities(db, workspace)
    evidence = query.entity_evidence()
    entity = entities.detect(evidence) if evidence else ""
    # Keyword candidates: the heaviest words that are in at most a tenth of the articles (words nearly every
    # article has add FTS5 work and little signal; they still count in the scores).
    common = max(COMMON_SHARE * counts.articles, 20)  # a small knowledge base keeps every word
    share = counts.in_workspace(db, workspace) / counts.articles if workspace else 1.0
    plain = query.plain(PLAIN_TERMS)
    if share >= WIDER_SHARE:  # ranked word by word (`_fts_ids`): each word's scores also count its articles
        for word in plain.surface.values():
            counts.word_scores(db, word)
    selective = query.heaviest(SELECTIVE_TERMS, lambda word: counts.frequency(db, word) <= common)
    pool = _fts_ids(db, workspace, selective, CANDIDATES, share=share, counts=counts)
    pool += _fts_ids(db, workspace, plain, POOL, title_weight=1.0, share=share, counts=counts)
    about_entity: set[str] = set()
    if entity:
        pool += _fts_ids(db, workspace, query.focused().without(entity), CANDIDATES, entity=entity)
        where = "workspace = ? AND entity = ?" if workspace else "entity = ?"
        rows = db.execute(f"SELECT id FROM articles WHERE {where}", [*([workspace] if workspace else []), entity])
        about_entity = {str(r[0]) for r in rows}
        pool += sorted(about_entity)[:ENTITY_POOL]
    sims: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]] | None = None
    if dense is not None and _covers_all(db, workspace, dense.index, counts) and reads_meaning(query):
        try:
            latest_vector, whole_vector = _query_vectors(dense.encoder, query)
        except CopilotError as exc:  # a provider's embedding model is unreachable: keywords alone this time
            log.warning("meaning search skipped: %s", exc.message)
        else:
            sims = (dense.index.similarities(latest_vector), dense.index.similarities(whole_vector))
            for values in sims:
                pool += [dense.index.ids[i] for i in _nearest(values, POOL)]
    skip = exclude or set()
    order = [a for a in dict.fromkeys([*pool, *([include] if include else [])]) if a not in skip]
    by_id = _hits_by_id(db, order, workspace)
    hits = [by_id[a] for a in order if a in by_id]
    if not hits:
        return None

    def per_hit(values: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        position = dense.index.position if dense is not None else {}
        return np.array([float(values[position[h.article_id]]) if h.article_id in position else 0.0 for h in hits])

    return Gathered(
        query,
        hits,
        counts.bm25_idf(db, {**query.surface, **plain.surface}),
        counts.idf(db, query),
        counts.average_length(db),
        frozenset(about_entity),
        entities.share,
        per_hit(sims[0]) if sims else None,
        per_hit(sims[1]) if sims else None,
    )


def features_of(found: Gathered | None) -> Candidates:
    """The features the ranking reads, one value per candidate (pure: runs on any thread)."""
    if found is None:
        return Candidates([], {}, False)
    query, hits, idf, average = found.query, found.hits, found.idf, found.average
    plain = query.plain(PLAIN_TERMS)
    latest = query.focused()
    weighted_bm25: list[float] = []
    latest_bm25: list[float] = []
    plain_bm25: list[float] = []
    passage_w: list[float] = []
    passage_l: list[float] = []
    title_w: list[float] = []
    weighted, focused, every = (
        _Terms.of(query.weights, idf),
        _Terms.of(latest.weights, idf),
        _Terms.of(plain.weights, idf),
    )
    for h in hits:
        whole = f"{h.title}\n{h.body}"
        # An article for special cases ("only when support asks you to") must not win on word overlap: it keeps
        # a third of it, and still comes up when the ticket means it (its meaning similarity is untouched).
        share = CAVEAT_SHARE if has_caveat(h.body) else 1.0
        weighted_bm25.append(share * _bm25(weighted, whole, average))
        latest_bm25.append(share * _bm25(focused, whole, average))
        plain_bm25.append(share * _bm25(every, whole, average))
        sections = [f"{h.title}\n{p}" for p in passages(h.body)]
        passage_w.append(share * max(_bm25(weighted, section, average) for section in sections))
        passage_l.append(share * max(_bm25(focused, section, average) for section in sections))
        title_w.append(share * _bm25(weighted, h.title, average))
    in_entity = np.array([1.0 if h.article_id in found.about_entity else 0.0 for h in hits]) * found.entity_share**2
    zeros = np.zeros(len(hits))
    features = {
        "sim_latest": found.sim_latest if found.sim_latest is not None else zeros,
        "sim_conversation": found.sim_whole if found.sim_whole is not None else zeros,
        "bm25_weighted": _scaled(weighted_bm25),
        "bm25_latest": _scaled(latest_bm25),
        "bm25_plain": _scaled(plain_bm25),
        "passage_weighted": _scaled(passage_w),
        "passage_latest": _scaled(passage_l),
        "title_weighted": _scaled(title_w),
        "entity": in_entity,
    }
    features["entity_x_sim_latest"] = in_entity * features["sim_latest"]
    features["entity_x_bm25_latest"] = in_entity * features["bm25_latest"]
    features["entity_x_bm25_weighted"] = in_entity * features["bm25_weighted"]
    features["entity_x_bm25_plain"] = in_entity * features["bm25_plain"]
    return Candidates(hits, features, found.sim_latest is not None, query, found.coverage_idf)


def how_ranked(db: Database, query: WeightedQuery, workspace: str | None, dense: Dense | None) -> str:
    """What the ranking of this query will read, for the agent: meaning as well as keywords, or keywords alone and
    why (shown beside the suggestions, so a weaker first result while indexing is not a mystery)."""
    if dense is None:
        return "keywords only: no local meaning model is installed"
    if not reads_meaning(query):
        return "keywords only: the meaning model reads English, this ticket is not in English"
    if not _covers_all(db, workspace, dense.index):
        return "keywords only: articles are still being indexed for meaning search"
    return "keywords and meaning"


def _covers_all(db: Database, workspace: str | None, index: DenseIndex, counts: TermCounts | None = None) -> bool:
    """Meaning similarity only once every article has its vectors: while a new knowledge base is still being
    indexed, the keyword ranking (fitted for keywords alone) is the fair one; an article without vectors would
    otherwise look unrelated in meaning. counts: refreshed word statistics, which remember the article count."""
    if not index.ids:
        return False
    return len(index.ids) >= (counts or TermCounts()).in_workspace(db, workspace)


def rank(found: Candidates, query: WeightedQuery, limit: int = 5, first: str = "") -> list[Suggestion]:
    """Ranked suggestions with the best passage and a calibrated confidence (the chance the article answers the
    ticket). Pure: runs on any thread. `first`: the article the agent chose, listed first and marked `chosen`,
    with the confidence the ranking gives it where it would stand (in the last place shown when it ranks lower)."""
    if not found.hits:
        return []
    model = load_ranking().model(found.dense)
    scores = model.scores(found.features)
    order = [int(i) for i in ranked(scores, found.features)[:limit]]
    pick = next((i for i, h in enumerate(found.hits) if h.article_id == first), None) if first else None
    if pick is not None and pick not in order:
        order = [*order[: limit - 1], pick]
    confidences = model.confidences(scores, found.with_coverage(order))
    if asks_nothing(latest_text(query)):
        confidences = confidences * NOTHING_ASKED  # a thank-you is answered by no article (still listed, weak)
    out: list[Suggestion] = []
    ceiling = 1.0
    for i in order:
        h = found.hits[int(i)]
        ceiling = min(ceiling, float(confidences[int(i)]))  # shown non-increasing down the list
        passage, words_found = best_passage(query, h.body)
        out.append(
            Suggestion(h.article_id, h.title, passage, tuple(words_found), round(ceiling, 3), h.version, i == pick)
        )
    return sorted(out, key=lambda s: not s.chosen)  # stable: the chosen one first, the rest as ranked


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
    """`gather`, `features_of` and `rank` on one thread. Pass the same `counts` across searches to remember word
    statistics."""
    found = gather(db, query, workspace=workspace, dense=dense, counts=counts, exclude=exclude)
    return rank(features_of(found), query, limit)


def search_text(
    db: Database, text: str, *, workspace: str | None = None, limit: int = 10, counts: TermCounts | None = None
) -> list[Suggestion]:
    return search(db, WeightedQuery.from_parts([(text, 1.0)]), workspace=workspace, limit=limit, counts=counts)


def article_tags(db: Database, article_id: str) -> list[str]:
    row = db.execute("SELECT tags FROM articles WHERE id = ?", [article_id]).fetchone()
    return list(json.loads(row[0])) if row else []
