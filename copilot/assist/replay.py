"""Replay a regression set before a switch: every case through the whole assist with a candidate configuration
(another model, another routing) and with the current one, side by side per case, then a verdict a team can
gate on. Each configuration runs in a temporary copy of the workspace (`evaluate_assist`), so the user's own
store only gains the record of the run."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from copilot.assist.judge import Judge, ReadyJudge, ready_judge
from copilot.assist.regression import case_line, list_cases
from copilot.assist.routing import transcript
from copilot.config.paths import resources_dir
from copilot.errors import NotFoundError, ValidationError
from copilot.evaluation.assist import TicketOutcome, evaluate_assist
from copilot.evaluation.grounding import CHECK
from copilot.helpdesk.ticket_file import parse_ticket
from copilot.kb.articles import get_article
from copilot.llm import prompts
from copilot.llm.catalog import ModelOverride
from copilot.services import Services
from copilot.store import regression as cases_store
from copilot.store import usage
from copilot.store.regression import CONFIRMED, RegressionCase

BASELINES = ("current", "built-in")
ROUTING_KEYS = ("models.cheap", "models.frontier", "routing.tasks")  # what a --routing file may set
DEFAULT_TOLERANCE = 0.05  # share of cases allowed to get worse before the verdict is "worse"
JUDGE_AT_ONCE = 4  # judge calls in flight together
UNDECIDED_EXIT = 3  # the judge failed on some case and nothing else made the candidate worse
Progress = Callable[[str, int, int], None]  # (configuration, cases done, cases)


@dataclass(frozen=True)
class Candidate:
    """What is tried: a model (a provider's model ref, or a litellm name with an optional endpoint) or a
    routing file ({"models.cheap": …, "models.frontier": …, "routing.tasks": …})."""

    model: str = ""
    api_base: str = ""
    routing: dict[str, str] = field(default_factory=dict)
    routing_name: str = ""
    prompt_version: str = ""  # a folder of prompt files, in the data folder's prompts/ or the packaged ones

    @property
    def label(self) -> str:
        if self.model:
            return self.model + (f" at {self.api_base}" if self.api_base else "")
        if self.prompt_version:
            return f"prompts {self.prompt_version}"
        return f"routing {self.routing_name}" if self.routing_name else "routing"


def prompt_folder(services: Services, version: str) -> Path:
    """Where prompt version `version` lives: <data folder>/prompts/V or the packaged resources/prompts/V, a
    folder of prompt files (draft.md …, each with its own `version:`) standing in for the packaged ones."""
    places = [services.paths.home / "prompts" / version, resources_dir() / "prompts" / version]
    for place in places:
        if version and "/" not in version and place.is_dir() and any(place.glob("*.md")):
            return place
    raise ValidationError(
        f"There is no prompt version '{version}'.",
        f"Put its prompt files (draft.md …, each with a version: header) in {places[0]}.",
    )


def read_routing_file(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(f"Cannot read the routing file {path}: {exc}.") from exc
    if not isinstance(data, dict) or not data or set(data) - set(ROUTING_KEYS):
        raise ValidationError(
            f"{path.name} is not a routing file.",
            f"Give a JSON object with some of: {', '.join(ROUTING_KEYS)} (values as for `settings set`).",
        )
    return {str(k): str(v) for k, v in data.items()}


@dataclass(frozen=True)
class CaseScore:
    """One case under one configuration: each expectation met (None: not expected) and what it cost."""

    number: int
    articles_ok: bool | None
    intent: str
    intent_ok: bool | None
    missing: tuple[str, ...]  # must-include strings absent from the draft
    must_not_hits: tuple[str, ...]
    unsupported: tuple[str, ...]
    leaks: int
    cost_usd: float
    tokens: int
    seconds: float
    draft: str
    cited: tuple[str, ...] = ()
    judge_unsupported: tuple[str, ...] | None = None  # None: no judge, or it failed (judge_failed says why)
    judge_failed: str = ""
    judge_cost_usd: float = 0.0  # the judge's own calls, never counted in cost_usd
    judge_tokens: int = 0


@dataclass(frozen=True)
class ConfigRun:
    label: str
    metrics: dict[str, Any]  # the `eval assist` report
    unsupported_sentences: int
    cost_usd: float
    tokens: int
    seconds: float  # wall time of the whole configuration (the judge's time not included)
    cases: tuple[CaseScore, ...]
    judge: str = ""  # "judge: MODEL" when a judge read the drafts
    judge_seconds: float = 0.0  # wall time of the judge's reading, apart from `seconds`

    @property
    def judge_failed(self) -> list[int]:
        return [c.number for c in self.cases if c.judge_failed]

    def summary(self) -> dict[str, Any]:
        out = {**self.metrics, f"unsupported_sentences_{CHECK}": self.unsupported_sentences}
        if self.judge:
            judged = [c.judge_unsupported for c in self.cases if c.judge_unsupported is not None]
            out["unsupported_sentences_judge"] = sum(len(u) for u in judged) if judged else None
            out["judge_failed_cases"] = len(self.judge_failed)
        out |= {"cost_usd": round(self.cost_usd, 6), "tokens": self.tokens, "seconds": round(self.seconds, 2)}
        if self.judge:
            out["judge_cost_usd"] = round(sum(c.judge_cost_usd for c in self.cases), 6)
            out["judge_tokens"] = sum(c.judge_tokens for c in self.cases)
            out["judge_seconds"] = round(self.judge_seconds, 2)
        return out


@dataclass(frozen=True)
class CaseChange:
    number: int
    subject: str
    worse: tuple[str, ...]
    better: tuple[str, ...]


@dataclass(frozen=True)
class ReplayReport:
    set_name: str
    cases: int
    tolerance: float
    baseline: ConfigRun
    candidate: ConfigRun
    changes: tuple[CaseChange, ...]
    judge: str = ""  # "judge: MODEL", or "" when the lexical check alone counted unsupported sentences

    @property
    def worse_cases(self) -> list[CaseChange]:
        return [c for c in self.changes if c.worse]

    @property
    def judge_failed(self) -> list[int]:
        """Cases the judge could not judge under either configuration."""
        return sorted({*self.baseline.judge_failed, *self.candidate.judge_failed})

    @property
    def allowed_worse(self) -> int:
        return int(self.tolerance * self.cases)

    @property
    def verdict(self) -> str:
        """worse; undecided when the judge failed on some case (it cannot vouch for it); else not worse."""
        if len(self.worse_cases) > self.allowed_worse:
            return "worse"
        return "undecided" if self.judge_failed else "not worse"

    @property
    def exit_code(self) -> int:
        return {"worse": 1, "undecided": UNDECIDED_EXIT}.get(self.verdict, 0)

    def differences(self) -> dict[str, dict[str, Any]]:
        """Every figure of both configurations with the candidate's change (None where either is undefined)."""
        base, cand = self.baseline.summary(), self.candidate.summary()
        out: dict[str, dict[str, Any]] = {}
        for key, b in base.items():
            c = cand[key]
            delta = round(c - b, 6) if isinstance(b, int | float) and isinstance(c, int | float) else None
            out[key] = {"baseline": b, "candidate": c, "change": delta}
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "set": self.set_name,
            "cases": self.cases,
            "unsupported_check": CHECK,
            "judge": self.judge or None,
            "judge_failed_cases": self.judge_failed,
            "baseline": {"label": self.baseline.label, **self.baseline.summary()},
            "candidate": {"label": self.candidate.label, **self.candidate.summary()},
            "differences": self.differences(),
            "per_case": [
                {"number": b.number, "baseline": asdict(b), "candidate": asdict(c)}
                for b, c in zip(self.baseline.cases, self.candidate.cases, strict=True)
            ],
            "worse_cases": [asdict(c) for c in self.worse_cases],
            "better_cases": [asdict(c) for c in self.changes if c.better and not c.worse],
            "tolerance": self.tolerance,
            "allowed_worse": self.allowed_worse,
            "verdict": self.verdict,
        }


def score_case(expect: dict[str, Any], out: TicketOutcome) -> CaseScore:
    text = out.draft.lower()
    gold_articles = expect.get("articles")
    articles_ok: bool | None = None
    if gold_articles is not None:
        articles_ok = bool(set(gold_articles) & set(out.articles[:3])) if gold_articles else out.no_article
    intent = str(expect.get("intent") or "")
    return CaseScore(
        number=out.number,
        articles_ok=articles_ok,
        intent=out.intent,
        intent_ok=(out.intent == intent) if intent else None,
        missing=tuple(s for s in expect.get("must_include", []) if s.lower() not in text),
        must_not_hits=tuple(s for s in expect.get("must_not_include", []) if s.lower() in text),
        unsupported=out.unsupported,
        leaks=len(out.leaks),
        cost_usd=out.cost_usd,
        tokens=out.tokens,
        seconds=out.seconds,
        draft=out.draft,
        cited=out.cited,
    )


def compare_case(base: CaseScore, cand: CaseScore, judge: str = "") -> tuple[list[str], list[str]]:
    """(what got worse, what got better) for one case, in words. Unsupported sentences are the judge's when it
    judged both drafts, else the lexical check's (each labelled)."""
    worse: list[str] = []
    better: list[str] = []
    if base.articles_ok and cand.articles_ok is False:
        worse.append("lost the expected article (or the 'no good article' decision)")
    if base.articles_ok is False and cand.articles_ok:
        better.append("found the expected article")
    if base.intent_ok and cand.intent_ok is False:
        worse.append(f"intent {cand.intent or 'unsure'}")
    if base.intent_ok is False and cand.intent_ok:
        better.append("right intent")
    lost = [s for s in cand.missing if s not in base.missing]
    if lost:
        worse.append("missing " + ", ".join(f"'{s}'" for s in lost))
    if len(cand.missing) < len(base.missing):
        better.append("includes more of what it must")
    said = [s for s in cand.must_not_hits if s not in base.must_not_hits]
    if said:
        worse.append("says " + ", ".join(f"'{s}'" for s in said))
    counted = f"{CHECK} check"
    base_said, cand_said = base.unsupported, cand.unsupported
    if base.judge_unsupported is not None and cand.judge_unsupported is not None:
        counted, base_said, cand_said = judge, base.judge_unsupported, cand.judge_unsupported
    if len(cand_said) > len(base_said):
        worse.append(f"{len(cand_said)} unsupported sentence(s) ({counted}): '{cand_said[0]}'")
    if len(cand_said) < len(base_said):
        better.append(f"fewer unsupported sentences ({counted})")
    if cand.leaks > base.leaks:
        worse.append(f"{cand.leaks} markup leak(s)")
    return worse, better


async def replay(
    services: Services,
    set_name: str,
    candidate: Candidate,
    *,
    baseline: str = "current",
    tolerance: float = DEFAULT_TOLERANCE,
    progress: Progress | None = None,
    judge: Judge | None = None,
) -> ReplayReport:
    """Run the set's confirmed cases with the baseline, then with the candidate, and compare them per case;
    with a `judge`, it also reads every draft of both for unsupported sentences (its count decides).
    The run is recorded (set, candidate, verdict) so a model switch can ask whether one was made."""
    if baseline not in BASELINES:
        raise ValidationError(f"'{baseline}' is not a baseline.", f"Use one of: {', '.join(BASELINES)}.")
    cases = await list_cases(services, set_name, CONFIRMED)
    if not cases:
        raise NotFoundError(
            f"The regression set '{set_name}' has no confirmed cases.",
            "Add some (Review → Add to regression set, or `support-copilot eval cases import`).",
        )
    workspaces = {c.workspace for c in cases}
    if len(workspaces) > 1:
        raise ValidationError(f"The set '{set_name}' mixes workspaces ({', '.join(sorted(workspaces))}).")
    workspace = workspaces.pop()
    current = await services.store.run(_current_setup, services.store.db, services)
    base_setup = current if baseline == "current" else _Setup([], {})
    base_label = "current configuration" if baseline == "current" and current.providers else "built-in engine"
    cand_setup, override = _candidate_setup(current, candidate)
    variant = prompt_folder(services, candidate.prompt_version) if candidate.prompt_version else None
    ready = await ready_judge(services, judge) if judge is not None else None
    with tempfile.TemporaryDirectory(prefix="copilot-replay-") as folder:
        path = Path(folder) / f"{set_name}.jsonl"
        text = "".join(json.dumps(case_line(c)) + "\n" for c in cases)
        await asyncio.to_thread(path.write_text, text, encoding="utf-8")
        base = await _run(services, path, workspace, cases, base_label, base_setup, None, progress)
        with prompts.prompt_variant(variant):
            cand = await _run(services, path, workspace, cases, candidate.label, cand_setup, override, progress)
    if ready is not None:
        threads = await asyncio.to_thread(_threads, cases)
        base = await _judge_run(services, ready, cases, threads, base, progress)
        cand = await _judge_run(services, ready, cases, threads, cand, progress)
    label = ready.judge.label if ready is not None else ""
    changes = []
    for case, b, c in zip(cases, base.cases, cand.cases, strict=True):
        worse, better = compare_case(b, c, label)
        if worse or better:
            changes.append(CaseChange(case.number, str(case.ticket.get("subject", "")), tuple(worse), tuple(better)))
    report = ReplayReport(set_name, len(cases), tolerance, base, cand, tuple(changes), label)
    model = candidate.model if candidate.model else ""
    await services.store.run(
        cases_store.record_run,
        services.store.db,
        set_name,
        candidate.label,
        model,
        report.verdict,
        len(cases),
        {k: v for k, v in report.as_dict().items() if k != "per_case"},
    )
    return report


async def replays_of_model(services: Services, model: str) -> list[cases_store.ReplayRun]:
    return await services.store.run(cases_store.runs_for_model, services.store.db, model)


@dataclass(frozen=True)
class _Setup:
    providers: list[usage.ProviderRow]
    settings: dict[str, str]

    async def apply(self, temp: Services) -> None:
        db = temp.store.db

        def _write(db: Database) -> None:
            for provider in self.providers:
                usage.save_provider(db, provider)
            for key, value in self.settings.items():
                temp.settings.set(db, key, value)

        await temp.store.run(_write, db)


def _current_setup(db: Database, services: Services) -> _Setup:
    """The user's providers and model routing, as a temporary store needs them (keys stay in the keyring)."""
    settings = {key: services.settings.text(key) for key in ROUTING_KEYS}
    return _Setup(usage.list_providers(db), settings)


def _candidate_setup(current: _Setup, candidate: Candidate) -> tuple[_Setup, ModelOverride | None]:
    if candidate.prompt_version:
        return current, None
    if candidate.routing:
        return _Setup(current.providers, {**current.settings, **candidate.routing}), None
    provider = candidate.model.partition("/")[0]
    if not candidate.api_base and provider in {p.id for p in current.providers}:
        # One of the user's own models ("local/small"): both model tiers use it.
        tiers = {"models.cheap": candidate.model, "models.frontier": candidate.model}
        return _Setup(current.providers, {**current.settings, **tiers}), None
    return current, ModelOverride(candidate.model, candidate.api_base)


async def _run(
    services: Services,
    path: Path,
    workspace: str,
    cases: list[RegressionCase],
    label: str,
    setup: _Setup,
    override: ModelOverride | None,
    progress: Progress | None,
) -> ConfigRun:
    started = time.perf_counter()
    tell: Callable[[int, int], None] | None = None
    if progress is not None:
        report_to = progress

        def tell(done: int, total: int) -> None:
            report_to(label, done, total)

    configure: Callable[[Services], Awaitable[None]] = setup.apply
    report, outcomes = await evaluate_assist(
        services, path, workspace, model_override=override, configure=configure, progress=tell
    )
    scores = tuple(score_case(c.expect, o) for c, o in zip(cases, outcomes, strict=True))
    return ConfigRun(
        label=label,
        metrics=report.as_dict(),
        unsupported_sentences=sum(len(s.unsupported) for s in scores),
        cost_usd=sum(s.cost_usd for s in scores),
        tokens=sum(s.tokens for s in scores),
        seconds=time.perf_counter() - started,
        cases=scores,
    )


def _threads(cases: list[RegressionCase]) -> list[str]:
    """Each case's thread as the judge reads it (the ticket snapshot, as the draft prompt shows a ticket). The
    messages' times count back from when the case was stored, not from now, so the same case reads the same
    (and the judge's cached answer stays valid)."""
    return [transcript(parse_ticket(c.ticket, f"case #{c.number}", _moment(c.created_at)).ticket) for c in cases]


def _moment(iso: str) -> datetime:
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return datetime(2000, 1, 1, tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _cited_passages(db: Database, workspace: str, article_ids: tuple[str, ...]) -> list[tuple[str, str]]:
    out = []
    for article_id in article_ids:
        try:
            article = get_article(db, workspace, article_id)
        except NotFoundError:  # deleted since: the judge sees no passage for it (and may find the sentence unsupported)
            continue
        out.append((article.title, article.body))
    return out


async def _judge_run(
    services: Services,
    ready: ReadyJudge,
    cases: list[RegressionCase],
    threads: list[str],
    run: ConfigRun,
    progress: Progress | None,
) -> ConfigRun:
    """The judge reads every draft of one configuration (a few calls at once)."""
    stage = f"{run.label}, {ready.judge.label}"
    started = time.perf_counter()
    limit = asyncio.Semaphore(JUDGE_AT_ONCE)
    finished = 0

    async def one(case: RegressionCase, thread: str, score: CaseScore) -> CaseScore:
        nonlocal finished
        async with limit:
            db = services.store.db
            passages = await services.store.run(_cited_passages, db, case.workspace, score.cited)
            judged = await ready.judge_draft(score.draft, passages, thread)
        finished += 1
        if progress is not None:
            progress(stage, finished, len(cases))
        return replace(
            score,
            judge_unsupported=None if judged.failed else judged.unsupported,
            judge_failed=judged.failed,
            judge_cost_usd=judged.cost_usd,
            judge_tokens=judged.tokens,
        )

    scores = await asyncio.gather(*map(one, cases, threads, run.cases))
    return replace(run, cases=tuple(scores), judge=ready.judge.label, judge_seconds=time.perf_counter() - started)
