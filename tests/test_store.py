"""The project file: import into one transaction, raw records verbatim, hashes, sources."""

from __future__ import annotations

import json
import sqlite3

import pytest
from builders import chat, write_jsonl
from hypothesis import given
from hypothesis import strategies as st

from review.importers import InputError
from review.model import Queue
from review.queues import default_queues
from review.store import ProjectError, Store


def dump(path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def test_import_keeps_raw_records_verbatim(project, data_file):
    lines = data_file.read_text(encoding="utf-8").splitlines()
    samples = list(project.iter_samples())
    assert [s.raw for s in samples] == lines
    assert [s.line for s in samples] == list(range(1, len(lines) + 1))
    assert [s.position for s in samples] == list(range(len(lines)))
    assert project.total_samples() == len(lines)
    zh = samples[3]
    assert zh.conversation.system == "你是客服助手。"
    assert [t.role for t in zh.conversation.turns] == ["user", "assistant"]
    assert zh.conversation.answer_text() == "请在“设置 → 安全”中选择重置密码。"


def test_hashes_separate_prompt_and_answer(project):
    s = {x.id: x for x in project.iter_samples()}
    assert s[1].content_hash == s[5].content_hash  # a repeated record
    assert s[2].prompt_hash == s[3].prompt_hash and s[2].answer_hash != s[3].answer_hash
    assert s[1].content_hash != s[2].content_hash


def test_same_file_twice_adds_nothing_and_second_file_joins(project, data_file, tmp_path):
    again = project.import_file(data_file)
    assert again.already_imported and again.added == 0
    assert project.total_samples() == 6
    other = write_jsonl(tmp_path / "more.jsonl", [chat("Where is my invoice?", "Under Billing → Invoices.")])
    report = project.import_file(other)
    assert report.added == 1 and not report.already_imported
    assert project.total_samples() == 7
    assert [s.name for s in project.sources()] == ["train.jsonl", "more.jsonl"]


def test_repeats_inside_a_file_are_kept_and_reported(tmp_path, data_file):
    store = Store(tmp_path / "p.db")
    report = store.import_file(data_file)
    assert report.added == 6
    assert report.repeated_records == 1
    assert report.repeated_examples == ((5, 1),)


def test_failed_import_leaves_the_database_exactly_as_it_was(project, tmp_path):
    good = [chat(f"question {i}", f"answer {i}") for i in range(5000)]
    bad = tmp_path / "bad.jsonl"
    write_jsonl(bad, good)
    with open(bad, "a", encoding="utf-8") as fh:
        fh.write('{"messages": [{"role": "user", "content": "truncated"\n')
    before = dump(project.path)
    with pytest.raises(InputError) as e:
        project.import_file(bad, batch_size=100)  # many batches were inserted before the error
    assert "bad.jsonl:5001" in str(e.value)
    assert dump(project.path) == before
    assert project.total_samples() == 6


def test_skip_invalid_imports_the_rest_and_lists_skipped(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        json.dumps(chat("a", "b")) + "\n" + "{not json\n" + json.dumps(chat("c", "d")) + "\n", encoding="utf-8"
    )
    store = Store(tmp_path / "p.db")
    report = store.import_file(path, skip_invalid=True)
    assert report.added == 2
    assert len(report.skipped) == 1 and "mixed.jsonl:2" in report.skipped[0]


def test_wal_mode_and_schema_recorded(project):
    assert project.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert "m001_initial" in project.meta("schema")


def test_refuses_a_file_from_a_newer_winnow(tmp_path):
    path = tmp_path / "p.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('winnow', 'm999_future', 'x')"
    )
    conn.commit()
    conn.close()
    with pytest.raises(ProjectError, match="newer winnow"):
        Store(path)


def test_refuses_files_that_are_not_projects(tmp_path):
    text = tmp_path / "notes.db"
    text.write_text("hello")
    with pytest.raises(ProjectError, match="not an SQLite file"):
        Store(text)
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE customers (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(ProjectError, match="not a winnow project"):
        Store(other)
    with pytest.raises(ProjectError, match="no such project"):
        Store(tmp_path / "missing.db", create=False)


def test_upgrade_from_an_older_schema_keeps_data(tmp_path, data_file):
    """A project written before the latest migrations opens, upgrades and keeps its data."""
    from sqlite_utils import Database

    from review.migrations import NAMES, migrations

    names = list(NAMES)
    path = tmp_path / "old.db"
    store = Store(path)
    store.import_file(data_file)
    g, _ = store.add_goal("Keep answers short.")
    store.close()
    # Rewind: the file an older winnow (m001 only) would have written, holding the same rows.
    # (Dropping the later tables is not enough: a later migration may alter an m001 table, and
    # winnow refuses a schema no migration list creates.)
    later = names[1:]
    if later:
        old = tmp_path / "rewound.db"
        db = Database(old)
        migrations.apply(db, stop_before=later[0])
        db.execute("ATTACH DATABASE ? AS f", [str(path)])
        for t in db.table_names():
            if t != "_sqlite_migrations":
                cols = ", ".join(f"[{c.name}]" for c in db[t].columns)
                db.execute(f"INSERT INTO [{t}] ({cols}) SELECT {cols} FROM f.[{t}]")
        db.conn.commit()
        db.close()
        path = old
    store = Store(path)
    assert [m.name for m in migrations.applied(store.db)] == names
    assert store.total_samples() == 6
    assert store.goal(g.id).sentence == "Keep answers short."
    store.close()


@given(st.lists(st.tuples(st.sampled_from(["user", "assistant", "tool"]), st.text(), st.none() | st.text())))
def test_turns_json_is_exactly_json_dumps(turns):
    from review.model import Conversation, Turn

    conv = Conversation("", tuple(Turn(r, c, n) for r, c, n in turns))
    assert conv.turns_json() == json.dumps([t.to_json() for t in conv.turns], ensure_ascii=False)
    assert Conversation.from_stored("", conv.turns_json(), "") == conv


def test_search_finds_quotes_backslashes_and_keeps_non_ascii_case(tmp_path):
    src = write_jsonl(
        tmp_path / "s.jsonl",
        [
            chat("plain question", "plain answer"),
            chat('Why does it say "hi" now?', r"Look in C:\Users\me first."),
            chat("Привет, как дела?", "Хорошо.", system='Say "ok" when done.'),
        ],
    )
    with Store(tmp_path / "p.db") as store:
        store.import_file(src)
        goal = store.add_goal("Answer briefly.")

        def found(text: str) -> int | None:
            return default_queues().step(store, goal, Queue("search", text), 0)

        assert found('say "hi') == 2  # case-folded ASCII, quote as typed
        assert found(r"c:\users\ME") == 2
        assert found("Привет") == 3  # non-ASCII matched as typed
        assert found('say "OK"') == 3  # the system prompt is plain text
        assert found('"hi" now?"') is None


def test_interrupt_from_another_thread_stops_a_running_query(tmp_path):
    """Store.interrupt() is how the review screen cancels a long search without reaching into the
    connection. The query below would count for minutes; the interrupt ends it at once."""
    import threading
    import time

    store = Store(tmp_path / "p.db")
    running = threading.Event()
    done = threading.Event()

    def keep_interrupting() -> None:
        running.wait(30)
        deadline = time.monotonic() + 30  # generous: the query starts within milliseconds
        while not done.is_set() and time.monotonic() < deadline:
            store.interrupt()  # a no-op until the statement is running, so repeat until it stops
            time.sleep(0.01)

    t = threading.Thread(target=keep_interrupting)
    t.start()
    try:
        running.set()
        with pytest.raises(sqlite3.OperationalError, match="interrupted"):
            store.conn.execute(
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 5000000000) SELECT count(*) FROM c"
            ).fetchone()
    finally:
        done.set()
        t.join()
    assert store.total_samples() == 0  # the Store is still usable
    store.close()
