from pathlib import Path

import pytest

from copilot.app import build_services
from copilot.config.paths import prepare_home
from copilot.errors import DatabaseError, DataDirError
from copilot.store.db import open_database
from copilot.store.migrations import MIGRATIONS, applied_migrations, migrate


def test_fresh_database_is_migrated_once(tmp_path: Path) -> None:
    db = open_database(tmp_path / "a.db")
    assert applied_migrations(db) == [name for name, _ in MIGRATIONS]
    assert migrate(db) == []  # nothing left to do
    assert {"tickets", "articles", "ai_outputs", "output_flags", "drafts"} <= set(db.table_names())


def test_failed_migration_rolls_back(tmp_path: Path) -> None:
    db = open_database(tmp_path / "a.db")

    def broken(d: object) -> None:
        db.execute("CREATE TABLE half_done (x)")
        db.execute("THIS IS NOT SQL")

    with pytest.raises(Exception, match="syntax"):
        migrate(db, [*MIGRATIONS, ("0002_broken", broken)])
    assert "half_done" not in db.table_names()
    assert "0002_broken" not in applied_migrations(db)


def test_newer_database_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    db = open_database(path)
    db.execute("INSERT INTO _migrations (name, applied_at) VALUES ('9999_from_the_future', 'x')")
    db.conn.close()
    before = path.read_bytes()
    with pytest.raises(DatabaseError, match="newer version"):
        open_database(path)
    assert path.read_bytes() == before


def test_corrupt_database_gives_a_clear_error_and_keeps_the_file(tmp_path: Path) -> None:
    path = tmp_path / "copilot.db"
    path.write_bytes(b"this is not a database, it is a text file" * 100)
    with pytest.raises(DatabaseError) as info:
        build_services(tmp_path)
    assert "Move the file aside" in info.value.hint
    assert path.read_bytes().startswith(b"this is not a database")


def test_data_dir_that_is_a_file_is_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "home"
    blocker.write_text("x")
    with pytest.raises(DataDirError, match=r"Cannot create|not a folder"):
        prepare_home(blocker / "sub")
    with pytest.raises(DataDirError):
        prepare_home(blocker)


def test_upgrading_an_older_database_backfills_article_entities(tmp_path: Path) -> None:
    import sqlite3

    from sqlite_utils import Database

    path = tmp_path / "old.db"
    old = Database(sqlite3.connect(str(path), isolation_level=None))
    migrate(old, MIGRATIONS[:2])  # a database written before 0003_article_entities
    old.execute("INSERT INTO workspaces (id, name, kind, created_at) VALUES ('w', 'w', 'demo', 'x')")
    old.execute(
        "INSERT INTO articles (id, workspace, title, body, version, updated_at) "
        "VALUES ('a', 'w', 'Acme Router X: Reset', 'Hold the button.', 1, 'x')"
    )
    old.conn.close()
    db = open_database(path)
    assert "0003_article_entities" in applied_migrations(db)
    assert db.execute("SELECT entity FROM articles WHERE id = 'a'").fetchone()[0] == "Acme Router X"


def _damaged_copy(tmp_path: Path) -> Path:
    """A database whose middle pages were overwritten (a bad sector, a half-copied file); its header is intact."""
    path = tmp_path / "copilot.db"
    db = open_database(path)
    db.execute("CREATE TABLE filler (x TEXT)")
    db.conn.executemany("INSERT INTO filler VALUES (?)", [("x" * 500,) for _ in range(400)])
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    raw = bytearray(path.read_bytes())
    middle = len(raw) // 2 // 4096 * 4096
    raw[middle : middle + 4096] = b"\xa5" * 4096
    path.write_bytes(bytes(raw))
    return path


def test_damaged_database_is_refused_at_open_and_never_written(tmp_path: Path) -> None:
    path = _damaged_copy(tmp_path)
    before = path.read_bytes()
    with pytest.raises(DatabaseError, match="integrity check") as info:
        open_database(path)
    assert "Move the file aside" in info.value.hint and not info.value.is_bug
    assert path.read_bytes() == before


def test_doctor_reports_locations_keyring_and_the_full_check(tmp_path: Path) -> None:
    import io

    from copilot.cli import main

    out = io.StringIO()
    assert main(["--home", str(tmp_path), "doctor"], out, io.StringIO()) == 0
    assert "data folder:" in out.getvalue() and "keyring:" in out.getvalue() and "log file:" in out.getvalue()
    _damaged_copy(tmp_path)
    out = io.StringIO()
    assert main(["--home", str(tmp_path), "doctor"], out, io.StringIO()) == 1
    assert "integrity check FAILED" in out.getvalue() and "Move the file aside" in out.getvalue()


def test_schema_version_must_match_the_migrations_table(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    db = open_database(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    db.execute("DELETE FROM _migrations WHERE name = ?", [MIGRATIONS[-1][0]])
    db.conn.close()
    with pytest.raises(DatabaseError, match="does not match"):
        open_database(path)


@pytest.mark.parametrize(
    ("error", "says"),
    [
        ("database or disk is full", "The disk is full"),
        ("attempt to write a readonly database", "read-only"),
    ],
)
def test_full_disk_and_read_only_database_are_not_our_bug(error: str, says: str) -> None:
    import sqlite3

    from copilot.errors import as_copilot_error

    shown = as_copilot_error(sqlite3.OperationalError(error))
    assert isinstance(shown, DatabaseError) and not shown.is_bug
    assert says in shown.message and "doctor" in shown.hint


def test_cli_logs_an_unexpected_error_into_its_log_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    import copilot.assist.workspace
    from copilot.cli import main

    async def broken(*args: object) -> int:
        raise RuntimeError("something internal broke")

    monkeypatch.setattr(copilot.assist.workspace, "open_workspace", broken)
    err = io.StringIO()
    assert main(["--home", str(tmp_path), "assist", "1"], io.StringIO(), err) == 1
    assert "Traceback" not in err.getvalue()
    assert "something internal broke" in (tmp_path / "copilot.log").read_text(encoding="utf-8")


def test_no_write_groups_outside_the_one_transaction_helper() -> None:
    """`with db.conn:` opens no transaction on this connection (and commits an open one early): every grouped
    write goes through copilot.store.transaction instead."""
    from tests.conftest import REPO

    offenders = [
        f"{path.relative_to(REPO)}:{n}"
        for path in (REPO / "copilot").rglob("*.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if line.lstrip().startswith("with db.conn") or (".executescript(" in line and path.name != "migrations.py")
    ]
    assert offenders == []


def test_upgrading_scopes_article_ids_by_workspace_with_data_intact(tmp_path: Path) -> None:
    import sqlite3

    from sqlite_utils import Database

    from copilot.kb import articles, retrieve

    path = tmp_path / "old.db"
    old = Database(sqlite3.connect(str(path), isolation_level=None))
    old.execute("PRAGMA foreign_keys = ON")
    before = MIGRATIONS[: [name for name, _ in MIGRATIONS].index("0012_article_ids_by_workspace")]
    migrate(old, before)  # a database written before article ids were scoped
    old.execute("INSERT INTO workspaces (id, name, kind, created_at) VALUES ('w', 'w', 'demo', 'x')")
    old.execute(
        "INSERT INTO tickets (id, workspace, number, subject, customer_name, customer_email, status, created_at, "
        "updated_at) VALUES (7, 'w', 1, 's', 'c', 'c@x', 'open', 'x', 'x')"
    )
    for aid, title in (("invoice", "Invoices"), ("reset", "Acme Router X: Reset")):
        old.execute(
            "INSERT INTO articles (id, workspace, title, body, version, updated_at, entity) "
            "VALUES (?, 'w', ?, 'Hold the button.', 2, 'x', '')",
            [aid, title],
        )
        for version in (1, 2):
            old.execute(
                "INSERT INTO article_versions (article_id, version, title, body, author, reason, created_at) "
                "VALUES (?, ?, ?, 'Hold the button.', 'a', 'r', 'x')",
                [aid, version, title],
            )
        old.execute(
            "INSERT INTO article_embeddings (article_id, model, version, vector, body_vector) "
            "VALUES (?, 'm', 2, x'00', x'01')",
            [aid],
        )
    old.execute(
        "INSERT INTO article_feedback (article_id, ticket_id, verdict, created_at) VALUES ('reset', 7, 'not_relevant', 'x')"
    )
    tables = ("articles", "article_versions", "article_embeddings", "article_feedback")
    rows = {t: old.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in tables}
    old.conn.close()

    db = open_database(path)
    assert applied_migrations(db) == [name for name, _ in MIGRATIONS]
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert (
        db.execute(
            "SELECT id, workspace, title, body, tags, version, updated_at, entity FROM articles ORDER BY rowid"
        ).fetchall()
        == rows["articles"]
    )
    assert (
        db.execute(
            "SELECT id, article_id, version, title, body, author, reason, created_at FROM article_versions ORDER BY id"
        ).fetchall()
        == rows["article_versions"]
    )
    assert (
        db.execute(
            "SELECT article_id, model, version, vector, body_vector FROM article_embeddings ORDER BY rowid"
        ).fetchall()
        == rows["article_embeddings"]
    )
    assert db.execute("SELECT * FROM article_feedback").fetchall() == rows["article_feedback"]
    assert {
        r[0]
        for r in db.execute("SELECT workspace FROM article_versions UNION SELECT workspace FROM article_embeddings")
    } == {"w"}
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert [h.article_id for h in retrieve.search_text(db, "invoices", workspace="w")] == ["invoice"]
    # After the upgrade, another workspace can hold its own "invoice".
    articles.import_articles(db, "v", [articles.ArticleInput("invoice", "Bills", "Paid monthly.")], "t")
    assert articles.get_article(db, "w", "invoice").title == "Invoices"
    assert articles.not_relevant_for(db, 7) == {"reset"}
