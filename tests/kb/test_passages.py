"""Passages: what a long article is found by."""

from __future__ import annotations

import itertools

from copilot.kb.passages import PASSAGE_WORDS, passages


def test_paragraphs_and_list_items_are_passages() -> None:
    body = "Intro line.\n\n1. Open Settings.\n2. Tap Reset.\n\n- a note"
    assert passages(body) == ("Intro line.", "1. Open Settings.", "2. Tap Reset.", "- a note")


def test_a_long_block_becomes_overlapping_windows_of_whole_sentences() -> None:
    # A manual's section written as one paragraph: 30 sentences of 9 words, the answer in sentence 17.
    sentences = [f"Sentence {i} says something about feature number {i} here." for i in range(30)]
    sentences[17] = "To pair the remote hold Back and Play together."
    body = " ".join(sentences)
    found = passages(body)
    assert len(found) > 3
    assert all(len(p.split()) <= PASSAGE_WORDS for p in found)
    assert all(any(s in p for p in found) for s in sentences)  # nothing is lost
    assert all(p.endswith(".") for p in found)  # whole sentences only
    # Consecutive windows overlap (half a window), so an answer across two sentences stays together somewhere.
    for first, second in itertools.pairwise(found):
        assert first.split(". ")[-1] in second
    # One sentence longer than a window stays whole.
    long_one = " ".join(["word"] * (PASSAGE_WORDS + 20)) + "."
    assert passages(long_one) == (long_one,)


def test_a_table_row_is_a_passage_with_its_column_names() -> None:
    from copilot.kb.retrieve import WeightedQuery, best_passage

    body = (
        "# Shipping times\nOrders placed before 2 pm ship the same day.\n\n"
        "| Destination | Standard | Express |\n|---|---|---|\n| United States | 3–5 days | 1–2 days |\n"
        "| European Union | 3–6 days | 2–3 days |\n\nStandard shipping is free over $50.\n"
    )
    passage, found = best_passage(WeightedQuery.from_parts([("How fast is express to the European Union?", 1.0)]), body)
    assert "European Union: Standard 3–6 days; Express 2–3 days." in passage and "|" not in passage
    assert {"european", "union"} <= set(found)


def test_the_snippet_carries_no_list_numbers() -> None:
    from copilot.kb.retrieve import WeightedQuery, best_passage

    body = "You can return any product within 30 days, for any reason.\n1. Open Orders.\n2. Print the label.\n"
    passage, _ = best_passage(WeightedQuery.from_parts([("Can I return them within 30 days?", 1.0)]), body)
    assert passage.startswith("You can return any product within 30 days") and not passage.endswith(("1.", "2."))
    assert "1." not in passage
