"""Knowledge-base articles, their versions, and the suggestions and citations that point at them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    body: str  # Markdown
    version: int
    updated_at: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class ArticleVersion:
    article_id: str
    version: int
    title: str
    body: str
    author: str
    reason: str
    created_at: str


@dataclass(frozen=True)
class Suggestion:
    article_id: str
    title: str
    passage: str
    highlights: tuple[str, ...]  # query terms found in the passage
    confidence: float
    article_version: int
    chosen: bool = False  # the agent chose it for this ticket ("Use this article"); confidence stays the model's


@dataclass(frozen=True)
class Citation:
    number: int
    article_id: str
    title: str
    article_version: int
