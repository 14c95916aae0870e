"""Structured model output: pull the JSON object out of an answer and check it against a small schema."""

from __future__ import annotations

import json
import re
from typing import Any

import jiter

Schema = dict[str, Any]  # {"field": type | tuple of allowed strings | [type]}, every field required


class SchemaError(ValueError):
    pass


def extract_json(text: str) -> Any:
    """The JSON object in an answer, tolerating code fences and text around it."""
    cleaned = re.sub(r"^```(?:json)?\s*|\s*```$", "", text.strip(), flags=re.IGNORECASE)
    try:
        return json.loads(cleaned)
    except json.JSONDecodeError:
        pass
    start, end = cleaned.find("{"), cleaned.rfind("}")
    if start == -1 or end <= start:
        raise SchemaError("the answer holds no JSON object")
    try:
        return json.loads(cleaned[start : end + 1])
    except json.JSONDecodeError as exc:
        raise SchemaError(f"the JSON does not parse ({exc.msg})") from exc


def validate(value: Any, schema: Schema) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SchemaError("the answer is not a JSON object")
    out: dict[str, Any] = {}
    for key, kind in schema.items():
        if key not in value:
            raise SchemaError(f"'{key}' is missing")
        item = value[key]
        if isinstance(kind, tuple):
            if not isinstance(item, str) or item.lower() not in kind:
                raise SchemaError(f"'{key}' must be one of {', '.join(kind)}")
            out[key] = item.lower()
        elif isinstance(kind, list):
            if not isinstance(item, list) or not all(_is(v, kind[0]) for v in item):
                raise SchemaError(f"'{key}' must be a list of {kind[0].__name__}")
            out[key] = [kind[0](v) for v in item]
        else:
            if not _is(item, kind):
                raise SchemaError(f"'{key}' must be {kind.__name__}")
            out[key] = kind(item)
    return out


def _is(value: Any, kind: type) -> bool:
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def parse(text: str, schema: Schema) -> dict[str, Any]:
    return validate(extract_json(text), schema)


def partial_strings(text: str) -> dict[str, str]:
    """The string fields of a JSON object that is still being streamed, the last one possibly unfinished:
    '{"wants": "a refund", "now": "waiting for' -> {"wants": "a refund", "now": "waiting for"}. Read by
    jiter's partial mode, so an escape cut in half (a backslash, half a \\u sequence) waits for the next piece
    and an escaped backslash at a piece's end is kept."""
    start = text.find("{")
    if start == -1:
        return {}
    try:
        value = jiter.from_json(text[start:].encode(), partial_mode="trailing-strings")
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, str)}
