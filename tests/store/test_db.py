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
