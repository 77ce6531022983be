"""The project file refusing a write (an I/O error, busy, full, read-only): the Store rolls back
and stays usable, the session does not move, the CLI says what happened without a traceback.

Failures are injected at the SQLite boundary by reliability.scenarios.faults (a Connection
subclass that fails the call asked for); busy is a real second process holding the write lock.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from reliability.scenarios.contention import Holder
from reliability.scenarios.faults import build_base, dump, injected, records, verdict_on_disk, write_jsonl
from review.session import ReviewSession
from review.store import ProjectError, StorageError, Store, storage_error
from tui.cli import cli


@pytest.fixture
def base(tmp_path) -> Path:
    return build_base(tmp_path)


def test_a_failed_commit_rolls_back_and_the_next_decision_is_committed(base):
    with injected() as plan:
        store = Store(base, create=False)
        session = ReviewSession(store, store.goal(1))
        before = dump(base)
        plan.arm(sql="COMMIT")
        with pytest.raises(StorageError) as e:
            session.decide(9, "keep")
        assert plan.fired and "COMMIT" in plan.fired
        assert e.value.kind == "io" and str(base) in str(e.value)
        assert not store.conn.in_transaction
        assert dump(base) == before
        plan.arm(None)
        session.decide(9, "keep")
        # Seen through another connection: committed, not left inside the failed transaction.
        assert verdict_on_disk(base, 9) == "keep"
        store.close()


def test_undo_whose_move_fails_changes_nothing(base):
    with injected() as plan:
        store = Store(base, create=False)
        session = ReviewSession(store, store.goal(1))
        session.decide(7, "keep")
        session.jump(20)
        before = dump(base)
        plan.arm(sql="INSERT INTO goal_state")
        with pytest.raises(StorageError):
            session.undo()
        assert plan.fired
        assert dump(base) == before and session.cursor == 20
        plan.arm(None)
        assert session.undo() == [7]
        assert verdict_on_disk(base, 7) is None and session.cursor == 7
        store.close()


def test_opening_a_second_store_keeps_the_wal_safe_from_other_processes(base):
    """Opening a Store never opens the file outside SQLite: a close() of any descriptor of it
    would drop this process's locks, and another process closing the project would then delete
    the WAL under the open connection, losing every decision written after."""
    import sys

    app = Store(base, create=False)
    session = ReviewSession(app, app.goal(1))
    session.decide(7, "keep")
    Store(base, create=False).close()  # e.g. a worker's own connection in the same process
    other = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('SELECT count(*) FROM samples'); c.close()"
    )
    subprocess.run([sys.executable, "-c", other, str(base)], check=True)
    session.decide(8, "keep")
    assert Path(str(base) + "-wal").exists()
    assert verdict_on_disk(base, 7) == "keep" and verdict_on_disk(base, 8) == "keep"
    app.close()
    assert verdict_on_disk(base, 8) == "keep"


def test_a_move_that_fails_leaves_the_cursor_where_the_file_has_it(base):
    with injected() as plan:
        store = Store(base, create=False)
        session = ReviewSession(store, store.goal(1))
        start = session.cursor
        plan.arm(sql="INSERT INTO goal_state")
        with pytest.raises(StorageError):
            session.next()
        assert session.cursor == start
        store.close()


def test_busy_names_the_process_holding_the_lock(base):
    store = Store(base, create=False)
    store.set_busy_timeout(50)
    session = ReviewSession(store, store.goal(1))
    with Holder(base) as holder:
        with pytest.raises(StorageError) as e:
            session.decide(9, "keep")
    assert e.value.kind == "busy"
    assert f"process {holder.pid}" in str(e.value) and str(base) in str(e.value) and "try again" in str(e.value)
    session.decide(9, "keep")
    assert verdict_on_disk(base, 9) == "keep"
    store.close()


@pytest.mark.parametrize(
    ("code", "kind", "words"),
    [
        (sqlite3.SQLITE_BUSY, "busy", "try again"),
        (sqlite3.SQLITE_FULL, "full", "free space on"),
        (sqlite3.SQLITE_READONLY, "read-only", "copy it somewhere writable"),
        (sqlite3.SQLITE_IOERR_WRITE, "io", "check the disk"),
        (sqlite3.SQLITE_CORRUPT, "damaged", "restore a backup"),
    ],
)
def test_each_refusal_says_what_happened_and_what_to_do(tmp_path, code, kind, words):
    e = sqlite3.OperationalError("x")
    e.sqlite_errorcode = code  # type: ignore[attr-defined]
    err = storage_error(tmp_path / "p.db", e)
    assert err is not None and err.kind == kind
    assert str(err).startswith(f"{tmp_path / 'p.db'}: ") and words in str(err) and "nothing was written" in str(err)


def test_a_bug_is_not_dressed_up_as_a_storage_error(tmp_path):
    e = sqlite3.OperationalError("no such table: nope")
    e.sqlite_errorcode = sqlite3.SQLITE_ERROR  # type: ignore[attr-defined]
    assert storage_error(tmp_path / "p.db", e) is None


def test_cli_import_while_busy_is_a_message_and_changes_nothing(base, tmp_path, monkeypatch):
    monkeypatch.setattr(Store, "BUSY_TIMEOUT_MS", 100)
    data = write_jsonl(tmp_path / "more.jsonl", records(5, tag="x"))
    before = dump(base)
    with Holder(base) as holder:
        r = CliRunner().invoke(cli, ["import", str(data), "--db", str(base)])
    assert r.exit_code == 2
    assert "Traceback" not in r.output
    assert "busy" in r.output and f"process {holder.pid}" in r.output and "nothing was imported" in r.output
    assert dump(base) == before


def test_cli_import_on_a_failing_disk_is_a_message(base, tmp_path):
    data = write_jsonl(tmp_path / "more.jsonl", records(5, tag="y"))
    before = dump(base)
    with injected() as plan:
        plan.arm(sql="INSERT INTO samples")
        r = CliRunner().invoke(cli, ["import", str(data), "--db", str(base)])
        assert plan.fired
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert r.output.startswith(f"winnow: {base}: disk I/O error") and "nothing was imported" in r.output
    assert dump(base) == before


def test_a_failed_import_into_a_new_project_leaves_no_file(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": []}\n{oops\n', encoding="utf-8")
    db = tmp_path / "new.db"
    r = CliRunner().invoke(cli, ["import", str(bad), "--db", str(db)])
    assert r.exit_code == 2 and "bad.jsonl:" in r.output
    assert not db.exists() and not Path(str(db) + "-wal").exists()
    good = write_jsonl(tmp_path / "good.jsonl", records(3))
    r = CliRunner().invoke(cli, ["import", str(good), str(bad), "--db", str(db)])
    assert r.exit_code == 2 and db.exists()  # the first file went in: the project stays


def test_a_failed_creation_of_a_new_project_leaves_no_file(tmp_path):
    data = write_jsonl(tmp_path / "d.jsonl", records(3))
    db = tmp_path / "new.db"
    with injected() as plan:
        plan.arm(sql="CREATE TABLE goals")
        r = CliRunner().invoke(cli, ["import", str(data), "--db", str(db)])
        assert plan.fired
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert not db.exists()


# ---------------------------------------------------------------------------------------- read-only


@pytest.fixture
def read_only_project(base, tmp_path):
    """The project on a read-only mount (root), or chmod 444 (anyone else); else skipped."""
    if os.geteuid() != 0:
        db = tmp_path / "ro.db"
        shutil.copyfile(base, db)
        os.chmod(db, 0o444)
        yield db
        os.chmod(db, 0o644)
        return
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mnt)], capture_output=True).returncode:
        pytest.skip("root, but cannot mount a tmpfs here (no CAP_SYS_ADMIN)")
    try:
        db = mnt / "ro.db"
        shutil.copyfile(base, db)
        if subprocess.run(["mount", "-o", "remount,ro", str(mnt)], capture_output=True).returncode:
            pytest.skip("cannot remount the tmpfs read-only")
        yield db
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


def test_a_read_only_project_reads_and_refuses_writes_clearly(read_only_project):
    with Store(read_only_project, create=False) as store:
        assert store.read_only and store.total_samples() == 60
        with pytest.raises(StorageError) as e:
            store.set_meta("x", "y")
    assert e.value.kind == "read-only" and str(read_only_project) in str(e.value)
    assert "copy it somewhere writable" in str(e.value)


def test_open_refuses_a_read_only_project_and_says_what_to_do(read_only_project):
    from tui.app import make_app

    with pytest.raises(ProjectError) as e:
        make_app(read_only_project)
    assert "read-only" in str(e.value) and "copy it somewhere writable" in str(e.value)
    assert "winnow stats" in str(e.value)


def test_stats_and_export_work_on_a_read_only_project(read_only_project, tmp_path):
    r = CliRunner().invoke(cli, ["stats", "--db", str(read_only_project), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["samples"] == 60
    out = tmp_path / "kept.jsonl"
    r = CliRunner().invoke(cli, ["export", "--db", str(read_only_project), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1  # build_base keeps #2
    assert "read-only, so this export is not recorded" in r.output
    r = CliRunner().invoke(cli, ["import", str(out), "--db", str(read_only_project)])
    assert r.exit_code == 2 and "read-only" in r.output and "Traceback" not in r.output
