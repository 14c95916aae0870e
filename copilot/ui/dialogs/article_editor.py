"""Read or correct a knowledge-base article, with live preview and its version history."""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from copilot.assist import knowledge
from copilot.domain import Article, ArticleVersion
from copilot.kb.articles import diff_versions
from copilot.services import Services
from copilot.ui.render import markdown_html
from copilot.ui.runner import Runner
from copilot.ui.widgets.safe_browser import SafeBrowser


class ArticleEditor(QDialog):
    """Read or correct an article: Markdown with live preview; each save is a version with a reason."""

    def __init__(
        self,
        parent: QWidget | None,
        services: Services,
        runner: Runner,
        workspace: str,
        article_id: str,
        on_saved: Callable[[Article], None] | None = None,
        *,
        ticket_id: int | None = None,  # opened from this ticket's panel: a save makes it the ticket's article
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.runner = runner
        self.workspace = workspace  # article ids are the help desk's: two workspaces may share one
        self.article_id = article_id
        self.on_saved = on_saved
        self.ticket_id = ticket_id
        self.article: Article | None = None
        self.versions: list[ArticleVersion] = []
        self.setObjectName("articleEditor")
        self.setWindowTitle("Article")
        self.title = QLineEdit()
        self.body = QPlainTextEdit()
        self.body.setObjectName("articleBody")
        self.preview = SafeBrowser()
        self.reason = QLineEdit(placeholderText="Why are you changing it? (required)")
        self.save_button = QPushButton("Save new version")
        self.save_button.setObjectName("saveArticle")
        self.history = QListWidget()
        self.diff = QPlainTextEdit()
        self.diff.setReadOnly(True)
        self.revert_button = QPushButton("Revert to this version")
        self.revert_button.setEnabled(False)
        self.info = QLabel()

        split = QSplitter()
        split.addWidget(self.body)
        split.addWidget(self.preview)
        edit_tab = QWidget()
        edit_layout = QVBoxLayout(edit_tab)
        edit_layout.addWidget(self.title)
        edit_layout.addWidget(split, 1)
        row = QHBoxLayout()
        row.addWidget(self.reason, 1)
        row.addWidget(self.save_button)
        edit_layout.addLayout(row)
        history_tab = QWidget()
        history_layout = QHBoxLayout(history_tab)
        history_layout.addWidget(self.history, 1)
        right = QVBoxLayout()
        right.addWidget(self.diff, 1)
        right.addWidget(self.revert_button)
        history_layout.addLayout(right, 2)
        self.tabs = QTabWidget()
        self.tabs.addTab(edit_tab, "Edit")
        self.tabs.addTab(history_tab, "History")
        layout = QVBoxLayout(self)
        layout.addWidget(self.info)
        layout.addWidget(self.tabs)
        self.resize(900, 600)

        self._preview_timer = QTimer(self, singleShot=True, interval=150)
        self._preview_timer.timeout.connect(self._render_preview)
        self.body.textChanged.connect(self._preview_timer.start)
        self.title.textChanged.connect(self._preview_timer.start)
        self.save_button.clicked.connect(self.save)
        self.history.currentRowChanged.connect(self._show_version)
        self.revert_button.clicked.connect(self._revert)
        self.load()

    def load(self) -> None:
        self.runner.run(
            knowledge.get_article(self.services, self.workspace, self.article_id), self._show_article, "Opening article"
        )
        self.runner.run(
            knowledge.article_history(self.services, self.workspace, self.article_id), self._show_history, ""
        )

    def _show_article(self, article: Article) -> None:
        self.article = article
        self.setWindowTitle(f"Article: {article.title}")
        self.title.setText(article.title)
        self.body.setPlainText(article.body)
        self.info.setText(
            f"<b>{html.escape(article.id)}</b> · version {article.version} · updated {article.updated_at[:16]}"
        )
        self._render_preview()

    def _render_preview(self) -> None:
        self.preview.setHtml(f"<h2>{html.escape(self.title.text())}</h2>{markdown_html(self.body.toPlainText())}")

    def _show_history(self, versions: list[ArticleVersion]) -> None:
        self.versions = versions
        self.history.clear()
        for v in versions:
            item = QListWidgetItem(f"v{v.version} · {v.created_at[:16].replace('T', ' ')} · {v.author}: {v.reason}")
            self.history.addItem(item)

    def _show_version(self, row: int) -> None:
        if not (0 <= row < len(self.versions)):
            self.diff.clear()
            self.revert_button.setEnabled(False)
            return
        v = self.versions[row]
        older = self.versions[row + 1] if row + 1 < len(self.versions) else None
        self.diff.setPlainText(diff_versions(older, v) if older else f"# {v.title}\n\n{v.body}")
        self.revert_button.setEnabled(row > 0)

    def save(self) -> None:
        coro = knowledge.save_article(
            self.services,
            self.workspace,
            self.article_id,
            self.title.text().strip(),
            self.body.toPlainText(),
            self.reason.text(),
            ticket_id=self.ticket_id,
        )
        self.runner.run(coro, self._saved, "Saving article")

    def _saved(self, article: Article) -> None:
        self.reason.clear()
        self._show_article(article)
        self.runner.run(
            knowledge.article_history(self.services, self.workspace, self.article_id), self._show_history, ""
        )
        if self.on_saved is not None:
            self.on_saved(article)

    def _revert(self) -> None:
        row = self.history.currentRow()
        if 0 <= row < len(self.versions):
            coro = knowledge.revert_article(self.services, self.workspace, self.article_id, self.versions[row].version)
            self.runner.run(coro, self._saved, "Reverting article")
