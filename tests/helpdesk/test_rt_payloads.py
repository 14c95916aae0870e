"""RT payload parsing and HTTP failure handling, without a server: property-based and scripted answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copilot.domain.workspaces import WorkspaceConfig
from copilot.errors import (
    HelpdeskAuthError,
    HelpdeskPayloadError,
    HelpdeskRateLimited,
    HelpdeskRejected,
    HelpdeskUnreachable,
)
from copilot.helpdesk.html_text import html_to_text
from copilot.helpdesk.http import HelpdeskHttp, retry_after_seconds
from copilot.helpdesk.rt import RTConnector
from copilot.helpdesk.rt_payloads import RTCursor, body_text, check_messages

CONFIG = WorkspaceConfig("acme", "Acme", "rt", "http://rt.test", "agent1", {"queues": ["Support"]})
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20,
)
ticket_like = st.fixed_dictionaries(
    {},
    optional={
        "id": json_values | st.integers(min_value=1, max_value=10**6).map(str),
        "Subject": json_values,
        "Status": json_values,
        "Created": json_values | st.just("2026-11-23T15:59:26Z"),
        "LastUpdated": json_values | st.just("2026-11-23T16:00:00Z"),
        "Requestor": json_values,
        "CustomFields": json_values,
    },
)


def _connector(handler: Callable[[httpx.Request], httpx.Response], **http: Any) -> RTConnector:
    transport = httpx.MockTransport(handler)
    client = HelpdeskHttp(
        "http://rt.test/REST/2.0", lambda: {"Authorization": "token t"}, "RT", transport=transport, **http
    )
    return RTConnector(CONFIG, lambda: "t", http=client)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(ticket_like)
def test_any_ticket_payload_parses_or_gives_a_clear_error(raw: dict[str, Any]) -> None:
    connector = _connector(lambda r: httpx.Response(500))
    error: HelpdeskPayloadError | None = None
    try:
        ticket = connector._ticket(raw)
    except HelpdeskPayloadError as exc:  # the only exception allowed, with a message a person can read
        error = exc
    if error is not None:
        assert error.message.startswith("Request Tracker sent")
    else:
        assert ticket.number > 0 and ticket.subject and ticket.workspace == "acme"


@given(json_values)
def test_any_json_at_all_is_handled(raw: Any) -> None:
    connector = _connector(lambda r: httpx.Response(500))
    with pytest.raises(HelpdeskPayloadError):
        connector._ticket(raw if not isinstance(raw, dict) else {**raw, "id": "zero"})


@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "ContentType": st.sampled_from(["text/plain", "text/html", "image/png", "multipart/mixed", ""]),
                "Content": json_values,
                "Filename": st.none() | st.text(max_size=5),
            }
        )
    )
)
def test_any_attachment_parts_give_text(parts: list[dict[str, Any]]) -> None:
    body, fmt = body_text(parts)
    assert isinstance(body, str) and fmt == "text"


@given(st.text(max_size=300))
def test_html_to_text_never_keeps_markup_or_scripts(text: str) -> None:
    html = f"<div>{text}</div><script>steal()</script><style>p{{}}</style><img src=x>"
    out = html_to_text(html)
    assert "steal()" not in out and "<script" not in out


def test_html_to_text_keeps_paragraphs_and_lists() -> None:
    assert html_to_text("<p>Hi&nbsp;there</p><ul><li>one</li><li>two</li></ul>") == "Hi there\n\n- one\n\n- two"


def _page(items: list[Any]) -> dict[str, Any]:
    return {"items": items, "count": len(items), "page": 1, "per_page": 100}


async def test_sync_keeps_going_past_bad_tickets_and_invalid_utf8() -> None:
    good = {"id": "7", "Subject": "Hello", "Status": "open", "Created": "2026-11-23T10:00:00Z",
            "LastUpdated": "2026-11-23T11:00:00Z", "Requestor": [{"EmailAddress": "a@x.org", "RealName": "Ann"}]}  # fmt: skip
    bad = {"id": "8", "Subject": {"oops": 1}, "LastUpdated": "2026-11-23T11:00:00Z"}

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/tickets"):
            return httpx.Response(200, json=_page([good, bad, "garbage"]))
        if path.endswith("/transactions"):
            return httpx.Response(200, json=_page([{"id": "40", "Type": "Create", "ObjectId": "7", "Created": "2026-11-23T10:00:00Z",
                                                    "Creator": {"id": "a@x.org", "EmailAddress": "a@x.org"}}]))  # fmt: skip
        if path.endswith("/attachments"):
            body = json.dumps(
                _page([{"TransactionId": "40", "ContentType": "text/plain", "Content": "caf\u00e9 PLACEHOLDER"}])
            )
            return httpx.Response(200, content=body.encode().replace(b"PLACEHOLDER", b"\xff\xfe bytes"))
        return httpx.Response(404)

    batches = [b async for b in _connector(handler).sync(None)]
    assert [t.number for t in batches[0].tickets] == [7]
    assert len(batches[0].errors) == 2 and "ticket #8" in batches[0].errors[0]
    [message] = batches[1].messages[7]
    assert message.body.startswith("café \ufffd") and message.remote_id == "40"
    assert RTCursor.parse(batches[-1].cursor) == RTCursor("2026-11-23 11:00:00", 40)


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (401, {"message": "Unauthorized"}, HelpdeskAuthError),
        (404, {"message": "Not Found"}, HelpdeskRejected),
        (400, {"message": "Bad Request"}, HelpdeskRejected),
        (200, "<html>a login page</html>", HelpdeskPayloadError),
    ],
)
async def test_failures_are_classified(status: int, body: Any, error: type[Exception]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body)

    with pytest.raises(error):
        await _connector(handler).fetch_ticket(1)


async def test_reads_retry_5xx_and_429_honouring_retry_after() -> None:
    answers = [
        httpx.Response(503),
        httpx.Response(429, headers={"Retry-After": "0.2"}),
        httpx.Response(200, json={"Version": "5"}),
    ]
    seen: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        import time

        seen.append(time.monotonic())
        return answers.pop(0)

    connector = _connector(handler, max_wait_s=5)
    connector.http.read_retries = 3
    assert (await connector.http.get_json("/rt")) == {"Version": "5"}
    assert len(seen) == 3 and seen[2] - seen[1] >= 0.2 and connector.http.stats.retries == 2


async def test_long_retry_after_is_not_sat_out_and_writes_are_never_repeated() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if request.method == "GET":
            return httpx.Response(429, headers={"Retry-After": "120"})
        return httpx.Response(502)

    connector = _connector(handler, max_wait_s=1)
    with pytest.raises(HelpdeskRateLimited) as limited:
        await connector.http.get_json("/tickets")
    assert limited.value.retry_after == 120 and calls == ["GET"]
    with pytest.raises(HelpdeskUnreachable) as down:
        await connector.http.request("POST", "/ticket/1/correspond", json_body={}, write=True)
    assert down.value.outcome_unknown and calls == ["GET", "POST"]


async def test_connection_refused_means_the_write_did_not_land() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(HelpdeskUnreachable) as down:
        await _connector(handler).http.request("POST", "/ticket/1/comment", json_body={}, write=True)
    assert not down.value.outcome_unknown and "cannot be reached" in down.value.message


def test_rt_message_arrays_are_checked() -> None:
    assert check_messages(["Correspondence added"], "reply") == ["Correspondence added"]
    check_messages(["Correspondence added", "You can't change status from 'open' to 'open'."], "reply")
    with pytest.raises(HelpdeskRejected, match="isn't a valid status"):
        check_messages(["Ticket 1: Status 'bogus' isn't a valid status for this ticket."], "set the status")


def test_retry_after_accepts_seconds_and_dates() -> None:
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


async def test_garbled_records_are_skipped_with_a_reason_and_the_cursor_moves_past_them() -> None:
    def ticket(number: str, **fields: Any) -> dict[str, Any]:
        base = {"id": number, "Subject": f"T{number}", "Status": "open", "Created": "2026-11-23T10:00:00Z",
                "LastUpdated": "2026-11-23T11:00:00Z", "Requestor": [{"EmailAddress": "a@x.org"}]}  # fmt: skip
        return {**base, **fields}

    tickets = [
        ticket("1", Created="9999-12-31T23:59:59-23:00"),  # OverflowError in the time parser
        ticket(
            "2", Requestor=[{"EmailAddress": "b\udc80@x.org"}], CustomFields=[{"name": "Tags", "values": ["vip\udc80"]}]
        ),
        ticket("12345678901234567890"),  # does not fit SQLite's INTEGER
        ticket("4"),
    ]
    txns = [
        {"id": "50", "Type": "Create", "ObjectId": "4", "Created": "2026-11-23T10:00:00Z", "Creator": {}},
        {"id": "51", "Type": "Create", "ObjectId": "4", "Created": "not a time", "Creator": {}},
        ["not", "a", "transaction"],
        {"id": "99999999999999999999", "ObjectId": "4"},
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/tickets"):
            return httpx.Response(200, content=json.dumps(_page(tickets)))  # "\udc80" escaped, as RT sends it
        if path.endswith("/transactions"):
            return httpx.Response(200, json=_page(txns))
        if path.endswith("/attachments"):
            return httpx.Response(
                200, json=_page([{"TransactionId": "50", "ContentType": "text/plain", "Content": "hi"}])
            )
        return httpx.Response(404)

    batches = [b async for b in _connector(handler).sync(None)]
    numbers = [t.number for t in batches[0].tickets]
    assert numbers == [2, 4]  # the surrogates are replaced, not fatal
    stored = batches[0].tickets[0]
    assert stored.customer_email == "b\ufffd@x.org" and stored.tags == ("vip\ufffd",)
    errors = batches[0].errors + batches[1].errors
    assert any("ticket #1" in e and "time" in e for e in errors)
    assert any("12345678901234567890" in e for e in errors)
    assert sum("transaction" in e for e in errors) == 3
    assert [m.remote_id for m in batches[1].messages[4]] == ["50"]
    assert RTCursor.parse(batches[-1].cursor).txn == 51  # past the bad ones: the next sync does not trip again
    for e in errors:
        e.encode("utf-8")  # printable on any terminal


async def test_a_post_whose_id_look_up_fails_is_reported_as_maybe_landed() -> None:
    """RT took the reply, then reading its id failed: the outbox must look before posting again, not re-post."""
    from copilot.domain import Ticket, Visibility

    posts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            posts.append(request.url.path)
            return httpx.Response(200, json=["Correspondence added"])
        return httpx.Response(503)  # the look-up for the new transaction's id

    connector = _connector(handler, read_retries=0)
    ticket = Ticket(1, "acme", 7, "s", "c", "c@x", "open", "2026-11-01T00:00:00Z", "2026-11-01T00:00:00Z")
    with pytest.raises(HelpdeskUnreachable) as caught:
        await connector.post_message(ticket, "We refunded it.", Visibility.PUBLIC, "agent", "")
    assert caught.value.outcome_unknown and "reached" in caught.value.message
    assert posts == ["/REST/2.0/ticket/7/correspond"]
