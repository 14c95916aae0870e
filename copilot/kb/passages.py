"""An article's passages: its paragraphs, sections and list items, and a long paragraph as windows of whole
sentences. What a long article is found by, by its words (bm25 per passage) and by its meaning (a vector per
window of a long paragraph)."""

from __future__ import annotations

import functools
import re

from copilot.engine.text import sentences

PASSAGE_WORDS = 80  # a block longer than this is read as overlapping windows of whole sentences about this long


def _blocks(body: str) -> list[str]:
    return [b.strip() for b in re.split(r"\n\s*\n|\n(?=#)|\n(?=[*-] )|\n(?=\d+\. )", body) if b.strip()]


def _windows(block: str) -> list[str]:
    """Windows of whole sentences about PASSAGE_WORDS long, each starting half a window after the last, so the
    sentences that answer are found together wherever they fall. One sentence longer than a window stays whole."""
    sents = sentences(block)
    lengths = [len(x.split()) for x in sents]
    out: list[str] = []
    start = 0
    while start < len(sents):
        end, size = start, 0
        while end < len(sents) and (size == 0 or size + lengths[end] <= PASSAGE_WORDS):
            size += lengths[end]
            end += 1
        out.append(" ".join(sents[start:end]))
        if end >= len(sents):
            break
        half, step = 0, start
        while step < end - 1 and half + lengths[step] <= size // 2:
            half += lengths[step]
            step += 1
        start = max(step, start + 1)
    return out


@functools.lru_cache(maxsize=4096)
def passages(body: str) -> tuple[str, ...]:
    """The article's paragraphs, sections and list items; a block longer than PASSAGE_WORDS (a manual's section
    written as one paragraph) as its windows."""
    out: list[str] = []
    for block in _blocks(body):
        out.extend(_windows(block) if len(block.split()) > PASSAGE_WORDS else [block])
    return tuple(out) or (body,)


def long_windows(body: str) -> tuple[str, ...]:
    """The windows of the article's long paragraphs only (none for an article of short paragraphs and list
    items): these get a vector of their own, so a long article is found by the meaning of its right part."""
    return tuple(w for block in _blocks(body) if len(block.split()) > PASSAGE_WORDS for w in _windows(block))
