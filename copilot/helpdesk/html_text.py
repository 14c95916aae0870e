"""HTML from a help desk as plain text: scripts, styles and images dropped, paragraphs and lists kept."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

_BLOCK = {
    "p",
    "div",
    "br",
    "li",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "hr",
    "table",
    "ul",
    "ol",
}
_DROP = {"script", "style", "head", "title", "template", "noscript", "iframe", "object", "svg"}
# Tags a help desk's HTML mail is made of: text holding one of them is markup, not a customer writing "a < b".
_MARKUP = re.compile(
    r"</?(?:p|div|br|span|ul|ol|li|b|i|u|a|em|strong|font|img|script|style|table|tr|td|h[1-6]|html|body|blockquote)"
    r"\b[^<>]*>",
    re.IGNORECASE,
)


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._dropping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP:
            self._dropping += 1
        elif tag in _BLOCK:
            self.parts.append("\n")
            if tag == "li":
                self.parts.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP:
            self._dropping = max(0, self._dropping - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._dropping:
            self.parts.append(data)


def looks_like_html(text: str) -> bool:
    """Whether `text` is HTML markup (a help desk that sends mail bodies as HTML without saying so)."""
    return _MARKUP.search(text) is not None


def as_plain_text(text: str) -> str:
    """`text` as plain text: converted when it looks like HTML, else unchanged."""
    return html_to_text(text) if looks_like_html(text) else text


def html_to_text(markup: str) -> str:
    parser = _TextParser()
    try:
        parser.feed(markup)
        parser.close()
    except AssertionError:  # malformed markup the stdlib parser gives up on: fall back to stripping tags
        return html.unescape(re.sub(r"<[^>]*>", " ", markup)).strip()
    text = "".join(parser.parts).replace("\xa0", " ")
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
