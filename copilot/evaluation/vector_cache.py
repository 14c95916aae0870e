"""Encoded evaluation sets kept between runs: the same 10,000 BANKING77 texts need not be encoded on every test
run. COPILOT_EVAL_VECTORS names the folder (the test suite points it at pytest's cache dir); one SQLite file per
encoder fingerprint (the ONNX graph's SHA-256), so a changed model never reads another's vectors.

The app's local encoder reads through it too when the variable is set (`assist.ticket_assist.local_encoder`): in
the test suite the demo's articles and labelled tickets are then encoded once per run, not once per test. Users
never set it.

Only whole sets are cached (calls with several texts); a single query is always encoded live, so the latency
figures of an evaluation stay honest.
"""

from __future__ import annotations

import os
import re
import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np

from copilot.kb.vectors import Matrix, TextEncoder, text_hash

ENV = "COPILOT_EVAL_VECTORS"


class CachingEncoder:
    def __init__(self, inner: TextEncoder, path: Path) -> None:
        self.inner, self.path, self.name = inner, path, inner.name
        self.reused = 0

    def encode(self, texts: list[str], batch_size: int = 32) -> Matrix:
        if len(texts) < 2:
            return self.inner.encode(texts, batch_size)
        hashes = [text_hash(t) for t in texts]
        with closing(sqlite3.connect(self.path)) as conn, conn:
            conn.execute("CREATE TABLE IF NOT EXISTS vectors (text_hash TEXT PRIMARY KEY, vector BLOB NOT NULL)")
            known: dict[str, Matrix] = {}
            unique = sorted(set(hashes))
            for start in range(0, len(unique), 500):
                chunk = unique[start : start + 500]
                rows = conn.execute(
                    f"SELECT text_hash, vector FROM vectors WHERE text_hash IN ({','.join('?' * len(chunk))})", chunk
                )
                known.update((h, np.frombuffer(v, dtype=np.float32)) for h, v in rows)
            missing = sorted({h: t for h, t in zip(hashes, texts, strict=True) if h not in known}.items())
            if missing:
                fresh = self.inner.encode([t for _h, t in missing], batch_size)
                known.update((h, fresh[i]) for i, (h, _t) in enumerate(missing))
                conn.executemany(
                    "INSERT OR REPLACE INTO vectors VALUES (?, ?)", [(h, known[h].tobytes()) for h, _t in missing]
                )
        self.reused += len(texts) - len(missing)
        return np.vstack([known[h] for h in hashes]).astype(np.float32, copy=False)


def with_vector_cache(encoder: TextEncoder | None) -> TextEncoder | None:
    """The encoder, caching whole sets when COPILOT_EVAL_VECTORS is set and the encoder has a fingerprint."""
    folder = os.environ.get(ENV, "").strip()
    fingerprint = str(getattr(encoder, "fingerprint", "") or "")
    if encoder is None or not folder or not fingerprint:
        return encoder
    Path(folder).mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", encoder.name)
    return CachingEncoder(encoder, Path(folder) / f"{safe}-{fingerprint[:16]}.sqlite")
