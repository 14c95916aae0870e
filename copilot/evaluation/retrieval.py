"""Retrieval quality: recall@1/5/10, MRR and latency, on a fresh temporary store."""

from __future__ import annotations

import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from copilot.evaluation.data import percentile, read_jsonl
from copilot.evaluation.fit_ranking import calibration_error, calibration_floor, split_of
from copilot.evaluation.vector_cache import with_vector_cache
from copilot.kb import retrieve
from copilot.kb.articles import ArticleInput, import_articles
from copilot.kb.encoder import load_embedder
from copilot.kb.vectors import load_index, refresh_embeddings
from copilot.store.db import open_database

WORKSPACE = "eval"


@dataclass(frozen=True)
class RetrievalReport:
    queries: int
    articles: int
    recall_at_1: float
    recall_at_5: float
    recall_at_10: float
    mrr: float
    calibration_error: float  # of the top suggestion's confidence: 0 when a shown 0.8 is right 8 times in 10
    # What a perfectly calibrated confidence with the same values would still show on this many queries (sampling
    # noise): a calibration error near it cannot be told from perfect.
    calibration_floor: float
    latency_p50_ms: float
    latency_p95_ms: float
    index_seconds: float
    dense_model: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate_retrieval(
    kb_path: Path, queries_path: Path, limit: int | None = None, dense: bool = True, split: str = "all"
) -> RetrievalReport:
    """split: "all" queries, or the half the ranking weights were fitted on ("fit") or not ("held")."""
    kb = read_jsonl(kb_path, ("id", "title", "body"))
    queries = [q for q in read_jsonl(queries_path, ("id", "text", "gold")) if split in ("all", split_of(str(q["id"])))]
    queries = queries[:limit]
    with tempfile.TemporaryDirectory(prefix="copilot-eval-") as tmp:
        db = open_database(Path(tmp) / "eval.db")
        started = time.perf_counter()
        items = [ArticleInput(str(r["id"]), str(r["title"]), str(r["body"])) for r in kb]
        import_articles(db, WORKSPACE, items, author="eval")
        encoder = with_vector_cache(load_embedder()) if dense else None
        dense_search = None
        if encoder is not None:
            refresh_embeddings(db, encoder, WORKSPACE)
            dense_search = retrieve.Dense(encoder, load_index(db, WORKSPACE, encoder.name))
        index_seconds = time.perf_counter() - started
        counts = retrieve.TermCounts()
        hits = {1: 0, 5: 0, 10: 0}
        reciprocal = 0.0
        latencies: list[float] = []
        confidences: list[float] = []
        top_right: list[bool] = []
        for q in queries:
            gold = {str(g) for g in q["gold"]}
            t0 = time.perf_counter()
            # The same weighted query the product builds from a ticket's thread.
            query = retrieve.WeightedQuery.from_parts(
                retrieve.conversation_parts(retrieve.turns_from_transcript(q["text"]))
            )
            suggestions = retrieve.search(db, query, workspace=WORKSPACE, limit=10, dense=dense_search, counts=counts)
            latencies.append((time.perf_counter() - t0) * 1000)
            found = [s.article_id for s in suggestions]
            if suggestions:
                confidences.append(suggestions[0].confidence)
                top_right.append(found[0] in gold)
            rank = next((i for i, a in enumerate(found, start=1) if a in gold), None)
            if rank:
                reciprocal += 1 / rank
                for k in hits:
                    hits[k] += rank <= k
        db.conn.close()
    n = len(queries)
    return RetrievalReport(
        queries=n,
        articles=len(kb),
        recall_at_1=round(hits[1] / n, 4),
        recall_at_5=round(hits[5] / n, 4),
        recall_at_10=round(hits[10] / n, 4),
        mrr=round(reciprocal / n, 4),
        calibration_error=calibration_error(confidences, top_right),
        calibration_floor=calibration_floor(confidences),
        latency_p50_ms=round(percentile(latencies, 0.5), 2),
        latency_p95_ms=round(percentile(latencies, 0.95), 2),
        index_seconds=round(index_seconds, 2),
        dense_model=encoder.name if encoder is not None else "none (keyword only)",
    )
