"""Named, forward-only schema migrations; each runs in one transaction and is recorded by name.

It grows by one function per migration and is never edited backwards: the whole history of the schema in one
place, read top to bottom, is the reason it is long."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlite_utils import Database

from copilot.errors import DatabaseError
from copilot.store.transaction import transaction

Migration = tuple[str, Callable[[Database], None]]


def _initial_schema(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE workspaces (
            id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, created_at TEXT NOT NULL
        );
        CREATE TABLE tickets (
            id INTEGER PRIMARY KEY,
            workspace TEXT NOT NULL REFERENCES workspaces(id),
            number INTEGER NOT NULL,
            subject TEXT NOT NULL,
            customer_name TEXT NOT NULL,
            customer_email TEXT NOT NULL,
            status TEXT NOT NULL,
            tags TEXT NOT NULL DEFAULT '[]',
            intent TEXT NOT NULL DEFAULT '',
            language TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (workspace, number)
        );
        CREATE INDEX tickets_customer ON tickets(workspace, customer_email);
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            ticket_id INTEGER NOT NULL REFERENCES tickets(id),
            author TEXT NOT NULL,
            role TEXT NOT NULL,
            visibility TEXT NOT NULL,
            body TEXT NOT NULL,
            body_format TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX messages_ticket ON messages(ticket_id, created_at);
        -- One row per ticket with the searchable text, kept by the store on every change.
        CREATE TABLE ticket_search (
            ticket_id INTEGER PRIMARY KEY REFERENCES tickets(id),
            subject TEXT NOT NULL, customer TEXT NOT NULL, body TEXT NOT NULL
        );
        -- Assist results shown in the inbox (badges), refreshed whenever the copilot runs.
        CREATE TABLE ticket_badges (
            ticket_id INTEGER PRIMARY KEY REFERENCES tickets(id),
            sentiment TEXT NOT NULL, urgent INTEGER NOT NULL, flags TEXT NOT NULL, computed_for TEXT NOT NULL
        );
        CREATE TABLE articles (
            id TEXT PRIMARY KEY,
            workspace TEXT NOT NULL,
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            tags TEXT NOT NULL DEFAULT '[]',
            version INTEGER NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE article_versions (
            id INTEGER PRIMARY KEY,
            article_id TEXT NOT NULL REFERENCES articles(id),
            version INTEGER NOT NULL,
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            author TEXT NOT NULL,
            reason TEXT NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (article_id, version)
        );
        CREATE TABLE article_feedback (
            id INTEGER PRIMARY KEY,
            article_id TEXT NOT NULL, ticket_id INTEGER NOT NULL, verdict TEXT NOT NULL, created_at TEXT NOT NULL,
            UNIQUE (article_id, ticket_id, verdict)
        );
        CREATE TABLE drafts (
            ticket_id INTEGER PRIMARY KEY REFERENCES tickets(id),
            body TEXT NOT NULL,
            ai_body TEXT NOT NULL,
            output_id INTEGER,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE sent_replies (
            id INTEGER PRIMARY KEY,
            ticket_id INTEGER NOT NULL REFERENCES tickets(id),
            message_id INTEGER REFERENCES messages(id),
            visibility TEXT NOT NULL,
            body TEXT NOT NULL,
            ai_draft TEXT NOT NULL,
            output_id INTEGER,
            edit_ratio REAL NOT NULL,
            sent_at TEXT NOT NULL
        );
        CREATE TABLE ai_outputs (
            id INTEGER PRIMARY KEY,
            ticket_id INTEGER NOT NULL REFERENCES tickets(id),
            task TEXT NOT NULL,
            engine TEXT NOT NULL,
            model TEXT NOT NULL,
            prompt_version TEXT NOT NULL,
            inputs_hash TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX ai_outputs_ticket ON ai_outputs(ticket_id, task, created_at);
        CREATE TABLE output_flags (
            id INTEGER PRIMARY KEY,
            output_id INTEGER NOT NULL REFERENCES ai_outputs(id),
            ticket_id INTEGER NOT NULL REFERENCES tickets(id),
            target TEXT NOT NULL,
            target_text TEXT NOT NULL,
            reason TEXT NOT NULL,
            note TEXT NOT NULL,
            correction TEXT NOT NULL,
            flagged_by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            resolved_at TEXT NOT NULL DEFAULT '',
            outcome TEXT NOT NULL DEFAULT '',
            resolved_by TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        """
    )
    # FTS5 with porter stemming; triggers keep the index fresh on every write.
    db.table("ticket_search").enable_fts(
        ["subject", "customer", "body"], fts_version="FTS5", create_triggers=True, tokenize="porter"
    )
    db.table("articles").enable_fts(["title", "body"], fts_version="FTS5", create_triggers=True, tokenize="porter")


def _workspace_article_urls(db: Database) -> None:
    # Where customers can read an article: a template with {id}, e.g. https://help.example.com/a/{id}
    db.execute("ALTER TABLE workspaces ADD COLUMN article_url TEXT NOT NULL DEFAULT ''")


def _article_entities(db: Database) -> None:
    # The product, plan or place an article is about ("Acme Router X: How do I reset it?" -> "Acme Router X").
    from copilot.kb.entities import entity_of_title

    db.execute("ALTER TABLE articles ADD COLUMN entity TEXT NOT NULL DEFAULT ''")
    db.execute("CREATE INDEX articles_entity ON articles(workspace, entity)")
    for article_id, title in db.execute("SELECT id, title FROM articles").fetchall():
        db.execute("UPDATE articles SET entity = ? WHERE id = ?", [entity_of_title(title), article_id])


def _article_embeddings(db: Database) -> None:
    # One vector per article and model, tagged with the article version it was computed from.
    db.execute(
        "CREATE TABLE article_embeddings (article_id TEXT NOT NULL REFERENCES articles(id), model TEXT NOT NULL, "
        "version INTEGER NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (article_id, model))"
    )


def _helpdesk_sync_and_outbox(db: Database) -> None:
    # Where a workspace's help desk lives and how far its sync got (the token is in the OS keyring, never here).
    for column in ("url", "username", "options", "sync_cursor", "last_sync_at", "offline_since", "last_error"):
        default = "'{}'" if column == "options" else "''"
        db.execute(f"ALTER TABLE workspaces ADD COLUMN {column} TEXT NOT NULL DEFAULT {default}")
    # The help desk's id for a message, so a sync merges threads instead of duplicating them.
    db.execute("ALTER TABLE messages ADD COLUMN remote_id TEXT NOT NULL DEFAULT ''")
    db.execute("CREATE UNIQUE INDEX messages_remote ON messages(ticket_id, remote_id) WHERE remote_id != ''")
    # Every reply, note, status change or article correction is written here before any network call, then delivered.
    db.execute(
        """
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            workspace TEXT NOT NULL REFERENCES workspaces(id),
            ticket_id INTEGER REFERENCES tickets(id),
            article_id TEXT NOT NULL DEFAULT '',
            kind TEXT NOT NULL,
            body TEXT NOT NULL,
            author TEXT NOT NULL,
            ai_draft TEXT NOT NULL DEFAULT '',
            output_id INTEGER,
            state TEXT NOT NULL,
            outcome_unknown INTEGER NOT NULL DEFAULT 0,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            last_error TEXT NOT NULL DEFAULT '',
            remote_id TEXT NOT NULL DEFAULT '',
            watermark TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            sent_at TEXT NOT NULL DEFAULT ''
        )
        """
    )
    db.execute("CREATE INDEX outbox_state ON outbox(workspace, state, next_attempt_at)")
    db.execute("CREATE INDEX outbox_ticket ON outbox(ticket_id)")


def _models_and_accounting(db: Database) -> None:
    # Model providers the user added (keys live in the OS keyring), every model call, and cached results.
    db.executescript(
        """
        CREATE TABLE providers (
            id TEXT PRIMARY KEY, kind TEXT NOT NULL, label TEXT NOT NULL, api_base TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        );
        CREATE TABLE model_calls (
            id INTEGER PRIMARY KEY,
            task TEXT NOT NULL,
            tier TEXT NOT NULL,
            model TEXT NOT NULL,
            tokens_in INTEGER NOT NULL DEFAULT 0,
            tokens_out INTEGER NOT NULL DEFAULT 0,
            cost_usd REAL NOT NULL DEFAULT 0,
            latency_ms REAL NOT NULL DEFAULT 0,
            ttft_ms REAL,
            cache_hit INTEGER NOT NULL DEFAULT 0,
            ticket_id INTEGER,
            outcome TEXT NOT NULL,
            error TEXT NOT NULL DEFAULT '',
            reason TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        );
        CREATE INDEX model_calls_time ON model_calls(created_at);
        CREATE INDEX model_calls_ticket ON model_calls(ticket_id);
        CREATE TABLE model_cache (
            key TEXT PRIMARY KEY, task TEXT NOT NULL, model TEXT NOT NULL, prompt_version TEXT NOT NULL,
            content_hash TEXT NOT NULL, payload TEXT NOT NULL, created_at TEXT NOT NULL
        );
        """
    )


def _article_body_vectors(db: Database) -> None:
    # A second vector per article: the body alone (filled in by the next background indexing).
    db.execute("ALTER TABLE article_embeddings ADD COLUMN body_vector BLOB")


def _triage_examples(db: Database) -> None:
    # Labelled examples a team imports (an export of its past tickets) to teach triage besides its own tickets.
    db.execute(
        "CREATE TABLE triage_examples (workspace TEXT NOT NULL, key TEXT NOT NULL, text TEXT NOT NULL, "
        "label TEXT NOT NULL, imported_at TEXT NOT NULL, PRIMARY KEY (workspace, key))"
    )


def _text_vectors(db: Database) -> None:
    # Sentence vectors by model and text hash (the triage history's, first): a restart reads them, not re-encodes.
    db.execute(
        "CREATE TABLE text_vectors (model TEXT NOT NULL, text_hash TEXT NOT NULL, vector BLOB NOT NULL, "
        "PRIMARY KEY (model, text_hash))"
    )


def _ticket_opens(db: Database) -> None:
    # When an agent opened a ticket: the weekly review's "time from opening a ticket to sending".
    db.execute(
        "CREATE TABLE ticket_opens (id INTEGER PRIMARY KEY, ticket_id INTEGER NOT NULL REFERENCES tickets(id), "
        "opened_at TEXT NOT NULL)"
    )
    db.execute("CREATE INDEX ticket_opens_ticket ON ticket_opens(ticket_id, opened_at)")


def _regression_cases(db: Database) -> None:
    # Regression cases: a ticket snapshot and what a good answer must (not) do, versioned per (set, number);
    # a candidate waits for a lead's confirmation. Replay runs are kept so a model switch can ask for one.
    db.execute(
        "CREATE TABLE regression_cases (id INTEGER PRIMARY KEY, set_name TEXT NOT NULL, workspace TEXT NOT NULL, "
        "number INTEGER NOT NULL, version INTEGER NOT NULL, status TEXT NOT NULL, source TEXT NOT NULL, ticket TEXT NOT NULL, "
        "expect TEXT NOT NULL, kb_version TEXT NOT NULL, note TEXT NOT NULL DEFAULT '', "
        "created_by TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL, UNIQUE (set_name, number, version))"
    )
    db.execute(
        "CREATE TABLE replay_runs (id INTEGER PRIMARY KEY, set_name TEXT NOT NULL, candidate TEXT NOT NULL, "
        "model TEXT NOT NULL, verdict TEXT NOT NULL, cases INTEGER NOT NULL, report TEXT NOT NULL, "
        "created_at TEXT NOT NULL)"
    )
    db.execute("CREATE INDEX replay_runs_model ON replay_runs(model)")


def _article_ids_by_workspace(db: Database) -> None:
    # Article ids were global, so importing "invoice" into one workspace rewrote another's: key articles, their
    # versions and vectors by (workspace, id). "Not relevant" marks and outputs are keyed by ticket, which is in
    # one workspace already. Renaming a table rewrites the foreign keys that point at it, so the old tables are
    # moved aside as a group, copied (articles keep their rowids, which the FTS index points at) and dropped.
    # Plain statements only: executescript would commit the migration's transaction half-way.
    kept = [
        str(r[0])
        for r in db.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'articles' AND type IN ('index', 'trigger') "
            "AND sql IS NOT NULL"
        ).fetchall()
    ]
    for table in ("article_embeddings", "article_versions", "articles"):
        db.execute(f"ALTER TABLE {table} RENAME TO _old_{table}")
    db.execute(
        "CREATE TABLE articles (id TEXT NOT NULL, workspace TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, "
        "tags TEXT NOT NULL DEFAULT '[]', version INTEGER NOT NULL, updated_at TEXT NOT NULL, "
        "entity TEXT NOT NULL DEFAULT '', PRIMARY KEY (workspace, id))"
    )
    db.execute(
        "CREATE TABLE article_versions (id INTEGER PRIMARY KEY, workspace TEXT NOT NULL, article_id TEXT NOT NULL, "
        "version INTEGER NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, author TEXT NOT NULL, "
        "reason TEXT NOT NULL, created_at TEXT NOT NULL, UNIQUE (workspace, article_id, version), "
        "FOREIGN KEY (workspace, article_id) REFERENCES articles(workspace, id))"
    )
    db.execute(
        "CREATE TABLE article_embeddings (workspace TEXT NOT NULL, article_id TEXT NOT NULL, model TEXT NOT NULL, "
        "version INTEGER NOT NULL, vector BLOB NOT NULL, body_vector BLOB, PRIMARY KEY (workspace, article_id, model), "
        "FOREIGN KEY (workspace, article_id) REFERENCES articles(workspace, id))"
    )
    db.execute(
        "INSERT INTO articles (rowid, id, workspace, title, body, tags, version, updated_at, entity) "
        "SELECT rowid, id, workspace, title, body, tags, version, updated_at, entity FROM _old_articles"
    )
    # An orphan row (impossible while foreign keys are on) fails the migration instead of vanishing.
    db.execute(
        "INSERT INTO article_versions (id, workspace, article_id, version, title, body, author, reason, created_at) "
        "SELECT v.id, coalesce(a.workspace, ''), v.article_id, v.version, v.title, v.body, v.author, v.reason, "
        "v.created_at FROM _old_article_versions v LEFT JOIN _old_articles a ON a.id = v.article_id"
    )
    db.execute(
        "INSERT INTO article_embeddings (workspace, article_id, model, version, vector, body_vector) "
        "SELECT coalesce(a.workspace, ''), e.article_id, e.model, e.version, e.vector, e.body_vector "
        "FROM _old_article_embeddings e LEFT JOIN _old_articles a ON a.id = e.article_id"
    )
    for table in ("article_embeddings", "article_versions", "articles"):
        db.execute(f"DROP TABLE _old_{table}")
    for sql in kept:  # the FTS triggers and the entity index, as they were
        db.execute(sql)
    db.execute("CREATE INDEX article_versions_article ON article_versions(workspace, article_id)")
    db.execute("INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')")
    problems = db.execute("PRAGMA foreign_key_check").fetchall()
    if problems:
        raise DatabaseError(
            f"The knowledge base has {len(problems)} rows that point at no article; nothing was changed.",
            "Move the database aside and restart, or ask for help with the file.",
        )


def _sync_skipped(db: Database) -> None:
    # Help-desk records a sync could not read or store, with the reason: the sync moves past them, the agent
    # sees them (status line, `sync --json`). One row per record and reason; a later good copy clears it.
    db.execute(
        "CREATE TABLE sync_skipped (id INTEGER PRIMARY KEY, workspace TEXT NOT NULL REFERENCES workspaces(id), "
        "record TEXT NOT NULL, reason TEXT NOT NULL, skipped_at TEXT NOT NULL, UNIQUE (workspace, record, reason))"
    )


def _outbox_error_kind(db: Database) -> None:
    # Why a reply failed, as a kind ("auth": the help desk refused or lacked the token), so a new token retries
    # exactly those; before, the retry matched words in the stored error text.
    db.execute("ALTER TABLE outbox ADD COLUMN error_kind TEXT NOT NULL DEFAULT ''")
    db.execute(
        "UPDATE outbox SET error_kind = 'auth' WHERE state = 'failed' AND "
        "(last_error LIKE '%refused the credentials%' OR last_error LIKE '%No API token%')"
    )


def _articles_version(db: Database) -> None:
    # One number that changes with every write to the articles (insert, edit, delete, in any workspace), kept by
    # triggers in the writing transaction: a search asks it instead of scanning every article to see whether its
    # remembered word counts still hold (5-6 ms at 30,000 articles, on every search).
    db.execute("CREATE TABLE articles_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)")
    db.execute("INSERT INTO articles_version (id, version) VALUES (1, 0)")
    for event in ("INSERT", "UPDATE", "DELETE"):
        db.execute(
            f"CREATE TRIGGER articles_version_{event.lower()} AFTER {event} ON articles "
            "BEGIN UPDATE articles_version SET version = version + 1 WHERE id = 1; END"
        )


def _inbox_order_index(db: Database) -> None:
    # The inbox lists a workspace's tickets by latest change (urgent ones first, read apart): with this index its
    # first page is read in order and stops there, instead of sorting every ticket of the workspace each time.
    db.execute("CREATE INDEX tickets_inbox_order ON tickets(workspace, updated_at DESC, number)")


def _article_windows(db: Database) -> None:
    # A long paragraph's windows get a vector each (kb/passages.py). `windows` says how many an article's current
    # vectors include; NULL for vectors made before, so those articles get their windows on the next indexing
    # (only the windows are encoded for them: their own vectors are still current).
    db.execute("ALTER TABLE article_embeddings ADD COLUMN windows INTEGER")
    db.execute(
        "CREATE TABLE article_window_vectors (workspace TEXT NOT NULL, article_id TEXT NOT NULL, model TEXT NOT NULL, "
        "version INTEGER NOT NULL, n INTEGER NOT NULL, vector BLOB NOT NULL, "
        "PRIMARY KEY (workspace, article_id, model, n), "
        "FOREIGN KEY (workspace, article_id) REFERENCES articles(workspace, id))"
    )


def _triage_models(db: Database) -> None:
    # A workspace's trained triage classifiers (the whole history's and the folds', `part`), as saved by the
    # engine, with the hash of what they were trained on: a restart reads them instead of training again.
    db.execute(
        "CREATE TABLE triage_models (workspace TEXT NOT NULL, part TEXT NOT NULL, fit_key TEXT NOT NULL, "
        "model BLOB NOT NULL, saved_at TEXT NOT NULL, PRIMARY KEY (workspace, part))"
    )


MIGRATIONS: list[Migration] = [
    ("0001_initial_schema", _initial_schema),
    ("0002_workspace_article_urls", _workspace_article_urls),
    ("0003_article_entities", _article_entities),
    ("0004_article_embeddings", _article_embeddings),
    ("0005_helpdesk_sync_and_outbox", _helpdesk_sync_and_outbox),
    ("0006_models_and_accounting", _models_and_accounting),
    ("0007_article_body_vectors", _article_body_vectors),
    ("0008_triage_examples", _triage_examples),
    ("0009_text_vectors", _text_vectors),
    ("0010_ticket_opens", _ticket_opens),
    ("0011_regression_cases", _regression_cases),
    ("0012_article_ids_by_workspace", _article_ids_by_workspace),
    ("0013_sync_skipped", _sync_skipped),
    ("0014_outbox_error_kind", _outbox_error_kind),
    ("0015_articles_version", _articles_version),
    ("0016_inbox_order_index", _inbox_order_index),
    ("0017_article_windows", _article_windows),
    ("0018_triage_models", _triage_models),
]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def applied_migrations(db: Database) -> list[str]:
    if "_migrations" not in db.table_names():
        return []
    return [row["name"] for row in db.query("SELECT name FROM _migrations ORDER BY id")]


def migrate(db: Database, migrations: list[Migration] | None = None) -> list[str]:
    """Apply the migrations this database lacks; refuse a database from a newer app."""
    steps = MIGRATIONS if migrations is None else migrations
    known = [name for name, _ in steps]
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (id INTEGER PRIMARY KEY, name TEXT UNIQUE, applied_at TEXT)")
    done = applied_migrations(db)
    unknown = [name for name in done if name not in known]
    if unknown:
        raise DatabaseError(
            f"The database was written by a newer version of Support Copilot (it has {unknown[-1]}).",
            "Update Support Copilot, or point COPILOT_HOME at another folder. The file was left untouched.",
        )
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version > len(done) or (version and version < len(done)):
        raise DatabaseError(
            f"The database's schema version ({version}) does not match its {len(done)} recorded migrations.",
            "The file was changed outside Support Copilot or is damaged. Move it aside and restart; "
            "nothing was written to it.",
        )
    ran: list[str] = []
    for name, step in steps:
        if name in done:
            continue
        with transaction(db):
            step(db)
            db.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)", (name, _now()))
            # user_version mirrors the migrations table, so a damaged or hand-edited table is noticed.
            db.execute(f"PRAGMA user_version = {len(applied_migrations(db))}")
        ran.append(name)
    if not ran and version == 0 and done:  # written before user_version was kept
        db.execute(f"PRAGMA user_version = {len(done)}")
    return ran
