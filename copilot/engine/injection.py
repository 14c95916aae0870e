"""Spotting text aimed at an AI assistant rather than at a person (prompt injection), in the demo languages
(English, Spanish, German, French), including role-play, "SYSTEM:" lines, chat-template markers and our own
ticket delimiter. Matching runs on folded text, so zero-width characters, full-width letters, accents and
case do not hide an attempt. The flag only warns: ticket text is always passed to models as delimited data."""

from __future__ import annotations

import re
import unicodedata

_ZERO_WIDTH = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")

_RULES = "|".join(("instructions?", "rules", "prompts?", "directions", "guidelines", "guardrails", "programming"))
_AI = r"(?:ai|assistant|bot|copilot|chatgpt|gpt|model|llm|language model)"
_DO = r"(?:ignore|disregard|approve|offer|give|issue|grant|refund|reveal|tell|send|print|write|say|respond|reply)"

_ALTERNATIVES = (
    # English
    rf"\b(?:ignore|disregard|forget|override|bypass|skip|drop)\s+(?:all\s+|any\s+|of\s+)?(?:your\s+|the\s+|my\s+|these\s+|those\s+|prior\s+)?"
    rf"(?:previous\s+|prior\s+|above\s+|earlier\s+|preceding\s+|original\s+|existing\s+|system\s+|safety\s+)?(?:{_RULES})\b",
    r"\bsystem\s*prompt\b",
    r"\b(?:new|updated|real|actual|hidden)\s+instructions?\s*:",
    r"\byou\s+are\s+now\s+(?:an?\s|the\s|dan\b|in\s+\w+\s+mode|no\s+longer|free\s+to|unrestricted|jailbroken)",
    r"\bfrom\s+now\s+on,?\s+(?:you|the\s+assistant|the\s+ai)\b",
    rf"\b(?:act|behave|respond)\s+as\s+(?:if\s+you\s+were\s+)?(?:an?\s+|the\s+)?(?:{_AI}|admin|administrator|developer|"
    r"system|supervisor|unfiltered|unrestricted|jailbroken|dan)\b",
    r"\b(?:pretend|imagine)\s+(?:to\s+be|you\s+are|you're|that\s+you\s+are)\s+(?:an?\s+|the\s+)?(?:ai|assistant|bot|"
    r"admin|administrator|developer|system|supervisor|manager|different|unrestricted)\b",
    r"\b(?:role-?play|roleplay)\s+(?:as|that)\b",
    r"\bplay\s+the\s+role\s+of\b",
    rf"\b{_AI}\s*[,:]\s*(?:please\s+)?{_DO}\b",
    rf"\b(?:note|message|memo|instructions?)\s+(?:to|for)\s+(?:the\s+)?{_AI}\s*:",  # "SYSTEM NOTE TO THE ASSISTANT:"
    r"\b(?:reveal|print|show|repeat|output|leak)\s+(?:me\s+)?(?:your\s+(?:system\s+|hidden\s+|initial\s+)?|the\s+(?:system\s+|hidden\s+|initial\s+))(?:prompt|instructions)\b",
    r"\brepeat\s+the\s+instructions\s+you\s+were\s+given\b",
    r"\b(?:enable|activate|enter|switch\s+to|turn\s+on)\s+(?:the\s+)?(?:developer|god|dan)\s+mode\b",
    r"\b(?:jailbreak|dan)\s+mode\b",
    r"\bdo\s+anything\s+now\b",
    # "SYSTEM:" lines and chat-template markers, and our own delimiter
    r"(?:^|[\n.!?]\s*)\[?(?:system|assistant|developer|admin)\]?\s*(?:message|prompt|override|note|instruction)?\s*:\s*"
    r"(?:you|ignore|disregard|forget|new|override|from now on|always|never|approve|grant|issue|refund|respond|reply|"
    r"reveal|print|output|the assistant|the ai)\b",
    # (a closing ">" is optional: Markdown clean-up may have eaten it)
    r"<\|?\s*(?:system|im_?start|im_?end|endoftext)\b",
    r"\[/?inst\]|<<\s*/?\s*sys\b|#{2,}\s*(?:system|instruction)",
    r"<\s*/\s*ticket\b|<\s*ticket\s*/?\s*>",
    # Spanish
    r"\b(?:ignora|ignore|olvida|olvide|omite|descarta)\s+(?:todas\s+)?(?:las\s+|tus\s+|sus\s+)?(?:instrucciones|reglas|"
    r"indicaciones|normas)\b",
    r"\b(?:a\s+partir\s+de\s+ahora|desde\s+ahora),?\s+(?:eres|seras|actua|actuaras|responde)\b",
    r"\b(?:actua|actue|finge|haz\s+como\s+si)\s+(?:como|que\s+eres|ser)\b",
    r"\b(?:ahora\s+eres|eres\s+ahora)\b",
    r"\bnuevas\s+instrucciones\b",
    r"\b(?:mensaje|indicacion|prompt)\s+del\s+sistema\b",
    r"\b(?:revela|muestra|dime)\s+(?:tus|las|sus)\s+instrucciones\b",
    # German
    r"\bignorier(?:e|en|t)?\s+(?:sie\s+)?(?:alle\s+)?(?:vorherigen\s+|bisherigen\s+|obigen\s+|deine\s+|ihre\s+)?"
    r"(?:anweisungen|regeln|instruktionen|vorgaben)\b",
    r"\bvergiss\s+(?:alle\s+|deine\s+|die\s+)?(?:vorherigen\s+|bisherigen\s+)?(?:anweisungen|regeln|instruktionen)\b",
    r"\b(?:ab\s+jetzt|von\s+nun\s+an)\s+bist\s+du\b",
    r"\bdu\s+bist\s+(?:jetzt|nun|ab\s+sofort)\s+(?:ein|eine|der|die|das|mein)\b",
    r"\btu(?:e)?\s+so,?\s+als\s+(?:ob\s+)?(?:du|waerst|warst)\b",
    r"\bneue\s+anweisungen\b",
    r"\bsystem-?\s*(?:anweisung|prompt|nachricht)\w*\b",
    r"\b(?:verrate|zeige?|nenne)\s+(?:mir\s+)?(?:deine|die)\s+(?:anweisungen|instruktionen)\b",
    # French
    r"\b(?:ignore|ignorez|ignorer|oublie|oubliez)\s+(?:toutes\s+)?(?:les\s+|tes\s+|vos\s+)?(?:instructions|consignes|"
    r"regles|directives)\b",
    r"\ba\s+partir\s+de\s+maintenant,?\s+(?:tu\s+es|vous\s+etes|tu\s+dois|reponds)\b",
    r"\b(?:tu\s+es|vous\s+etes)\s+maintenant\b",
    r"\b(?:fais|faites)\s+comme\s+si\s+(?:tu|vous)\b",
    r"\b(?:agis|agissez)\s+(?:comme|en\s+tant\s+que)\b",
    r"\bnouvelles\s+(?:instructions|consignes)\b",
    r"\b(?:invite|message|prompt)\s+(?:du\s+)?systeme\b",
    r"\b(?:revele|revelez|montre|montrez)\s+(?:moi\s+)?(?:tes|vos|les)\s+(?:instructions|consignes)\b",
)

PATTERN = re.compile("|".join(f"(?:{a})" for a in _ALTERNATIVES), re.IGNORECASE)


def fold(text: str) -> str:
    """What the text says, stripped of disguises: NFKC (full-width and other compatibility forms), zero-width
    and direction characters removed, accents dropped, lower case."""
    compat = unicodedata.normalize("NFKC", _ZERO_WIDTH.sub("", text))
    bare = "".join(c for c in unicodedata.normalize("NFKD", compat) if not unicodedata.combining(c))
    return bare.casefold()


def find_injection(text: str) -> str:
    """The words that look like an instruction to an AI ("" when none)."""
    match = PATTERN.search(fold(text))
    return match.group(0).strip() if match else ""
