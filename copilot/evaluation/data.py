"""Read evaluation files; every malformed line is named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from copilot.errors import ImportFileError


def read_jsonl(path: Path, required: tuple[str, ...]) -> list[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as exc:
        raise ImportFileError(f"{path} does not exist.") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFileError(f"Cannot read {path}: {exc}.") from exc
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ImportFileError(f"{path.name}, line {number}: not valid JSON ({exc.msg}).") from exc
        if not isinstance(obj, dict) or any(k not in obj for k in required):
            raise ImportFileError(f"{path.name}, line {number}: needs the fields {', '.join(required)}.")
        rows.append(obj)
    if not rows:
        raise ImportFileError(f"{path} is empty.")
    return rows


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]
