"""Read a folder of Markdown files or a JSON Lines file into articles; any bad item stops the whole import."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from copilot.errors import ImportFileError
from copilot.kb.articles import ArticleInput

_ID = re.compile(r"^[\w.\-:/]{1,200}$")


def read_articles(path: Path) -> list[ArticleInput]:
    if not path.exists():
        raise ImportFileError(f"{path} does not exist.", "Give a folder of .md files or a .jsonl file.")
    items = _read_markdown_folder(path) if path.is_dir() else _read_jsonl(path)
    if not items:
        raise ImportFileError(f"{path} holds no articles.", "Give a folder of .md files or a .jsonl file.")
    seen: dict[str, str] = {}
    for item in items:
        if item.id in seen:
            raise ImportFileError(f"The article id '{item.id}' appears twice ({seen[item.id]}).", "Ids must be unique.")
        seen[item.id] = item.title
    return items


def _read_jsonl(path: Path) -> list[ArticleInput]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    items: list[ArticleInput] = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path.name}, line {number}"
        try:
            obj = json.loads(line.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise ImportFileError(f"{where}: not valid UTF-8 text.", "Nothing was imported.") from exc
        except json.JSONDecodeError as exc:
            raise ImportFileError(f"{where}: not valid JSON ({exc.msg}).", "Nothing was imported.") from exc
        if not isinstance(obj, dict):
            raise ImportFileError(f"{where}: expected an object with id, title and body.", "Nothing was imported.")
        missing = [k for k in ("id", "title", "body") if not isinstance(obj.get(k), str | int) or obj.get(k) == ""]
        if missing:
            raise ImportFileError(
                f"{where}: missing or empty {', '.join(missing)}.",
                "Each line needs id, title and body. Nothing was imported.",
            )
        article_id = str(obj["id"])
        if not _ID.match(article_id):
            raise ImportFileError(f"{where}: the id '{article_id[:40]}' has characters an id cannot have.")
        tags = obj.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise ImportFileError(f"{where}: tags must be a list of strings.", "Nothing was imported.")
        product = obj.get("product", "")
        if not isinstance(product, str):
            raise ImportFileError(f"{where}: product must be a string.", "Nothing was imported.")
        items.append(ArticleInput(article_id, str(obj["title"]).strip(), str(obj["body"]), tuple(tags), product))
    return items


def _read_markdown_folder(folder: Path) -> list[ArticleInput]:
    items: list[ArticleInput] = []
    for file in sorted(folder.glob("*.md")):
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise ImportFileError(f"{file.name}: not valid UTF-8 text.", "Nothing was imported.") from exc
        except OSError as exc:
            raise ImportFileError(f"Cannot read {file}: {exc.strerror or exc}.") from exc
        items.append(parse_markdown_article(file.stem, text, file.name))
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
            raise ImportFileError(f"{where}: front matter opened with --- is never closed.") from exc
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


def _front_matter(text: str, where: str) -> tuple[tuple[str, ...], str]:
    """The tags and product in an article's front matter, read as YAML (other keys are ignored)."""
    try:
        meta = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        raise ImportFileError(f"{where}: the front matter is not valid YAML ({exc}).", "Nothing was imported.") from exc
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
