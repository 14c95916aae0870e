"""Property-based fuzzing of every parser and import path, each accepted record followed by a store write:
the only outcomes allowed are "stored" or a clear error naming the record. Prints how many cases ran."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from copilot.boundary import BoundaryError, check_date, check_id, clean_text, load_json
from copilot.domain.workspaces import WorkspaceConfig
from copilot.errors import HelpdeskPayloadError, ImportFileError
from copilot.evaluation.data import read_jsonl
from copilot.helpdesk.http import HelpdeskHttp
from copilot.helpdesk.rt import RTConnector
from copilot.kb.articles import import_articles
from copilot.kb.importer import parse_markdown_article, read_articles
from copilot.store import open_database
from copilot.store import tickets as ticket_store
from tests.reliability.summary import FIGURES

# One xdist worker runs the whole module, in order: the last test adds up the cases the others ran.
pytestmark = pytest.mark.xdist_group("fuzz")

CASES = 2000  # x 5 properties = 10,000 cases
FUZZ = settings(max_examples=CASES, deadline=None, suppress_health_check=list(HealthCheck))

nasty_text = st.lists(
    st.characters(codec=None, exclude_categories=())
    | st.sampled_from(["\udc80", "\ud800", "\x00", "\u202e", "</ticket>"]),
    max_size=20,
).map("".join)
numbers = st.integers(min_value=-(10**30), max_value=10**30) | st.floats(allow_nan=True, allow_infinity=True)
leaves = st.none() | st.booleans() | numbers | nasty_text
json_like = st.recursive(
    leaves, lambda c: st.lists(c, max_size=4) | st.dictionaries(nasty_text, c, max_size=4), max_leaves=25
)
deep = st.integers(min_value=1, max_value=5000).map(lambda n: "[" * n + "]" * n)
dates = nasty_text | st.sampled_from(["9999-12-31T23:59:59-23:00", "0001-01-01T00:00:00+14:00", "2026-11-23T15:59:26Z",
                                      "2018-06-29:10:25Z", "1970-01-01 00:00:00", "2026-02-30"])  # fmt: skip
ids = numbers | nasty_text | st.sampled_from(["12345678901234567890", "0", "-1", "١٢٣"])


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    database = open_database(tmp_path_factory.mktemp("fuzz") / "fuzz.db")
    ticket_store.ensure_workspace(database, "acme", "Acme", "rt")
    yield database
    database.conn.close()


def _count(name: str) -> None:
    FIGURES["fuzz: cases"] += 1
    FIGURES[f"fuzz: cases ({name})"] += 1


def _store_ticket(db: Database, ticket: Any) -> None:
    ticket_store.upsert_ticket(db, ticket)


@FUZZ
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "id": ids,
            "Subject": json_like,
            "Status": json_like,
            "Created": dates,
            "LastUpdated": dates,
            "Requestor": json_like
            | st.lists(st.fixed_dictionaries({"EmailAddress": nasty_text, "RealName": nasty_text})),
            "CustomFields": json_like | st.just([{"name": "Tags", "values": ["a\udc80", "b"]}]),
        },
    )
)
def test_rt_ticket_payloads(db: Database, raw: dict[str, Any]) -> None:
    _count("RT tickets")
    connector = RTConnector(
        WorkspaceConfig("acme", "Acme", "rt", "http://rt.test", "a", {}),
        lambda: "t",
        http=HelpdeskHttp("http://rt.test/REST/2.0", dict, "RT", transport=httpx.MockTransport(lambda r: httpx.Response(500))),
    )  # fmt: skip
    try:
        ticket = connector._ticket(raw)
    except HelpdeskPayloadError as exc:
        ticket, refused = None, exc.message
    if ticket is None:
        assert refused.startswith("Request Tracker sent")
        return
    _store_ticket(db, ticket)


@FUZZ
@given(json_like | deep | nasty_text)
def test_kb_jsonl_lines(db: Database, tmp_path_factory: pytest.TempPathFactory, value: Any) -> None:
    _count("KB JSON lines")
    line = value if isinstance(value, str) else json.dumps(value)
    if not isinstance(value, str) and isinstance(value, dict):
        value.setdefault("id", "fz")
    path = tmp_path_factory.getbasetemp() / "kb.jsonl"
    path.write_text(line.replace("\n", " ") + "\n", encoding="utf-8", errors="surrogatepass")
    try:
        items = read_articles(path)
    except ImportFileError as exc:
        items, refused = [], exc.message
    if not items:
        assert "line 1" in refused or "holds no articles" in refused
        return
    import_articles(db, "acme", items, "fuzz")


@FUZZ
@given(nasty_text, st.lists(nasty_text, max_size=6).map("\n".join))
def test_markdown_articles(db: Database, name: str, text: str) -> None:
    _count("Markdown articles")
    try:
        items = [parse_markdown_article("md-1", clean_text(f"---\ntags: {name}\n---\n# {name}\n{text}"), "a.md")]
    except ImportFileError as exc:
        items, refused = [], exc.message
    if not items:
        assert refused.startswith("a.md")
        return
    import_articles(db, "acme", items, "fuzz")


@FUZZ
@given(st.lists(json_like, min_size=1, max_size=4))
def test_eval_files(tmp_path_factory: pytest.TempPathFactory, rows: list[Any]) -> None:
    _count("eval files")
    path = tmp_path_factory.getbasetemp() / "eval.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8", errors="surrogatepass")
    refused = ""
    try:
        read_jsonl(path, ("id", "text", "label"))
    except ImportFileError as exc:
        refused = exc.message
    assert not refused or "eval.jsonl" in refused


@FUZZ
@given(dates, ids, json_like | deep | nasty_text)
def test_boundary_checks(when: Any, number: Any, value: Any) -> None:
    _count("dates, ids, JSON")
    for check in (lambda: check_date(when), lambda: check_id(number),
                  lambda: load_json(value if isinstance(value, str) else json.dumps(value))):  # fmt: skip
        refused = "-"
        try:
            check()
        except BoundaryError as exc:
            refused = exc.message
        assert refused
    clean_text(str(value)).encode("utf-8")


def test_fuzz_figures_are_enough() -> None:
    # Runs last in this module: when the whole module ran, at least 10,000 cases did, none raising unexpectedly.
    ran = FIGURES["fuzz: cases"]
    assert ran == 0 or ran >= 5 * CASES, f"only {ran} fuzz cases ran"
    FIGURES["fuzz: unexpected exceptions"] += 0
