"""A reply drafted from templates, grounded in the chosen articles, in the customer's language and the
agent's tone. When no article is confident enough it says so plainly instead of inventing an answer."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from copilot.domain import Citation, Draft, Flag, Suggestion, Ticket
from copilot.engine.phrases import TONES, phrase
from copilot.engine.text import (
    asks_nothing,
    fold,
    key_terms,
    markdown_tables,
    plain_text,
    row_sentence,
    sentences,
    stem,
)

PROMPT_VERSION = "draft-templates-4"
_STEP = re.compile(r"^\s*(?:\d+[.)]|[-*])\s+(.*\S)\s*$")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s")
MAX_STEPS = 5


@dataclass(frozen=True)
class DraftInputs:
    ticket: Ticket
    suggestions: tuple[Suggestion, ...]
    article_bodies: dict[str, str]
    flags: tuple[Flag, ...]
    sentiment: str
    language: str
    tone: str
    agent_name: str
    min_confidence: float
    article_urls: dict[str, str] = field(default_factory=dict)  # where the customer can read each article


def _steps(body: str) -> list[str]:
    return [plain_text(m.group(1)).strip() for line in body.splitlines() if (m := _STEP.match(line))]


def _numbered(body: str) -> bool:
    """The article numbers its list: steps to follow in order. A bulleted list is points (what to send us, what a
    refund covers): quoted as bullets under what the guide says, not renumbered into "what to do"."""
    return any(_NUMBERED.match(line) for line in body.splitlines())


def _lead_in(body: str, points: bool) -> str:
    """What introduces the article's list: the sentence that ends in a colon ("Please send us, within 14 days of
    delivery:"), without which the list loses what it is for and its deadline; before points (a bulleted list),
    the whole paragraph when it does not, which there is usually the rule itself ("You can ask for a refund within
    14 days of delivery.", "The Hub updates itself overnight between 2 and 5 am.")."""
    lines = body.splitlines()
    first = next((i for i, line in enumerate(lines) if _STEP.match(line)), -1)
    if first <= 0:
        return ""
    said = _plain_sentences(_paragraph(lines, range(first - 1, -1, -1)))
    if said and said[-1].endswith(":"):
        return said[-1]
    return " ".join(said) if points else ""


# How a customer says a menu item is not there, around its name: "there is no Advanced menu", "I can't find
# Billing history", "Factory reset is missing", "the Advanced tab doesn't show up".
_ABSENT_BEFORE = re.compile(
    r"\b(?:no|without|(?:can't|cannot|can not|couldn't|don't|do not|didn't) (?:find|see|locate)(?: the| an?| any)?)\s+$",
    re.IGNORECASE,
)
_ABSENT_AFTER = re.compile(
    r"^\s*(?:menu|option|button|tab|page|section|item|screen)?\s*(?:is |are |was |were )?"
    r"(?:missing|gone|not there|not available|no longer there|nowhere|(?:doesn't|does not|don't|do not) "
    r"(?:exist|appear|show))\b",
    re.IGNORECASE,
)
_MENU = re.compile(r"\*\*(.+?)\*\*")


_MENU_WORD = re.compile(r"\s+(?:menu|option|button|tab|settings?|screen|page|section|entry|link)\b", re.IGNORECASE)


def _quotes_path(sentence: str, name: str) -> bool:
    """The sentence quotes a menu path ("Settings > Advanced > Factory reset") that holds the name."""
    return any(name in part for part in re.findall(r"[^.?!,;]*\S\s*>\s*\S[^.?!,;]*", sentence))


def _menu_names(step: str) -> list[str]:
    """The menu items and buttons a step names: its bold parts, a path split at its `>` ("Settings", "Advanced",
    "Factory reset" in "Go to **Settings > Advanced > Factory reset**")."""
    return [name.strip() for bold in _MENU.findall(step) for name in bold.split(">") if name.strip()]


def _contradicted(step: str, customer_sentences: list[str]) -> str:
    """The menu item of this step (raw Markdown) that the customer says is not there, or "". A one-word name must
    be written as the article writes it ("Advanced", not "advanced settings" in passing); longer ones in any
    case. Only the words right around the name count: "I can't log in even after Forgot password" is not one."""
    for sentence in customer_sentences:
        for name in _menu_names(step):
            flags = re.IGNORECASE if " " in name else 0
            for found in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", sentence, flags):
                start, end = found.span()
                absent = _ABSENT_BEFORE.search(sentence[:start]) or _ABSENT_AFTER.match(sentence[end:])
                # About the app's menus, not a device: "no Advanced menu", or the step's path quoted ("Settings >
                # Advanced"). "The app says it can't find the Hub" is about the Hub itself.
                if absent and (_MENU_WORD.match(sentence[end:]) or _quotes_path(sentence, name)):
                    return name
    return ""


# What a customer says when they have already done something (or when it does not apply to them).
_DONE = re.compile(
    r"\b(already|tried|restarted|rebooted|reinstalled|unplugged|checked|cleared|reset|asked|followed|"
    r"turned (it )?off|re-?saved|not pending|posted|tapped|clicked|pressed|requested|(?:several|many|two|three|"
    r"\d+) times)\b",
    re.IGNORECASE,
)
# Where a step is done, before its verb: "On the sign-in screen", "In the Lumen app", "Under Settings,".
_WHERE = re.compile(
    r"^(?:on|in|from|under|at)\s+(?:the\s+|your\s+)?(?:[\w-]+\s+){0,2}?(?:screen|app|page|menu|tab)\b,?\s*",
    re.IGNORECASE,
)
# The platform or store a line of an article is for, and how a customer names it.
_PLATFORMS: dict[str, re.Pattern[str]] = {
    "android": re.compile(r"\b(android|google play|samsung|pixel|galaxy)\b", re.IGNORECASE),
    "iphone": re.compile(r"\b(iphone|ipad|ios|app store|apple)\b", re.IGNORECASE),
}
_STORE_LINE = re.compile(r"\b(app store|google play)\b", re.IGNORECASE)


def _platforms_of(text: str) -> set[str]:
    return {name for name, pattern in _PLATFORMS.items() if pattern.search(text)}


def _stems(text: str) -> set[str]:
    return {stem(w) for w in key_terms(text)}


def _keys(text: str) -> set[str]:
    """Content words by their first four letters: "unplugged" and "unplug", "saved" and "save", "scenes" and
    "scene" meet (the light stemmer keeps them apart), which is enough inside one sentence about one step."""
    return {fold(w)[:4] for w in key_terms(text)}


def _already_done(step: str, customer_sentences: list[str]) -> bool:
    """The customer says they did this step (or that what it checks is not so): the step's own verb in one of
    their sentences that also says it was done ("I already restarted the router"), with at least half of the
    instruction's words, or "it" right after the verb ("I already unplugged it")."""
    if step.lower().startswith(("if ", "when ", "once ")):
        return False  # a step for a situation the customer describes is the one that applies to them
    # The instruction is the first sentence of the last clause after a colon ("Scenes saved before an update may
    # look different: save the scene again"); its first word is the verb.
    instruction = step.rsplit(":", 1)[-1].strip() or step
    instruction = re.split(r"(?<=[.!?])\s+", instruction)[0]  # "Restart your router. Many Hubs come back …"
    # The verb: the first word, or the first after where it is done ("On the sign-in screen tap Forgot password").
    head = _WHERE.sub("", instruction, count=1)
    verb = head.split()[0] if head.split() else ""
    action = fold(verb)[:4]
    wanted = _keys(instruction)
    if len(action) < 3:
        return False
    # "tap" is done as "tapped", "stop" as "stopped": the verb's own forms, besides its first four letters.
    forms = re.compile(rf"\b{re.escape(fold(verb))}(?:{re.escape(fold(verb)[-1:])}?(?:ed|ing)|s|d)?\b")

    def did_it(sentence: str) -> bool:
        if not _DONE.search(sentence):
            return False
        said = _keys(sentence)
        if action not in said:
            if action not in wanted or not forms.search(fold(sentence)):  # a content word, not "After …"
                return False
            said = said | {action}
        pronoun = re.search(rf"\b{re.escape(action)}\w*\s+(?:it|them|that|this)\b", fold(sentence))
        # Most of the instruction: "I replaced the batteries" has not done "Replace both batteries with alkaline
        # or lithium cells" (what the step adds is the point).
        return pronoun is not None or (len(wanted & said) >= 2 and len(wanted & said) >= len(wanted) / 2)

    # A line that explains ("After five wrong passwords your account is locked") is never a step they did.
    return any(did_it(s) for s in customer_sentences) or any(
        step.lower().startswith("check")
        and _DONE.search(s)
        and len(_stems(step) & _stems(s)) >= 1
        and "not" in s.lower()
        for s in customer_sentences
    )


def _for_this_customer(lines: list[str], customer_text: str) -> list[str]:
    """An article's lines for one platform ("On Android, …", "On iPhone, …") are kept only for a customer on
    that platform (all are kept when the customer does not say which)."""
    theirs = _platforms_of(customer_text)
    if not theirs:
        return lines
    kept = []
    for line in lines:
        head = line.split(",", 1)[0]
        about = _platforms_of(head) if head.lower().startswith(("on ", "for ", "if ")) else set()
        if not about or about & theirs:
            kept.append(line)
    return kept


def _conditional_notes(body: str, customer_text: str) -> list[str]:
    """Sentences outside the steps that apply to this customer because of what they said, e.g. "If you
    subscribed through the App Store or Google Play, cancel it there instead" for someone who paid there."""
    theirs = _platforms_of(customer_text)
    notes = []
    for line in body.splitlines():
        if _STEP.match(line) or not line.strip():
            continue
        for sentence in _plain_sentences(line):
            if _STORE_LINE.search(sentence) and _platforms_of(sentence) & theirs:
                notes.append(sentence)
    return notes


def _names_row(label: str, customer_text: str) -> bool:
    """The customer names this row: all its label's words ("United Kingdom"), or its initials written in capitals
    ("UK", "US": in lower case "us" is a word)."""
    terms = _stems(label)
    if terms and terms <= _stems(customer_text):
        return True
    words = [w for w in re.findall(r"[^\W\d_]+", label) if w[0].isupper()]
    initials = "".join(w[0] for w in words)
    return len(words) >= 2 and re.search(rf"\b{initials}\b", customer_text) is not None


def _paragraph(lines: list[str], indices: range) -> str:
    """The paragraph met first walking `indices` (forwards or backwards) over blank lines, in reading order; a
    heading, a table or a step ends it."""
    found: list[str] = []
    for i in indices:
        line = lines[i].strip()
        if not line:
            if found:
                break
            continue
        if line.startswith(("#", "|")) or _STEP.match(line):
            break
        found.append(line)
    return " ".join(found if indices.step > 0 else reversed(found))


def _prose_around(lines: list[str], first: int, end: int) -> tuple[str, str]:
    """The paragraph right before a table (unless it is a heading) and the one right after it, as plain text."""
    before, after = _paragraph(lines, range(first - 1, -1, -1)), _paragraph(lines, range(end, len(lines)))
    return " ".join(_plain_sentences(before)), " ".join(_plain_sentences(after))


MAX_TABLE_ROWS = 6  # a table's rows quoted when the customer names none of them


def _table_lines(body: str, customer_text: str) -> list[str]:
    """An article without steps that holds a table: the rows the customer names (all of them, up to
    MAX_TABLE_ROWS, when they name none) as sentences with the header's names, and the paragraphs around the
    table. Read flat, a table is a run of values without their column names."""
    lines = body.splitlines()
    out: list[str] = []
    for table in markdown_tables(body):
        named = [row for row in table.rows if _names_row(row[0], customer_text)]
        before, after = _prose_around(lines, table.first, table.end)
        chosen = named or table.rows[:MAX_TABLE_ROWS]
        rows = [row_sentence(table.header, row) for row in chosen]
        out += [*([before] if before else []), *rows, *([after] if after else [])]
    return list(dict.fromkeys(out))


def _grounded_lines(suggestion: Suggestion, body: str, ticket: Ticket, limit: int) -> tuple[list[str], str]:
    """The article's lines for this customer, and a note for the agent when the customer contradicts a step."""
    customer = [m.body for m in ticket.customer_messages()]
    customer_text = " ".join([ticket.subject, *customer])
    said = [s for text in customer for s in sentences(text)]
    # A step whose menu item the customer says is not there is left out, and the agent is told: the article
    # may be out of date (Edit corrects it for the next draft).
    gone = {
        plain_text(m.group(1)).strip(): name
        for line in body.splitlines()
        if (m := _STEP.match(line)) and (name := _contradicted(m.group(1), said))
    }
    warning = ""
    if gone:
        step, name = next(iter(gone.items()))
        warning = (
            f"The customer says '{name}' is not there, so the step “{step}” is left out: the article may be "
            "out of date. Check it before sending (Edit on the article corrects it for the next draft)."
        )
    steps = _for_this_customer(_steps(body), customer_text)
    steps = [step for step in steps if step not in gone and not _already_done(step, said)]
    notes = _conditional_notes(body, customer_text)
    if steps:
        points = not _numbered(body)
        if points:
            listed = [f"- {s}" for s in steps[:limit]]
        else:
            listed = [f"{i}. {s}" for i, s in enumerate(steps[:limit], start=1)]
        lead_in = _lead_in(body, points)
        latest = sentences(customer[-1]) if customer else []
        after = _after_steps(body, customer_text, latest) if limit == MAX_STEPS else ""
        for note in notes:  # a conditional line already said above is not repeated after the steps
            after = " ".join(after.replace(note, " ").split())
        return [*notes, *([lead_in] if lead_in else []), *listed, *([after] if after else [])], warning
    return notes or _table_lines(body, customer_text) or [plain_text(suggestion.passage).strip()], warning


def _after_steps(body: str, customer_text: str, latest: list[str]) -> str:
    """The paragraph right after an article's steps: usually what happens next ("We open an investigation
    with the carrier and send a free replacement …"), which the customer wants to know; and any later paragraph
    that speaks to what the customer's latest sentences ask (a fallback an agent added at the end: "If the QR code
    will not scan, …")."""
    lines = body.splitlines()
    last = max((i for i, line in enumerate(lines) if _STEP.match(line)), default=-1)
    if last < 0:
        return ""
    paragraphs = [_paragraph(lines, range(last + 1, len(lines)))]
    asked = {w for s in latest for w in _keys(s)}
    start = last + 1
    while start < len(lines) and latest:
        # The next paragraph: past this one's lines and the blank lines after it.
        while start < len(lines) and not lines[start].strip():
            start += 1
        end = start
        while end < len(lines) and lines[end].strip():
            end += 1
        text = _paragraph(lines, range(start, len(lines))) if start < len(lines) else ""
        if text and text not in paragraphs and len(_keys(text) & asked) >= 2:
            paragraphs.append(text)
        start = end
    theirs = _platforms_of(customer_text)
    # A sentence for a platform or store is said only where it applies (see _conditional_notes).
    kept = [
        x
        for paragraph in paragraphs
        for x in _plain_sentences(paragraph)
        if not _platforms_of(x) or _platforms_of(x) & theirs
    ]
    return " ".join(kept)


def _plain_sentences(text: str) -> list[str]:
    """Sentences of customer-visible text, Markdown marks gone and menu paths' `>` kept."""
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", plain_text(text)) if s.strip()]


def _url(suggestion: Suggestion, inp: DraftInputs) -> str:
    return inp.article_urls.get(suggestion.article_id, "")


def _linked(suggestion: Suggestion, urls: dict[str, str]) -> str:
    return f"{suggestion.title} ({urls[suggestion.article_id]})"


def build_draft(inp: DraftInputs) -> Draft:
    tone = inp.tone if inp.tone in TONES else "friendly"
    lang = inp.language
    t = inp.ticket
    kinds = {f.kind for f in inp.flags}
    parts: list[str] = []
    if t.customer_first_name:
        parts.append(phrase(lang, f"greet.{tone}", name=t.customer_first_name, full_name=t.customer_name))
    else:
        parts.append(phrase(lang, "greet.anon"))

    # A thank-you that asks for nothing gets a short reply: no article, no "I couldn't find this covered".
    said = t.customer_messages()
    thanks_only = bool(said) and asks_nothing(said[-1].body)
    opening: list[str] = []
    # Upset: their words say so. A calm "please cancel my plan" is churn, not anger, and gets no apology.
    upset = inp.sentiment == "negative" or bool(kinds & {"frustration", "legal_threat"})
    if tone != "concise" and not thanks_only:
        opening.append(
            phrase(lang, "sorry.formal" if tone == "formal" else "sorry.friendly")
            if upset
            else phrase(lang, f"thanks.{'formal' if tone == 'formal' else 'friendly'}")
        )
    if "repeated_contact" in kinds:
        opening.append(phrase(lang, "sorry.repeat"))
    if "asks_for_human" in kinds:
        opening.append(phrase(lang, "human"))
    if opening:
        parts.append(" ".join(opening))

    usable = [] if thanks_only else [s for s in inp.suggestions if s.confidence >= inp.min_confidence]
    citations: list[Citation] = []
    warning = ""
    if thanks_only:
        parts.append(phrase(lang, "welcome"))
    elif usable:
        top = usable[0]
        citations.append(Citation(1, top.article_id, top.title, top.article_version))
        formal = ".formal" if tone == "formal" else ""  # formal is its own register, not just another greeting
        limit = 3 if tone == "concise" else MAX_STEPS
        lines, warning = _grounded_lines(top, inp.article_bodies.get(top.article_id, top.passage), t, limit)
        # "Here is what to do" before steps; what the guide says before facts (delivery times, a refund's delay).
        kind = "intro" if any(re.match(r"\d+\. ", line) for line in lines) else "facts"
        block = [phrase(lang, f"grounded.{kind}{formal}", title=top.title)]
        if lang != "en":
            block.append(phrase(lang, "english_source"))
        parts.append("\n".join([*block, *lines]))
        # The sources are the draft's citations (the agent sees them beside it); the customer gets links, where
        # the knowledge base has them (a title alone points nowhere).
        refs = [phrase(lang, f"grounded.more{formal}", title=_linked(top, inp.article_urls))] if _url(top, inp) else []
        if len(usable) > 1 and tone == "friendly":
            second = usable[1]
            citations.append(Citation(2, second.article_id, second.title, second.article_version))
            if _url(second, inp):
                refs.append(phrase(lang, "grounded.also", title=_linked(second, inp.article_urls)))
        if refs:
            parts.append(" ".join(refs))
    else:
        parts.append(phrase(lang, "nosource"))

    # No cheerful sign-off for a customer who is upset: the apology already set the tone. Nothing was explained
    # when no article answers: "let me know if anything is unclear" would not fit; thank them for waiting.
    closing = "" if (upset and tone == "friendly") or thanks_only else phrase(lang, f"close.{tone}")
    if not usable and not thanks_only and tone == "friendly":
        closing = phrase(lang, "close.wait")
    if closing:
        parts.append(closing)
    parts.append(phrase(lang, f"sign.{tone}", agent=inp.agent_name))
    notes = [warning] if usable and warning else []
    if not usable and not thanks_only:
        notes.append(
            "No article answers this ticket, so the draft tells the customer you are checking with the team: "
            "ask them (or write the answer) before sending."
        )
    if usable and lang != "en":
        notes.append(
            f"The article's steps are quoted in English (the customer writes in '{lang}'): translate them before "
            "sending, or rewrite the draft with a model."
        )
    note = " ".join(notes)
    return Draft("\n\n".join(parts), lang, tone, tuple(citations), grounded=bool(usable), note=note)
