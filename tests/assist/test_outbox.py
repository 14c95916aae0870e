"""The outbox's promises with a scripted help desk: nothing lost, nothing sent twice, backoff honoured."""

from __future__ import annotations

from datetime import UTC, datetime

import keyring
import keyring.backends.fail
import pytest

from copilot.assist import conversation, outbox
from copilot.assist.workspace import open_workspace
from copilot.config.paths import resources_dir
from copilot.config.secrets import SecretStoreError, get_secret, set_secret
from copilot.domain import Ticket, Visibility
from copilot.errors import HelpdeskRateLimited, HelpdeskRejected, HelpdeskUnreachable
from copilot.helpdesk.base import Posted
from copilot.helpdesk.demo import DemoHelpdesk
from copilot.services import Services
from copilot.store import outbox as store
from copilot.store.tickets import find_ticket


class ScriptedHelpdesk(DemoHelpdesk):
    """The demo's tickets, with posts that fail as scripted; remembers what actually "landed"."""

    def __init__(self) -> None:
        super().__init__(resources_dir() / "demo")
        self.script: list[Exception | None] = []
        self.landed: list[str] = []
        self.looked = 0

    async def post_message(
        self, ticket: Ticket, body: str, visibility: Visibility, author: str, watermark: str
    ) -> Posted:
        outcome = self.script.pop(0) if self.script else None
        if isinstance(outcome, HelpdeskUnreachable) and outcome.outcome_unknown:
            self.landed.append(body)  # it reached the help desk; the answer got lost
        if outcome is not None:
            raise outcome
        self.landed.append(body)
        return Posted(f"r{len(self.landed)}", datetime.now(UTC).isoformat())

    async def find_posted(self, ticket: Ticket, body: str, visibility: Visibility, watermark: str) -> Posted | None:
        self.looked += 1
        return Posted("found", "") if body in self.landed else None


@pytest.fixture
async def scripted(services: Services) -> ScriptedHelpdesk:
    helpdesk = ScriptedHelpdesk()
    services.connectors.replace("demo", helpdesk)
    await open_workspace(services, "demo")
    return helpdesk


async def _ticket_id(services: Services, number: int = 3) -> int:
    return (await services.store.run(find_ticket, services.store.db, "demo", number)).id


async def _due_now(services: Services) -> None:
    await services.store.run(services.store.db.execute, "UPDATE outbox SET next_attempt_at = ''")


async def test_lost_answer_is_looked_up_not_resent(services: Services, scripted: ScriptedHelpdesk) -> None:
    scripted.script = [HelpdeskUnreachable("timed out", outcome_unknown=True)]
    item = await conversation.send_reply(
        services, await _ticket_id(services), "Your refund is on its way.", internal=False
    )
    assert item.state is store.OutboxState.PENDING and item.outcome_unknown and item.attempts == 1
    await _due_now(services)
    [done] = await outbox.deliver_due(services, "demo")
    assert done.state is store.OutboxState.SENT and scripted.looked == 1
    assert scripted.landed == ["Your refund is on its way."]  # once


async def test_refused_connection_is_simply_retried(services: Services, scripted: ScriptedHelpdesk) -> None:
    scripted.script = [HelpdeskUnreachable("refused", outcome_unknown=False)]
    item = await conversation.send_reply(services, await _ticket_id(services), "Try again tomorrow.", internal=True)
    assert item.state is store.OutboxState.PENDING and not item.outcome_unknown
    assert item.next_attempt_at > datetime.now(UTC).isoformat(timespec="seconds")
    await _due_now(services)
    [done] = await outbox.deliver_due(services, "demo")
    assert done.state is store.OutboxState.SENT and scripted.looked == 0 and scripted.landed == ["Try again tomorrow."]


async def test_rate_limit_waits_as_long_as_asked(services: Services, scripted: ScriptedHelpdesk) -> None:
    scripted.script = [HelpdeskRateLimited("slow down", retry_after=120)]
    item = await conversation.send_reply(services, await _ticket_id(services), "Hello.", internal=False)
    wait = datetime.fromisoformat(item.next_attempt_at) - datetime.now(UTC)
    assert item.state is store.OutboxState.PENDING and 110 < wait.total_seconds() <= 121
    assert await outbox.deliver_due(services, "demo") == []  # not due yet


async def test_refusal_keeps_the_text_and_it_can_be_taken_back(services: Services, scripted: ScriptedHelpdesk) -> None:
    ticket_id = await _ticket_id(services)
    scripted.script = [HelpdeskRejected("ticket is locked")]
    item = await conversation.send_reply(services, ticket_id, "Draft that bounced.", internal=False)
    assert item.state is store.OutboxState.FAILED and item.last_error == "ticket is locked"
    view = await conversation.open_ticket(services, ticket_id)
    assert [u.body for u in view.unsent] == ["Draft that bounced."] and view.draft is None
    await outbox.take_back(services, item.id)
    view = await conversation.open_ticket(services, ticket_id)
    assert view.unsent == [] and view.draft is not None and view.draft.body == "Draft that bounced."


async def test_a_send_interrupted_by_a_crash_is_checked_first(services: Services, scripted: ScriptedHelpdesk) -> None:
    item = await outbox.queue_message(
        services, await _ticket_id(services), "Sent just before the crash.", internal=False
    )
    await services.store.run(store.begin_attempt, services.store.db, item.id)  # the app died here, mid-send
    scripted.landed.append("Sent just before the crash.")
    [done] = await outbox.deliver_due(services, "demo")
    assert done.state is store.OutboxState.SENT and done.attempts == 2 and scripted.looked == 1
    assert scripted.landed == ["Sent just before the crash."]


def test_backoff_is_capped_and_respects_retry_after() -> None:
    assert [store.backoff_seconds(n) for n in (1, 2, 3)] == [2, 4, 8]
    assert store.backoff_seconds(20) == 300
    assert store.backoff_seconds(1, retry_after=90) == 90


def test_no_keyring_is_a_clear_error_never_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    with pytest.raises(SecretStoreError, match="no usable keyring") as no_ring:
        set_secret("helpdesk/acme", "s3cret", "COPILOT_HELPDESK_TOKEN")
    assert "COPILOT_HELPDESK_TOKEN" in no_ring.value.hint
    monkeypatch.setenv("COPILOT_HELPDESK_TOKEN", "from-env")
    assert get_secret("helpdesk/acme", "COPILOT_HELPDESK_TOKEN") == "from-env"


async def test_send_and_set_pending_sends_the_status_after_the_reply(
    services: Services, scripted: ScriptedHelpdesk
) -> None:
    ticket_id = await _ticket_id(services)
    delivery = await conversation.send(services, ticket_id, "Refund issued.", internal=False, status="pending")
    assert delivery.item.state is store.OutboxState.SENT and delivery.error is None
    assert delivery.status_item is not None and delivery.status_item.state is store.OutboxState.SENT
    view = await conversation.open_ticket(services, ticket_id)
    assert view.ticket.status == "pending"
    assert not view.awaits_reply  # our answer is the last word: the editor is not refilled with a draft


async def test_a_status_waits_behind_a_reply_that_waits(services: Services, scripted: ScriptedHelpdesk) -> None:
    ticket_id = await _ticket_id(services)
    scripted.script = [HelpdeskUnreachable("The help desk did not answer.")]
    delivery = await conversation.send(services, ticket_id, "Refund issued.", internal=False, status="resolved")
    assert delivery.item.state is store.OutboxState.PENDING
    assert isinstance(delivery.error, HelpdeskUnreachable) and not delivery.needs_token
    assert delivery.status_item is not None and delivery.status_item.state is store.OutboxState.PENDING
    view = await conversation.open_ticket(services, ticket_id)
    assert not view.awaits_reply  # the reply is on its way
    await _due_now(services)
    done = await outbox.deliver_due(services, "demo")
    assert [(i.kind.value, i.state) for i in done] == [
        ("reply", store.OutboxState.SENT),
        ("status", store.OutboxState.SENT),
    ]


async def test_a_refused_token_is_told_by_its_type(services: Services, scripted: ScriptedHelpdesk) -> None:
    from copilot.errors import HelpdeskAuthError

    scripted.script = [HelpdeskAuthError("The help desk refused the token.", "Enter a new one.")]
    delivery = await conversation.send(services, await _ticket_id(services), "Hello", internal=False)
    assert delivery.item.state is store.OutboxState.FAILED and delivery.needs_token
    scripted.script = [HelpdeskRejected("No such queue.")]
    delivery = await conversation.send(services, await _ticket_id(services, 5), "Hello", internal=False)
    assert delivery.item.state is store.OutboxState.FAILED and not delivery.needs_token


async def test_a_new_token_retries_the_replies_refused_for_their_credentials_only(
    services: Services, scripted: ScriptedHelpdesk
) -> None:
    from copilot.errors import HelpdeskAuthError

    scripted.script = [HelpdeskAuthError("The help desk refused the token.", "Enter a new one.")]
    refused = (await conversation.send(services, await _ticket_id(services), "Refused", internal=False)).item
    # A refusal whose words mention credentials is still not a credentials refusal: its kind says so.
    scripted.script = [HelpdeskRejected("The queue refused the credentials field.")]
    rejected = (await conversation.send(services, await _ticket_id(services, 5), "Rejected", internal=False)).item
    assert (refused.error_kind, rejected.error_kind) == (store.AUTH, "")
    scripted.script = []
    retried = await outbox.retry_refused(services, "demo")
    assert [i.id for i in retried if i.state is store.OutboxState.SENT] == [refused.id]
    still = await services.store.run(store.get_item, services.store.db, rejected.id)
    assert still.state is store.OutboxState.FAILED


async def test_an_internal_note_leaves_the_customer_waiting(services: Services, scripted: ScriptedHelpdesk) -> None:
    ticket_id = await _ticket_id(services)
    assert (await conversation.open_ticket(services, ticket_id)).awaits_reply
    await conversation.send(services, ticket_id, "Checked with billing.", internal=True)
    assert (await conversation.open_ticket(services, ticket_id)).awaits_reply


async def test_only_open_pending_or_solved_can_be_set(services: Services, scripted: ScriptedHelpdesk) -> None:
    from copilot.errors import ValidationError

    with pytest.raises(ValidationError):
        await outbox.set_status(services, await _ticket_id(services), "deleted")
    item = await outbox.set_status(services, await _ticket_id(services), "resolved")
    assert item.state is store.OutboxState.SENT and item.kind is store.OutboxKind.STATUS
