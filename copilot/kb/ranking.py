"""How candidate articles are ranked and how sure the copilot is: one fitted configuration for every knowledge
base (no per-data-set switches).

Each candidate gets a few features, measured the same way on any knowledge base: meaning similarity to the latest
customer message and to the whole conversation, bm25 of the weighted conversation, of its latest message and of
every word once (each against the whole article and its best passage, scaled so the best candidate has 1), and
whether the article is about the entity the ticket names (weighted by how entity-organised the knowledge base
is). An article that warns it is for special cases keeps a third of its word overlap (a rule, not fitted). A listwise linear model scores them (softmax over the
candidates), and a second small model turns a candidate's share of that softmax, its closeness (absolute and
relative to the other candidates) and whether the signals agree it is the best into the chance it answers the
ticket: the confidence shown, calibrated so a shown 0.8 is right about 8 times in 10.

The weights live in `resources/ranking.json`, written by `python -m copilot.evaluation.fit_ranking`, which fits
them on one half of every evaluation set together (each set weighing the same) and reports the other half.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from copilot.config.paths import resources_dir
from copilot.errors import CopilotError

Vector = npt.NDArray[np.float64]

# Features the ranker reads, in order. "entw" = in the named entity x (share of articles about entities)^2.
RANK_FEATURES = (
    "sim_latest",
    "sim_conversation",
    "bm25_weighted",
    "bm25_latest",
    "bm25_plain",
    "passage_weighted",
    "passage_latest",
    "title_weighted",
    "entity",
    "entity_x_sim_latest",
    "entity_x_bm25_latest",
    "entity_x_bm25_weighted",
    "entity_x_bm25_plain",
)
# What the confidence model reads for one candidate: its log share of the ranker's softmax, its lead over the
# runner-up (capped), its closeness in meaning (latest message, conversation), the share of the ticket's weighted
# rare words it holds, a constant, whether it is about the entity the ticket names; then whether the signals agree
# that it is the one (first by each meaning similarity, by plain, weighted and passage bm25), its lead in meaning
# over the next-closest article, its word overlaps, and its closeness in meaning relative to the ten closest
# candidates (a knowledge base of look-alike sections is close to everything; "about the topic" is not "answers it").
CONFIDENCE_FEATURES = (
    "log_share",
    "margin",
    "sim_latest",
    "sim_conversation",
    "coverage",
    "bias",
    "entity",
    "first_sim_latest",
    "first_sim_conversation",
    "first_bm25_plain",
    "first_bm25_weighted",
    "first_passage_weighted",
    "lead_sim_latest",
    "lead_sim_conversation",
    "bm25_plain",
    "passage_weighted",
    "bm25_latest",
    "above_near_sim_latest",
    "above_near_sim_conversation",
)
NEAR = 10  # "the closest candidates" the relative closeness is measured against
MARGIN_CAP = 5.0
# In a knowledge base organised by entity (at least half its articles are "Entity: question"), the articles about
# the entity the ticket names come first, whatever the words say: a ticket about one hotel is not answered by
# another's FAQ, and a help-desk field naming the product outranks a word the thread shares with another
# product's article. A rule, not fitted; the fitted score orders within each group.
ENTITY_ORGANISED = 0.5


def ranked(scores: Vector, features: dict[str, Vector]) -> npt.NDArray[np.intp]:
    """Candidate positions, best first: the named entity's articles first where the knowledge base is organised
    by entity ("entity" holds share**2 for them), then by score."""
    first = features["entity"] >= ENTITY_ORGANISED**2
    order: npt.NDArray[np.intp] = np.lexsort((-scores, ~first))
    return order


def _first(values: Vector) -> Vector:
    """1 for the candidates with the highest value (all candidates when they tie), else 0."""
    result: Vector = (values >= values.max()).astype(np.float64)
    return result


def _lead(values: Vector) -> Vector:
    """How far each candidate is above the best of the others (negative for all but the first)."""
    ordered = np.sort(values)[::-1]
    second = ordered[1] if len(ordered) > 1 else 0.0
    result: Vector = values - np.where(values >= ordered[0], second, ordered[0])
    return result


def _above_near(values: Vector) -> Vector:
    """How far each candidate is above the mean of the NEAR highest values."""
    result: Vector = values - float(np.sort(values)[::-1][:NEAR].mean())
    return result


def confidence_columns(scores: Vector, features: dict[str, Vector]) -> Vector:
    """The confidence model's inputs, one row per candidate (the fitting script uses the same)."""
    z = scores - scores.max()
    ordered = np.sort(scores)[::-1]
    runner_up = ordered[1] if len(ordered) > 1 else ordered[0] - MARGIN_CAP
    columns = {
        "log_share": z - np.log(np.exp(z).sum()),
        "margin": np.minimum(scores - runner_up, MARGIN_CAP),
        "sim_latest": features["sim_latest"],
        "sim_conversation": features["sim_conversation"],
        "coverage": features["coverage"],
        "bias": np.ones_like(scores),
        "entity": features["entity"],
        "bm25_plain": features["bm25_plain"],
        "passage_weighted": features["passage_weighted"],
        "bm25_latest": features["bm25_latest"],
    }
    for name in ("sim_latest", "sim_conversation", "bm25_plain", "bm25_weighted", "passage_weighted"):
        columns[f"first_{name}"] = _first(features[name])
    for name in ("sim_latest", "sim_conversation"):
        columns[f"lead_{name}"] = _lead(features[name])
        columns[f"above_near_{name}"] = _above_near(features[name])
    result: Vector = np.column_stack([columns[name] for name in CONFIDENCE_FEATURES])
    return result


@dataclass(frozen=True)
class Model:
    """One fitted ranker + confidence model (there is one with meaning similarity, one for keywords alone)."""

    rank: Vector  # one weight per RANK_FEATURES
    confidence: Vector  # one weight per CONFIDENCE_FEATURES

    def scores(self, features: dict[str, Vector]) -> Vector:
        columns = np.column_stack([features[name] for name in RANK_FEATURES])
        result: Vector = columns @ self.rank
        return result

    def confidences(self, scores: Vector, features: dict[str, Vector]) -> Vector:
        """The chance each candidate answers the ticket, from its ranker score and its absolute closeness."""
        x = confidence_columns(scores, features) @ self.confidence
        result: Vector = 1.0 / (1.0 + np.exp(-x))
        return result


@dataclass(frozen=True)
class Ranking:
    dense: Model  # meaning similarity available (the local encoder or a provider's embedding model)
    keywords: Model  # keywords alone (no encoder, or a language the encoder does not read)
    version: str

    def model(self, dense: bool) -> Model:
        return self.dense if dense else self.keywords

    def as_json(self) -> dict[str, object]:
        def one(m: Model) -> dict[str, dict[str, float]]:
            return {
                "rank": {n: round(float(w), 4) for n, w in zip(RANK_FEATURES, m.rank, strict=True)},
                "confidence": {n: round(float(w), 4) for n, w in zip(CONFIDENCE_FEATURES, m.confidence, strict=True)},
            }

        return {"version": self.version, "dense": one(self.dense), "keywords": one(self.keywords)}


def ranking_path() -> Path:
    return resources_dir() / "ranking.json"


def parse_ranking(raw: dict[str, object]) -> Ranking:
    """The fitted weights; a file missing a feature is refused (a ranker silently scoring 0 would look fine)."""

    def model(key: str) -> Model:
        part = raw.get(key)
        if not isinstance(part, dict):
            raise ValueError(f"no '{key}' model")
        rank, conf = part.get("rank"), part.get("confidence")
        if not isinstance(rank, dict) or not isinstance(conf, dict):
            raise ValueError(f"'{key}' needs 'rank' and 'confidence'")
        missing = [n for n in RANK_FEATURES if n not in rank] + [n for n in CONFIDENCE_FEATURES if n not in conf]
        if missing:
            raise ValueError(f"'{key}' lacks {', '.join(missing)}")
        return Model(
            np.array([float(rank[n]) for n in RANK_FEATURES]),
            np.array([float(conf[n]) for n in CONFIDENCE_FEATURES]),
        )

    return Ranking(model("dense"), model("keywords"), str(raw.get("version", "")))


@functools.lru_cache(maxsize=1)
def load_ranking() -> Ranking:
    path = ranking_path()
    try:
        return parse_ranking(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise CopilotError(
            f"The ranking weights in {path} cannot be read ({exc}).",
            "Reinstall Support Copilot, or refit them with python -m copilot.evaluation.fit_ranking.",
        ) from exc
