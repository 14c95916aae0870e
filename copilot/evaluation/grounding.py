"""Unsupported sentences in a draft, by a built-in lexical check: a sentence is unsupported when too few of its
content words appear in the cited passages, the suggested articles' titles or the thread. Cheap and offline, and labelled as such wherever
it is shown; it catches invented promises and facts, not a paraphrase that is wrong in meaning."""

from __future__ import annotations

import re

from copilot.engine.text import key_terms, sentences, stem

_URL = re.compile(r"\(?\bhttps?://\S+")

CHECK = "lexical"  # the label every figure from this check carries
MIN_CONTENT_WORDS = 3  # a shorter sentence ("Best, Sam", "Thanks for waiting") is not checked
SUPPORTED_SHARE = 0.5  # at least this share of a sentence's content words must be found

# Courtesy and pointing words a reply uses without any source ("sorry for the trouble", "let me know"): not content.
_COURTESY_WORDS = (
    "sorry apologise apologize apologies thanks thank help happy glad hope let know please trouble "
    "inconvenience hear reach questions anything else best regards kind dear hello team support reply "
    "assist welcome wishes cheers understand frustrating frustration patience waiting wait getting touch "
    # pointing at a source is not a claim: "You'll find the full guide here: …"
    "you'll we'll i'll you're we're find full guide article read more link below above following steps "
    # saying that we are checking is not a claim either: "rather than guess, I've asked the team …"
    "couldn't i've covered help rather guess asked checking confirm definite answer come back soon shortly update "
    "member handling personally"
)
_COURTESY = frozenset(stem(w) for w in _COURTESY_WORDS.split())


def content_stems(text: str) -> set[str]:
    return {stem(w) for w in key_terms(text)} - _COURTESY


def unsupported_sentences(draft: str, sources: list[str], language: str = "en") -> list[str]:
    """The draft's sentences whose content words are mostly absent from every source (passages, thread).
    English drafts only: the courtesy words are English, and a translated draft shares few words with English
    articles, so another language's draft is not checked (an empty list)."""
    if language and not language.startswith("en"):
        return []
    known: set[str] = set()
    for source in sources:
        known |= content_stems(source)
    out: list[str] = []
    for sentence in sentences(draft):
        words = content_stems(_URL.sub(" ", sentence))  # a link is where to read more, not a claim
        if len(words) < MIN_CONTENT_WORDS:
            continue
        if len(words & known) / len(words) < SUPPORTED_SHARE:
            out.append(sentence)
    return out
