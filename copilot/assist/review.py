"""Flags on AI outputs and the team lead's review of them."""

from __future__ import annotations

from sqlite_utils import Database

from copilot.domain import OutputFlag
from copilot.domain.events import FlagsDidChange
from copilot.errors import ValidationError
from copilot.services import Services
from copilot.store import outputs

REASONS = ("incorrect", "unsupported", "outdated")
OUTCOMES = ("article fixed", "model issue", "not an error", "prompt fixed", "other")


def flagged_part(task: str, target: str) -> str:
    """What a flag points at, in words ("the draft reply, sentence 4"), for the agent and the lead; the stored
    target ("draft:sentence:3") is an address for the code."""
    kind, _, rest = target.partition(":")
    if kind == "draft" and rest.startswith("sentence:") and rest[9:].isdigit():
        return f"the draft reply, sentence {int(rest[9:]) + 1}"
    if kind == "summary" and rest.isdigit():
        return f"the summary, line {int(rest) + 1}"
    if kind == "flag" and rest:
        return f"the warning “{rest.replace('_', ' ')}”"
    if kind == "article" and rest:
        return f"the suggested article {rest}"
    words = {"triage": "the triage (intent and priority)", "tags": "the suggested tags", "draft": "the draft reply"}
    return words.get(target) or words.get(task) or f"the {task} ({target})"


async def flag_output(
    services: Services,
    output_id: int,
    *,
    target: str,
    target_text: str,
    reason: str,
    note: str = "",
    correction: str = "",
    flagged_by: str = "",
) -> int:
    if reason not in REASONS:
        raise ValidationError(f"'{reason}' is not a flag reason.", f"Use one of: {', '.join(REASONS)}.")
    who = flagged_by or services.agent_name()
    flag_id = await services.store.run(
        outputs.add_flag,
        services.store.db,
        output_id,
        target,
        target_text,
        reason,
        note.strip(),
        correction.strip(),
        who,
    )
    services.bus.emit(FlagsDidChange(flag_id=flag_id))
    return flag_id


async def list_flags(services: Services, query: outputs.FlagQuery | None = None) -> list[OutputFlag]:
    return await services.store.run(outputs.list_flags, services.store.db, query)


async def resolve_flag(services: Services, flag_id: int, outcome: str, resolved_by: str = "") -> None:
    if outcome not in OUTCOMES:
        raise ValidationError(f"'{outcome}' is not an outcome.", f"Use one of: {', '.join(OUTCOMES)}.")
    who = resolved_by or services.agent_name()
    await services.store.run(outputs.resolve_flag, services.store.db, flag_id, outcome, who)
    services.bus.emit(FlagsDidChange(flag_id=flag_id))


async def engines_and_models(services: Services) -> list[str]:
    def _read(db: Database) -> list[str]:
        rows = db.execute("SELECT DISTINCT engine FROM ai_outputs UNION SELECT DISTINCT model FROM ai_outputs")
        return sorted(str(r[0]) for r in rows)

    return await services.store.run(_read, services.store.db)
