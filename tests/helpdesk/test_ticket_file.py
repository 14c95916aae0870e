"""Tickets read from a file: the demo's shape and Zendesk's export, all or nothing with the bad line named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from copilot.domain import Role, Visibility
from copilot.errors import ImportFileError
from copilot.helpdesk.ticket_file import read_ticket_file
from tests.conftest import REPO


def _line(**overrides: object) -> str:
    ticket = {
        "id": 7,
        "subject": "Hub offline",
        "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
        "status": "open",
        "tags": ["hub"],
        "messages": [
            {"from": "customer", "body": "My Hub is offline since last night."},
            {"from": "agent", "body": "Which colour is the ring light?"},
            {"from": "agent", "body": "Check the firmware.", "internal": True},
        ],
        "intent": "connectivity",
        "gold": {"articles": ["hub-offline"], "sentiment": "neutral"},
    }
    ticket.update(overrides)
    return json.dumps(ticket)


def test_the_demo_shape_with_roles_notes_and_gold(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(_line() + "\n\n" + _line(id=8, language="de", gold={}) + "\n", encoding="utf-8")
    first, second = read_ticket_file(path)
    t = first.ticket
    assert (t.number, t.customer_name, t.intent, t.tags, t.language) == (
        7,
        "Ada Lovelace",
        "connectivity",
        ("hub",),
        "en",
    )
    assert [m.role for m in t.messages] == [Role.CUSTOMER, Role.AGENT, Role.AGENT]
    assert t.messages[2].visibility is Visibility.INTERNAL
    assert first.gold == {"articles": ["hub-offline"], "sentiment": "neutral"}
    assert (second.ticket.number, second.ticket.language, second.gold) == (8, "de", {})


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "line 2: not valid JSON"),
        (_line(id="x"), "line 2: 'id' must be a positive ticket number"),
        (_line(messages=[]), "line 2: 'messages' must be a non-empty list"),
        (_line(messages=[{"from": "bot", "body": "hi"}]), "line 2, message 1: 'from' must be customer or agent"),
        (_line(customer="Ada"), "line 2: 'customer' must be an object"),
        (_line(gold={"answer": "x"}), "line 2: 'gold' may only hold"),
        (_line(), "line 2: ticket 7 appears twice"),
    ],
)
def test_a_bad_line_is_named_and_nothing_is_read(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(_line() + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match=message):
        read_ticket_file(path)


def test_zendesk_export_converts_requester_agents_and_private_comments(tmp_path: Path) -> None:
    zendesk = {
        "id": 35436,
        "subject": "Help, my printer is on fire!",
        "status": "hold",
        "tags": ["enterprise"],
        "requester_id": 20978392,
        "requester": {"id": 20978392, "name": "Jo Requester", "email": "jo@example.com"},
        "comments": [
            {"author_id": 20978392, "plain_body": "The fire is spreading.", "public": True},
            {"author_id": 123, "body": "Please unplug it.", "public": True},
            {"author_id": 123, "body": "Escalate to hardware.", "public": False},
        ],
    }
    path = tmp_path / "zendesk.json"
    path.write_text(json.dumps(zendesk) + "\n", encoding="utf-8")
    (record,) = read_ticket_file(path)
    t = record.ticket
    assert (t.number, t.subject, t.status, t.customer_name, t.customer_email) == (
        35436,
        "Help, my printer is on fire!",
        "pending",
        "Jo Requester",
        "jo@example.com",
    )
    assert [(m.role, m.visibility) for m in t.messages] == [
        (Role.CUSTOMER, Visibility.PUBLIC),
        (Role.AGENT, Visibility.PUBLIC),
        (Role.AGENT, Visibility.INTERNAL),
    ]


def test_the_shipped_demo_and_held_out_files_read() -> None:
    demo = read_ticket_file(REPO / "resources" / "demo" / "tickets.json")
    held_out = read_ticket_file(REPO / "resources" / "demo" / "heldout.jsonl")
    assert len(demo) == 66 and len(held_out) == 20
    assert all(r.gold for r in held_out)
    assert not {r.ticket.number for r in demo} & {r.ticket.number for r in held_out}


def _zendesk(**overrides: object) -> str:
    ticket: dict[str, object] = {
        "id": 501,
        "subject": "Lights off",
        "requester_id": 7,
        "comments": [{"author_id": 7, "body": "My lights went off.", "public": True}],
    }
    ticket.update(overrides)
    return json.dumps(ticket)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (_zendesk(requester_id=None), r"line 1: a Zendesk ticket needs 'requester_id'"),
        (
            _zendesk(comments=[{"author_id": 7, "body": 42}]),
            r"line 1, comment 1: needs text in 'plain_body', 'body' or 'html_body'",
        ),
        (_line(messages=[{"from": "customer", "body": "x", "format": "rtf"}]), r"line 1, message 1: 'format' must be"),
        (
            _line(messages=[{"from": "customer", "body": "<script>x()</script>", "format": "html"}]),
            r"line 1, message 1: the HTML 'body' holds no text",
        ),
    ],
)
def test_a_zendesk_ticket_or_message_missing_its_text_or_requester_is_named(
    tmp_path: Path, line: str, message: str
) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match=message):
        read_ticket_file(path)


def test_html_bodies_become_text_and_requester_ids_match_as_text(tmp_path: Path) -> None:
    comments = [
        {"author_id": 7, "html_body": "<p>My hub is offline.</p><script>steal()</script><p>Please help</p>"},
        {"author_id": 9, "body": "Which colour is the ring?"},
    ]
    html_line = _line(id=8, messages=[{"from": "customer", "body": "<b>Hi</b><script>x()</script>", "format": "html"}])
    path = tmp_path / "t.jsonl"
    path.write_text(_zendesk(requester_id="7", comments=comments) + "\n" + html_line + "\n", encoding="utf-8")
    zendesk, demo_shape = (r.ticket for r in read_ticket_file(path))
    first, second = zendesk.messages
    assert (first.role, first.body, first.body_format) == (Role.CUSTOMER, "My hub is offline.\n\nPlease help", "text")
    assert second.role is Role.AGENT
    assert (demo_shape.messages[0].body, demo_shape.messages[0].body_format) == ("Hi", "text")


async def test_the_demo_help_desk_turns_html_mail_into_text() -> None:
    from copilot.helpdesk.demo import DemoHelpdesk

    ticket = await DemoHelpdesk(REPO / "resources" / "demo").fetch_ticket(22)  # its mail is HTML with a script
    body = ticket.messages[0]
    assert body.body_format == "text" and body.body.startswith("Hi team,\n\nThe app crashes")
    assert "<" not in body.body and "evil.example" not in body.body and "tracker.example" not in body.body


def test_html_without_a_format_is_read_as_text_subject_and_name_included(tmp_path: Path) -> None:
    markup = (
        "<p>Hi</p><script>alert('x');document.location='http://evil.example'</script>"
        "<img src='http://track.example/p.gif'>My <b>invoice</b> is missing. Where can I download it?"
    )
    comments = [{"author_id": 7, "body": "<div>Hub <i>offline</i></div><style>p {}</style>"}]
    lines = [
        _line(id=2, subject="<b>Help</b>", customer={"name": "Eve <script>", "email": "e@example.com"}),
        _line(id=3, messages=[{"from": "customer", "body": markup}]),
        _line(id=4, messages=[{"from": "customer", "body": "Is 3 < 4 and <b> a tag?", "format": "text"}]),
        _line(id=5, subject="Why is 2 < 3 > 1?", messages=[{"from": "customer", "body": "a <b c"}]),
        _zendesk(requester_id=7, comments=comments),
    ]
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    named, html_body, said_text, not_markup, zendesk = (r.ticket for r in read_ticket_file(path))
    assert (named.subject, named.customer_name) == ("Help", "Eve")
    body = html_body.messages[0]
    assert (body.body, body.body_format) == ("Hi\nMy invoice is missing. Where can I download it?", "text")
    assert said_text.messages[0].body == "Is 3 < 4 and <b> a tag?"  # `format: text` is taken at its word
    assert (not_markup.subject, not_markup.messages[0].body) == ("Why is 2 < 3 > 1?", "a <b c")
    assert (zendesk.messages[0].body, zendesk.messages[0].body_format) == ("Hub offline", "text")
