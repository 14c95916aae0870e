"""The copilot for one ticket: summary, flags, triage, suggested articles and a grounded draft.

Longer than most because it is the built-in pass across threads: encoding ahead (compute), reading what the
pass needs (store), computing (compute) and recording (store), plus the triage model's fitting and caching that
the pass depends on."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlite_utils import Database

from copilot.assist.caches import EngineCaches
from copilot.domain import AssistResult, Draft, Flag, Provenance, Suggestion, Ticket, Triage
from copilot.domain.tickets import content_key
from copilot.engine import ENGINE, MODEL, signals, summarize, triage
from copilot.engine import draft as draft_engine
from copilot.engine.text import detect_language
from copilot.errors import CopilotError, NotFoundError
from copilot.kb import articles as kb_articles
from copilot.kb import retrieve
from copilot.kb.vectors import (
    PreEncoded,
    TextEncoder,
    encode_missing,
    index_key,
    load_index,
    store_text_vectors,
    stored_text_vectors,
)
from copilot.services import Services
from copilot.store import outputs
from copilot.store import tickets as ticket_store
from copilot.store.transaction import transaction
from copilot.store.triage_models import add_triage_models, save_triage_models, saved_triage_models
from copilot.store.util import dumps
from copilot.threads import return_freed_memory

log = logging.getLogger(__name__)

SUGGEST_VERSION = "suggest-rank-4"  # one fitted ranking (resources/ranking.json), confidence of the first fitted


@dataclass(frozen=True)
class AssistOptions:
    tone: str
    agent_name: str
    suggestion_count: int
    min_confidence: float


def options_from(services: Services, tone: str | None = None, workspace: str | None = None) -> AssistOptions:
    suggest = services.settings.suggest
    return AssistOptions(
        tone=tone or services.settings.draft.tone,
        agent_name=services.agent_name(workspace),
        suggestion_count=suggest.count,
        min_confidence=suggest.min_confidence,
    )


async def assist_builtin(services: Services, ticket_id: int, tone: str | None = None) -> AssistResult:
    """The built-in engine alone: fast and offline (the GUI shows it at once, then routes to models)."""
    workspace = await services.store.run(_workspace_of, services.store.db, ticket_id)
    opts = options_from(services, tone, workspace)
    await prepare_triage(services, workspace)
    encoded = await encode_ahead(services, ticket_id)
    # The store thread reads, the compute thread computes (summary, signals, triage, ranking, draft), the store
    # thread writes: a search typed in the inbox meanwhile never waits on the scoring.
    inputs = await services.store.run(read_inputs, services.store.db, ticket_id, services.caches, encoded)
    outputs_ = await services.run_compute(compute_builtin, inputs, opts)
    result = await services.store.run(record_builtin, services.store.db, outputs_)
    # What the triage fit and the search read is garbage now: give it back to the system, after the result (on
    # the compute thread; ~1 ms). At 10,000 tickets the window held ~35 MB more without it.
    services.compute.submit(return_freed_memory)
    return result


async def encode_ahead(services: Services, ticket_id: int) -> dict[str, npt.NDArray[np.float32]]:
    """The ticket's texts that search and triage will encode, encoded now on the compute thread in one batch: the
    store thread then only looks them up (with a provider's embedding model that is a network call, which must
    never hold up the writer). Empty when there is no encoder or it is unreachable (keywords alone, then)."""
    encoder = await services.run_compute(local_encoder, services.caches)
    if encoder is None:
        return {}
    ticket = await services.store.run(ticket_store.get_ticket, services.store.db, ticket_id)
    # Which texts (language detection loads a model the first time): on the compute thread, never the GUI's.
    texts = await services.run_compute(_texts_to_encode, ticket)
    if not texts:
        return {}
    try:
        vectors = await services.run_compute(encoder.encode, texts)
    except CopilotError as exc:
        log.warning("meaning not encoded ahead: %s", exc.message)
        return {}
    return dict(zip(texts, vectors, strict=True))


def _texts_to_encode(ticket: Ticket) -> list[str]:
    texts = retrieve.query_texts(ticket_query(ticket))
    if (ticket.language or "en") == "en":
        texts.append(triage_text(ticket))
    return list(dict.fromkeys(t for t in texts if t))


def triage_text(ticket: Ticket) -> str:
    """What triage reads: the subject and the first customer message."""
    first = ticket.customer_messages()[0].body if ticket.customer_messages() else ""
    return f"{ticket.subject}\n{first}"


def _workspace_of(db: Database, ticket_id: int) -> str:
    row = db.execute("SELECT workspace FROM tickets WHERE id = ?", [ticket_id]).fetchone()
    if row is None:
        raise NotFoundError(f"Ticket {ticket_id} is not in the local store.", "Refresh the inbox.")
    return str(row[0])


def ticket_query(ticket: Ticket) -> retrieve.WeightedQuery:
    """The whole public thread as a query: the latest customer message counts most, then the subject. The
    ticket's tags (help-desk fields) help tell which product or plan it is about."""
    turns = [(m.role.value, m.body) for m in ticket.public_messages()]
    query = retrieve.WeightedQuery.from_parts(retrieve.conversation_parts(turns, ticket.subject))
    return query.with_fields(ticket.tags)


def _hash(*parts: Any) -> str:
    return hashlib.sha256(dumps(list(parts)).encode()).hexdigest()[:20]


@dataclass(frozen=True)
class TriageInputs:
    """What fitting a workspace's triage model needs from the store: its labelled examples, the vectors stored
    for them earlier (by text hash), and the classifiers saved after training on exactly these examples with this
    encoder (by part, see WHOLE; `fit_key` is `triage.training_key`, "" without an encoder)."""

    key: str
    examples: list[tuple[str, str, str]]  # (key, text, label)
    known: dict[str, npt.NDArray[np.float32]]
    workspace: str
    fit_key: str
    saved: dict[str, bytes]


# The parts of a saved triage model (store/triage_models.py): the classifier of the whole history, and those
# that leave one fold out ("fold:N"), trained when a labelled ticket is first judged.
WHOLE, FOLD = "whole", "fold:"


def _triage_key(db: Database, workspace: str, encoder: TextEncoder | None) -> str:
    row = db.execute(
        "SELECT count(*), max(updated_at) FROM tickets WHERE workspace = ? AND intent != ''", [workspace]
    ).fetchone()
    imported = db.execute(
        "SELECT count(*), max(imported_at) FROM triage_examples WHERE workspace = ?", [workspace]
    ).fetchone()
    kb = db.execute("SELECT count(*), max(updated_at) FROM articles WHERE workspace = ?", [workspace]).fetchone()
    return (
        f"triage:{workspace}:{row[0]}:{row[1]}:{imported[0]}:{imported[1]}:{kb[0]}:{kb[1]}:"
        f"{encoder.name if encoder else 'words'}"
    )


def triage_inputs(db: Database, workspace: str, encoder: TextEncoder | None, key: str) -> TriageInputs:
    examples = [
        (str(r[0]), f"{r[1]}\n{r[2] or ''}", r[3])
        for r in db.execute(
            "SELECT t.number, t.subject, (SELECT body FROM messages m WHERE m.ticket_id = t.id AND m.role = 'customer' "
            "ORDER BY m.created_at, m.id LIMIT 1), t.intent FROM tickets t WHERE t.workspace = ? AND t.intent != ''",
            [workspace],
        )
    ]
    examples += [
        (f"import:{r[0]}", str(r[1]), str(r[2]))
        for r in db.execute("SELECT key, text, label FROM triage_examples WHERE workspace = ?", [workspace])
    ]
    # Day one: each intent's name and the articles that name it count as examples too (outnumbered as the
    # labelled history grows).
    articles = [
        (str(r[0]), str(r[1]), str(r[2]), tuple(str(t) for t in json.loads(r[3] or "[]")))
        for r in db.execute("SELECT id, title, body, tags FROM articles WHERE workspace = ? ORDER BY id", [workspace])
    ]
    examples += triage.day_one_examples([label for _k, _t, label in examples], articles)
    known = stored_text_vectors(db, encoder.name, [t for _k, t, _l in examples]) if encoder and examples else {}
    fit_key = triage.training_key(examples, encoder.name) if encoder and examples else ""
    saved = saved_triage_models(db, workspace, fit_key) if fit_key else {}
    return TriageInputs(key, examples, known, workspace, fit_key, saved)


@dataclass(frozen=True)
class FittedTriage:
    """A workspace's triage model as `fit_triage` made it, and what the store should keep of the work."""

    model: triage.IntentModel
    new_vectors: dict[str, npt.NDArray[np.float32]]  # encoded now, by text hash
    cacheable: bool  # False while a provider's encoder is unreachable (a model by words, for now)
    to_save: dict[str, bytes] = field(default_factory=dict)  # classifiers trained now, by part (see WHOLE)


def fit_triage(inputs: TriageInputs, encoder: TextEncoder | None) -> FittedTriage:
    """Compute thread. With the local encoder, neighbours are found by meaning; only texts without a stored vector
    are encoded, and the classifier saved for these examples is read back instead of trained again."""
    examples = inputs.examples
    if encoder is None or not examples:
        return FittedTriage(triage.fit_intents(examples, None, k=7), {}, True)
    try:
        vectors, new = encode_missing(encoder, [text for _k, text, _l in examples], inputs.known)
    except CopilotError as exc:  # a provider's embedding model is unreachable: neighbours by words, for now
        log.warning("triage by words: %s", exc.message)
        return FittedTriage(triage.fit_intents(examples, None, k=7), {}, False)
    saved = _read_saved(inputs.saved)
    model = triage.fit_intents(examples, vectors, k=7, trained=saved, fitted_on=inputs.fit_key)
    trained_now = model.linear is not None and (saved is None or model.linear is not saved.linear)
    return FittedTriage(model, new, True, {WHOLE: model.linear.to_bytes()} if model.linear and trained_now else {})


def _read_saved(parts: dict[str, bytes]) -> triage.TrainedIntents | None:
    """The saved classifiers that can be read; a damaged one is left out (and trained again), never an error."""
    if not parts:
        return None

    def read(part: str, blob: bytes) -> triage.LinearIntents | None:
        try:
            return triage.LinearIntents.from_bytes(blob)
        except ValueError as exc:
            log.warning("the saved triage classifier %s is trained again: %s", part, exc)
            return None

    whole = read(WHOLE, parts[WHOLE]) if WHOLE in parts else None
    folds = {
        int(part[len(FOLD) :]): model
        for part, blob in parts.items()
        if part.startswith(FOLD) and part[len(FOLD) :].isdigit() and (model := read(part, blob)) is not None
    }
    return triage.TrainedIntents(whole, folds)


def keep_fitted(db: Database, inputs: TriageInputs, encoder: TextEncoder | None, fitted: FittedTriage) -> None:
    """Store thread: the vectors encoded and the classifiers trained for the fit, for the next start."""
    if fitted.new_vectors and encoder is not None:
        store_text_vectors(db, encoder.name, fitted.new_vectors)
    if fitted.to_save:
        save_triage_models(db, inputs.workspace, inputs.fit_key, fitted.to_save)


def current_triage(
    db: Database, workspace: str, encoder: TextEncoder | None, cache: EngineCaches
) -> triage.IntentModel | TriageInputs:
    """Store thread, reads only: the cached model while it is current, else the inputs to refit from."""
    key = _triage_key(db, workspace, encoder)
    cached = cache.triage_model(key)
    return cached if cached is not None else triage_inputs(db, workspace, encoder, key)


async def prepare_triage(services: Services, workspace: str) -> triage.IntentModel:
    """Fit the workspace's triage model off the store thread (reads and writes there, encoding and fitting on the
    compute thread), so a busy history never holds up searches and saves. One fit per workspace at a time (an
    assist and the background pass of `triage_folds` may both ask): the second finds the first one's model."""
    caches, db = services.caches, services.store.db
    encoder = await services.run_compute(local_encoder, caches)
    async with services.lock(f"triage:{workspace}"):
        current = await services.store.run(current_triage, db, workspace, encoder, caches)
        if isinstance(current, triage.IntentModel):
            return current
        fitted = await services.run_compute(fit_triage, current, encoder)
        if fitted.new_vectors or fitted.to_save:
            await services.store.run(keep_fitted, db, current, encoder, fitted)
        if fitted.cacheable:
            caches.keep_triage_model(current.key, fitted.model)
        return fitted.model


def is_current_triage(db: Database, workspace: str, cache: EngineCaches, model: triage.IntentModel) -> bool:
    """Store thread, reads only: whether `model` is still the workspace's cached triage model (False once its
    history changed, or another workspace's or encoder's took its place)."""
    return cache.triage_model(_triage_key(db, workspace, cache.current_encoder())) is model


def _classifier(db: Database, workspace: str, cache: EngineCaches) -> triage.IntentModel:
    """The workspace's triage model: cached (`prepare_triage` fits it ahead), else fitted here on this thread."""
    encoder = local_encoder(cache)
    key = _triage_key(db, workspace, encoder)
    cached = cache.triage_model(key)
    if cached is not None:
        return cached
    inputs = triage_inputs(db, workspace, encoder, key)
    fitted = fit_triage(inputs, encoder)
    keep_fitted(db, inputs, encoder, fitted)
    if fitted.cacheable:
        cache.keep_triage_model(key, fitted.model)
    return fitted.model


def _priority(flags: list[Flag], sentiment_label: str) -> tuple[str, str]:
    kinds = {f.kind for f in flags}
    if "urgency" in kinds and kinds & {"legal_threat", "churn_risk", "frustration"}:
        return "urgent", "blocked or time-critical, and the customer is upset"
    if kinds & {"urgency", "legal_threat"}:
        return "high", "blocked, time-critical or a legal/chargeback threat"
    if kinds & {"churn_risk", "frustration", "repeated_contact", "asks_for_human"} or sentiment_label == "negative":
        return "high" if len(kinds) >= 2 else "normal", "the customer is unhappy"
    return ("low", "a calm question") if sentiment_label == "positive" else ("normal", "no urgency signals")


def triage_result(
    model: triage.IntentModel,
    ticket: Ticket,
    vector: npt.NDArray[np.float32] | None,
    flags: list[Flag],
    sentiment_label: str,
    article: Suggestion | None = None,
) -> Triage:
    """The ticket's intent (pure: the model and the vector were read and encoded before). A labelled ticket is
    judged by the classifier trained without its fold; `predict` trains that here, on the compute thread (seconds
    at 10,000 labelled tickets), never on the store thread."""
    pred = model.predict(triage_text(ticket), exclude_key=str(ticket.number), vector=vector)
    named = model.article_intents.get(article.article_id) if article is not None else None
    if pred is not None and article is not None and named:
        # The best article names an intent (its title or tags say so): evidence as strong as the article is sure.
        pred = triage.with_article(pred, named, article.confidence)
    priority, why = _priority(flags, sentiment_label)
    flag_tags = tuple(f.kind.replace("_", "-") for f in flags if f.kind != "negative_sentiment")
    if pred is None:
        return Triage("", 0.0, priority, flag_tags, (), why)
    # Past tickets as evidence (imported examples are not tickets the agent could open).
    neighbours = tuple((int(k), label, sim) for k, label, sim in pred.neighbours if k.isdigit())
    intent_tags = () if pred.confidence < Triage.UNSURE_BELOW else (pred.label,)
    return Triage(pred.label, pred.confidence, priority, (*intent_tags, *flag_tags), neighbours, why, pred.ranking[:3])


def _vector_or_none(encoder: TextEncoder | None, text: str) -> npt.NDArray[np.float32] | None:
    """The text's vector, or None (words only) when there is no encoder or a provider's is unreachable."""
    if encoder is None:
        return None
    try:
        vector: npt.NDArray[np.float32] = encoder.encode([text])[0]
        return vector
    except CopilotError as exc:
        log.warning("no sentence vector for triage: %s", exc.message)
        return None


def local_encoder(cache: EngineCaches) -> TextEncoder | None:
    """The sentence encoder in use (None when no model is installed): loaded once, then kept. Read through the
    vector cache when COPILOT_EVAL_VECTORS names one (the test suite: batches of articles and labelled tickets
    encoded once per run, not once per test; single texts are always encoded live)."""
    from copilot.evaluation.vector_cache import with_vector_cache
    from copilot.kb.encoder import load_embedder

    return cache.encoder(lambda: with_vector_cache(load_embedder()))


def _with_known(encoder: TextEncoder | None, encoded: dict[str, npt.NDArray[np.float32]] | None) -> TextEncoder | None:
    """The encoder as the store thread may use it: with texts encoded ahead, only those (a text that was not, say
    because a provider's embedding model was unreachable, is searched by keywords); without, the encoder itself
    (scripts and tests that run everything on one thread)."""
    if encoder is None or encoded is None:
        return encoder
    return PreEncoded(encoder, encoded, only_known=True)


def dense_search(
    db: Database, workspace: str, cache: EngineCaches, encoded: dict[str, npt.NDArray[np.float32]] | None = None
) -> retrieve.Dense | None:
    """The local encoder and this workspace's article vectors (as far as `refresh_vectors` has computed
    them), or None when no model is installed. Runs on the store thread; the index is cached. `encoded`: texts
    encoded ahead (`encode_ahead`), looked up instead of encoded here."""
    encoder = _with_known(local_encoder(cache), encoded)
    if encoder is None:
        return None
    index = cache.dense_index(index_key(db, workspace, encoder.name), lambda: load_index(db, workspace, encoder.name))
    return retrieve.Dense(encoder, index)


def record_once(db: Database, ticket_id: int, task: str, prov: Provenance, payload: dict[str, Any]) -> int:
    """Reuse the identical earlier output (same task, prompt and inputs); otherwise store a new one."""
    row = db.execute(
        "SELECT id FROM ai_outputs WHERE ticket_id = ? AND task = ? AND prompt_version = ? AND inputs_hash = ? "
        "AND model = ? ORDER BY id DESC LIMIT 1",
        [ticket_id, task, prov.prompt_version, prov.inputs_hash, prov.model],
    ).fetchone()
    if row:
        return int(row[0])
    return outputs.record_output(db, ticket_id, task, prov, payload)


@dataclass(frozen=True)
class BuiltinInputs:
    """What the built-in pass reads from the store, on its thread: the ticket, the workspace's triage model, the
    ticket's triage vector (encoded ahead), the candidate articles with their word statistics and meaning
    similarities, and the workspace's article address."""

    ticket: Ticket
    classifier: triage.IntentModel
    triage_vector: npt.NDArray[np.float32] | None
    found: retrieve.Gathered | None
    ranked_by: str
    url_template: str
    chosen: str = ""  # the article the agent chose for the ticket ("Use this article"), or ""


def read_inputs(
    db: Database, ticket_id: int, cache: EngineCaches, encoded: dict[str, npt.NDArray[np.float32]] | None = None
) -> BuiltinInputs:
    """Store thread: reads only (the encoder is only looked up when `encoded` holds the ticket's texts)."""
    ticket = ticket_store.get_ticket(db, ticket_id).readable()  # a pasted log's middle is not read
    encoder = _with_known(local_encoder(cache), encoded)
    english = (ticket.language or "en") == "en"  # the local encoder only understands English
    query = ticket_query(ticket)
    dense = dense_search(db, ticket.workspace, cache, encoded)
    chosen = kb_articles.chosen_for(db, ticket.id)
    found = retrieve.gather(
        db,
        query,
        workspace=ticket.workspace,
        dense=dense,
        counts=cache.term_counts,
        exclude=kb_articles.not_relevant_for(db, ticket.id),
        include=chosen,
    )
    return BuiltinInputs(
        ticket,
        _classifier(db, ticket.workspace, cache),
        _vector_or_none(encoder, triage_text(ticket)) if english else None,
        found,
        retrieve.how_ranked(db, query, ticket.workspace, dense),
        ticket_store.article_url_template(db, ticket.workspace),
        chosen,
    )


@dataclass(frozen=True)
class BuiltinOutputs:
    """The built-in pass computed, not yet recorded (its `output_ids` are empty until `record_builtin`)."""

    result: AssistResult
    thread_key: str
    payloads: dict[str, dict[str, Any]]
    triage_fit_key: str = ""  # what the triage model was trained on (`triage.training_key`)
    triage_folds: dict[str, bytes] = field(default_factory=dict)  # its fold classifiers trained for this ticket


def compute_builtin(inputs: BuiltinInputs, opts: AssistOptions) -> BuiltinOutputs:
    """Compute thread: summary, signals, triage, ranking and the draft, from what `read_inputs` read (pure)."""
    ticket = inputs.ticket
    language = ticket.language or detect_language(" ".join(m.body for m in ticket.customer_messages()))
    thread_key = content_key(ticket)
    summary = summarize.summarize(ticket)
    flags = signals.detect_flags(ticket)
    sentiment_label, score, _, _ = signals.sentiment(ticket)
    query = ticket_query(ticket)
    suggestions = retrieve.rank(retrieve.features_of(inputs.found), query, opts.suggestion_count, inputs.chosen)
    best = suggestions[0] if suggestions else None
    cited, line = _draft_sources(suggestions, opts.min_confidence)
    tri = triage_result(inputs.classifier, ticket, inputs.triage_vector, flags, sentiment_label, best)
    # A labelled ticket is judged by a fold's classifier, trained just now on first need: saved with the result.
    new_folds = inputs.classifier.take_new_folds()
    folds = {f"{FOLD}{fold}": model.to_bytes() for fold, model in new_folds.items()}
    bodies = {h.article_id: h.body for h in (inputs.found.hits if inputs.found else [])}
    template = inputs.url_template
    agent = opts.agent_name
    draft = draft_engine.build_draft(
        draft_engine.DraftInputs(
            ticket,
            cited,
            {s.article_id: bodies[s.article_id] for s in cited[:2] if s.article_id in bodies},
            tuple(flags),
            sentiment_label,
            language,
            opts.tone,
            agent,
            line,
            {s.article_id: template.replace("{id}", s.article_id) if template else "" for s in suggestions},
        )
    )
    draft = _with_choice_note(draft, best)
    articles_key: list[Any] = [(s.article_id, s.article_version) for s in suggestions]
    if best is not None and best.chosen:  # the agent's choice changes what is shown and cited: never reuse
        articles_key.append(("chosen", best.article_id))
    ranked_by = inputs.ranked_by
    provs = {
        "summary": Provenance(ENGINE, MODEL, summarize.PROMPT_VERSION, _hash(thread_key)),
        "signals": Provenance(ENGINE, MODEL, signals.PROMPT_VERSION, _hash(thread_key)),
        "triage": Provenance(ENGINE, MODEL, triage.PROMPT_VERSION, _hash(thread_key, tri.neighbours)),
        "suggestions": Provenance(ENGINE, ranked_by, SUGGEST_VERSION, _hash(thread_key, articles_key, ranked_by)),
        "draft": Provenance(
            ENGINE,
            MODEL,
            draft_engine.PROMPT_VERSION,
            _hash(thread_key, articles_key, opts.tone, agent),
        ),
    }
    payloads: dict[str, dict[str, Any]] = {
        "summary": {"lines": [asdict(line) for line in summary.lines]},
        "signals": {"sentiment": sentiment_label, "score": score, "flags": [asdict(f) for f in flags]},
        "triage": asdict(tri),
        "suggestions": {"items": [asdict(s) for s in suggestions]},
        "draft": asdict(draft),
    }
    result = AssistResult(ticket, summary, tuple(flags), sentiment_label, tri, tuple(suggestions), draft, {}, provs)
    return BuiltinOutputs(result, thread_key, payloads, inputs.classifier.fitted_on, folds)


def _draft_sources(suggestions: list[Suggestion], min_confidence: float) -> tuple[tuple[Suggestion, ...], float]:
    """What the draft may cite and its line: the suggestions, except that an article the agent chose is cited
    even under the "No good article" line (the others still need to clear it)."""
    if not suggestions or not suggestions[0].chosen or suggestions[0].confidence >= min_confidence:
        return tuple(suggestions), min_confidence
    chosen, rest = suggestions[0], [s for s in suggestions[1:] if s.confidence >= min_confidence]
    return (chosen, *rest), chosen.confidence


def _with_choice_note(draft: Draft, best: Suggestion | None) -> Draft:
    """Tell the agent (never the customer) that the draft stands on their choice, not on the ranking."""
    if best is None or not best.chosen or not draft.citations or draft.citations[0].article_id != best.article_id:
        return draft
    said = f"Grounded on “{best.title}”, the article you chose (the copilot ranked it {best.confidence:.0%})."
    return replace(draft, note=f"{said} {draft.note}".strip())


def record_builtin(db: Database, out: BuiltinOutputs) -> AssistResult:
    """Store thread: the ticket's badges and the outputs (an identical earlier output is reused), in one
    transaction."""
    r = out.result
    with transaction(db):
        labels = [f.label for f in r.flags]
        ticket_store.set_badges(db, r.ticket.id, r.sentiment, signals.is_urgent(list(r.flags)), labels, out.thread_key)
        ids = {
            task: record_once(db, r.ticket.id, task, prov, out.payloads[task]) for task, prov in r.provenance.items()
        }
        if out.triage_folds and out.triage_fit_key:
            add_triage_models(db, r.ticket.workspace, out.triage_fit_key, out.triage_folds)
    return replace(r, output_ids=ids)


def assist_sync(
    db: Database,
    ticket_id: int,
    opts: AssistOptions,
    cache: EngineCaches,
    encoded: dict[str, npt.NDArray[np.float32]] | None = None,
) -> AssistResult:
    """The built-in pass on one thread (scripts and tests); the app splits it across threads (`assist_builtin`)."""
    return record_builtin(db, compute_builtin(read_inputs(db, ticket_id, cache, encoded), opts))


def result_json(result: AssistResult) -> str:
    return json.dumps(result.as_json(), ensure_ascii=False, indent=2)
