"""Triage learnt from the team's own labelled history: a linear classifier on sentence vectors with a calibrated
confidence, and the nearest labelled examples as evidence (or alone, by words, without the local encoder)."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import math
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from copilot.engine.text import STOPWORDS, stem, words

ARTICLE_LEAD = 300  # characters of an article's body that describe it, after its title

# Linear classifier on sentence vectors, damped by how close the nearest example is (scaled to the team's examples).
PROMPT_VERSION = "triage-5"
DENSE_K = 15
# The open-set rule: a message no labelled example resembles is "none of these", however sure the classifier is
# of its best intent (a classifier only ever chooses among the intents it knows). The confidence is multiplied by
# `closeness`: 0 when the nearest example's cosine similarity is at most NEAR_LOW, 1 from NEAR_HIGH up, linear in
# between. Chosen once for the sentence encoder's scale on the "fit" halves of every triage set side by side
# (HINT3, BANKING77, DSTC11; `eval triage --part fit`), the same for every workspace. Those are chat messages,
# whose examples are alike (the median similarity of an example to its nearest other one, `typical`, is
# 0.77-0.91); whole tickets with a subject and a paragraph are much less so (0.51 on the demo), where the fixed
# thresholds called right answers "none of these". So both thresholds shrink by typical / TYPICAL_CHAT when a
# team's examples are less alike than chat messages (the chat sets keep theirs: their figures are unchanged).
NEAR_LOW, NEAR_HIGH = 0.35, 0.6
TYPICAL_CHAT = 0.8
TYPICAL_SAMPLE = 1000  # examples whose nearest other one is measured (a median needs no more)


def closeness(similarity: float, typical: float = TYPICAL_CHAT) -> float:
    """How much a nearest-example similarity leaves of the confidence (see NEAR_LOW, NEAR_HIGH)."""
    scale = min(1.0, typical / TYPICAL_CHAT)
    low, high = NEAR_LOW * scale, NEAR_HIGH * scale
    return min(1.0, max(0.0, (similarity - low) / (high - low)))


def typical_similarity(vectors: npt.NDArray[np.float32], labelled: npt.NDArray[np.bool_], seed: int = 7) -> float:
    """The median cosine similarity of a labelled example to its nearest other labelled example (a sample of
    TYPICAL_SAMPLE of them at most): how alike this team's examples are, the scale of the open-set rule."""
    rows = np.flatnonzero(labelled)
    if len(rows) < 3:
        return TYPICAL_CHAT
    if len(rows) > TYPICAL_SAMPLE:
        sample = np.random.default_rng(seed).choice(rows, TYPICAL_SAMPLE, replace=False)
    else:
        sample = rows
    sims = vectors[sample] @ vectors[rows].T
    sims[np.arange(len(sample)), np.searchsorted(rows, sample)] = -1.0  # not itself
    return float(np.median(sims.max(axis=1)))


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
    shares: tuple[tuple[str, float], ...] = ()  # the neighbours' vote share per label, before the open-set rule


class NearestExamples:
    """k nearest labelled examples vote, weighted by similarity. With sentence vectors (the local encoder) the
    similarity is cosine of meaning (k=15, similarity^5: DSTC11 dev macro-F1 0.94-0.96); without them it is
    TF-IDF over words and bigrams through an inverted index (k=12, similarity^2)."""

    def __init__(self, k: int = 12) -> None:
        self.k = k
        self._vectors: npt.NDArray[np.float32] | None = None
        self._idf: dict[str, float] = {}
        self._postings: dict[str, list[tuple[int, float]]] | None = None  # the word index, built when first used
        self._texts: list[str] = []  # the examples' texts until the word index is built
        self._labels: list[str] = []
        self._keys: list[str] = []
        self.typical = TYPICAL_CHAT  # see typical_similarity

    def fit(
        self, examples: Iterable[tuple[str, str, str]], vectors: npt.NDArray[np.float32] | None = None
    ) -> NearestExamples:
        """examples: (key, text, label); vectors: one unit sentence vector per example, in the same order.

        With vectors the neighbours are found by meaning and the word index is built only if a text comes
        without its vector: at 10,000 labelled tickets that index was ~35 MB the app never read."""
        self._vectors = vectors
        for key, text, label in examples:
            self._keys.append(key)
            self._labels.append(label)
            self._texts.append(text)
        if vectors is None:
            self._index_words()
        else:
            labelled = np.array([not is_day_one(key) for key in self._keys], dtype=bool)
            self.typical = typical_similarity(vectors, labelled)
        return self

    def _index_words(self) -> dict[str, list[tuple[int, float]]]:
        if self._postings is not None:
            return self._postings
        feats = [features(text) for text in self._texts]
        df: Counter[str] = Counter()
        for f in feats:
            df.update(f.keys())
        n = len(feats)
        self._idf = {t: math.log((1 + n) / (1 + d)) + 1 for t, d in df.items()}
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, f in enumerate(feats):
            for t, w in self._weigh(f).items():
                postings[t].append((i, w))
        self._postings, self._texts = postings, []
        return postings

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
        postings = self._index_words()
        sims: dict[int, float] = defaultdict(float)
        for t, w in self._weigh(features(text)).items():
            for i, wi in postings.get(t, ()):
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
        dense = self._vectors is not None and vector is not None
        if dense:
            assert vector is not None
            ranked, power = self._dense_neighbours(vector, exclude_key), 5
        else:
            ranked, power = self._word_neighbours(text, exclude_key), 2
        if not ranked:
            return None
        votes: dict[str, float] = defaultdict(float)
        for i, s in ranked:
            votes[self._labels[i]] += max(s, 0.0) ** power
        total = sum(votes.values()) or 1.0
        ordered = sorted(votes.items(), key=lambda kv: kv[1], reverse=True)
        # Confidence: the vote share, damped when even the nearest example is not very similar (by words: full
        # from a TF-IDF cosine of 0.35; by meaning: the open-set rule).
        damp = closeness(ranked[0][1], self.typical) if dense else min(1.0, ranked[0][1] / 0.35)
        ranking = tuple((label, round(v / total * damp, 3)) for label, v in ordered)
        neighbours = tuple((self._keys[i], self._labels[i], round(s, 3)) for i, s in ranked[:5])
        shares = tuple((label, v / total) for label, v in ordered)
        return Prediction(ranking[0][0], ranking[0][1], ranking, neighbours, shares)


Matrix = npt.NDArray[np.float32]


def _softmax(scores: Matrix) -> Matrix:
    shifted = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    out: Matrix = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
    return out


NEIGHBOUR_SHARE = 0.3  # of the nearest examples' vote in the mix with the classifier's probabilities
NEIGHBOUR_POWER = 5  # a neighbour's vote: its similarity to this power (as NearestExamples votes by meaning)


SHARE_BLOCK = 256  # rows whose similarities are held at once: the pass's peak memory, not its result (identical)


def neighbour_shares(
    vectors: Matrix,
    targets: npt.NDArray[np.int64],
    classes: int,
    rows: npt.NDArray[np.int64],
    among: npt.NDArray[np.int64],
) -> Matrix:
    """For each of `rows`, the vote share per class of its DENSE_K nearest examples among `among` (which must not
    hold the row itself): what NearestExamples would say, computed for many rows at once."""
    out = np.zeros((len(rows), classes), dtype=np.float32)
    k = min(DENSE_K, len(among))
    if k == 0:
        return out
    for start in range(0, len(rows), SHARE_BLOCK):
        part = rows[start : start + SHARE_BLOCK]
        sims = vectors[part] @ vectors[among].T
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        votes = np.clip(np.take_along_axis(sims, top, axis=1), 0.0, None) ** NEIGHBOUR_POWER
        np.add.at(out, (np.arange(start, start + len(part))[:, None], targets[among][top]), votes)
    totals = out.sum(axis=1, keepdims=True)
    shares: Matrix = (out / np.where(totals > 0, totals, 1.0)).astype(np.float32)
    return shares


def _power_normalised(mixed: Matrix, power: float) -> Matrix:
    raised = np.power(np.clip(mixed, 1e-12, None), power)
    out: Matrix = (raised / raised.sum(axis=1, keepdims=True)).astype(np.float32)
    return out


# The saved form of a trained LinearIntents (`to_bytes`): bump it whenever the class, its training or what its
# state means changes, so a classifier saved by an older version is trained again instead of read.
LINEAR_FORMAT = "linear-intents-1"


class LinearIntents:
    """Multinomial logistic regression on sentence vectors, with a calibrated confidence.

    Features are centred and scaled; training is full-batch Adam on cross-entropy plus an L2 penalty (no SciPy or
    scikit-learn needed: 9,002 BANKING77 examples train in a few seconds on 2 cores). The confidence is the
    softmax probability after temperature scaling fitted on a held-out fifth of the examples, so "0.8" means
    right about 8 times in 10 on this team's own labels (expected calibration error is reported by `eval`).
    """

    def __init__(self, l2: float = 1e-3, steps: int = 400, learning_rate: float = 0.05) -> None:
        self.l2, self.steps, self.learning_rate = l2, steps, learning_rate
        self.labels: list[str] = []
        self.temperature = 1.0
        self.mix_power = 1.0  # sharpening of the mix with the neighbours' vote, fitted like the temperature
        self._mean = np.zeros(0, dtype=np.float32)
        self._scale = np.ones(0, dtype=np.float32)
        self._weights = np.zeros((0, 0), dtype=np.float32)

    def _design(self, vectors: Matrix) -> Matrix:
        standard = (vectors - self._mean) / self._scale
        out: Matrix = np.hstack([standard, np.ones((len(vectors), 1), dtype=np.float32)]).astype(np.float32)
        return out

    def _training(self, vectors: Matrix, targets: npt.NDArray[np.int64]) -> Iterator[None]:
        """Train, pausing after each step (see `fitting`)."""
        # One scale for every feature, no centring: the geometry of the sentence vectors is kept (per-feature
        # standardising blows up near-constant dimensions: BANKING77 dev 0.926 that way, 0.933 this way).
        self._mean = np.zeros(vectors.shape[1], dtype=np.float32)
        self._scale = np.full(vectors.shape[1], float(vectors.std()) + 1e-6, dtype=np.float32)
        x = self._design(vectors)
        n, classes = len(x), len(self.labels)
        onehot = np.zeros((n, classes), dtype=np.float32)
        onehot[np.arange(n), targets] = 1.0
        w = np.zeros((x.shape[1], classes), dtype=np.float32)
        m, v = np.zeros_like(w), np.zeros_like(w)
        beta1, beta2 = np.float32(0.9), np.float32(0.999)
        for step in range(1, self.steps + 1):
            grad = (x.T @ (_softmax(x @ w) - onehot) / np.float32(n) + np.float32(self.l2) * w).astype(np.float32)
            m = beta1 * m + (1 - beta1) * grad
            v = beta2 * v + (1 - beta2) * grad * grad
            w -= self.learning_rate * (m / (1 - beta1**step)) / (np.sqrt(v / (1 - beta2**step)) + 1e-8)
            yield
        self._weights = w

    def fit(self, vectors: Matrix, labels: list[str], seed: int = 7, always: list[bool] | None = None) -> LinearIntents:
        """always: the rows never held out to fit the temperature (day-one examples such as an intent's name,
        which say what an intent is but not how sure to be of a customer's message)."""
        for _step in self.fitting(vectors, labels, seed, always):
            pass
        return self

    def fitting(
        self, vectors: Matrix, labels: list[str], seed: int = 7, always: list[bool] | None = None
    ) -> Iterator[None]:
        """`fit`, one training step at a time: it pauses after each step, and whichever thread resumes it next
        goes on from there (a fold trained in the background is finished by the thread that needs it, without
        starting again). The same operations in the same order: the classifier is the same, bit for bit."""
        self.labels = sorted(set(labels))
        index = {label: i for i, label in enumerate(self.labels)}
        targets = np.array([index[label] for label in labels], dtype=np.int64)
        fixed = always or [False] * len(labels)
        if len(labels) >= 50:
            # Temperature from a held-out fifth: the probability that minimises its negative log-likelihood.
            order = [int(i) for i in np.random.default_rng(seed).permutation(len(labels))]
            judged = [i for i in order if not fixed[i]]
            held_out = set(judged[: len(judged) // 5])
            held = np.array(judged[: len(judged) // 5], dtype=np.int64)
            kept = np.array([i for i in order if i not in held_out], dtype=np.int64)
            yield from self._training(vectors[kept], targets[kept])
            scores = self._design(vectors[held]) @ self._weights
            rows = np.arange(len(held))

            def nll(p: Matrix) -> float:
                return float(-np.log(p[rows, targets[held]] + 1e-9).mean())

            self.temperature = min(np.geomspace(0.25, 4.0, 41), key=lambda t: nll(_softmax(scores / t)))
            # The mix with the neighbours' vote is calibrated the same way: the power that makes it honest on
            # the held-out fifth (their vote comes from the other four fifths).
            shares = neighbour_shares(vectors, targets, len(self.labels), held, kept)
            mixed = self.mix(_softmax(scores / self.temperature), shares, 1.0)
            self.mix_power = min(np.geomspace(0.25, 4.0, 41), key=lambda p: nll(_power_normalised(mixed, p)))
        yield from self._training(vectors, targets)

    def suits(self, dimensions: int, labels: Iterable[str]) -> bool:
        """Whether this classifier was trained for vectors of this size and exactly these labels (a saved copy
        is checked before it stands in for training)."""
        return self.labels == sorted(set(labels)) and self._weights.shape == (dimensions + 1, len(self.labels))

    def to_bytes(self) -> bytes:
        """All of its state as an uncompressed NumPy archive (no pickle): `from_bytes` gives back a classifier
        whose probabilities are identical, bit for bit."""
        out = io.BytesIO()
        settings = [self.l2, self.steps, self.learning_rate, self.temperature, self.mix_power]
        np.savez(
            out,
            format=np.array(LINEAR_FORMAT),
            labels=np.array(self.labels, dtype=np.str_),
            settings=np.array(settings, dtype=np.float64),
            # Fitted, the temperature and power are NumPy scalars, and NumPy raises float32 numbers to a NumPy
            # float64 power in double precision but to a Python float in single: the kind is kept, so are the numbers.
            fitted=np.array([isinstance(x, np.floating) for x in (self.temperature, self.mix_power)]),
            mean=self._mean,
            scale=self._scale,
            weights=self._weights,
        )
        return out.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> LinearIntents:
        """The classifier `to_bytes` saved; ValueError when the blob is not one (damaged, or another format)."""
        try:
            with np.load(io.BytesIO(blob), allow_pickle=False) as saved:
                version = str(saved["format"])
                labels = [str(label) for label in saved["labels"]]
                l2, steps, learning_rate, temperature, mix_power = (float(x) for x in saved["settings"])
                fitted = [bool(x) for x in saved["fitted"]]
                mean, scale, weights = saved["mean"], saved["scale"], saved["weights"]
        except Exception as exc:  # a damaged archive fails in many ways (zip, npy header, CRC): all mean "not one"
            raise ValueError(f"not a saved classifier: {exc!r}") from exc
        if version != LINEAR_FORMAT:
            raise ValueError(f"a saved classifier of format {version}, not {LINEAR_FORMAT}")
        dims = mean.shape[0] if mean.ndim == 1 else -1
        if (
            not labels
            or len(fitted) != 2
            or {mean.dtype, scale.dtype, weights.dtype} != {np.dtype(np.float32)}
            or scale.shape != (dims,)
            or weights.shape != (dims + 1, len(labels))
        ):
            raise ValueError("a saved classifier with inconsistent shapes")
        model = cls(l2, int(steps), learning_rate)
        model.labels = labels
        model.temperature = np.float64(temperature) if fitted[0] else temperature
        model.mix_power = np.float64(mix_power) if fitted[1] else mix_power
        model._mean, model._scale, model._weights = mean, scale, weights
        return model

    def probabilities(self, vectors: Matrix) -> Matrix:
        return _softmax((self._design(vectors) @ self._weights) / np.float32(self.temperature))

    def mix(self, probabilities: Matrix, shares: Matrix, power: float | None = None) -> Matrix:
        """The classifier's probabilities averaged with the nearest examples' vote shares (same columns), then
        sharpened or softened by the fitted power: each is right where the other slips (BANKING77 0.927 -> 0.933,
        HINT3 curekart +2 points, in-scope accuracy up on every triage set), and the mix stays calibrated."""
        mixed = ((1.0 - NEIGHBOUR_SHARE) * probabilities + NEIGHBOUR_SHARE * shares).astype(np.float32)
        return _power_normalised(mixed, self.mix_power if power is None else power)


MIN_LINEAR_EXAMPLES = 30  # fewer labelled tickets than this: the nearest examples decide alone
RANKING_SIZE = 10
FOLDS = 5


@dataclass(frozen=True)
class TrainedIntents:
    """Classifiers trained earlier on the same examples and vectors (read back from the store, say): the whole
    history's, and the folds' that leave a fifth out (by fold). `fit_intents` uses each one that suits instead of
    training it again."""

    linear: LinearIntents | None
    folds: dict[int, LinearIntents]


class _FoldJob:
    """A fold's classifier being trained: its paused training (`LinearIntents.fitting`) and who drives it. One
    thread at a time holds `driving` and takes steps; a thread that needs the fold now (`wanted`) makes the one in
    the background let go after its current step, and goes on from there."""

    def __init__(self, model: LinearIntents, steps: Iterator[None]) -> None:
        self.model, self.steps = model, steps
        self.driving = threading.Lock()
        self.wanted = 0  # threads waiting to drive it to the end (read without a lock: a stale read costs one step)
        self.finished = False
        self.spoilt = False  # its training failed half-way: it cannot go on


class IntentModel:
    """What triage uses. With sentence vectors and enough history, the linear classifier decides the label and
    its calibrated confidence; the nearest labelled examples are the evidence shown to the agent. Otherwise
    the nearest examples decide on their own (by meaning, or by words without the local encoder).

    A ticket that is itself part of the history (`exclude_key`) is judged by a model that never saw it: the
    classifier trained without its fifth of the history (trained on first need, or ahead by `train_fold` on
    another thread; a fold is never trained twice at once: who needs it finishes what the other started).
    """

    def __init__(
        self,
        nearest: NearestExamples,
        linear: LinearIntents | None = None,
        history: tuple[list[str], list[str], npt.NDArray[np.float32]] | None = None,  # keys, labels, vectors
        article_intents: dict[str, str] | None = None,
        folds: dict[int, LinearIntents] | None = None,  # trained earlier on this history (those that suit are used)
        fitted_on: str = "",
    ) -> None:
        self.nearest, self.linear = nearest, linear
        self.fitted_on = fitted_on  # what it was trained on, as the caller names it (`training_key`), or ""
        self.article_intents = article_intents or {}  # article id -> the one intent it names (day one)
        self._history = history
        self._fold_of = {key: i % FOLDS for i, key in enumerate(history[0])} if history else {}
        self._folds = {fold: model for fold, model in (folds or {}).items() if self._suits(fold, model)}
        self._new_folds: set[int] = set()  # trained here, not yet handed out by `take_new_folds`
        self._jobs: dict[int, _FoldJob] = {}  # folds being trained (or paused half-way)
        self._lock = threading.Lock()  # guards the three above: folds are trained on several threads

    def _suits(self, fold: int, model: LinearIntents) -> bool:
        if self._history is None or fold not in range(FOLDS):
            return False
        keys, labels, vectors = self._history
        return model.suits(vectors.shape[1], [labels[i] for i in range(len(keys)) if i % FOLDS != fold])

    @property
    def method(self) -> str:
        return "linear" if self.linear is not None else "neighbours"

    def __len__(self) -> int:
        return len(self.nearest)

    def _linear_without(self, key: str | None) -> LinearIntents | None:
        fold = self._fold_of.get(key) if key is not None else None
        if fold is None or self._history is None:
            return self.linear
        return self._fold_now(fold)

    def _job(self, fold: int) -> LinearIntents | _FoldJob:
        """Under the lock: the fold's classifier when trained, else its job (started paused when there is none)."""
        if fold in self._folds:
            return self._folds[fold]
        job = self._jobs.get(fold)
        if job is None:
            assert self._history is not None
            keys, labels, vectors = self._history
            keep = [i for i in range(len(keys)) if i % FOLDS != fold]
            always = [is_day_one(keys[i]) for i in keep]
            model = LinearIntents()
            job = self._jobs[fold] = _FoldJob(
                model, model.fitting(vectors[keep], [labels[i] for i in keep], always=always)
            )
        return job

    def _fold_now(self, fold: int) -> LinearIntents:
        """The fold's classifier, trained here if need be (finishing what another thread started)."""
        while True:
            with self._lock:
                job = self._job(fold)
                if isinstance(job, LinearIntents):
                    return job
                job.wanted += 1
            try:
                if self._drive(fold, job, lambda: False):
                    return job.model
            finally:
                with self._lock:
                    job.wanted -= 1

    def _drive(self, fold: int, job: _FoldJob, let_go: Callable[[], bool]) -> bool:
        """Take the job's steps until it is trained (True) or `let_go` says to stop after a step (False)."""
        with job.driving:
            if job.finished or job.spoilt:
                return job.finished
            try:
                for _step in job.steps:
                    if let_go():
                        return False
            except BaseException:
                job.spoilt = True  # out of memory, say: whoever needs the fold next starts again
                with self._lock:
                    self._jobs.pop(fold, None)
                raise
            job.finished = True
            with self._lock:
                self._folds[fold] = job.model
                self._new_folds.add(fold)
                self._jobs.pop(fold, None)
        return True

    def missing_folds(self) -> list[int]:
        """The folds whose classifier is not trained yet (none without a linear classifier)."""
        if self.linear is None or self._history is None:
            return []
        with self._lock:
            return [fold for fold in range(FOLDS) if fold not in self._folds]

    def train_fold(self, fold: int, stop: Callable[[], bool] = lambda: False) -> bool:
        """Train the fold's classifier ahead, on the caller's (low-priority) thread: True once it is trained.
        It lets go after the current step when `stop()` says so (the job stays paused, for whoever goes on with
        it) or when another thread needs the fold now (that thread finishes it)."""
        if fold not in self.missing_folds():
            return True
        with self._lock:
            job = self._job(fold)
        if isinstance(job, LinearIntents):
            return True
        return self._drive(fold, job, lambda: job.wanted > 0 or stop())

    def take_new_folds(self) -> dict[int, LinearIntents]:
        """The fold classifiers trained since the model was made or last asked (each handed out once, for the
        caller to save), whichever thread trained them."""
        with self._lock:
            new, self._new_folds = self._new_folds, set()
            return {fold: self._folds[fold] for fold in sorted(new)}

    def prepare_for(self, key: str) -> None:
        """Train now the classifier that leaves this example's fold out (what `predict` with this key uses):
        the caller picks the thread; at 10,000 examples it takes seconds."""
        if self.linear is not None:
            self._linear_without(key)

    def predict(
        self, text: str, exclude_key: str | None = None, vector: npt.NDArray[np.float32] | None = None
    ) -> Prediction | None:
        near = self.nearest.predict(text, exclude_key, vector)
        linear = self._linear_without(exclude_key) if self.linear is not None else None
        if linear is None or vector is None or near is None:
            return near
        # The classifier's calibrated probabilities mixed with the nearest examples' vote, times the open-set rule's
        # closeness of the nearest example (the whole ranking, so the alternatives shown never look surer than the
        # answer "none of these").
        damp = closeness(near.neighbours[0][2], self.nearest.typical) if near.neighbours else 0.0
        share_of = dict(near.shares)
        shares = np.array([[share_of.get(label, 0.0) for label in linear.labels]], dtype=np.float32)
        probs = linear.mix(linear.probabilities(vector[None, :]), shares)[0]
        order = np.argsort(-probs)[:RANKING_SIZE]
        ranking = tuple((linear.labels[i], round(float(probs[i]) * damp, 3)) for i in order)
        return Prediction(ranking[0][0], ranking[0][1], ranking, near.neighbours)


def training_key(examples: Iterable[tuple[str, str, str]], encoder: str) -> str:
    """A hash of everything the trained classifiers depend on: the examples (key, text, label) in their order, the
    encoder that turns them into vectors, the saved form (LINEAR_FORMAT) and the constants of training. A saved
    classifier stands in for training only under the same key."""
    default = LinearIntents()
    constants = [LINEAR_FORMAT, encoder, default.l2, default.steps, default.learning_rate, FOLDS, DENSE_K]
    constants += [NEIGHBOUR_SHARE, NEIGHBOUR_POWER, MIN_LINEAR_EXAMPLES]
    digest = hashlib.sha256(json.dumps(constants).encode())
    for example in examples:
        digest.update(json.dumps(example, ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def fit_intents(
    examples: list[tuple[str, str, str]],
    vectors: npt.NDArray[np.float32] | None,
    *,
    linear: bool = True,
    k: int = 12,
    trained: TrainedIntents | None = None,
    fitted_on: str = "",
) -> IntentModel:
    """examples: (key, text, label). The linear classifier is trained when there are vectors, at least
    MIN_LINEAR_EXAMPLES examples and two labels; `trained`: classifiers trained earlier on exactly these examples
    and vectors (the caller vouches for that), used instead of training when they suit them; `fitted_on`: the
    caller's name for those examples and vectors (`training_key`), kept on the model for saving it."""
    nearest = NearestExamples(k=k).fit(examples, vectors)
    labels = [label for _k, _t, label in examples]
    keys = [key for key, _t, _l in examples]
    named = article_intents(keys)
    if not linear or vectors is None or len(examples) < MIN_LINEAR_EXAMPLES or len(set(labels)) < 2:
        return IntentModel(nearest, article_intents=named, fitted_on=fitted_on)
    saved = trained.linear if trained is not None else None
    if saved is not None and saved.suits(vectors.shape[1], labels):
        classifier = saved
    else:
        classifier = LinearIntents().fit(vectors, labels, always=[is_day_one(key) for key in keys])
    folds = trained.folds if trained is not None else None
    return IntentModel(nearest, classifier, (keys, labels, vectors), named, folds, fitted_on)


# How much the suggested article weighs in triage, times its calibrated confidence, when it names exactly one
# intent (`day_one_examples`): the ticket's words may be like few labelled tickets while its article is sure.
ARTICLE_SHARE = 0.5


def article_intents(keys: Iterable[str]) -> dict[str, str]:
    """Article id -> the intent it names, from the keys of `day_one_examples` ("article:ID:LABEL"); an article
    that names several (equally specific) intents says nothing about which."""
    found: dict[str, set[str]] = defaultdict(set)
    for key in keys:
        if key.startswith("article:"):
            article_id, _, label = key[len("article:") :].rpartition(":")
            found[article_id].add(label)
    return {article_id: next(iter(labels)) for article_id, labels in found.items() if len(labels) == 1}


def with_article(pred: Prediction, intent: str, confidence: float) -> Prediction:
    """The prediction with the suggested article's evidence: its intent gets ARTICLE_SHARE x the article's
    confidence, the rest is the prediction's (already damped by the open-set rule) scaled down to make room."""
    weight = ARTICLE_SHARE * max(0.0, min(1.0, confidence))
    scores = {label: (1.0 - weight) * share for label, share in pred.ranking}
    scores[intent] = scores.get(intent, 0.0) + weight
    ranking = tuple((label, round(v, 3)) for label, v in sorted(scores.items(), key=lambda kv: -kv[1]))[:RANKING_SIZE]
    return Prediction(ranking[0][0], ranking[0][1], ranking, pred.neighbours, pred.shares)


def intent_phrase(label: str) -> str:
    """An intent's name as words: "CHECK_PINCODE" -> "check pincode", "AskAboutCashDeposits" -> "ask about cash
    deposits" (a team names its intents for what the customer wants: day-one evidence)."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", label)
    return " ".join(w.lower() for w in re.split(r"[\W_]+", spaced) if w)


DAY_ONE_KEYS = ("intent:", "article:")  # the keys of `day_one_examples`


def is_day_one(key: str) -> bool:
    return key.startswith(DAY_ONE_KEYS)


def _stems(text: str) -> set[str]:
    return {stem(w) for w in words(text)}


def day_one_examples(
    labels: Iterable[str], articles: Iterable[tuple[str, str, str, tuple[str, ...]]] = ()
) -> list[tuple[str, str, str]]:
    """What a team already has before much history is labelled, as more examples (key, text, label): each
    intent's name as words, and the articles that name an intent, as their title and first lines. An article
    names an intent when all the intent's words are among its tags and title words ("app_bug": tagged app and
    bug; "order_change": titled "Change or cancel an order"); one that names several is evidence for the most
    specific of them, the one that the fewest articles name (a refund article tagged billing too is about
    refunds). articles: (id, title, body, tags)."""
    kept = [label for label in dict.fromkeys(labels) if intent_phrase(label)]
    out = [(f"intent:{label}", intent_phrase(label), label) for label in kept]
    need = {label: _stems(intent_phrase(label)) for label in kept}
    named: list[tuple[str, str, list[str]]] = []
    for article_id, title, body, tags in articles:
        have = _stems(title) | {stem(w) for tag in tags for w in words(intent_phrase(tag))}
        text = f"{title}\n{' '.join(body.split())[:ARTICLE_LEAD]}"
        named.append((article_id, text, [label for label in kept if need[label] <= have]))
    breadth = Counter(label for _a, _t, found in named for label in found)
    for article_id, text, found in named:
        if found:
            fewest = min(breadth[label] for label in found)
            out += [(f"article:{article_id}:{label}", text, label) for label in found if breadth[label] == fewest]
    return out
