"""The copilot panel's sections as one rich-text document: summary, flags, triage and suggested articles.

Each action link is `act:N`; `SectionRenderer.run` calls the N-th action of the last render.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from functools import partial

from copilot.domain import AssistResult, Provenance, Suggestion
from copilot.ui.render import highlight

FLAG_TIP = "Flag this as wrong: incorrect, unsupported or outdated"
HIDE_BELOW = 0.05  # suggestions this weak are noise, not help
CHOSEN_TIP = "You chose it for this ticket: the draft cites it, whatever the copilot ranked it"


def provenance_text(prov: Provenance | None) -> str:
    if prov is None:
        return ""
    return f"by {prov.engine} · {prov.model} · {prov.prompt_version}"


def routed_text(result: AssistResult, task: str) -> str:
    """Who made an output and why it was routed there, with its cost: shown beside every output."""
    routed = result.routing.get(task)
    prov = result.provenance.get(task)
    if not routed or routed.get("tier") == "built-in":
        note = f" · {routed['note']}" if routed and routed.get("note") else ""
        return f"{provenance_text(prov)}{note}"
    cost = (
        "from cache" if routed.get("cache_hit") else f"${routed['cost_usd']:.4f} · {routed['latency_ms'] / 1000:.1f} s"
    )
    note = f" · ⚠ {routed['note']}" if routed.get("note") else ""
    return f"by {routed['model']} · {routed['reason']} · {cost}{note}"


class SectionRenderer:
    def __init__(
        self,
        flag_requested: Callable[[str, str, str], None],
        open_article: Callable[[str], None],
        insert_link: Callable[[str, str], None],
        edit_article: Callable[[str], None],
        not_relevant: Callable[[str], None],
        choose_article: Callable[[str], None],  # an article id: "Use this article"; "": "Don't use"
    ) -> None:
        self.flag_requested = flag_requested
        self.open_article = open_article
        self.insert_link = insert_link
        self.edit_article = edit_article
        self.not_relevant = not_relevant
        self.choose_article = choose_article
        self.actions: list[Callable[[], None]] = []
        self.empty_kb_note = ""  # set when the workspace's knowledge base has no article at all

    def render(self, result: AssistResult, min_confidence: float) -> str:
        self.actions = []
        sections = [
            ("Summary", self._summary_html(result)),
            ("Flags", self._flags_html(result)),
            ("Triage", self._triage_html(result)),
            ("Suggested articles", self._articles_html(result, min_confidence)),
        ]
        return "".join(f"<h4 style='margin:8px 0 2px 0'>{title}</h4>{content}" for title, content in sections)

    def run(self, link: str) -> None:
        if link.startswith("act:"):
            index = int(link[4:])
            if 0 <= index < len(self.actions):
                self.actions[index]()

    def act(self, caption: str, tip: str, fn: Callable[[], None]) -> str:
        self.actions.append(fn)
        return f"<a href='act:{len(self.actions) - 1}' title='{html.escape(tip)}'>{html.escape(caption)}</a>"

    def flag(self, task: str, target: str, text: str) -> str:
        return self.act("⚑ Flag", FLAG_TIP, partial(self.flag_requested, task, target, text))

    def _summary_html(self, result: AssistResult) -> str:
        return "".join(
            f"<p><b>{html.escape(line.label)}:</b> {html.escape(line.text)} "
            f"<span class='acts'>{self.flag('summary', f'summary:{i}', line.text)}</span></p>"
            for i, line in enumerate(result.summary.lines)
        )

    def _flags_html(self, result: AssistResult) -> str:
        if not result.flags:
            return "<p><i>No flags: calm tone, nothing urgent.</i></p>"
        parts = []
        for f in result.flags:
            color = "#c62828" if f.severity >= 3 else "#ef6c00" if f.severity == 2 else "#555555"
            parts.append(
                f"<p><span style='color:{color}'><b>{html.escape(f.label)}</b></span> — {html.escape(f.reason)}"
                f"<br><i>“{html.escape(f.evidence)}”</i> "
                f"<span class='acts'>{self.flag('signals', f'flag:{f.kind}', f'{f.label}: {f.evidence}')}</span></p>"
            )
        return "".join(parts)

    def _triage_html(self, result: AssistResult) -> str:
        t = result.triage
        similar = ", ".join(f"#{n}" for n, _label_, _sim in t.neighbours[:3])
        if not t.intent:
            intent = "unknown (no labelled history yet)"
        elif t.is_unsure and all(share < 0.005 for _label, share in t.candidates):
            # The open-set rule: unlike every labelled ticket, so none of the team's intents.
            nearest = ", ".join(label for label, _share in t.candidates)
            intent = f"none of these (unlike every labelled ticket; nearest: {html.escape(nearest)})"
        elif t.is_unsure:
            options = ", ".join(f"{label} {share:.0%}" for label, share in t.candidates)
            intent = f"unsure ({html.escape(options)})"
        else:
            intent = f"{html.escape(t.intent)} ({t.confidence:.0%})"
        return (
            f"<p><b>Intent:</b> {intent}"
            f" · <b>Priority:</b> {t.priority} <span class='dim'>({html.escape(t.priority_reason)})</span><br>"
            + self._tags_html(result)
            + (f"<br><span class='dim'>Like earlier tickets {similar}</span>" if similar else "")
            + f" <span class='acts'>{self.flag('triage', 'triage', f'{t.intent} / {t.priority}')}</span></p>"
        )

    def _tags_html(self, result: AssistResult) -> str:
        """The tags task's suggestion (a model's, or the built-in one from triage), with who made it."""
        suggested = result.extras.get("tags")
        if suggested is None:
            return f"<b>Tags:</b> {html.escape(', '.join(result.triage.tags) or 'none')}"
        tags = ", ".join(str(tag) for tag in suggested.get("tags", []))
        by = html.escape(routed_text(result, "tags"))
        return (
            f"<b>Suggested tags:</b> {html.escape(tags or 'none new')} <span class='dim'>{by}</span> "
            f"<span class='acts'>{self.flag('tags', 'tags', tags)}</span>"
        )

    def _articles_html(self, result: AssistResult, min_confidence: float) -> str:
        parts = []
        if self.empty_kb_note:  # nothing to rank: how the ranking was done would only confuse
            return f"<p class='nogood'><b>{html.escape(self.empty_kb_note)}</b></p>"
        chosen = bool(result.suggestions) and result.suggestions[0].chosen
        if not chosen and (not result.suggestions or result.suggestions[0].confidence < min_confidence):
            parts.append(
                "<p class='nogood'><b>No good article for this ticket.</b> The draft says so instead of guessing; "
                "consider writing one.</p>"
            )
        prov = result.provenance.get("suggestions")
        if prov is not None and prov.model.startswith("keywords only"):
            parts.append(f"<p class='dim'>Ranked by {html.escape(prov.model)}.</p>")
        shown = shown_suggestions(result)
        if len(shown) < len(result.suggestions):
            parts.append(f"<p class='dim'>{len(result.suggestions) - len(shown)} barely related articles hidden.</p>")
        for n, s in enumerate(shown, start=1):
            weak = s.confidence < min_confidence
            aid = s.article_id
            acts = " · ".join(
                (
                    self._choice_act(s, n),
                    self.act("Open", "Read the article", partial(self.open_article, aid)),
                    self.act("Insert link", "Insert a link into the draft", partial(self.insert_link, aid, s.title)),
                    self.act(
                        "Edit",
                        "Correct it: a new version the copilot uses at once",
                        partial(self.edit_article, aid),
                    ),
                    self.act("Not relevant", "Hide it for this ticket", partial(self.not_relevant, aid)),
                    self.flag("suggestions", f"article:{aid}", s.title),
                )
            )
            figure = (
                f"<span style='color:#1565c0' title='{CHOSEN_TIP}'><b>✔ chosen by you</b></span>"
                if s.chosen
                else f"<span style='color:{'#999999' if weak else '#2e7d32'}'>"
                f"{s.confidence:.0%}{' (weak)' if weak else ''}</span>"
            )
            parts.append(
                f"<p><a href='article:{html.escape(aid)}'><b>{html.escape(s.title)}</b></a> {figure}"
                + (f" <span class='dim'>({html.escape(_ranked_tip(s))})</span>" if s.chosen else "")
                + f"<br>{highlight(s.passage, s.highlights)}<br><span class='acts'>{acts}</span></p>"
            )
        return "".join(parts)

    def _choice_act(self, s: Suggestion, n: int) -> str:
        keys = f" (Alt+{n})" if n <= CHOICE_KEYS else ""
        if s.chosen:
            return self.act("Don't use", f"Undo your choice: the copilot ranks the articles again{keys}", partial(
                self.choose_article, ""))  # fmt: skip
        tip = f"This one answers the ticket: list it first and draft the reply from it{keys}"
        return self.act("Use this article", tip, partial(self.choose_article, s.article_id))


CHOICE_KEYS = 5  # Alt+1 … Alt+5 use the suggestion listed at that place (main_window)


def shown_suggestions(result: AssistResult) -> list[Suggestion]:
    """The suggestions the panel lists, in its order (the Alt+N shortcuts count them): the barely related ones
    are left out, never the one the agent chose."""
    return [s for s in result.suggestions if s.chosen or s.confidence >= HIDE_BELOW]


def _ranked_tip(s: Suggestion) -> str:
    return f"the copilot ranked it {s.confidence:.0%}"
