"""Read a folder of Markdown files or a JSON Lines file into articles; any bad item stops the whole import."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from copilot.boundary import (
    ARTICLE_BYTES,
    JSONL_LINE_BYTES,
    BoundaryError,
    check_size,
    clean_text,
    jsonl_lines,
    load_json,
)
from copilot.errors import ImportFileError
from copilot.kb.articles import ArticleInput

_ID = re.compile(r"^[\w.\-:/]{1,200}$")


def read_articles(
    path: Path, *, max_article_bytes: int = ARTICLE_BYTES, max_line_bytes: int = JSONL_LINE_BYTES
) -> list[ArticleInput]:
    """Every article checked (text normalised, sizes capped) before anything is written."""
    if not path.exists():
        raise ImportFileError(f"{path} does not exist.", "Give a folder of .md files or a .jsonl file.")
    items = (
        _read_markdown_folder(path, max_article_bytes)
        if path.is_dir()
        else _read_jsonl(path, max_article_bytes, max_line_bytes)
    )
    if not items:
        raise ImportFileError(f"{path} holds no articles.", "Give a folder of .md files or a .jsonl file.")
    seen: dict[str, str] = {}
    for item in items:
        if item.id in seen:
            raise ImportFileError(f"The article id '{item.id}' appears twice ({seen[item.id]}).", "Ids must be unique.")
        seen[item.id] = item.title
    return items


def _read_jsonl(path: Path, max_article_bytes: int, max_line_bytes: int) -> list[ArticleInput]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    items: list[ArticleInput] = []
    for number, line in jsonl_lines(raw):
        where = f"{path.name}, line {number}"
        try:
            items.append(_article_from_json(load_json(line, max_bytes=max_line_bytes), max_article_bytes))
        except BoundaryError as exc:
            raise ImportFileError(f"{where}: {exc.message}", "Nothing was imported.") from exc
    return items


def _article_from_json(obj: object, max_article_bytes: int) -> ArticleInput:
    if not isinstance(obj, dict):
        raise BoundaryError("expected an object with id, title and body.")
    missing = [k for k in ("id", "title", "body") if not _is_text_or_int(obj.get(k)) or obj.get(k) == ""]
    if missing:
        raise BoundaryError(f"missing or empty {', '.join(missing)} (each line needs id, title and body).")
    article_id = clean_text(str(obj["id"]))
    if not _ID.match(article_id):
        raise BoundaryError(f"the id '{article_id[:40]}' has characters an id cannot have.")
    tags = obj.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise BoundaryError("tags must be a list of strings.")
    product = obj.get("product", "")
    if not isinstance(product, str):
        raise BoundaryError("product must be a string.")
    body = clean_text(str(obj["body"]))
    check_size(body, max_article_bytes, f"the article '{article_id}'")
    title = clean_text(str(obj["title"])).strip()
    if not title:
        raise BoundaryError("the title is empty.")
    return ArticleInput(article_id, title, body, tuple(clean_text(t) for t in tags), clean_text(product))


def _is_text_or_int(value: object) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _read_markdown_folder(folder: Path, max_article_bytes: int) -> list[ArticleInput]:
    items: list[ArticleInput] = []
    for file in sorted(folder.glob("*.md")):
        try:
            if file.stat().st_size > max_article_bytes:
                raise ImportFileError(
                    f"{file.name}: {file.stat().st_size:,} bytes is over the limit of {max_article_bytes:,} "
                    "(the limits.article_bytes setting).",
                    "Nothing was imported.",
                )
            text = clean_text(file.read_text(encoding="utf-8"))
        except UnicodeDecodeError as exc:
            raise ImportFileError(f"{file.name}: not valid UTF-8 text.", "Nothing was imported.") from exc
        except OSError as exc:
            raise ImportFileError(f"Cannot read {file}: {exc.strerror or exc}.") from exc
        article_id = clean_text(file.stem)
        if not _ID.match(article_id):
            raise ImportFileError(f"{file.name}: the file name cannot be an article id.", "Rename the file.")
        items.append(parse_markdown_article(article_id, text, file.name))
    return items


def parse_markdown_article(article_id: str, text: str, where: str) -> ArticleInput:
    """Optional YAML front matter (`tags: [a, b]`, `tags: a, b` or a block list; `product: "Lumen Hub"`),
    then `# Title`, then the body."""
    tags: tuple[str, ...] = ()
    product = ""
    lines = text.splitlines()
    if lines and lines[0].strip() == "---":
        try:
            end = lines.index("---", 1)
        except ValueError as exc:
            raise ImportFileError(
                f"{where}: front matter opened with --- is never closed.",
                "End it with a line of --- before the '# Title' line. Nothing was imported.",
            ) from exc
        tags, product = _front_matter("\n".join(lines[1:end]), where)
        lines = lines[end + 1 :]
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines or not lines[0].startswith("# "):
        raise ImportFileError(f"{where}: the first line must be a '# Title' heading.", "Nothing was imported.")
    title = lines[0][2:].strip()
    body = "\n".join(lines[1:]).strip()
    if not body:
        raise ImportFileError(f"{where}: the article has a title but no text.", "Nothing was imported.")
    return ArticleInput(article_id, title, body, tags, product)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """PyYAML's problem and where it is, on one line: its own text quotes the source over several lines."""
    problem = getattr(exc, "problem", None)
    mark = getattr(exc, "problem_mark", None)
    if not problem:
        return str(exc).splitlines()[0]
    # The front matter starts on the file's second line (after ---); marks count from 0.
    return f"line {mark.line + 2}: {problem}" if mark is not None else str(problem)


def _front_matter(text: str, where: str) -> tuple[tuple[str, ...], str]:
    """The tags and product in an article's front matter, read as YAML (other keys are ignored)."""
    try:
        meta = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        raise ImportFileError(
            f"{where}: the front matter is not valid YAML ({_yaml_problem(exc)}).", "Nothing was imported."
        ) from exc
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise ImportFileError(f"{where}: the front matter must be 'key: value' lines.", "Nothing was imported.")
    raw_tags = meta.get("tags") or []
    if isinstance(raw_tags, str):  # `tags: billing, refunds`
        raw_tags = raw_tags.split(",")
    if not isinstance(raw_tags, list) or not all(isinstance(t, str | int | float) for t in raw_tags):
        raise ImportFileError(f"{where}: tags must be a list of words.", "Nothing was imported.")
    product = meta.get("product") or ""
    if not isinstance(product, str | int | float):
        raise ImportFileError(f"{where}: product must be a name.", "Nothing was imported.")
    return tuple(str(t).strip() for t in raw_tags if str(t).strip()), str(product).strip()
