"""What an article or a ticket is about: the product, plan or place named in article titles.

Knowledge bases often title articles "Entity: question" ("Lumen Hub: Reset to factory settings",
"Ashley Hotel: Is there parking?"). A prefix shared by several articles is an entity; a ticket that names it
(most of all in its latest message) is about it, and that entity's articles should rank first.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from sqlite_utils import Database

from copilot.builtin.text import fold

_PREFIX = re.compile(r"^\s*(.{2,80}?)\s*(?::|\s[-–—|]\s)\s*\S")
MIN_ARTICLES = 2  # a prefix used once is just a title, not an entity


def entity_of_title(title: str) -> str:
    match = _PREFIX.match(title)
    return match.group(1).strip() if match else ""


def _pattern(name: str) -> re.Pattern[str]:
    words = re.findall(r"\w+", fold(name))
    return re.compile(r"\b" + r"\W+".join(re.escape(w) for w in words) + r"\b")


@functools.lru_cache(maxsize=8)
def _patterns(names: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    # Longer names first, so "Acorn Guest House" wins over a shorter name inside it.
    return tuple((n, _pattern(n)) for n in sorted(names, key=len, reverse=True))


@dataclass(frozen=True)
class EntityIndex:
    patterns: tuple[tuple[str, re.Pattern[str]], ...]

    @classmethod
    def load(cls, db: Database, workspace: str | None) -> EntityIndex:
        where = "WHERE entity != ''" + (" AND workspace = ?" if workspace else "")
        rows = db.execute(
            f"SELECT entity FROM articles {where} GROUP BY entity HAVING count(*) >= {MIN_ARTICLES}",
            [workspace] if workspace else [],
        ).fetchall()
        return cls(_patterns(tuple(sorted(str(r[0]) for r in rows))))

    def detect(self, parts: list[tuple[str, float]]) -> str:
        """The entity the weighted texts are most about; among equals, the one named last."""
        scores: dict[str, tuple[float, int]] = {}
        for order, (text, weight) in enumerate(parts):
            folded = fold(text)
            for name, pattern in self.patterns:
                if pattern.search(folded):
                    score, _ = scores.get(name, (0.0, 0))
                    scores[name] = (score + weight, order)
        if not scores:
            return ""
        return max(scores, key=lambda n: scores[n])
