"""Schema of a winnow project file, as numbered sqlite-utils migrations.

Applied on open. A file written by a newer winnow (a migration name we do not know) is refused
rather than guessed at. Each migration is append-only: never edit one that has shipped.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("winnow")


def run_script(db: Database, script: str) -> None:
    """Run statements one by one: executescript() would COMMIT the migration's transaction."""
    body = "\n".join(line.split("--", 1)[0] for line in script.splitlines())
    for statement in body.split(";"):
        if statement.strip():
            db.execute(statement)


@migrations()
def m001_initial(db: Database) -> None:
    run_script(
        db,
        """
        CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        -- One row per imported file.
        CREATE TABLE sources (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL,            -- as given on import (absolute)
            name TEXT NOT NULL,            -- file name, for display
            sha256 TEXT NOT NULL UNIQUE,   -- of the file's bytes: the same file never imports twice
            format TEXT NOT NULL,          -- alpaca | sharegpt | openai | prompt_completion | mapped
            container TEXT NOT NULL,       -- jsonl | jsonl.gz | json | json.gz | csv | parquet
            mapping TEXT NOT NULL,         -- JSON: canonical field -> source field
            header TEXT,                   -- CSV header line verbatim
            records INTEGER NOT NULL,
            imported_at TEXT NOT NULL
        );
        -- One row per record. id is stable and never reused.
        CREATE TABLE samples (
            id INTEGER PRIMARY KEY,
            source_id INTEGER NOT NULL REFERENCES sources(id),
            position INTEGER NOT NULL,     -- 0-based record index in the source
            line INTEGER NOT NULL,         -- 1-based line where the record starts
            system TEXT NOT NULL,          -- canonical system prompt ('' when none)
            turns TEXT NOT NULL,           -- JSON [{role, content, name?}], roles: user assistant tool_call tool
            tools TEXT NOT NULL,           -- JSON text of the tool schemas ('' when none)
            raw TEXT NOT NULL,             -- the original record, verbatim
            content_hash TEXT NOT NULL,    -- blake2b-128 of the normalised whole conversation
            prompt_hash TEXT NOT NULL,     -- ... of the normalised prompt side (system + turns before the answer)
            answer_hash TEXT NOT NULL,     -- ... of the normalised answer (trailing assistant turns)
            prompt_chars INTEGER NOT NULL,
            answer_chars INTEGER NOT NULL,
            n_turns INTEGER NOT NULL
        );
        CREATE INDEX samples_content_hash ON samples(content_hash);
        CREATE INDEX samples_prompt_hash ON samples(prompt_hash);
        CREATE INDEX samples_source ON samples(source_id, position);

        CREATE TABLE goals (
            id INTEGER PRIMARY KEY,
            sentence TEXT NOT NULL,
            hypothesis TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            archived_at TEXT
        );
        -- The append-only decision log. An action is one user step (what undo undoes);
        -- it owns one or more events (one per sample it touched). Undo and redo are actions too,
        -- naming their target. Nothing here is ever updated or deleted except `actions.undone`,
        -- a cache of the undo/redo replay (rebuildable from the log, see Store.rebuild_decisions).
        CREATE TABLE actions (
            id INTEGER PRIMARY KEY,
            goal_id INTEGER NOT NULL REFERENCES goals(id),
            kind TEXT NOT NULL,            -- keep | drop | tag | untag | note | clear | batch | undo | redo
            target INTEGER REFERENCES actions(id),  -- for undo / redo
            undone INTEGER NOT NULL DEFAULT 0,
            at TEXT NOT NULL
        );
        CREATE INDEX actions_goal ON actions(goal_id, id);
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            action_id INTEGER NOT NULL REFERENCES actions(id),
            goal_id INTEGER NOT NULL REFERENCES goals(id),
            sample_id INTEGER NOT NULL REFERENCES samples(id),
            kind TEXT NOT NULL,            -- keep | drop | clear | tag | untag | note
            reason TEXT,                   -- drop reason code
            value TEXT,                    -- tag name or note text
            at TEXT NOT NULL
        );
        CREATE INDEX events_goal_sample ON events(goal_id, sample_id, id);
        CREATE INDEX events_action ON events(action_id);
        -- Current state per (goal, sample): derived from the log, kept in step in the same
        -- transaction as each event so the UI never replays the log on a keypress.
        CREATE TABLE decisions (
            goal_id INTEGER NOT NULL,
            sample_id INTEGER NOT NULL,
            verdict TEXT,                  -- keep | drop | NULL
            reason TEXT,
            note TEXT NOT NULL DEFAULT '',
            tags TEXT NOT NULL DEFAULT '[]',  -- JSON list, sorted
            PRIMARY KEY (goal_id, sample_id)
        ) WITHOUT ROWID;
        CREATE INDEX decisions_verdict ON decisions(goal_id, verdict, sample_id);
        CREATE INDEX decisions_reason ON decisions(goal_id, reason, sample_id);
        CREATE TABLE decision_tags (
            goal_id INTEGER NOT NULL,
            tag TEXT NOT NULL,
            sample_id INTEGER NOT NULL,
            PRIMARY KEY (goal_id, tag, sample_id)
        ) WITHOUT ROWID;
        -- Running counts so no keypress ever needs count(*): (goal, 'verdict'|'reason'|'tag', key) -> n
        CREATE TABLE tallies (
            goal_id INTEGER NOT NULL,
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            n INTEGER NOT NULL,
            PRIMARY KEY (goal_id, kind, key)
        ) WITHOUT ROWID;
        -- Where each goal's review stands: cursor and queue filter, so reopening resumes.
        CREATE TABLE goal_state (
            goal_id INTEGER PRIMARY KEY REFERENCES goals(id),
            cursor INTEGER,
            queue TEXT NOT NULL DEFAULT '{"kind": "all"}',
            updated_at TEXT NOT NULL
        );
        """
    )
