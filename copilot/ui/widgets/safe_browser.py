"""A QTextBrowser that never loads anything itself: no images, no remote resources, links only on click."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QTextBrowser, QWidget


class SafeBrowser(QTextBrowser):
    article_link = Signal(str)
    other_link = Signal(str)  # app-internal links such as "act:3"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.anchorClicked.connect(self._clicked)
        self.blocked_loads = 0

    def loadResource(self, type: int, name: QUrl | str) -> Any:
        self.blocked_loads += 1
        return None

    def _clicked(self, url: QUrl) -> None:
        if url.scheme() == "article":
            self.article_link.emit(url.path() or url.host())
        elif url.scheme() in ("http", "https", "mailto"):
            QDesktopServices.openUrl(url)
        else:
            self.other_link.emit(url.toString())
