"""Schema of a winnow project file, as numbered sqlite-utils migrations.

Applied on open. A file written by a newer winnow (a migration name we do not know) is refused
rather than guessed at. Each migration is append-only: never edit one that has shipped.

A new step: a function `mNNN_what(db)` decorated with `@step`, after the last one. Only
sqlite-utils' public migration API is used (the decorator, apply, pending, applied,
ensure_migrations_table); the ordered list of steps is ours (STEPS, NAMES).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations

Step = Callable[["Database"], None]

SET_NAME = "winnow"  # the migration set's name in the bookkeeping table
MIGRATIONS_TABLE = "_sqlite_migrations"  # sqlite-utils' bookkeeping table (Migrations.migrations_table)

# Our own list of the steps, in the order they apply: sqlite-utils keeps its list private, so the
# names (NAMES, below) and a subset (migration_set) are derived from this one. sqlite-utils is
# imported only to run migrations (and `migrations`, the full set, is built on first use): opening
# an up-to-date project reads the bookkeeping table with plain sqlite3 (applied_names).
STEPS: list[Step] = []


def step(fn: Step) -> Step:
    """Register a migration: appended to STEPS (its name is the function's); it joins sqlite-utils'
    migration set, through its public decorator, when `migrations` or migration_set() builds one."""
    STEPS.append(fn)
    return fn


def migration_set(names: Iterable[str]) -> Migrations:
    """A fresh migration set of winnow's name holding those of our steps named in `names`, in
    their order there (names unknown here are left out); through the public decorator only."""
    from sqlite_utils.migrations import Migrations

    by_name = {fn.__name__: fn for fn in STEPS}
    subset = Migrations(SET_NAME)
    for name in dict.fromkeys(names):
        if name in by_name:
            subset()(by_name[name])
    return subset


_all: list[Migrations] = []


def __getattr__(name: str) -> Migrations:
    """`migrations`: every step as one sqlite-utils migration set, built (and sqlite-utils
    imported) on first use."""
    if name != "migrations":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if not _all:
        _all.append(migration_set(NAMES))
    return _all[0]


def applied_names(conn: sqlite3.Connection) -> list[str]:
    """The names sqlite-utils' `migrations.applied(db)` reads, in the order they were applied, read
    with plain sqlite3 as it reads them: from a table or view named exactly `_sqlite_migrations`
    (none: nothing applied), its rows of winnow's set in rowid order. The file is untrusted: only
    this SELECT runs on it; a table without a `name` column fails with sqlite3's "no such column"
    (sqlite-utils' `select *` raised KeyError) and one without `applied_at` is left to the schema
    check (sqlite-utils raised KeyError)."""
    kinds = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE name = ? AND type IN ('table', 'view')", (MIGRATIONS_TABLE,)
    ).fetchall()
    if not kinds:
        return []
    rows = conn.execute(
        f'SELECT name FROM "{MIGRATIONS_TABLE}" WHERE migration_set = ? ORDER BY rowid', (SET_NAME,)
    ).fetchall()
    return [r[0] for r in rows]


def pending_names(conn: sqlite3.Connection) -> list[str]:
    """Our steps the file does not record as applied, in order (sqlite-utils' `pending`)."""
    done = set(applied_names(conn))
    return [n for n in NAMES if n not in done]


def run_script(db: Database, script: str) -> None:
    """Run statements one by one: executescript() would COMMIT the migration's transaction."""
    for statement in statements(script):
        db.execute(statement)


def statements(script: str) -> Iterator[str]:
    """The statements of an SQL script, without their `;` and with `--` comments removed.

    A statement ends at the first `;` after which SQLite's own sqlite3.complete_statement() says
    it is complete, so a `;` inside a string, a quoted name, a comment or a trigger's
    BEGIN ... END does not split it. Comments go (quotes respected) so that the schema stored in
    sqlite_master is the same text it always was."""
    pending = ""
    pieces = script.split(";")
    for i, piece in enumerate(pieces):
        pending += piece
        last = i == len(pieces) - 1
        if not last and not sqlite3.complete_statement(pending + ";"):
            pending += ";"
            continue
        text = _without_line_comments(pending)
        if text.strip():
            yield text
        pending = ""


def _without_line_comments(sql: str) -> str:
    """`sql` less its `-- ...` comments (to the end of the line, the newline kept); quotes,
    quoted names and /* ... */ comments are passed through unchanged."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c in "'\"`[":
            close = "]" if c == "[" else c
            j = i + 1
            while True:
                j = sql.find(close, j)
                if j == -1:
                    j = n
                    break
                if close != "]" and sql.startswith(close * 2, j):  # a doubled quote stays inside
                    j += 2
                    continue
                j += 1
                break
            out.append(sql[i:j])
            i = j
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            j = n if j == -1 else j + 2
            out.append(sql[i:j])
            i = j
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j == -1 else j
        else:
            out.append(c)
            i += 1
    return "".join(out)


@step
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
        """,
    )


@step
def m002_analysis(db: Database) -> None:
    """Near-duplicate and leakage analysis (review/analysis). Everything here is derived data:
    dropping these tables loses cached work, never a decision."""
    run_script(
        db,
        """
        -- The text each analysis field compares, per sample, as a hash (samples never change, so
        -- this is computed once per sample). '' marks an empty text, which no detector compares.
        CREATE TABLE analysis_texts (
            field TEXT NOT NULL,           -- full | prompt | answer
            sample_id INTEGER NOT NULL,
            text_hash TEXT NOT NULL,       -- model.text_hash() of the field's text
            PRIMARY KEY (field, sample_id)
        ) WITHOUT ROWID;
        CREATE INDEX analysis_texts_hash ON analysis_texts(field, text_hash, sample_id);
        -- Embedding cache: one float32 vector (little-endian, unit length) per text and model.
        CREATE TABLE embeddings (
            id INTEGER PRIMARY KEY,
            text_hash TEXT NOT NULL,
            model_id TEXT NOT NULL,
            dim INTEGER NOT NULL,
            vector BLOB NOT NULL,
            UNIQUE (model_id, text_hash)
        );
        -- MinHash signature cache (uint32 little-endian), per text and shingling scheme.
        CREATE TABLE minhashes (
            id INTEGER PRIMARY KEY,
            scheme TEXT NOT NULL,
            text_hash TEXT NOT NULL,
            signature BLOB NOT NULL,
            UNIQUE (scheme, text_hash)
        );
        -- Each detector's current settings and figures; results below belong to these settings.
        CREATE TABLE analysis_detectors (
            detector TEXT PRIMARY KEY,     -- exact | lexical | semantic
            settings TEXT NOT NULL,        -- JSON: field, threshold, model ...
            figures TEXT NOT NULL DEFAULT '{}',  -- JSON: pairs, flagged, clusters, largest, mass
            complete INTEGER NOT NULL DEFAULT 0,  -- 0 while a run is part-way through
            updated_at TEXT NOT NULL
        );
        -- Texts a detector has already compared with every text indexed before them.
        CREATE TABLE analysis_indexed (
            detector TEXT NOT NULL,
            text_hash TEXT NOT NULL,
            PRIMARY KEY (detector, text_hash)
        ) WITHOUT ROWID;
        -- Near-duplicate links between two different texts (a < b), with their similarity.
        CREATE TABLE dup_links (
            detector TEXT NOT NULL,
            a TEXT NOT NULL,
            b TEXT NOT NULL,
            score REAL NOT NULL,
            PRIMARY KEY (detector, a, b)
        ) WITHOUT ROWID;
        CREATE INDEX dup_links_b ON dup_links(detector, b);
        -- Clusters (connected components of the links), per sample: its cluster (named by its
        -- smallest sample id), the cluster's size and the sample's strongest link.
        CREATE TABLE dup_clusters (
            sample_id INTEGER NOT NULL,
            detector TEXT NOT NULL,
            cluster_id INTEGER NOT NULL,
            size INTEGER NOT NULL,
            partner INTEGER NOT NULL,
            score REAL NOT NULL,
            PRIMARY KEY (sample_id, detector)
        ) WITHOUT ROWID;
        CREATE INDEX dup_clusters_cluster ON dup_clusters(detector, cluster_id, sample_id);
        -- The duplicates queue: every clustered sample, group by group (all detectors' clusters merged).
        CREATE TABLE dup_queue (
            rank INTEGER PRIMARY KEY,
            sample_id INTEGER NOT NULL UNIQUE,
            group_id INTEGER NOT NULL
        );
        -- Training samples that near-duplicate an evaluation sample (the latest `winnow leakage`).
        CREATE TABLE leaks (
            sample_id INTEGER NOT NULL,
            detector TEXT NOT NULL,
            score REAL NOT NULL,
            eval_source TEXT NOT NULL,       -- the eval file or project's name
            eval_position INTEGER NOT NULL,  -- 0-based record index in the eval file
            eval_line INTEGER NOT NULL,
            eval_text TEXT NOT NULL,         -- the eval sample's compared text, for the compare pane
            PRIMARY KEY (sample_id, eval_position, detector)
        ) WITHOUT ROWID;
        -- One row per analysis or leakage run, for progress, resume and `winnow stats`.
        CREATE TABLE analysis_runs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,              -- analyze | leakage
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL,            -- running | done | cancelled | failed
            summary TEXT NOT NULL DEFAULT '{}'
        );
        """,
    )


@step
def m003_style(db: Database) -> None:
    """Style fingerprints, drift / contradiction / noise flags and their queues (review/style).
    Derived data: dropping these tables loses cached work, never a decision. Named m003 (the number
    reserved for it) though it follows m004 here; migrations apply in file order, by name."""
    run_script(
        db,
        """
        -- One fingerprint per distinct answer text and feature-table version: an answer is
        -- fingerprinted again only when its text (or review/style/features.py) changes.
        CREATE TABLE style_fingerprints (
            answer_key TEXT NOT NULL,      -- blake2b-128 of the exact answer text (case and width kept)
            version INTEGER NOT NULL,      -- features.FEATURE_VERSION
            move TEXT NOT NULL,            -- answer | clarify | refuse | redirect
            script TEXT NOT NULL,          -- zh | en | mixed | ja | ko | other | none
            tokens INTEGER NOT NULL,
            features TEXT NOT NULL,        -- JSON of fingerprint.Fingerprint
            PRIMARY KEY (answer_key, version)
        ) WITHOUT ROWID;
        -- Which answer each sample has ('' for none), for per-goal figures by SQL join.
        CREATE TABLE style_samples (
            sample_id INTEGER PRIMARY KEY,
            answer_key TEXT NOT NULL
        );
        CREATE INDEX style_samples_answer ON style_samples(answer_key);
        -- What the latest style run found, one row per flag shown on the review screen.
        CREATE TABLE style_flags (
            id INTEGER PRIMARY KEY,
            sample_id INTEGER NOT NULL,
            kind TEXT NOT NULL,            -- style | conflict | noise
            score REAL NOT NULL,
            partner INTEGER,               -- typical answer / contradicting sample
            members TEXT NOT NULL,         -- JSON [sample ids]
            label TEXT NOT NULL,
            details TEXT NOT NULL,         -- JSON [named features / evidence, with counts]
            reason TEXT NOT NULL,          -- suggested drop reason
            shown INTEGER NOT NULL DEFAULT 1  -- 0: found but left off the screen (drift of a noisy sample)
        );
        CREATE INDEX style_flags_sample ON style_flags(sample_id, kind);
        CREATE INDEX style_flags_kind ON style_flags(kind, shown, score);
        -- The review queues "style_drift", "contradictions" and "noisy", in order.
        CREATE TABLE style_queue (
            kind TEXT NOT NULL,
            rank INTEGER NOT NULL,
            sample_id INTEGER NOT NULL,
            PRIMARY KEY (kind, rank)
        ) WITHOUT ROWID;
        CREATE UNIQUE INDEX style_queue_sample ON style_queue(kind, sample_id);
        -- Run summary and report tables of the latest run (JSON values).
        CREATE TABLE style_state (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        """,
    )


@step
def m004_goals_batches_exports(db: Database) -> None:
    """Goal wording history, proposed review batches, and recorded exports (issue 6)."""
    run_script(
        db,
        """
        -- Every wording a goal has had; goals.sentence is the newest. log_position is the newest
        -- action id when the wording took effect: decisions older than that need re-review.
        CREATE TABLE goal_revisions (
            id INTEGER PRIMARY KEY,
            goal_id INTEGER NOT NULL REFERENCES goals(id),
            sentence TEXT NOT NULL,
            hypothesis TEXT NOT NULL DEFAULT '',
            at TEXT NOT NULL,
            log_position INTEGER NOT NULL DEFAULT 0,
            note TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX goal_revisions_goal ON goal_revisions(goal_id, id);
        INSERT INTO goal_revisions (goal_id, sentence, hypothesis, at, log_position, note)
            SELECT id, sentence, hypothesis, created_at, 0, 'created' FROM goals;
        -- A proposed first batch: which samples, in which order, chosen how.
        CREATE TABLE batches (
            id INTEGER PRIMARY KEY,
            goal_id INTEGER NOT NULL REFERENCES goals(id),
            size INTEGER NOT NULL,
            seed INTEGER NOT NULL,
            method TEXT NOT NULL,          -- JSON: what the strata were
            created_at TEXT NOT NULL
        );
        CREATE TABLE batch_items (
            batch_id INTEGER NOT NULL REFERENCES batches(id),
            pos INTEGER NOT NULL,
            sample_id INTEGER NOT NULL,
            why TEXT NOT NULL DEFAULT '',  -- the stratum it stands for
            PRIMARY KEY (batch_id, pos)
        ) WITHOUT ROWID;
        CREATE INDEX batch_items_sample ON batch_items(batch_id, sample_id);
        -- Every export: where, what, and from which decisions, so a training run traces back.
        CREATE TABLE exports (
            id INTEGER PRIMARY KEY,
            goal_id INTEGER NOT NULL REFERENCES goals(id),
            at TEXT NOT NULL,
            log_position INTEGER NOT NULL,
            files TEXT NOT NULL,           -- JSON [{path, records, sha256, format}]
            manifest TEXT NOT NULL,        -- path of the manifest
            kept INTEGER NOT NULL
        );
        CREATE TABLE export_items (
            export_id INTEGER NOT NULL REFERENCES exports(id),
            sample_id INTEGER NOT NULL,
            PRIMARY KEY (export_id, sample_id)
        ) WITHOUT ROWID;
        """,
    )


@step
def m005_goal_revision(db: Database) -> None:
    """A counter that every goal edit and archive (or restore) bumps (issue 12). A review screen
    painted a goal at some revision; each write it makes compares that revision with this one
    inside the write transaction, so a goal reworded or archived by another process is never
    written under a wording the screen did not show."""
    run_script(
        db,
        """
        ALTER TABLE goals ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
        """,
    )


@step
def m006_goal_relevance(db: Database) -> None:
    """Goal consistency (issue 14 item 6): each sample's relevance to a goal's sentence and to the
    samples kept under it, from the latest `winnow goal score` (review/relevance.py). Derived
    data: dropping these tables loses the scores, never a decision."""
    run_script(
        db,
        """
        -- One row per goal and scored sample. rank 1 is the most off-goal sample: the "off_goal"
        -- queue steps by rank. score is the off-goal confidence (higher = further off the goal).
        CREATE TABLE goal_relevance (
            goal_id INTEGER NOT NULL REFERENCES goals(id),
            sample_id INTEGER NOT NULL,
            rank INTEGER NOT NULL,
            score REAL NOT NULL,
            goal_sim REAL NOT NULL,        -- cosine similarity to the goal sentence
            kept_sim REAL,                 -- cosine similarity to the kept samples' centroid; NULL: none kept
            flagged INTEGER NOT NULL DEFAULT 0,  -- 1: shown as an off-goal flag
            PRIMARY KEY (goal_id, sample_id)
        ) WITHOUT ROWID;
        CREATE UNIQUE INDEX goal_relevance_rank ON goal_relevance(goal_id, rank);
        -- The latest scoring of each goal: what it was scored against, so a screen can say when
        -- the wording or the kept set has moved on since.
        CREATE TABLE goal_relevance_runs (
            goal_id INTEGER PRIMARY KEY REFERENCES goals(id),
            revision INTEGER NOT NULL,     -- goals.revision scored against
            sentence TEXT NOT NULL,
            model_id TEXT NOT NULL,
            kept INTEGER NOT NULL,         -- kept samples in the centroid
            scored INTEGER NOT NULL,
            flagged INTEGER NOT NULL,
            figures TEXT NOT NULL DEFAULT '{}',  -- JSON: typical similarities, cut-offs
            at TEXT NOT NULL
        );
        """,
    )


@step
def m007_preference(db: Database) -> None:
    """Preference data (issue 15): a DPO/ORPO pair keeps its rejected answer beside the chosen one
    (the chosen answer stays the sample's answer, in `turns`), a KTO record its desirable /
    undesirable label, and any record its media references. Every existing sample is neither:
    '' / NULL, which is what a plain sample holds."""
    run_script(
        db,
        """
        ALTER TABLE samples ADD COLUMN rejected TEXT NOT NULL DEFAULT '';  -- JSON turns of the rejected answer; '' when not a pair
        ALTER TABLE samples ADD COLUMN label INTEGER;                      -- KTO: 1 desirable, 0 undesirable; NULL when none
        ALTER TABLE samples ADD COLUMN media TEXT NOT NULL DEFAULT '';     -- JSON ["image: path", ...]; '' when none
        """,
    )


@step
def m008_bulk_actions(db: Database) -> None:
    """Bulk decisions (issue 16): an action that decides a whole queue, search result, flag kind
    or id list records what it selected, so `winnow undo` and the audit can name it. JSON
    {"selector": ..., "verdict": ..., "samples": N, ...}; NULL for every other action. An action
    was already one undo step owning any number of events: nothing else changes."""
    run_script(
        db,
        """
        ALTER TABLE actions ADD COLUMN detail TEXT;
        """,
    )


@step
def m009_report_index(db: Database) -> None:
    """An index the report's counts and contradiction pairs read without touching the table:
    count(DISTINCT sample_id) per kind and each conflict flag's other side (sample_id = partner,
    partner = sample_id). Without it, 1.3M style flags took 14 s to count per kind and the pair
    lookups read the table at random. style_flags is derived data (a style run rebuilds it), so
    the index only costs the time to build it once (about 7 s at 1.3M flags)."""
    run_script(
        db,
        """
        CREATE INDEX style_flags_pair ON style_flags(kind, shown, sample_id, partner);
        """,
    )


@step
def m010_preference_decisions(db: Database) -> None:
    """Preference decisions (issue 15): a pair can be kept swapped (chosen and rejected the wrong
    way round) or dropped as both bad, a KTO record kept with its label flipped. The decision says
    which: '' for every decision made so far, which is what a plain keep or drop holds."""
    run_script(
        db,
        """
        ALTER TABLE decisions ADD COLUMN pref TEXT NOT NULL DEFAULT '';  -- '' | swapped | flipped | both-bad
        """,
    )


@step
def m011_pair_checks(db: Database) -> None:
    """Preference pair analysis (issue 15, review/analysis/pairs.py): what the pair checks found
    (near-identical chosen/rejected, rejected better by the noise rules, contradicting
    preferences, the same prompt in several records), one row per sample and check, and the
    "pairs" queue ranked most certain first. Derived data: every `winnow analyze` rebuilds it."""
    run_script(
        db,
        """
        CREATE TABLE pair_flags (
            sample_id INTEGER NOT NULL,
            kind TEXT NOT NULL,              -- pair-same | pair-noise | pair-contradiction | pair-prompt
            partner INTEGER,                 -- the other record (contradiction, same prompt); NULL otherwise
            score REAL NOT NULL,             -- how certain (0-1): the queue's order
            label TEXT NOT NULL,             -- the flag's words
            members TEXT NOT NULL DEFAULT '[]',  -- JSON ids of the records involved, this one included
            details TEXT NOT NULL DEFAULT '[]',  -- JSON lines the review screen lists under the flag
            PRIMARY KEY (sample_id, kind)
        ) WITHOUT ROWID;
        CREATE TABLE pair_queue (
            rank INTEGER PRIMARY KEY,
            sample_id INTEGER NOT NULL
        );
        CREATE UNIQUE INDEX pair_queue_sample ON pair_queue(sample_id);
        -- The latest pair run: what it read and how many of each check fired (JSON values).
        CREATE TABLE pair_state (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        """,
    )


# Every step's name, in order: what a project that ran them all records as applied.
NAMES: tuple[str, ...] = tuple(fn.__name__ for fn in STEPS)
