"""Dense vectors for articles: computed locally, stored with the article version, refreshed only for changes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
from sqlite_utils import Database

Matrix = npt.NDArray[np.float32]


@runtime_checkable
class TextEncoder(Protocol):
    name: str

    def encode(self, texts: list[str], batch_size: int = 32) -> Matrix: ...


def article_text(title: str, body: str) -> str:
    return f"{title}\n{body}"


StaleArticle = tuple[str, str, int]  # (article id, text to embed, version)


def stale_articles(db: Database, model: str, workspace: str | None = None) -> list[StaleArticle]:
    """Articles whose current version has no vector for this model."""
    where = "AND a.workspace = ?" if workspace else ""
    rows = db.execute(
        "SELECT a.id, a.title, a.body, a.version FROM articles a LEFT JOIN article_embeddings e "
        "ON e.article_id = a.id AND e.model = ? WHERE (e.version IS NULL OR e.version != a.version) " + where,
        [model, *([workspace] if workspace else [])],
    ).fetchall()
    return [(r[0], article_text(r[1], r[2]), r[3]) for r in rows]


def store_vectors(db: Database, model: str, articles: list[StaleArticle], vectors: Matrix) -> None:
    with db.conn:
        db.conn.executemany(
            "INSERT OR REPLACE INTO article_embeddings (article_id, model, version, vector) VALUES (?, ?, ?, ?)",
            [(a[0], model, a[2], vectors[i].tobytes()) for i, a in enumerate(articles)],
        )


def refresh_embeddings(db: Database, encoder: TextEncoder, workspace: str | None = None) -> int:
    """Embed every stale article in this thread (scripts and evaluation; the app encodes off the store thread)."""
    stale = stale_articles(db, encoder.name, workspace)
    if stale:
        store_vectors(db, encoder.name, stale, encoder.encode([a[1] for a in stale]))
    return len(stale)


@dataclass(frozen=True)
class DenseIndex:
    """All of a workspace's article vectors in one matrix, for a dot product against a query."""

    ids: list[str]
    entities: list[str]
    matrix: Matrix
    key: str

    def similarities(self, query: Matrix) -> Matrix:
        return self.matrix @ query


def index_key(db: Database, workspace: str | None, model: str) -> str:
    where = "WHERE a.workspace = ?" if workspace else ""
    row = db.execute(
        "SELECT count(*), max(e.version), sum(e.version) FROM article_embeddings e JOIN articles a ON a.id = e.article_id "
        f"AND e.model = ? {where}",
        [model, *([workspace] if workspace else [])],
    ).fetchone()
    return f"dense:{workspace}:{model}:{row[0]}:{row[1]}:{row[2]}"


def load_index(db: Database, workspace: str | None, model: str) -> DenseIndex:
    where = "AND a.workspace = ?" if workspace else ""
    rows = db.execute(
        "SELECT a.id, a.entity, e.vector FROM article_embeddings e JOIN articles a ON a.id = e.article_id "
        f"WHERE e.model = ? AND e.version = a.version {where} ORDER BY a.id",
        [model, *([workspace] if workspace else [])],
    ).fetchall()
    matrix = (
        np.vstack([np.frombuffer(r[2], dtype=np.float32) for r in rows]) if rows else np.zeros((0, 1), dtype=np.float32)
    )
    return DenseIndex([r[0] for r in rows], [r[1] for r in rows], matrix, index_key(db, workspace, model))
