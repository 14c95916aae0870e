"""Input from outside: one normaliser, bounded JSON, ids and dates in range, and clear per-line errors."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from copilot.boundary import BoundaryError, check_date, check_id, clean_text, load_json
from copilot.errors import ImportFileError
from copilot.evaluation.data import read_jsonl
from copilot.kb.importer import read_articles


def test_clean_text_replaces_surrogates_and_controls_and_composes() -> None:
    assert clean_text("a\udc80b\x00c\x1bd\te\nf") == "a\ufffdb\ufffdc\ufffdd\te\nf"
    assert clean_text("e\u0301") == "\u00e9" == unicodedata.normalize("NFC", "e\u0301")
    clean_text("x\udc80").encode("utf-8")  # storable


def test_json_depth_and_size_are_bounded() -> None:
    with pytest.raises(BoundaryError, match="deeper than 64"):
        load_json("[" * 100_000 + "]" * 100_000)
    assert load_json('{"a": "[[[[[["}') == {"a": "[[[[[["}  # brackets inside strings do not count
    with pytest.raises(BoundaryError, match="over the limit"):
        load_json('"' + "x" * 3_000_000 + '"')


@pytest.mark.parametrize("value", ["12345678901234567890", -1, 0, "12a", 1.5, True, None])
def test_ids_out_of_range_are_refused(value: object) -> None:
    with pytest.raises(BoundaryError):
        check_id(value)


def test_dates_out_of_range_are_refused() -> None:
    assert check_date("2026-01-02 03:04:05") == "2026-01-02T03:04:05+00:00"
    for bad in ("9999-12-31T23:59:59-23:00", "0001-01-01", "not a date", 5):
        with pytest.raises(BoundaryError):
            check_date(bad)


def test_kb_import_with_a_lone_surrogate_is_stored_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "kb.jsonl"
    lines = [{"id": f"a{i}", "title": f"T{i}", "body": "ok"} for i in range(4)]
    text = "\n".join(json.dumps(x) for x in lines).replace('"ok"', '"bad \\udc80 text"', 1)
    path.write_text(text, encoding="utf-8")
    items = read_articles(path)
    assert items[0].body == "bad \ufffd text" and len(items) == 4


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": "a", "title": "t", "body": "' + "x" * 2_000 + '"}', "over the limit"),
        ("[" * 5000 + "]" * 5000, "deeper than"),
        ('{"id": "a", "title": "t", "body": ["list"]}', "missing or empty body"),
    ],
)
def test_kb_import_refuses_bad_lines_by_number(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "kb.jsonl"
    path.write_text('{"id": "ok", "title": "t", "body": "b"}\n' + content + "\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match=f"kb.jsonl, line 2: .*{message}"):
        read_articles(path, max_article_bytes=1_000)


@pytest.mark.parametrize(
    ("second", "required", "message"),
    [
        ({"id": "1", "text": "again", "label": "x"}, ("id", "text", "label"), "already used on line 1"),
        ({"id": "2", "text": 5, "label": "x"}, ("id", "text", "label"), "text must be non-empty text"),
        ({"id": "2", "text": ["a"], "label": "x"}, ("id", "text", "label"), "text must be non-empty text"),
        ({"id": "2", "text": "t", "label": None}, ("id", "text", "label"), "label must be non-empty text"),
        ({"id": "2", "text": "t", "gold": "a1"}, ("id", "text", "gold"), "gold must be a non-empty list"),
    ],
)
def test_eval_files_name_the_bad_line(
    tmp_path: Path, second: dict[str, object], required: tuple[str, ...], message: str
) -> None:
    first = {"id": "1", "text": "fine", "label": "x", "gold": ["a"]}
    path = tmp_path / "e.jsonl"
    path.write_text(json.dumps(first) + "\n" + json.dumps(second) + "\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match=f"e.jsonl, line 2: .*{message}"):
        read_jsonl(path, required)
