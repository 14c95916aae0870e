"""Structured model output: pull the JSON object out of an answer and check it against a small schema."""

from __future__ import annotations

import json
import re
from typing import Any

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


_PARTIAL_STRING = re.compile(r'"(\w+)"\s*:\s*"((?:[^"\\]|\\.)*)(")?', re.DOTALL)


def partial_strings(text: str) -> dict[str, str]:
    """The string fields of a JSON object that is still being streamed, the last one possibly unfinished:
    '{"wants": "a refund", "now": "waiting for' -> {"wants": "a refund", "now": "waiting for"}."""
    out: dict[str, str] = {}
    for match in _PARTIAL_STRING.finditer(text):
        raw = match.group(2)
        if not match.group(3):
            raw = re.sub(r"\\(u[0-9a-fA-F]{0,3})?$", "", raw)  # an escape cut in half waits for the next piece
        try:
            out[match.group(1)] = json.loads(f'"{raw}"')
        except json.JSONDecodeError:
            continue
    return out
