"""What crosses into the app (files, help-desk payloads, CLI arguments) is checked here, once: one text normaliser,
JSON with a bounded depth and size, and numbers and dates that must be in range. Failures are `BoundaryError`s
that say what is wrong; callers add which record it was."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import UTC, datetime
from typing import Any

from copilot.errors import ImportFileError

MAX_JSON_DEPTH = 64
MAX_ID = 2**63 - 1  # SQLite's INTEGER
ARTICLE_BYTES = 1_000_000  # defaults of the `limits.*` settings
JSONL_LINE_BYTES = 2_000_000

# C0/C1 control characters except tab, newline and carriage return; lone surrogates; the BOM mid-text.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufeff]")
REPLACEMENT = "\ufffd"


class BoundaryError(ImportFileError):
    """One record from outside cannot be taken as it is (the message says why)."""


def clean_text(value: str) -> str:
    """Text as the app stores it: lone surrogates and control characters replaced with U+FFFD, Unicode NFC."""
    return unicodedata.normalize("NFC", _UNSAFE.sub(REPLACEMENT, value))


def jsonl_lines(raw: bytes) -> list[tuple[int, bytes]]:
    """A JSON Lines file's non-blank lines with their numbers. Lines end at \\n (a \\r before it is dropped): a
    lone \\r or another Unicode line break inside a line is JSON whitespace or text, not a new line."""
    lines = raw.split(b"\n")
    return [(n, line.removesuffix(b"\r")) for n, line in enumerate(lines, start=1) if line.strip()]


def json_depth(text: str | bytes) -> int:
    """How deeply arrays and objects nest, found without recursion (strings are skipped)."""
    data = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    depth = deepest = 0
    in_string = escaped = False
    for ch in data:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def load_json(text: str | bytes, *, max_bytes: int = JSONL_LINE_BYTES, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse JSON from outside: too large, too deep, not UTF-8 or not JSON is a BoundaryError."""
    size = len(text) if isinstance(text, bytes) else len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise BoundaryError(f"{size:,} bytes is over the limit of {max_bytes:,} (the limits.* settings).")
    if json_depth(text) > max_depth:
        raise BoundaryError(f"the JSON nests deeper than {max_depth} levels.")
    try:
        raw = text.decode("utf-8") if isinstance(text, bytes) else text
        return json.loads(raw)
    except UnicodeDecodeError as exc:
        raise BoundaryError("not valid UTF-8 text.") from exc
    except json.JSONDecodeError as exc:
        raise BoundaryError(f"not valid JSON ({exc.msg}).") from exc
    except (RecursionError, ValueError) as exc:  # ValueError: e.g. an integer with too many digits
        raise BoundaryError(f"not usable JSON ({type(exc).__name__}).") from exc


def check_id(value: Any, field: str = "id", *, maximum: int = MAX_ID) -> int:
    """A positive whole number that fits the store (a 20-digit id does not)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise BoundaryError(f"{field} must be a whole number, not {type(value).__name__}.")
    text = str(value).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 19 or int(text) > maximum or int(text) < 1:
        raise BoundaryError(f"{field} '{clean_text(text)[:30]}' is not a whole number between 1 and {maximum}.")
    return int(text)


def check_date(value: Any, field: str = "date") -> str:
    """An ISO 8601 moment between years 1970 and 9999, as UTC 'YYYY-MM-DDTHH:MM:SS+00:00'."""
    if not isinstance(value, str):
        raise BoundaryError(f"{field} must be a date, not {type(value).__name__}.")
    try:
        moment = datetime.fromisoformat(value.strip().replace(" ", "T", 1).replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise BoundaryError(f"{field} '{clean_text(value)[:40]}' is not a date in range.") from exc
    if moment.year < 1970:
        raise BoundaryError(f"{field} '{clean_text(value)[:40]}' is before 1970.")
    return moment.isoformat(timespec="seconds")


def check_size(text: str, limit: int, what: str) -> None:
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > limit:
        raise BoundaryError(f"{what} is {size:,} bytes, over the limit of {limit:,} (the limits.* settings).")
