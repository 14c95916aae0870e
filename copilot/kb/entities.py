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

from copilot.engine.text import fold

_PREFIX = re.compile(r"^\s*(.{2,80}?)\s*(?::|\s[-–—|]\s)\s*\S")
MIN_ARTICLES = 2  # a prefix used once is just a title, not an entity
RECENCY = 0.6


def entity_of_title(title: str) -> str:
    match = _PREFIX.match(title)
    return match.group(1).strip() if match else ""


def _key(text: str) -> str:
    """A name as its folded words: how a mention found in a ticket is matched back to its entity."""
    return " ".join(re.findall(r"\w+", fold(text)))


@functools.lru_cache(maxsize=8)
def _matcher(names: tuple[str, ...]) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    """One regular expression for all the names (one pass over a text, however many entities), longer names
    first so that "Acorn Guest House" wins over a shorter name inside it."""
    by_key = {_key(n): n for n in sorted(names, key=len)}
    by_key.pop("", None)
    if not by_key:
        return None, {}
    alternatives = [r"\W+".join(re.escape(w) for w in k.split()) for k in sorted(by_key, key=len, reverse=True)]
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b"), by_key


@dataclass(frozen=True)
class EntityIndex:
    names: tuple[str, ...]
    share: float = 0.0  # how entity-organised the knowledge base is: the share of its articles about a named entity

    @classmethod
    def load(cls, db: Database, workspace: str | None) -> EntityIndex:
        where = "WHERE entity != ''" + (" AND workspace = ?" if workspace else "")
        rows = db.execute(
            f"SELECT entity, count(*) FROM articles {where} GROUP BY entity HAVING count(*) >= {MIN_ARTICLES}",
            [workspace] if workspace else [],
        ).fetchall()
        total = db.execute(
            "SELECT count(*) FROM articles" + (" WHERE workspace = ?" if workspace else ""),
            [workspace] if workspace else [],
        ).fetchone()[0]
        about = sum(int(r[1]) for r in rows)
        return cls(tuple(sorted(str(r[0]) for r in rows)), about / total if total else 0.0)

    def detect(self, parts: list[tuple[str, float]]) -> str:
        """The entity the weighted texts (in conversation order) are most about. A mention counts for its part's
        weight, less the further back it is (x RECENCY per part): "do they serve beer?" is about the place named
        last, even when the customer named another one more often earlier (DSTC11 FAQ dev: recall@5 0.989 with
        recency, 0.96 without)."""
        pattern, by_key = _matcher(self.names)
        if pattern is None:
            return ""
        scores: dict[str, tuple[float, int]] = {}  # name -> (score, where last named): among equals, the later
        last = len(parts) - 1
        for order, (text, weight) in enumerate(parts):
            for name in dict.fromkeys(by_key[_key(m)] for m in pattern.findall(fold(text))):
                score, _ = scores.get(name, (0.0, 0))
                scores[name] = (score + weight * RECENCY ** (last - order), order)
        if not scores:
            return ""
        return max(scores, key=lambda n: scores[n])
