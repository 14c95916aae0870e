"""Fit the ranking and confidence weights (resources/ranking.json) on every retrieval set at once.

    python -m copilot.evaluation.fit_ranking [--data DIR] [--keep-rank keywords] [--write]

One configuration for every knowledge base: the sets are pooled, each weighing the same (however many queries it
has), and only the *fit* half of each (by a hash of the query id) is used; the *held* half is reported beside it
and is what the README quotes. The demo's gold tickets are one of the sets (their "no article answers" tickets
teach the confidence what a miss looks like); the demo's held-out tickets are never used.

Ranking: a linear score over the candidates' features with a softmax across each query's candidates (listwise:
it learns what puts the right article first, not what makes a score large), fitted by Newton's method with a
line search. Confidence: logistic regression on the top five shown per query (is this one a right answer?), the
first counting five times as much: its confidence decides "No good article" and its calibration is reported.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from sqlite_utils import Database

from copilot.evaluation.data import read_jsonl
from copilot.kb import retrieve
from copilot.kb.articles import ArticleInput
from copilot.kb.ranking import (
    ENTITY_ORGANISED,
    RANK_FEATURES,
    Model,
    Ranking,
    confidence_columns,
    ranked,
    ranking_path,
)
from copilot.kb.vectors import PreEncoded

Array = npt.NDArray[np.float64]
SHOWN = 5
FIRST_WEIGHT = 5.0
UNCOVERED_SHARE = 0.03
VERSION = "rank-3"


def split_of(query_id: str) -> str:
    """ "fit" or "held": a stable half of every set, by a hash of the query id."""
    return "fit" if int(hashlib.sha256(query_id.encode()).hexdigest()[:8], 16) % 2 == 0 else "held"


@dataclass(frozen=True)
class Case:
    """One query's candidates as features, and which of them are right."""

    set_name: str
    query_id: str
    ids: list[str]
    features: dict[str, Array]
    right: Array  # 1.0 where the candidate is a gold article
    has_gold: bool  # the query has gold articles at all ("no article answers" when False)
    uncovered: bool = False  # the same query with its gold articles taken out of the knowledge base

    @property
    def split(self) -> str:
        return split_of(self.query_id)


def rank_matrix(case: Case) -> Array:
    return np.column_stack([case.features[n] for n in RANK_FEATURES])


def confidence_matrix(case: Case, scores: Array) -> Array:
    return confidence_columns(scores, case.features)


def _newton(size: int, loss_grad_hess: Callable[[Array], tuple[float, Array, Array]], iterations: int = 80) -> Array:
    """Minimise a smooth convex loss: Newton steps, halved until the loss goes down."""
    w = np.zeros(size)
    loss, grad, hess = loss_grad_hess(w)
    for _ in range(iterations):
        step = np.linalg.solve(hess + 1e-9 * np.eye(size), grad)
        scale = 1.0
        while scale > 1e-4:
            candidate = w - scale * step
            new_loss, new_grad, new_hess = loss_grad_hess(candidate)
            if new_loss <= loss:
                break
            scale /= 2
        else:
            break
        improved = loss - new_loss
        w, loss, grad, hess = candidate, new_loss, new_grad, new_hess
        if improved < 1e-10:
            break
    return w


def fit_rank(cases: list[Case], l2: float = 0.0002) -> Array:
    """Listwise softmax over each query's candidates; every set weighs the same, every query in it the same."""
    usable = [c for c in cases if c.right.any()]
    per_set = {c.set_name: 0 for c in usable}
    for c in usable:
        per_set[c.set_name] += 1
    data = []
    for c in usable:
        # Where the entity rule puts some candidates first, the score only has to order within that group.
        group = c.features["entity"] >= ENTITY_ORGANISED**2
        keep = group if group.any() and c.right[group].any() else np.ones(len(c.ids), dtype=bool)
        data.append((rank_matrix(c)[keep], c.right[keep] / c.right[keep].sum(), 1.0 / per_set[c.set_name]))
    k = len(RANK_FEATURES)

    def lgh(w: Array) -> tuple[float, Array, Array]:
        loss, grad, hess = 0.5 * l2 * float(w @ w), l2 * w.copy(), l2 * np.eye(k)
        for x, target, weight in data:
            z = x @ w
            z = z - z.max()
            p = np.exp(z)
            total = p.sum()
            p = p / total
            loss += weight * (float(np.log(total)) - float(target @ z))
            grad += weight * (x.T @ (p - target))
            xp = x.T @ p
            hess += weight * ((x * p[:, None]).T @ x - np.outer(xp, xp))
        return loss, grad, hess

    return _newton(k, lgh)


def fit_confidence(cases: list[Case], rank: Array, l2: float = 0.01) -> Array:
    """Logistic regression on the shown candidates (the top five): the chance each is a right answer. The first
    suggestion counts FIRST_WEIGHT times as much as each of the others: its confidence decides "No good article"
    and its calibration is what is reported, but the others are shown with a confidence too. Every set weighs the
    same. Questions with their answer taken out count UNCOVERED_SHARE as much as the real ones: enough to teach
    what a miss looks like on every set, little enough that a set whose every question has an answer is not read
    as one where a tenth have none (0.1 left the first suggestion's confidence 0.06-0.08 under its accuracy on
    DSTC11 and OR-ShARC; fitted on the fit halves, scored on the held halves)."""
    per_set: dict[str, int] = {}
    for c in cases:
        if not c.uncovered:
            per_set[c.set_name] = per_set.get(c.set_name, 0) + 1
    rows, labels, weights = [], [], []
    for c in cases:
        scores = rank_matrix(c) @ rank
        top = ranked(scores, c.features)[:SHOWN]
        rows.append(confidence_matrix(c, scores)[top])
        labels.append(c.right[top])
        weight = np.full(len(top), (UNCOVERED_SHARE if c.uncovered else 1.0) / per_set[c.set_name])
        weight[0] *= FIRST_WEIGHT
        weights.append(weight)
    x, y, sw = np.vstack(rows), np.concatenate(labels), np.concatenate(weights)
    k = x.shape[1]

    def lgh(w: Array) -> tuple[float, Array, Array]:
        z = x @ w
        p = 1.0 / (1.0 + np.exp(-z))
        loss = float(np.sum(sw * (np.logaddexp(0.0, z) - y * z))) + 0.5 * l2 * float(w @ w)
        grad = x.T @ (sw * (p - y)) + l2 * w
        hess = (x * (sw * p * (1 - p))[:, None]).T @ x + l2 * np.eye(k)
        return loss, grad, hess

    return _newton(k, lgh)


def fit_sharpness(cases: list[Case], rank: Array, confidence: Array) -> float:
    """One factor on the confidence's logit, fitted on the first suggestion of the real questions alone (every set
    weighing the same): the confidence model learns from the questions with their answer taken out too and from
    the other suggestions, which leaves its first suggestion a little under-confident where the ranker is sure
    (OR-ShARC: shown 0.94, right 0.98). No offset, so a confidence of 0.5 stays 0.5 and "No good article" decides
    exactly as before. The factor multiplies the confidence weights: the model keeps its form."""
    real = [c for c in cases if not c.uncovered]
    per_set: dict[str, int] = {}
    for c in real:
        per_set[c.set_name] = per_set.get(c.set_name, 0) + 1
    logits, labels, weights = [], [], []
    for c in real:
        scores = rank_matrix(c) @ rank
        first = ranked(scores, c.features)[0]
        logits.append(float(confidence_matrix(c, scores)[first] @ confidence))
        labels.append(float(c.right[first]))
        weights.append(1.0 / per_set[c.set_name])
    x, y, sw = np.array(logits), np.array(labels), np.array(weights)

    def lgh(w: Array) -> tuple[float, Array, Array]:
        z = x * w[0]
        p = 1.0 / (1.0 + np.exp(-z))
        loss = float(np.sum(sw * (np.logaddexp(0.0, z) - y * z)))
        return loss, np.array([float(np.sum(sw * (p - y) * x))]), np.array([[float(np.sum(sw * p * (1 - p) * x * x))]])

    # Newton from 0 would start at "every confidence 0.5"; start from the model as fitted.
    return float(_newton(1, lambda w: lgh(w + 1.0))[0] + 1.0)


def calibration_error(confidences: list[float], right: list[bool], bins: int = 10) -> float:
    """Expected calibration error: how far the shown confidence is from how often it is right (0 = perfect)."""
    if not confidences:
        return 0.0
    conf, ok = np.array(confidences), np.array(right, dtype=float)
    edges = np.minimum((conf * bins).astype(int), bins - 1)
    error = 0.0
    for b in range(bins):
        mask = edges == b
        if mask.any():
            error += mask.mean() * abs(float(conf[mask].mean()) - float(ok[mask].mean()))
    return round(error, 4)


def calibration_floor(confidences: list[float], bins: int = 10, draws: int = 400) -> float:
    """The calibration error a perfectly calibrated confidence with these same values would still show on this
    many queries: the mean over `draws` simulated outcomes, each one right with the chance its confidence says
    (a fixed seed, so the figure is repeatable). On a small set the calibration error is mostly sampling noise
    (on 144 questions about 0.08 however honest the confidence); a figure near this floor cannot be told from
    perfect calibration, one well above it is a real miscalibration."""
    if not confidences:
        return 0.0
    conf = np.array(confidences, dtype=float)
    outcomes = np.random.default_rng(0).random((draws, len(conf))) < conf
    edges = np.minimum((conf * bins).astype(int), bins - 1)
    errors = np.zeros(draws)
    for b in range(bins):
        mask = edges == b
        if mask.any():
            errors += mask.mean() * np.abs(float(conf[mask].mean()) - outcomes[:, mask].mean(axis=1))
    return round(float(errors.mean()), 4)


def report(cases: list[Case], model: Model) -> dict[str, float]:
    """R@1, R@5 (queries with gold) and the calibration error of the top suggestion's confidence (all queries),
    beside the error a perfectly calibrated confidence would show on as many queries."""
    r1 = r5 = n = 0
    confidences: list[float] = []
    right: list[bool] = []
    for c in cases:
        scores = model.scores(c.features)
        conf = model.confidences(scores, c.features)
        order = ranked(scores, c.features)
        confidences.append(float(conf[order[0]]))
        right.append(bool(c.right[order[0]]))
        if c.has_gold:
            n += 1
            r1 += bool(c.right[order[0]])
            r5 += bool(c.right[order[:5]].any())
    return {
        "queries": len(cases),
        "recall_at_1": round(r1 / n, 3) if n else 0.0,
        "recall_at_5": round(r5 / n, 3) if n else 0.0,
        "calibration_error": calibration_error(confidences, right),
        "calibration_floor": calibration_floor(confidences),
    }


def mean_top_confidence(cases: list[Case], model: Model) -> float:
    """The mean confidence of the first suggestion (for questions with their answer taken out: lower is better)."""
    values = []
    for c in cases:
        scores = model.scores(c.features)
        values.append(float(model.confidences(scores, c.features)[ranked(scores, c.features)[0]]))
    return round(sum(values) / len(values), 3) if values else 0.0


def case_of(set_name: str, query_id: str, found: retrieve.Candidates, gold: set[str]) -> Case | None:
    if not found.hits:
        return None
    ids = [h.article_id for h in found.hits]
    right = np.array([1.0 if a in gold else 0.0 for a in ids])
    return Case(set_name, query_id, ids, found.with_coverage(list(range(len(ids)))), right, bool(gold))


@contextmanager
def knowledge_base(articles: list[ArticleInput], dense: bool) -> Iterator[tuple[Database, retrieve.Dense | None]]:
    """A temporary store holding the articles (and their vectors, from the evaluation cache when it is set)."""
    import tempfile

    from copilot.evaluation.vector_cache import with_vector_cache
    from copilot.kb.articles import import_articles
    from copilot.kb.encoder import load_embedder
    from copilot.kb.vectors import load_index, refresh_embeddings
    from copilot.store.db import open_database

    with tempfile.TemporaryDirectory(prefix="copilot-fit-") as tmp:
        db = open_database(Path(tmp) / "fit.db")
        try:
            import_articles(db, "eval", articles, author="eval")
            encoder = with_vector_cache(load_embedder()) if dense else None
            found = None
            if encoder is not None:
                refresh_embeddings(db, encoder, "eval")
                found = retrieve.Dense(PreEncoded(encoder), load_index(db, "eval", encoder.name))
            yield db, found
        finally:
            db.conn.close()


def collect(
    set_name: str,
    articles: list[ArticleInput],
    queries: list[tuple[str, retrieve.WeightedQuery, set[str]]],
    dense: bool,
) -> list[Case]:
    cases: list[Case] = []
    with knowledge_base(articles, dense) as (db, found_dense):
        if found_dense is not None and isinstance(found_dense.encoder, PreEncoded):
            found_dense.encoder.prepare([t for _id, q, _g in queries for t in retrieve.query_texts(q)])
        counts = retrieve.TermCounts()
        for query_id, query, gold in queries:
            found = retrieve.features_of(retrieve.gather(db, query, workspace="eval", dense=found_dense, counts=counts))
            case = case_of(set_name, query_id, found, gold)
            if case is not None:
                cases.append(case)
            if gold:
                # What a question the knowledge base does not cover looks like: the same query without its
                # answer. The confidence learns from these what a miss looks like on every set.
                missing = retrieve.features_of(
                    retrieve.gather(db, query, workspace="eval", dense=found_dense, counts=counts, exclude=gold)
                )
                if missing.hits:
                    ids = [h.article_id for h in missing.hits]
                    features = missing.with_coverage(list(range(len(ids))))
                    cases.append(Case(set_name, query_id, ids, features, np.zeros(len(ids)), False, True))
    return cases


RETRIEVAL_SETS = {
    "dstc11": ("kb-dstc11-faq.jsonl", "retrieval-dstc11-faq-dev.jsonl"),
    "orsharc": ("kb-orsharc.jsonl", "retrieval-orsharc-dev.jsonl"),
    "emanual": ("kb-emanual.jsonl", "retrieval-emanual-dev.jsonl"),
}


def retrieval_set(
    kb_path: Path, queries_path: Path
) -> tuple[list[ArticleInput], list[tuple[str, retrieve.WeightedQuery, set[str]]]]:
    articles = [
        ArticleInput(str(r["id"]), str(r["title"]), str(r["body"]))
        for r in read_jsonl(kb_path, ("id", "title", "body"))
    ]
    queries = []
    for r in read_jsonl(queries_path, ("id", "text", "gold")):
        parts = retrieve.conversation_parts(retrieve.turns_from_transcript(str(r["text"])))
        queries.append((str(r["id"]), retrieve.WeightedQuery.from_parts(parts), {str(g) for g in r["gold"]}))
    return articles, queries


def demo_set(folder: Path) -> tuple[list[ArticleInput], list[tuple[str, retrieve.WeightedQuery, set[str]]]]:
    """The demo's knowledge base and its gold tickets (resources/demo/gold.jsonl; not the held-out tickets)."""
    from copilot.assist.ticket_assist import ticket_query
    from copilot.evaluation.assist import read_gold
    from copilot.helpdesk.ticket_file import read_ticket_file
    from copilot.kb.importer import read_articles

    gold = read_gold(folder / "gold.jsonl")
    queries = []
    for record in read_ticket_file(folder / "tickets.json"):
        number = record.ticket.number
        if number in gold:
            wanted = {str(a) for a in gold[number].get("articles", [])}
            queries.append((f"demo-{number}", ticket_query(record.ticket), wanted))
    return read_articles(folder / "articles"), queries


def shipped_rank(mode: str) -> Array:
    """The rank weights of one model as the current weights file holds them (its confidence may be older)."""
    raw = json.loads(ranking_path().read_text(encoding="utf-8"))
    return np.array([float(raw[mode]["rank"][name]) for name in RANK_FEATURES])


def main(argv: list[str] | None = None) -> int:
    from copilot.config.paths import resources_dir
    from copilot.threads import cap_native_threads

    cap_native_threads()
    parser = argparse.ArgumentParser(
        prog="python -m copilot.evaluation.fit_ranking", description=__doc__.split("\n")[0]
    )
    data = Path(os.environ.get("COPILOT_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))
    parser.add_argument("--data", type=Path, default=data / "eval", help="the evaluation sets (COPILOT_DATA/eval)")
    parser.add_argument("--write", action="store_true", help=f"write the weights to {ranking_path()}")
    parser.add_argument(
        "--keep-rank",
        choices=("dense", "keywords"),
        action="append",
        default=[],
        help="keep this model's rank weights from the current weights file (its confidence is still refitted)",
    )
    args = parser.parse_args(argv)

    sources = {name: retrieval_set(args.data / kb, args.data / q) for name, (kb, q) in RETRIEVAL_SETS.items()}
    sources["demo"] = demo_set(resources_dir() / "demo")
    models: dict[str, Model] = {}
    table: dict[str, dict[str, dict[str, float]]] = {}
    for mode, dense in (("dense", True), ("keywords", False)):
        cases = [c for name, (arts, qs) in sources.items() for c in collect(name, arts, qs, dense)]
        fit = [c for c in cases if c.split == "fit"]
        rank = shipped_rank(mode) if mode in args.keep_rank else fit_rank(fit)
        confidence = fit_confidence(fit, rank)
        models[mode] = Model(rank, confidence * fit_sharpness(fit, rank, confidence))
        for name in sources:
            for split in ("fit", "held"):
                part = [c for c in cases if c.set_name == name and c.split == split and not c.uncovered]
                figures = report(part, models[mode])
                missing = [c for c in cases if c.set_name == name and c.split == split and c.uncovered]
                figures["uncovered_mean_confidence"] = mean_top_confidence(missing, models[mode])
                table.setdefault(mode, {})[f"{name}/{split}"] = figures
    ranking = Ranking(models["dense"], models["keywords"], VERSION)
    print(json.dumps({"weights": ranking.as_json(), "figures": table}, indent=1))
    if args.write:
        ranking_path().write_text(json.dumps(ranking.as_json(), indent=1) + "\n", encoding="utf-8")
        print(f"wrote {ranking_path()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
