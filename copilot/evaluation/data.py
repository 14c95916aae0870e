"""Read evaluation files; every malformed line is named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from copilot.boundary import BoundaryError, clean_text, jsonl_lines, load_json
from copilot.errors import ImportFileError


def read_jsonl(path: Path, required: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows with the required fields, each checked for its type; any bad line is named and nothing is kept."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise ImportFileError(f"{path} does not exist.") from exc
    except OSError as exc:
        raise ImportFileError(f"Cannot read {path}: {exc}.") from exc
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for number, line in jsonl_lines(raw):
        where = f"{path.name}, line {number}"
        try:
            obj = load_json(line)
            if not isinstance(obj, dict) or any(k not in obj for k in required):
                raise BoundaryError(f"needs the fields {', '.join(required)}.")
            row = {k: (_checked(k, obj[k]) if k in required else v) for k, v in obj.items()}
        except BoundaryError as exc:
            raise ImportFileError(f"{where}: {exc.message}") from exc
        if "id" in required:
            key = str(row["id"])
            if key in seen:
                raise ImportFileError(f"{where}: the id '{key[:40]}' was already used on line {seen[key]}.")
            seen[key] = number
        rows.append(row)
    if not rows:
        raise ImportFileError(f"{path} is empty.")
    return rows


def _checked(field: str, value: Any) -> Any:
    if field == "id":
        if isinstance(value, bool) or not isinstance(value, str | int) or str(value).strip() == "":
            raise BoundaryError("id must be a non-empty string or a whole number.")
        return clean_text(str(value))
    if field == "gold":
        if not isinstance(value, list) or not value or not all(isinstance(g, str | int) for g in value):
            raise BoundaryError("gold must be a non-empty list of article ids.")
        return [clean_text(str(g)) for g in value]
    if field == "body" and isinstance(value, str):
        return clean_text(value)  # a manual's heading can be a section of its own, with no text under it
    if not isinstance(value, str) or not value.strip():
        raise BoundaryError(f"{field} must be non-empty text, not {json.dumps(value)[:30]}.")
    return clean_text(value)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]
