"""The Request Tracker connector against a real RT 5 (Debian packages), through the app's use cases."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from copilot.assist import conversation, knowledge, outbox
from copilot.assist.sync import sync_workspace
from copilot.assist.workspace import check_connection, save_workspace, set_token
from copilot.domain import Role, Visibility
from copilot.domain.workspaces import WorkspaceConfig
from copilot.errors import HelpdeskAuthError, HelpdeskRejected, HelpdeskUnreachable
from copilot.services import Services
from copilot.store import outbox as outbox_store
from copilot.store.tickets import find_ticket
from copilot.store.workspaces import sync_state
from tests.integration.proxy import CuttingProxy
from tests.integration.rt_server import RTServer

pytestmark = pytest.mark.integration


def _config(url: str, name: str = "acme") -> WorkspaceConfig:
    return WorkspaceConfig(name, "Acme support", "rt", url, "agent1", {"queues": ["Support"]})


async def _workspace(services: Services, url: str, token: str, name: str = "acme") -> str:
    await save_workspace(services, _config(url, name), token)
    return name


def _new_ticket(rt: RTServer, subject: str, content: str, *, html: bool = False, tags: list[str] | None = None) -> int:
    with rt.api() as api:
        answer = api.post(
            "/ticket",
            json={
                "Queue": "Support",
                "Subject": subject,
                "Requestor": "alice@example.com",
                "Content": content,
                "ContentType": "text/html" if html else "text/plain",
                "CustomFields": {"Tags": tags or []},
            },
        )
        assert answer.status_code == 201, answer.text
        return int(answer.json()["id"])


def _rt_messages(rt: RTServer, number: int, kind: str) -> list[str]:
    with rt.api() as api:
        history = api.get(f"/ticket/{number}/history", params={"fields": "Type", "per_page": 100}).json()["items"]
        bodies = []
        for txn in history:
            if txn["Type"] == kind:
                parts = api.get(
                    f"/transaction/{txn['id']}/attachments", params={"fields": "ContentType,Content"}
                ).json()
                bodies += [p["Content"].strip() for p in parts["items"] if p["ContentType"] == "text/plain"]
        return bodies


async def test_connection_sync_thread_and_articles(services: Services, rt: RTServer) -> None:
    info = await check_connection(services, _config(rt.url), rt.token)
    assert info.version.startswith("5.") and "Support" in info.queues and info.user == "Agent One"
    plain = _new_ticket(
        rt, "Cannot log in to the portal", "My password reset link has expired.", tags=["login", "portal"]
    )
    html = _new_ticket(
        rt,
        "Invoice looks wrong",
        '<p>Hello,</p><script>alert("x")</script><p>The <b>invoice</b> total is wrong.</p>'
        '<img src="https://tracker.example.com/pixel.gif">',
        html=True,
    )
    with rt.api() as api:
        assert api.post("/article", json={"Class": "General", "Name": "Reset your portal password",
                                           "CustomFields": {"Content": "Open the portal and choose Forgot password."}}).status_code == 201  # fmt: skip
    await _workspace(services, rt.url, rt.token)
    report = await sync_workspace(services, "acme")
    assert report.errors == [] and report.tickets_changed >= 2 and report.articles_created >= 1
    ticket = await services.store.run(find_ticket, services.store.db, "acme", plain)
    assert ticket.subject == "Cannot log in to the portal" and set(ticket.tags) == {"login", "portal"}
    assert ticket.customer_email == "alice@example.com" and ticket.customer_name == "Alice Example"
    assert ticket.messages[0].role is Role.CUSTOMER and "reset link has expired" in ticket.messages[0].body
    assert ticket.language == "en"
    shown = (await services.store.run(find_ticket, services.store.db, "acme", html)).messages[0]
    assert "invoice total is wrong" in shown.body.replace("\n", " ")
    assert "alert" not in shown.body and "<" not in shown.body and "pixel" not in shown.body
    hits = await knowledge.search_kb(services, "forgot my portal password", "acme")
    assert hits and hits[0].title == "Reset your portal password"


async def test_incremental_sync_brings_only_what_changed(services: Services, rt: RTServer) -> None:
    number = _new_ticket(rt, "Where is my parcel?", "It was due on Monday.")
    await _workspace(services, rt.url, rt.token)
    await sync_workspace(services, "acme")
    rt.customer_writes(number, "alice@example.com", "Any news? It is still not here.")
    with rt.api() as api:
        assert api.put(f"/ticket/{number}", json={"Status": "stalled"}).status_code == 200
    again = await sync_workspace(services, "acme")
    assert again.messages_added == 1 and again.requests <= 6, again
    ticket = await services.store.run(find_ticket, services.store.db, "acme", number)
    assert ticket.status == "pending"
    assert ticket.messages[-1].role is Role.CUSTOMER and ticket.messages[-1].body.startswith("Any news?")
    nothing = await sync_workspace(services, "acme")
    assert nothing.messages_added == 0


async def test_reply_note_status_tags_and_article_update(services: Services, rt: RTServer) -> None:
    number = _new_ticket(rt, "Refund for order 4411", "Please refund the damaged lamp.")
    with rt.api() as api:
        api.post(
            "/article",
            json={"Class": "General", "Name": "Refund policy", "CustomFields": {"Content": "Refunds within 14 days."}},
        )
    await _workspace(services, rt.url, rt.token)
    await sync_workspace(services, "acme")
    ticket = await services.store.run(find_ticket, services.store.db, "acme", number)
    reply = await conversation.send_reply(services, ticket.id, "We have refunded the lamp today.", internal=False)
    note = await conversation.send_reply(services, ticket.id, "Checked with the warehouse.", internal=True)
    assert reply.state.value == "sent" and note.state.value == "sent" and reply.remote_id
    assert _rt_messages(rt, number, "Correspond") == ["We have refunded the lamp today."]
    assert _rt_messages(rt, number, "Comment") == ["Checked with the warehouse."]
    mail = "\n".join(rt.outgoing_mail())
    assert "We have refunded the lamp today." in mail and "Checked with the warehouse." not in mail  # notes stay inside
    status = await outbox.queue_status(services, ticket.id, "pending")
    assert (await outbox.deliver(services, status.id)).state.value == "sent"
    connector = services.connector("acme")
    await connector.set_tags(ticket, ("refund", "damaged"))
    with rt.api() as api:
        data = api.get(f"/ticket/{number}").json()
    assert data["Status"] == "stalled"
    assert sorted(next(cf["values"] for cf in data["CustomFields"] if cf["name"] == "Tags")) == ["damaged", "refund"]
    # The next sync merges the sent messages instead of duplicating them.
    await sync_workspace(services, "acme")
    thread = (await services.store.run(find_ticket, services.store.db, "acme", number)).messages
    assert [m.body for m in thread].count("We have refunded the lamp today.") == 1
    assert [m.visibility for m in thread][-1] is Visibility.INTERNAL
    # An agent's correction goes back to RT's article.
    article = next(
        h for h in await knowledge.search_kb(services, "refund policy days", "acme") if h.title == "Refund policy"
    )
    await knowledge.save_article(
        services, "acme", article.article_id, "Refund policy", "Refunds within 30 days.", "policy changed"
    )
    with rt.api() as api:
        rt_id = article.article_id.rsplit("-", 1)[1]
        content = next(
            cf["values"] for cf in api.get(f"/article/{rt_id}").json()["CustomFields"] if cf["name"] == "Content"
        )
    assert content == ["Refunds within 30 days."]
    with pytest.raises(HelpdeskRejected, match="valid status"):
        await connector.set_status(ticket, "bogus")  # RT says so with HTTP 200 and a message array


async def test_reply_survives_server_stop_and_is_delivered_once(services: Services, rt: RTServer) -> None:
    number = _new_ticket(rt, "Printer offline", "The printer shows offline since the update.")
    await _workspace(services, rt.url, rt.token)
    await sync_workspace(services, "acme")
    ticket = await services.store.run(find_ticket, services.store.db, "acme", number)
    rt.stop()
    try:
        item = await conversation.send_reply(services, ticket.id, "Please restart the print spooler.", internal=False)
        assert item.state.value == "pending" and "cannot be reached" in item.last_error and not item.outcome_unknown
        with pytest.raises(HelpdeskUnreachable):
            await sync_workspace(services, "acme")
        assert (await services.store.run(sync_state, services.store.db, "acme")).offline_since
        view = await conversation.open_ticket(services, ticket.id)
        assert [u.body for u in view.unsent] == ["Please restart the print spooler."]  # shown as pending, not lost
    finally:
        rt.start()
    await services.store.run(services.store.db.execute, "UPDATE outbox SET next_attempt_at = ''")
    report = await sync_workspace(services, "acme")  # back online: sync, then the outbox
    assert report.delivered == 1
    assert _rt_messages(rt, number, "Correspond") == ["Please restart the print spooler."]
    assert not (await services.store.run(sync_state, services.store.db, "acme")).offline_since


@pytest.mark.parametrize("cut", ["cut_after_forward", "cut_before_forward"])
async def test_unknown_outcome_is_checked_before_resending(services: Services, rt: RTServer, cut: str) -> None:
    proxy = CuttingProxy(rt.port)
    try:
        number = _new_ticket(rt, f"Lost connection ({cut})", "The app dropped my session.")
        await _workspace(services, proxy.url, rt.token)
        await sync_workspace(services, "acme")
        ticket = await services.store.run(find_ticket, services.store.db, "acme", number)
        proxy.mode = cut
        text = f"Your session is restored ({cut})."
        item = await conversation.send_reply(services, ticket.id, text, internal=False)
        assert item.state.value == "pending" and item.outcome_unknown, item
        proxy.mode = "pass"
        await services.store.run(services.store.db.execute, "UPDATE outbox SET next_attempt_at = ''")
        [done] = await outbox.deliver_due(services, "acme")
        assert done.state.value == "sent"
        assert _rt_messages(rt, number, "Correspond") == [text]  # exactly once, whether or not the first landed
    finally:
        proxy.close()


def test_reply_survives_an_app_kill_mid_send(rt: RTServer, tmp_path: Path) -> None:
    home = tmp_path / "killed"
    env = {**os.environ, "COPILOT_HOME": str(home), "COPILOT_HELPDESK_TOKEN": rt.token}
    proxy = CuttingProxy(rt.port)
    try:
        number = _new_ticket(rt, "App crash test", "Hello?")
        cli = [sys.executable, "-m", "copilot"]
        subprocess.run(
            [*cli, "workspace", "add", "acme", "--type", "rt", "--url", proxy.url, "--user", "agent1"],
            env=env,
            check=True,
            capture_output=True,
        )
        subprocess.run([*cli, "sync", "acme"], env=env, check=True, capture_output=True)
        proxy.mode = "hold"  # the send reaches the proxy and waits there; then the app is killed
        text = f"Reply that outlives a crash {uuid.uuid4().hex[:6]}."
        app = subprocess.Popen(
            [*cli, "reply", "acme", str(number), "--text", text],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        import sqlite3

        while time.monotonic() < deadline:
            try:
                with sqlite3.connect(home / "copilot.db") as db:
                    if db.execute("SELECT count(*) FROM outbox WHERE state = 'sending'").fetchone()[0]:
                        break
            except sqlite3.Error:
                pass
            time.sleep(0.1)
        time.sleep(0.5)
        app.send_signal(signal.SIGKILL)
        app.communicate(timeout=30)  # reaps it and closes its pipes
        proxy.mode = "pass"  # the held request now reaches RT: the message lands although the app is gone
        time.sleep(1.5)
        restarted = subprocess.run(
            [*cli, "outbox", "acme", "--deliver", "--json"], env=env, capture_output=True, text=True, check=True
        )
        assert '"state": "sent"' in restarted.stdout, restarted.stdout + restarted.stderr
        assert _rt_messages(rt, number, "Correspond") == [text]
    finally:
        proxy.close()


async def test_refused_token_keeps_the_reply_and_a_new_token_sends_it(services: Services, rt: RTServer) -> None:
    number = _new_ticket(rt, "Token test", "Is my account active?")
    await _workspace(services, rt.url, rt.token)
    await sync_workspace(services, "acme")
    ticket = await services.store.run(find_ticket, services.store.db, "acme", number)
    await set_token(services, "acme", "1-99-not-a-real-token")
    with pytest.raises(HelpdeskAuthError, match="refused the credentials"):
        await sync_workspace(services, "acme")
    item = await conversation.send_reply(services, ticket.id, "Yes, your account is active.", internal=False)
    assert item.state.value == "failed" and "new API token" in item.last_error
    await set_token(services, "acme", rt.token)
    [done] = await outbox.retry_refused(services, "acme")
    assert done.state.value == "sent"
    assert _rt_messages(rt, number, "Correspond") == ["Yes, your account is active."]
    left = await services.store.run(
        outbox_store.items, services.store.db, "acme", states=(outbox_store.OutboxState.FAILED,)
    )
    assert left == []


def test_cli_workspace_sync_tickets_reply_outbox(rt: RTServer, tmp_path: Path) -> None:
    env = {**os.environ, "COPILOT_HOME": str(tmp_path / "cli"), "COPILOT_HELPDESK_TOKEN": rt.token}
    number = _new_ticket(rt, "CLI ticket", "Where do I change my plan?")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "copilot", *args], env=env, capture_output=True, text=True, timeout=120
        )

    added = cli("workspace", "add", "acme", "--type", "rt", "--url", rt.url, "--user", "agent1", "--queue", "Support")
    assert added.returncode == 0 and "Connected: 5." in added.stdout, added.stderr
    synced = cli("sync", "acme", "--json")
    assert synced.returncode == 0 and '"errors": []' in synced.stdout, synced.stderr
    listed = cli("tickets", "acme", "--json")
    assert f'"number": {number}' in listed.stdout
    assisted = cli("assist", str(number), "--workspace", "acme", "--json")
    assert assisted.returncode == 0 and '"draft"' in assisted.stdout, assisted.stderr
    replied = cli("reply", "acme", str(number), "--text", "Open Settings, then Plan.", "--internal")
    assert replied.returncode == 0 and "sent" in replied.stdout, replied.stderr
    box = cli("outbox", "acme", "--json")
    assert '"kind": "note"' in box.stdout and '"state": "sent"' in box.stdout
    missing = cli("sync", "nope")
    assert missing.returncode == 2 and "no workspace called 'nope'" in missing.stderr


async def test_send_and_set_solved_reaches_rt_in_order(services: Services, rt: RTServer) -> None:
    number = _new_ticket(rt, "Lamp flickers", "The lamp flickers since yesterday.")
    await _workspace(services, rt.url, rt.token)
    await sync_workspace(services, "acme")
    ticket = await services.store.run(find_ticket, services.store.db, "acme", number)
    delivery = await conversation.send(
        services, ticket.id, "Please update the lamp's firmware.", internal=False, status="resolved"
    )
    assert delivery.item.state.value == "sent" and delivery.error is None
    assert delivery.status_item is not None and delivery.status_item.state.value == "sent"
    assert _rt_messages(rt, number, "Correspond") == ["Please update the lamp's firmware."]
    with rt.api() as api:
        assert api.get(f"/ticket/{number}").json()["Status"] == "resolved"
    pending = await outbox.set_status(services, ticket.id, "pending")
    assert pending.state.value == "sent"
    with rt.api() as api:
        assert api.get(f"/ticket/{number}").json()["Status"] == "stalled"
    await sync_workspace(services, "acme")
    assert (await services.store.run(find_ticket, services.store.db, "acme", number)).status == "pending"
