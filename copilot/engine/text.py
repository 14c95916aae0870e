"""Tokens, sentences, stop words and language guessing for the built-in engine.

Long mostly because of data: stop-word lists for four languages and the support glossary; the functions
themselves are short."""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?|\d+", re.UNICODE)
_SENTENCE_END = re.compile(r"(?<=[.!?¡¿])\s+|\n+")
_MD_LINK = re.compile(r"\[(.*?)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"[*_`]+")
# Heading and quote marks at a line's start, and table bars: marks, not words. A `>` inside a line is a menu
# path's ("Settings > Advanced") and a `#` a number's ("order #12"): both stay.
_MD_BLOCK = re.compile(r"^[ \t]*[#>]+|\|+", re.MULTILINE)

STOPWORDS_EN = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "i'm",
        "i've",
        "i'd",
        "it's",
        "don't",
        "can't",
        "won't",
        "didn't",
        "doesn't",
        "isn't",
        "wasn't",
        "you're",
        "we're",
        "hi",
        "hello",
        "hey",
        "thanks",
        "thank",
        "please",
        "regards",
        "dear",
        "also",
        "get",
        "got",
        "still",
        "yet",
        "would",
        "could",
        "since",
        "just",
        "really",
        "one",
        "two",
        "us",
        "let",
        "know",
        "need",
        "want",
        "like",
        "via",
        "cheers",
        "best",
    ]
)
STOPWORDS_ES = frozenset(
    [
        "el",
        "la",
        "los",
        "las",
        "un",
        "una",
        "unos",
        "unas",
        "de",
        "del",
        "y",
        "o",
        "que",
        "en",
        "es",
        "por",
        "para",
        "con",
        "no",
        "se",
        "su",
        "sus",
        "al",
        "lo",
        "le",
        "les",
        "me",
        "mi",
        "mis",
        "yo",
        "tu",
        "te",
        "como",
        "pero",
        "más",
        "muy",
        "ya",
        "hola",
        "gracias",
        "este",
        "esta",
        "estos",
        "estas",
        "eso",
        "esa",
        "ese",
        "hay",
        "fue",
        "son",
        "está",
        "estoy",
        "tengo",
    ]
)
STOPWORDS_DE = frozenset(
    [
        "der",
        "die",
        "das",
        "den",
        "dem",
        "des",
        "ein",
        "eine",
        "einen",
        "einem",
        "einer",
        "und",
        "oder",
        "nicht",
        "ist",
        "sind",
        "war",
        "ich",
        "du",
        "sie",
        "er",
        "es",
        "wir",
        "ihr",
        "mit",
        "von",
        "zu",
        "auf",
        "für",
        "an",
        "im",
        "in",
        "am",
        "aus",
        "bei",
        "nach",
        "noch",
        "auch",
        "wie",
        "aber",
        "mein",
        "meine",
        "mir",
        "mich",
        "hallo",
        "danke",
        "bitte",
        "habe",
        "hat",
        "haben",
        "kann",
        "schon",
    ]
)
STOPWORDS_FR = frozenset(
    [
        "le",
        "la",
        "les",
        "un",
        "une",
        "des",
        "de",
        "du",
        "et",
        "ou",
        "que",
        "qui",
        "en",
        "est",
        "sont",
        "pas",
        "ne",
        "se",
        "sa",
        "son",
        "ses",
        "au",
        "aux",
        "pour",
        "par",
        "avec",
        "je",
        "tu",
        "il",
        "elle",
        "nous",
        "vous",
        "ils",
        "elles",
        "mon",
        "ma",
        "mes",
        "ce",
        "cette",
        "ces",
        "mais",
        "plus",
        "très",
        "bonjour",
        "merci",
        "ai",
        "avez",
        "suis",
        "dans",
        "sur",
    ]
)
STOPWORDS = STOPWORDS_EN | STOPWORDS_ES | STOPWORDS_DE | STOPWORDS_FR


def fold(text: str) -> str:
    """Lower-case and drop accents, for matching."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def stem(word: str) -> str:
    """A light English suffix stripper: enough to match 'refunds' with 'refund' and 'charged' with 'charge'."""
    w = fold(word)
    for suffix in ("ing", "ed", "es", "s"):
        if len(w) > len(suffix) + 3 and w.endswith(suffix):
            return w[: -len(suffix)]
    return w


def key_terms(text: str) -> list[str]:
    """Content words in order of appearance (with repeats), stop words and very short words removed."""
    return [w for w in words(text) if len(w) > 2 and w not in STOPWORDS and not w.isdigit()]


def sentences(text: str) -> list[str]:
    plain = strip_markdown(text)
    return [s.strip(" -•\t") for s in _SENTENCE_END.split(plain) if s and s.strip(" -•\t")]


def strip_markdown(text: str) -> str:
    """Markdown as plain text: link text kept, emphasis markers removed, heading/quote marks at a line's start and
    table bars as spaces (menu paths keep their `>`)."""
    return _MD_BLOCK.sub(" ", _MD_EMPHASIS.sub("", _MD_LINK.sub(lambda m: m.group(1), text)))


_MD_LINE_MARK = re.compile(r"^\s*(?:#+|>+)\s*", re.MULTILINE)
_MD_STRONG = re.compile(r"(\*\*|__|\*|`)(.+?)\1")


def plain_text(text: str) -> str:
    """Markdown as text a customer reads in an email: links as their text, emphasis and code marks
    dropped, heading and quote marks at line starts dropped; menu paths keep their `>`
    ("Profile > Subscription") and everything else is left as written."""
    text = _MD_LINK.sub(lambda m: m.group(1), text)
    text = _MD_STRONG.sub(lambda m: m.group(2), text)
    return _MD_LINE_MARK.sub("", text)


def detect_language(text: str) -> str:
    """The ISO 639-1 code of the text's language (py3langid's model, shipped with it; no download). English
    when there is nothing to go on or the model is unsure."""
    if not any(c.isalpha() for c in text):
        return "en"
    label, probability = _language_identifier().classify(text)
    return str(label) if probability >= _LANGUAGE_SURE else "en"


_LANGUAGE_SURE = 0.3  # below this (a greeting, "ok", a name) the text says too little to leave English
# The languages a help desk's customers commonly write in; leaving out the model's rarer ones keeps a two-word
# message from reading as Serbian or Xhosa.
_GUESSED = (
    "en",
    "es",
    "de",
    "fr",
    "it",
    "pt",
    "nl",
    "sv",
    "da",
    "no",
    "fi",
    "pl",
    "cs",
    "ru",
    "uk",
    "tr",
    "el",
    "ar",
    "he",
    "hi",
    "ja",
    "ko",
    "zh",
    "ro",
    "hu",
)


LANGID_CACHE_VERSION = 1  # bump when _identifier_parts stores something else


@functools.cache
def _language_identifier() -> Any:
    """py3langid's identifier with probabilities normalised to 0..1 (loaded once; the model is small)."""
    from array import array
    from pathlib import Path

    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    parts = _identifier_parts(Path(MODEL_DIR) / MODEL_FILE)
    typecode = {2: "H", 4: "I", 8: "L"}  # as py3langid reads them
    nextmove, row = array(typecode[parts["nextmove"].itemsize]), array(typecode[parts["row"].itemsize])
    nextmove.frombytes(memoryview(parts["nextmove"]).cast("B"))
    row.frombytes(memoryview(parts["row"]).cast("B"))
    return LanguageIdentifier(
        parts["ptc"],
        parts["pc"],
        parts["classes"].tolist(),
        nextmove,
        parts["output"].tolist(),
        norm_probs=True,
        tk_row=row,
    )


def _identifier_parts(model_file: Any) -> dict[str, Any]:
    """The model's arrays for the languages we guess: what set_languages(_GUESSED) keeps, without the whole model
    kept for a reset (27 MB we never use). Read from a zlib copy in the model cache, named after the model file's
    SHA-256 and these languages, made on first use: py3langid's own file is LZMA, whose decompression cost every
    start 1-2 CPU-seconds (a tenth of that from the copy). Any trouble with the copy: the model file itself."""
    import hashlib
    import os
    import tempfile

    import numpy as np

    from copilot.kb.onnx_encoder import cache_root

    digest = hashlib.sha256(model_file.read_bytes())
    digest.update(repr((LANGID_CACHE_VERSION, _GUESSED)).encode())
    copy = cache_root() / f"langid-{digest.hexdigest()[:20]}.npz"
    try:
        with np.load(copy, allow_pickle=False) as data:
            return {k: data[k] for k in ("ptc", "pc", "classes", "nextmove", "row", "output")}
    except (OSError, ValueError, KeyError):
        pass
    from py3langid.langid import LanguageIdentifier

    full = LanguageIdentifier.from_model_file(model_file, norm_probs=True)
    keep = [i for i, c in enumerate(full.nb_classes) if c in _GUESSED]
    parts = {
        "ptc": full.nb_ptc[:, keep],
        "pc": full.nb_pc[keep],
        "classes": np.array([full.nb_classes[i] for i in keep]),
        "nextmove": np.frombuffer(full.tk_nextmove, dtype=f"u{full.tk_nextmove.itemsize}"),
        "row": np.frombuffer(full.tk_row, dtype=f"u{full.tk_row.itemsize}"),
        "output": np.array(full.tk_output, dtype=np.int64),
    }
    try:
        copy.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=copy.parent, prefix=copy.name, suffix=".part.npz")
        with os.fdopen(fd, "wb") as f:
            np.savez_compressed(f, **parts)
        os.replace(tmp, copy)
    except OSError:
        pass  # a read-only cache: the model file again next start
    return parts


# Support vocabulary in Spanish, German and French with English equivalents, so a ticket in one of those
# languages can still find the (English) article that answers it. Keys are folded (lower case, no accents).
GLOSSARY: dict[str, tuple[str, ...]] = {
    # Spanish
    "reembolso": ("refund",), "devolucion": ("return", "refund"), "devolvi": ("return",), "pedido": ("order",),
    "envio": ("shipping",), "entrega": ("delivery",), "tarjeta": ("card",), "factura": ("invoice",),
    "suscripcion": ("subscription",), "cancelar": ("cancel",), "contrasena": ("password",), "cuenta": ("account",),
    "cobro": ("charge",), "cobrado": ("charged",), "dos veces": ("twice",), "garantia": ("warranty",),
    "roto": ("broken", "damaged"), "danado": ("damaged",), "bombilla": ("bulb",), "luces": ("lights",),
    "recibido": ("received",), "paquete": ("package",),
    # German
    "ruckerstattung": ("refund",), "erstattung": ("refund",), "bestellung": ("order",), "lieferung": ("delivery",),
    "versand": ("shipping",), "rechnung": ("invoice",), "rechnungen": ("invoice",), "abo": ("subscription",),
    "abonnement": ("subscription",), "kundigen": ("cancel",), "kundigung": ("cancel",), "passwort": ("password",),
    "konto": ("account",), "wlan": ("wifi", "network"), "router": ("router",), "netzwerk": ("network",),
    "beschadigt": ("damaged",), "garantie": ("warranty",), "lampe": ("bulb",), "gluhbirne": ("bulb",),
    "offline": ("offline",), "passwortes": ("password",), "steuererklarung": ("invoice", "vat"),
    # French
    "remboursement": ("refund",), "rembourser": ("refund",), "commande": ("order",), "livraison": ("delivery",),
    "facture": ("invoice",), "resilier": ("cancel",), "annuler": ("cancel",), "mot": (), "passe": ("password",),
    "compte": ("account",), "endommagee": ("damaged",), "endommage": ("damaged",), "ecrasee": ("damaged",),
    "fissure": ("damaged", "crack"), "ampoule": ("bulb",), "programmations": ("schedules",),
    "programmation": ("schedules",), "colis": ("package",),
}  # fmt: skip


def english_equivalents(word: str) -> tuple[str, ...]:
    return GLOSSARY.get(fold(word), ())


def edit_ratio(ai_draft: str, sent: str) -> float:
    """0.0 when the agent sent the draft unchanged, 1.0 when nothing of it survived (word-level)."""
    if not ai_draft.strip():
        return 1.0
    matcher = difflib.SequenceMatcher(None, words(ai_draft), words(sent), autojunk=False)
    return round(1.0 - matcher.ratio(), 3)


_THANKS = re.compile(
    r"\b(?:thanks?|thank you|cheers|merci|gracias|danke|grazie|obrigad[oa]|bedankt|keep it up|just wanted to say)\b",
    re.IGNORECASE,
)
# Words that turn a thank-you into a report or a request ("thanks, but it still fails", "please also check …").
_ASKING = re.compile(
    r"\?|\b(?:please|pls|can|could|would|how|why|what|when|where|which|need|want|still|but|not|n't|no longer|"
    r"problem|issue|error|broken|fail\w*|por favor|bitte|s'il vous pla[iî]t|pero|aber|mais)\b",
    re.IGNORECASE,
)


def asks_nothing(text: str) -> bool:
    """A short thank-you or closing that asks for nothing ("Replacement arrived and works. Thanks!"): no article
    answers it."""
    return len(words(text)) <= 40 and _THANKS.search(text) is not None and _ASKING.search(text) is None


_TABLE_LINE = re.compile(r"^\s*\|(.*)\|\s*$")
_TABLE_RULE = re.compile(r"^[\s|:-]+$")


@dataclass(frozen=True)
class MarkdownTable:
    """A Markdown table in a text: its lines first to end - 1 (a header, a rule, rows), the header's cells and
    each row's, as plain text."""

    first: int
    end: int
    header: list[str]
    rows: list[list[str]]


def _cells(line: str) -> list[str]:
    match = _TABLE_LINE.match(line)
    return [plain_text(cell).strip() for cell in match.group(1).split("|")] if match else []


def markdown_tables(text: str) -> list[MarkdownTable]:
    lines = text.splitlines()
    out, i = [], 0
    while i < len(lines):
        if _TABLE_LINE.match(lines[i]) and i + 1 < len(lines) and _TABLE_RULE.match(lines[i + 1]):
            end = i + 2
            while end < len(lines) and _TABLE_LINE.match(lines[end]):
                end += 1
            rows = [cells for line in lines[i + 2 : end] if (cells := _cells(line)) and any(cells)]
            out.append(MarkdownTable(i, end, _cells(lines[i]), rows))
            i = end
        else:
            i += 1
    return out


def row_sentence(header: list[str], row: list[str]) -> str:
    """A table row as a sentence a customer reads: "United Kingdom: Standard 2–4 business days; Express next
    business day." (the header names each value; the first column names the row). Read flat, a table is a run
    of values without their column names."""
    values = [f"{name} {value}" if name else value for name, value in zip(header[1:], row[1:], strict=False) if value]
    line = f"{row[0]}: {'; '.join(values)}" if values else row[0]
    return line if line.endswith((".", "!", "?")) else f"{line}."


def tables_as_sentences(text: str) -> str:
    """The text with each Markdown table written as one sentence per row (`row_sentence`), each on its line."""
    tables = markdown_tables(text)
    if not tables:
        return text
    lines = text.splitlines()
    for table in reversed(tables):
        lines[table.first : table.end] = [row_sentence(table.header, row) for row in table.rows]
    return "\n".join(lines)
