"""Turn message and article text into safe HTML: no scripts, no styles, no remote loads."""

from __future__ import annotations

import html
import re

import markdown
import nh3

ALLOWED_TAGS = {
    "p", "br", "b", "strong", "i", "em", "u", "s", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "table", "thead", "tbody", "tr", "th", "td", "a", "hr", "span", "mark",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "td": {"align"}, "th": {"align"}}
# Links stay clickable for the agent (opened only on click, in the system browser); images are dropped
# entirely, because loading one is how trackers learn that a message was read.
ALLOWED_SCHEMES = {"http", "https", "mailto", "article"}


def sanitize_html(raw: str) -> str:
    return nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        clean_content_tags={"script", "style", "iframe", "object", "embed", "noscript", "template"},
    )


def markdown_html(text: str) -> str:
    return sanitize_html(markdown.markdown(text, extensions=["tables", "sane_lists"], output_format="html"))


def text_html(text: str) -> str:
    return "<p>" + html.escape(text).replace("\n\n", "</p><p>").replace("\n", "<br>") + "</p>"


def message_html(body: str, body_format: str) -> str:
    if body_format == "html":
        return sanitize_html(body)
    if body_format == "markdown":
        return markdown_html(body)
    return text_html(body)


def highlight(text: str, terms: tuple[str, ...] | list[str]) -> str:
    """Escape the text and mark every word that starts with one of the terms."""
    escaped = html.escape(text)
    if not terms:
        return escaped
    pattern = re.compile(r"\b(" + "|".join(re.escape(html.escape(t)) for t in terms) + r")\w*", re.IGNORECASE)
    return pattern.sub(lambda m: f"<b>{m.group(0)}</b>", escaped)
