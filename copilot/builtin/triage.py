"""Nearest labelled examples: TF-IDF cosine similarity over the team's own labelled history."""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from copilot.builtin.text import STOPWORDS, stem, words

PROMPT_VERSION = "triage-knn-2"
DENSE_K = 15


def features(text: str) -> Counter[str]:
    toks = [stem(w) for w in words(text) if not w.isdigit()]
    feats: Counter[str] = Counter(t for t in toks if t not in STOPWORDS and len(t) > 1)
    # Bigrams keep the word order that single words lose ("card arrive" vs "arrive card").
    feats.update(f"{a}_{b}" for a, b in itertools.pairwise(toks))
    return feats


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float
    ranking: tuple[tuple[str, float], ...]
    neighbours: tuple[tuple[str, str, float], ...]  # (example key, label, similarity)


class NearestExamples:
    """k nearest labelled examples vote, weighted by similarity. With sentence vectors (the local encoder) the
    similarity is cosine of meaning (k=15, similarity^5: DSTC11 dev macro-F1 0.94-0.96); without them it is
    TF-IDF over words and bigrams through an inverted index (k=12, similarity^2)."""

    def __init__(self, k: int = 12) -> None:
        self.k = k
        self._vectors: npt.NDArray[np.float32] | None = None
        self._idf: dict[str, float] = {}
        self._postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self._labels: list[str] = []
        self._keys: list[str] = []

    def fit(
        self, examples: Iterable[tuple[str, str, str]], vectors: npt.NDArray[np.float32] | None = None
    ) -> NearestExamples:
        """examples: (key, text, label); vectors: one unit sentence vector per example, in the same order."""
        self._vectors = vectors
        feats: list[Counter[str]] = []
        for key, text, label in examples:
            self._keys.append(key)
            self._labels.append(label)
            feats.append(features(text))
        df: Counter[str] = Counter()
        for f in feats:
            df.update(f.keys())
        n = len(feats)
        self._idf = {t: math.log((1 + n) / (1 + d)) + 1 for t, d in df.items()}
        for i, f in enumerate(feats):
            vec = self._weigh(f)
            for t, w in vec.items():
                self._postings[t].append((i, w))
        return self

    def _weigh(self, f: Counter[str]) -> dict[str, float]:
        vec = {t: (1 + math.log(c)) * self._idf.get(t, 0.0) for t, c in f.items()}
        norm = math.sqrt(sum(w * w for w in vec.values())) or 1.0
        return {t: w / norm for t, w in vec.items() if w}

    def _dense_neighbours(self, vector: npt.NDArray[np.float32], exclude_key: str | None) -> list[tuple[int, float]]:
        assert self._vectors is not None
        sims = self._vectors @ vector
        k = min(DENSE_K + 1, len(sims))
        top = np.argpartition(-sims, k - 1)[:k]
        ordered = sorted(((int(i), float(sims[i])) for i in top), key=lambda x: x[1], reverse=True)
        return [(i, s) for i, s in ordered if self._keys[i] != exclude_key][:DENSE_K]

    def _word_neighbours(self, text: str, exclude_key: str | None) -> list[tuple[int, float]]:
        sims: dict[int, float] = defaultdict(float)
        for t, w in self._weigh(features(text)).items():
            for i, wi in self._postings.get(t, ()):
                sims[i] += w * wi
        ranked = sorted(
            ((i, s) for i, s in sims.items() if self._keys[i] != exclude_key), key=lambda x: x[1], reverse=True
        )
        return ranked[: self.k]

    def __len__(self) -> int:
        return len(self._labels)

    def predict(
        self, text: str, exclude_key: str | None = None, vector: npt.NDArray[np.float32] | None = None
    ) -> Prediction | None:
        if not self._labels:
            return None
        if self._vectors is not None and vector is not None:
            ranked, power, closeness = self._dense_neighbours(vector, exclude_key), 5, 0.6
        else:
            ranked, power, closeness = self._word_neighbours(text, exclude_key), 2, 0.35
        if not ranked:
            return None
        votes: dict[str, float] = defaultdict(float)
        for i, s in ranked:
            votes[self._labels[i]] += max(s, 0.0) ** power
        total = sum(votes.values()) or 1.0
        ordered = sorted(votes.items(), key=lambda kv: kv[1], reverse=True)
        ranking = tuple((label, round(v / total, 3)) for label, v in ordered)
        label, share = ranking[0]
        # Confidence: the vote share, damped when even the nearest example is not very similar.
        confidence = round(share * min(1.0, ranked[0][1] / closeness), 3)
        neighbours = tuple((self._keys[i], self._labels[i], round(s, 3)) for i, s in ranked[:5])
        return Prediction(label, confidence, ranking, neighbours)
