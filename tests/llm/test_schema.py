"""Structured outputs: complete answers are validated; streamed ones are read field by field as they arrive."""

from __future__ import annotations

import itertools
import json

import pytest

from copilot.llm.schema import Schema, SchemaError, parse, partial_strings

ORDER: Schema = {"order": [int]}


def test_partial_strings_follow_a_stream_piece_by_piece() -> None:
    whole = json.dumps({"wants": 'a "full" refund', "now": "charged twice — 2×€40", "tried": "nothing yet"})
    seen = [partial_strings(whole[:cut]) for cut in range(len(whole) + 1)]
    assert seen[-1] == {"wants": 'a "full" refund', "now": "charged twice — 2×€40", "tried": "nothing yet"}
    # Fields only ever grow, and each one is a prefix of its final text.
    for earlier, later in itertools.pairwise(seen):
        assert set(earlier) <= set(later)
        assert all(later[k].startswith(v) for k, v in earlier.items())
    escaped = json.dumps({"now": "café"}, ensure_ascii=True)  # "caf\u00e9"
    assert all("\\" not in v for cut in range(len(escaped)) for v in partial_strings(escaped[:cut]).values())


def test_parse_repairs_nothing_silently() -> None:
    assert parse('```json\n{"order": [2, 1]}\n```', ORDER) == {"order": [2, 1]}
    with pytest.raises(SchemaError, match="'order' must be a list of int"):
        parse('{"order": ["two"]}', ORDER)


def test_partial_strings_keep_an_escaped_backslash_at_the_end_of_a_piece() -> None:
    whole = json.dumps({"now": "C:\\Lumen\\logs", "wants": "help"})
    for cut in range(len(whole) + 1):
        fields = partial_strings(whole[:cut])
        assert all(json.loads(whole)[k].startswith(v) for k, v in fields.items()), whole[:cut]
    assert partial_strings('{"now": "C:\\\\') == {"now": "C:\\"}
    assert partial_strings('Here you go:\n```json\n{"wants": "a re') == {"wants": "a re"}
    assert partial_strings("no object yet") == {}
