"""Prompts per task, in versioned files (resources/prompts/*.md), and the untrusted-ticket framing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from copilot.config.paths import resources_dir
from copilot.errors import ValidationError


@dataclass(frozen=True)
class Prompt:
    task: str
    version: str
    output: str  # "json" or "text"
    text: str

    def render(self, **values: str) -> str:
        out = self.text
        for key, value in values.items():
            out = out.replace("{" + key + "}", value)
        return out


# A replay may try other prompt versions: a folder of prompt files that stand in for the packaged ones of the
# same name, for the work running in this context only (each asyncio task copies it when it is created).
_variant_folder: ContextVar[Path | None] = ContextVar("prompt_variant_folder", default=None)


@contextmanager
def prompt_variant(folder: Path | None) -> Iterator[None]:
    token = _variant_folder.set(folder)
    try:
        yield
    finally:
        _variant_folder.reset(token)


def load(task: str) -> Prompt:
    folder = _variant_folder.get()
    if folder is not None and (folder / f"{task}.md").is_file():
        return _load(folder / f"{task}.md", task)
    return _load(resources_dir() / "prompts" / f"{task}.md", task)


@cache
def _load(path: Path, task: str) -> Prompt:
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(f"The prompt for {task} is missing ({path}).", "Reinstall the app.") from exc
    match = re.match(r"^---\n(.*?)\n---\n(.*)$", raw, re.DOTALL)
    if not match:
        raise ValidationError(f"The prompt file {path} has no version header.")
    meta = dict(line.split(":", 1) for line in match.group(1).splitlines() if ":" in line)
    meta = {k.strip(): v.strip() for k, v in meta.items()}
    return Prompt(task, meta.get("version", "unversioned"), meta.get("output", "text"), match.group(2).strip())


def instructions(task: str, **values: str) -> str:
    """The task's instructions alone, for tasks given no ticket (rewriting a reply carries its own guard)."""
    return load(task).render(**values)


def system_message(task: str, **values: str) -> str:
    """The task's instructions plus the guard that ticket text is data, never instructions."""
    return f"{instructions(task, **values)}\n\n{load('_guard').text}"


# Angle brackets and their look-alikes (full-width, small, mathematical): inside untrusted data none may form
# a tag, so no spelling of </ticket> (spaces, slashes, zero-width characters, full-width letters) can end it.
_OPENING = "<\uff1c\ufe64\u2329\u3008\u27e8\u02c2\u276e\u2039"
_CLOSING = ">\uff1e\ufe65\u232a\u3009\u27e9\u02c3\u276f\u203a"
_ANGLES = str.maketrans({**dict.fromkeys(_OPENING, "‹"), **dict.fromkeys(_CLOSING, "›")})


def neutralise(text: str) -> str:
    """Untrusted text that can carry no delimiter: every angle bracket (or look-alike) becomes ‹ or ›."""
    return text.translate(_ANGLES)


def _block(text: str, tag: str) -> str:
    """Text as delimited untrusted data; nothing inside it can close the block early."""
    return f"<{tag}>\n{neutralise(text)}\n</{tag}>"


def ticket_block(transcript: str) -> str:
    return _block(transcript, "ticket")


def reply_block(text: str) -> str:
    """An agent's reply to rewrite or translate: it may quote the customer, so it is data too."""
    return _block(text, "reply")
