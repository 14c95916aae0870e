"""Sentiment and flags from lexicons and rules; every flag quotes the words that raised it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from copilot.domain import Flag, Message, Role, Ticket, Visibility
from copilot.engine import injection
from copilot.engine.text import fold, sentences, words

PROMPT_VERSION = "signals-rules-5"


@dataclass(frozen=True)
class Rule:
    kind: str
    label: str
    severity: int
    reason: str
    pattern: re.Pattern[str]


def _rx(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{a})" for a in alternatives), re.IGNORECASE)


RULES: tuple[Rule, ...] = (
    Rule(
        "legal_threat",
        "Legal or chargeback threat",
        3,
        "mentions legal action or disputing the payment",
        _rx(
            r"\b(lawyer|attorney|solicitor|legal action|lawsuit|sue you|small claims|court)\b",
            r"\bcharge\s?back\b",
            r"\bdispute (the|this|that) (charge|payment|transaction)\b",
            r"\bdisput(e|ing) (it|this|that)( charge| payment)? (with|through) (my|the) (bank|card)",
            r"\b(i'll|i will|going to) report (you|this|your company)\b",
            r"\b(consumer protection|ombudsman|trading standards|better business bureau)\b",
            r"\b(abogado|demanda|anwalt|klage|avocat|plainte)\b",
        ),
    ),
    Rule(
        "churn_risk",
        "Churn risk",
        2,
        "talks about cancelling or leaving",
        _rx(
            # Cancelling a plan or the account is leaving; cancelling an order (a duplicate, a mistake) is not.
            r"\bcancel+(ing|ed)? (my|our|the)? ?(\w+ ){0,2}(subscription|account|plan|membership)\b",
            r"\bregret (buying|purchasing|getting|ordering)\b",
            r"\b(switch|switching|move|moving) to (a |another )?(competitor|different provider|\w+ instead)",
            r"\bclose (my|our) account\b",
            r"\b(won't|will not|not going to) renew\b",
            r"\b(stop|end) (it|my \w+|the \w+) before (the |my )?(next )?renewal\b",
            r"\b(stop|end) (my|the|our) (lumen plus |plus )?(subscription|membership|plan)\b",
            r"\b(done with|leaving) (you|this company|your service)\b",
            r"\blooking (for|at) alternatives\b",
            r"\bcancelar (mi|la) (suscripción|cuenta)\b",
            r"\bkündig",
            r"\b(résilier|annuler mon abonnement)\b",
        ),
    ),
    Rule(
        "asks_for_human",
        "Asks for a human or manager",
        2,
        "asks to talk to a person or a manager",
        _rx(
            r"\b(speak|talk|chat) (to|with) (a|an|your|someone|somebody)? ?(real )?(human|person|manager|supervisor|someone)",
            r"\b(real|actual) (human|person)\b",
            r"\bescalate\b",
            r"\bnot (a|another) bot\b",
            r"\byour (manager|supervisor)\b",
            r"\b(un supervisor|einen vorgesetzten|un responsable)\b",
        ),
    ),
    Rule(
        "frustration",
        "Frustration",
        2,
        "sounds frustrated",
        _rx(
            r"\b(second|third|fourth|fifth|2nd|3rd|4th|5th) time\b",
            r"\bstill (not|no|waiting|broken|haven't|hasn't|nothing|can't|cannot|doesn't|isn't|won't)\b",
            r"\b(ridiculous|unacceptable|outrageous|fed up|sick of|joke|useless|terrible|awful|worst|frustrat(?:ed|ing))\b",
            r"\b(scam|rip-?off|disgraceful)\b",
            r"\bnobody (answers|replies|responds|helps)\b",
            r"\bnobody (has )?(answered|replied|responded|helped)\b",
            r"\b(again and again|over and over)\b",
            r"!{2,}",
            r"\b(inaceptable|otra vez|unverschämt|schon wieder|inacceptable|encore une fois)\b",
        ),
    ),
    Rule(
        "urgency",
        "Urgent",
        2,
        "something is blocked or time-critical",
        _rx(
            r"\b(urgent|urgently|asap|emergency|immediately|right now)\b",
            r"\b(outage|is down|are down|(?:has|have) been down|is still down|are still down)\b",
            r"\b(can't|cannot|can not|unable to) (log ?in|sign in|access|pay|check ?out|process)",
            r"\bpayments? (is |are |was |were )?(failing|failed|blocked|declined)\b",
            r"\b(blocked|locked out)\b",
            r"\b(in production|losing (money|sales|customers|orders))\b",
            r"\b(urgente|dringend|sofort|immédiatement)\b",
        ),
    ),
    Rule(
        "prompt_injection",
        "Tries to instruct the AI",
        2,
        "contains instructions aimed at an AI assistant; they are treated as customer text, not obeyed",
        injection.PATTERN,  # matched on folded text (see detect_flags)
    ),
)

INJECTION = next(rule.pattern for rule in RULES if rule.kind == "prompt_injection")
UPSET = _rx(*(rule.pattern.pattern for rule in RULES if rule.kind in ("frustration", "legal_threat")))

_REPEAT = _rx(
    r"\b(emailed|written|wrote|contacted|called|messaged) (you )?(\w+ )?(times|twice|again|before)\b",
    r"\balready (asked|reported|contacted|told you|explained|written)\b",
    r"\b(as i said|like i said)\b",
    r"\b(emailed|wrote|written|contacted|called|asked) (you |about this |about it )?(last week|yesterday|already|before)\b",
    r"\b(second|third|fourth|fifth) time (i'm|i am|i've|i have) (asking|writing|contacting|called|written)",
    r"\b(asked|emailed|written|wrote|contacted|called) (you )?(twice|three times|several times|many times)\b",
    r"\b(second|third|fourth|fifth) (message|email|request)\b",
    r"\bnobody (replies|answers|responds|has replied|has answered) to (my|our) (emails|messages)\b",
    # Chasing an answer that has not come: "Two days and still no answer", "I haven't heard back".
    r"\bstill (no|without an?|waiting for an?) (answer|reply|response|word)\b",
    r"\b(haven't|have not|never) (heard back|had a reply|had an answer|got a reply|got an answer)\b",
)

# Words that say how the customer feels. Words that only name the topic ("refund", "cancel", "charged",
# "problem", "missing", "never") are not here: a calm question about a refund is not a negative ticket.
NEGATIVE = frozenset(
    [
        "angry",
        "annoyed",
        "awful",
        "bad",
        "broken",
        "cracked",
        "damaged",
        "disappointed",
        "disappointing",
        "disgusted",
        "frustrated",
        "frustrating",
        "furious",
        "horrible",
        "hate",
        "poor",
        "regret",
        "rude",
        "terrible",
        "unhappy",
        "unreliable",
        "upset",
        "useless",
        "worse",
        "worst",
        "ridiculous",
        "unacceptable",
        "waste",
        "complaint",
        "complain",
        "scam",
        "fraud",
        "overcharged",
        "enfadado",
        "molesto",
        "malo",
        "roto",
        "danado",
        "inaceptable",
        "decepcionado",
        "argerlich",
        "schlecht",
        "enttauscht",
        "kaputt",
        "beschadigt",
        "unverschamt",
        "furieux",
        "decu",
        "mauvais",
        "inacceptable",
        "fissure",
        "ecrasee",
        "ecrase",
        "endommage",
        "endommagee",
        "casse",
        "cassee",
    ]
)
# Praise. Plain politeness ("Thanks!", "Merci", "Gracias") is not: nearly every message says it.
POSITIVE = frozenset(
    [
        "great",
        "good",
        "love",
        "lovely",
        "excellent",
        "perfect",
        "happy",
        "helpful",
        "appreciate",
        "awesome",
        "amazing",
        "wonderful",
        "pleased",
        "glad",
        "resolved",
        "quick",
        "genial",
        "perfecto",
        "toll",
        "parfait",
        "super",
    ]
)
NEGATIONS = frozenset(
    [
        "not",
        "no",
        "never",
        "don't",
        "doesn't",
        "didn't",
        "isn't",
        "wasn't",
        "can't",
        "cannot",
        "won't",
        "nicht",
        "kein",
        "no",
        "pas",
    ]
)


# Greetings, sign-offs and wishes: polite formulas, not praise ("Good afternoon", "Kind regards",
# "Would love some mood lighting").
_FORMULA = re.compile(
    r"\b(good (morning|afternoon|evening|day)|(kind|best|warm) regards|(would|i'd|we'd) love|"
    r"buenos d[ií]as|buenas tardes|guten (tag|morgen|abend)|bonne journ[ée]e)\b",
    re.IGNORECASE,
)


@lru_cache(maxsize=1 << 16)
def _folded(word: str) -> str:
    """A word folded for matching; the same few thousand words recur in every ticket."""
    return fold(word)


def sentence_score(text: str) -> int:
    """Praise minus complaint words, a negation flipping the word after it. A question asks rather than
    complains ("What am I doing wrong?", "Is the bulb broken?"): its complaint words do not count."""
    asking = text.rstrip().endswith("?")
    tokens = [_folded(w) for w in words(_FORMULA.sub(" ", text))]
    score = 0
    for i, tok in enumerate(tokens):
        polarity = 1 if tok in POSITIVE else -1 if tok in NEGATIVE else 0
        if polarity and any(t in NEGATIONS for t in tokens[max(0, i - 3) : i]):
            polarity = -polarity
        if polarity < 0 and asking:
            continue
        score += polarity
    return score


def _customer_public(ticket: Ticket) -> list[Message]:
    return [m for m in ticket.messages if m.role is Role.CUSTOMER and m.visibility is Visibility.PUBLIC]


def detect_flags(ticket: Ticket) -> list[Flag]:
    """Every rule that fires, once, with the first sentence that fired it (latest messages first)."""
    flags: list[Flag] = []
    messages = list(reversed(_customer_public(ticket)))
    # Each message's sentences, their disguise-free forms and which of them are no instruction to the AI are the
    # same for every rule: worked out once per message (when a rule first reads it), not once per rule.
    read: dict[int, tuple[list[tuple[str, re.Match[str] | None]], list[str]]] = {}

    def sentences_of(k: int) -> tuple[list[tuple[str, re.Match[str] | None]], list[str]]:
        if k not in read:
            said = [(s, INJECTION.search(injection.fold(s))) for s in sentences(messages[k].body)]
            # Words inside an instruction aimed at the AI ("… refund me immediately") are not the customer's
            # urgency or threat; only the injection rule reads them.
            read[k] = (said, [s for s, instruction in said if instruction is None])
        return read[k]

    for rule in RULES:
        for k, m in enumerate(messages):
            said, plain = sentences_of(k)
            if rule.pattern is INJECTION:  # read with disguises (zero-width, full-width) off, as found above
                hit, words_found = next(((s, found) for s, found in said if found), (None, None))
            else:
                hit, words_found = next(((s, found) for s in plain if (found := rule.pattern.search(s))), (None, None))
            if hit and words_found is not None:
                flags.append(
                    Flag(
                        rule.kind,
                        rule.label,
                        f"{rule.reason}: “{words_found.group(0)}”",
                        hit.strip(),
                        m.id,
                        rule.severity,
                    )
                )
                break
    repeat = _repeated_contact(ticket)
    if repeat:
        flags.append(repeat)
    negative = _negative_sentiment(ticket)
    if negative:
        flags.append(negative)
    return flags


def _repeated_contact(ticket: Ticket) -> Flag | None:
    customer = _customer_public(ticket)
    for m in reversed(customer):
        hit = next((s for s in sentences(m.body) if _REPEAT.search(s)), None)
        if hit:
            return Flag("repeated_contact", "Repeated contact", "says they have been in touch before", hit, m.id, 2)
    # Several customer messages in a row with no public answer in between.
    streak = 0
    for m in ticket.public_messages():
        streak = streak + 1 if m.role is Role.CUSTOMER else 0
    if streak >= 3:
        last = customer[-1]
        return Flag(
            "repeated_contact",
            "Repeated contact",
            f"{streak} customer messages in a row without an answer",
            sentences(last.body)[0] if sentences(last.body) else last.body[:120],
            last.id,
            2,
        )
    return None


def sentiment(ticket: Ticket) -> tuple[str, int, str, int | None]:
    """(label, score, most negative sentence, its message id); the latest message counts double."""
    customer = _customer_public(ticket)
    total = 0
    worst: tuple[int, str, int | None] = (0, "", None)
    for i, m in enumerate(customer):
        weight = 2 if i == len(customer) - 1 else 1
        for s in sentences(m.body):
            sc = sentence_score(s)
            total += sc * weight
            if sc < worst[0]:
                worst = (sc, s, m.id)
    label = "negative" if total <= -2 else "positive" if total >= 2 else "neutral"
    # Words like "ridiculous", "unacceptable" or a chargeback threat make the ticket negative even when a
    # later "ok, thanks" evens out the count.
    upset = next(((s, m.id) for m in customer for s in sentences(m.body) if UPSET.search(s)), None)
    if upset and label != "negative":
        label = "negative"
        if not worst[1]:
            worst = (worst[0], upset[0], upset[1])
    return label, total, worst[1], worst[2]


def _negative_sentiment(ticket: Ticket) -> Flag | None:
    label, score, evidence, message_id = sentiment(ticket)
    if label != "negative" or not evidence:
        return None
    return Flag(
        "negative_sentiment",
        "Negative sentiment",
        f"negative words outweigh positive ones (score {score})",
        evidence,
        message_id,
        1,
    )


def is_urgent(flags: list[Flag]) -> bool:
    kinds = {f.kind for f in flags}
    return "urgency" in kinds or "legal_threat" in kinds
