"""Bulk decisions (issue 16 item 1): one log action that one undo reverts, previewed first, in
the store, the session and `winnow decide` / `winnow undo`; atomic and durable under kill -9;
the m008 upgrade."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from builders import chat, copy_rows_from, write_jsonl
from click.testing import CliRunner

from review.model import UNDECIDED, Decision, Queue
from review.session import ReviewSession, parse_ids
from review.store import Change, Store
from tui.cli import cli

ROOT = Path(__file__).resolve().parents[1]


def make_project(tmp_path: Path, n: int = 30) -> Path:
    recs = [
        chat(f"question {i}", "As an AI language model, I cannot say." if i % 3 == 0 else f"answer {i}")
        for i in range(n)
    ]
    recs.append(chat("question 0", "As an AI language model, I cannot say."))  # an exact copy of #1
    src = write_jsonl(tmp_path / "t.jsonl", recs)
    db = tmp_path / "p.db"
    with Store(db) as s:
        s.import_file(src)
        s.add_goal("Short helpful answers.")
    return db


@pytest.fixture
def db(tmp_path) -> Path:
    return make_project(tmp_path)


def session_of(store: Store) -> ReviewSession:
    goal = store.active_goal()
    assert goal is not None
    return ReviewSession(store, goal)


def consistent(store: Store, goal_id: int) -> dict[int, Decision]:
    """The materialised state equals a replay of the log, and the tallies equal the state."""
    state = store.rebuild_decisions(goal_id)
    assert store.materialised_decisions(goal_id) == state
    c = store.counts(goal_id)
    assert c.kept == sum(d.verdict == "keep" for d in state.values())
    assert c.dropped == sum(d.verdict == "drop" for d in state.values())
    reasons: dict[str, int] = {}
    tags: dict[str, int] = {}
    for d in state.values():
        if d.reason:
            reasons[d.reason] = reasons.get(d.reason, 0) + 1
        for t in d.tags:
            tags[t] = tags.get(t, 0) + 1
    assert c.by_reason == reasons
    assert c.by_tag == tags
    return state


# ---------------------------------------------------------------------- store and session


def test_a_bulk_decision_is_one_action_and_one_undo_restores_every_sample_as_it_was(db):
    with Store(db) as store:
        s = session_of(store)
        g = s.goal.id
        s.store.apply(g, [Change(1, "keep"), Change(4, "drop", "duplicate"), Change(4, "tag", value="x")])
        s.store.apply(g, [Change(3, "note", value="look again")])
        before = consistent(store, g)
        sel = s.select("search", "as an ai")
        assert sel.ids == (1, 4, 7, 10, 13, 16, 19, 22, 25, 28, 31)
        p = s.preview_bulk(sel, "drop", reason="style-drift", tags=["boilerplate", "a-z"], note="boilerplate opener")
        assert (p.matched, p.undecided, p.overwritten, p.already, len(p.changes)) == (11, 9, 2, 0, 11)
        actions = store.conn.execute("SELECT count(*) FROM actions").fetchone()[0]
        aid = s.bulk_decide(p)
        assert store.conn.execute("SELECT count(*) FROM actions").fetchone()[0] == actions + 1
        events = store.conn.execute("SELECT kind, count(*) FROM events WHERE action_id = ? GROUP BY kind", (aid,))
        assert dict(events.fetchall()) == {"drop": 11, "tag": 22, "note": 11}
        after = consistent(store, g)
        for sid in sel.ids:
            assert after[sid].verdict == "drop" and after[sid].reason == "style-drift"
            assert after[sid].note == "boilerplate opener"
            assert after[sid].tags == (("a-z", "boilerplate", "x") if sid == 4 else ("a-z", "boilerplate"))
        assert after[3].note == "look again" and after[3].verdict is None  # not selected: untouched
        flip = s.undo_step()
        assert flip.action == aid and flip.action_kind == "bulk" and flip.touched == list(sel.ids)
        assert flip.detail and flip.detail["selector"] == {"search": "as an ai"} and flip.detail["samples"] == 11
        assert consistent(store, g) == before
        assert store.decision(g, 1) == Decision("keep")
        assert s.redo() == list(sel.ids)
        assert consistent(store, g) == after


def test_the_preview_counts_undecided_overwritten_already_and_only_undecided_leaves_decided_alone(db):
    with Store(db) as store:
        s = session_of(store)
        g = s.goal.id
        store.apply(g, [Change(1, "keep"), Change(2, "drop", "noisy"), Change(3, "drop", "duplicate")])
        sel = s.select("ids", "1-5")
        p = s.preview_bulk(sel, "drop", reason="duplicate")
        assert (p.matched, p.undecided, p.overwritten, p.already, p.skipped) == (5, 2, 2, 1, 0)
        assert p.changes == (1, 2, 4, 5)  # #3 is already so: nothing to write for it
        assert [f[:2] for f in p.first] == [(1, "kept"), (2, "dropped (noisy)"), (4, "undecided"), (5, "undecided")]
        assert p.first[0][2] == "question 0"
        only = s.preview_bulk(sel, "drop", reason="duplicate", only_undecided=True)
        assert (only.undecided, only.skipped, only.changes) == (2, 3, (4, 5))
        s.bulk_decide(only)
        assert store.decision(g, 1) == Decision("keep") and store.decision(g, 2).reason == "noisy"
        assert store.decision(g, 4).reason == "duplicate"
        consistent(store, g)


def test_a_search_preview_shows_each_sample_around_its_match(tmp_path):
    src = write_jsonl(
        tmp_path / "s.jsonl",
        [
            chat("Describe the villain.", "He speaks in a raspy voice and has an air of consequence and power."),
            chat("Say something.", "As an AI language model, I cannot have opinions."),
        ],
    )
    with Store(tmp_path / "s.db") as store:
        store.import_file(src)
        store.add_goal("Direct answers.")
        s = session_of(store)
        p = s.preview_bulk(s.select("search", "as an ai"), "drop")
        lines = [f[2] for f in p.first]
        assert lines[0] == "…a raspy voice and has an air of consequence and power."
        assert lines[1].endswith("assistant: As an AI language model, I cannot have opinions.")
        assert all("as an ai" in f[2].lower() for f in p.first)


def test_the_screens_figures_are_the_previews_for_every_choice(db):
    from review.model import REASONS
    from review.session import summarize

    with Store(db) as store:
        s = session_of(store)
        store.apply(1, [Change(1, "keep"), Change(2, "drop", "noisy"), Change(3, "drop", "duplicate")])
        store.apply(1, [Change(4, "drop", "duplicate")])
        sel = s.select("ids", "1-8")
        summary = summarize(store, s.goal, sel)
        assert (summary.matched, summary.undecided, summary.kept, summary.dropped) == (
            8,
            4,
            1,
            {"noisy": 1, "duplicate": 2},
        )
        for verdict, reason in [("keep", None)] + [("drop", r) for r in REASONS]:
            p = s.preview_bulk(sel, verdict, reason=reason)
            assert summary.figures(verdict, reason) == (len(p.changes), p.overwritten, p.already), (verdict, reason)


def test_a_sample_named_twice_is_decided_and_counted_once(db):
    with Store(db) as store:
        store.apply_bulk(1, [3, 3, 4], "drop", reason="noisy")
        assert consistent(store, 1) == {3: Decision("drop", "noisy"), 4: Decision("drop", "noisy")}
        assert store.counts(1).dropped == 2


def test_nothing_to_change_writes_nothing(db):
    with Store(db) as store:
        s = session_of(store)
        s.bulk_decide(s.preview_bulk(s.select("ids", "1-3"), "keep"))
        n = store.conn.execute("SELECT count(*) FROM actions").fetchone()[0]
        again = s.preview_bulk(s.select("ids", "1-3"), "keep")
        assert again.changes == () and again.already == 3
        assert s.bulk_decide(again) is None
        assert store.conn.execute("SELECT count(*) FROM actions").fetchone()[0] == n


def test_queue_selection_is_the_queue_as_it_stands_built_in_and_stepped(db):
    with Store(db) as store:
        s = session_of(store)
        g = s.goal.id
        store.apply(g, [Change(2, "drop", "duplicate"), Change(5, "drop", "duplicate"), Change(6, "keep")])
        store.apply(g, [Change(6, "tag", value="ok")])
        assert s.select("queue", "reason=duplicate").ids == (2, 5)
        assert s.select("queue", "kept").ids == (6,)
        assert s.select("queue", "tag=ok").ids == (6,)
        und = s.select("queue", "undecided")
        assert len(und.ids) == store.total_samples() - 3 and 2 not in und.ids
        # A kind with no one-query listing is stepped: the same samples a curator steps through.
        stepped = s.queues.with_queue("odd", s.queues.spec("all").__class__("odd ones", _odd_step))
        from review.session import select_queue

        sel = select_queue(store, g, stepped, Queue("odd"))
        assert sel.ids == tuple(range(1, store.total_samples() + 1, 2))
        assert sel.selector == {"queue": "odd"} and sel.label == "queue “odd ones”"
        with pytest.raises(ValueError, match="unknown queue"):
            s.select("queue", "nonesuch")


def _odd_step(store, goal_id, queue, after, forward):
    nxt = store.step_all(after, forward)
    while nxt is not None and nxt % 2 == 0:
        nxt = store.step_all(nxt, forward)
    return nxt


def test_flag_selection_is_exactly_the_samples_the_screen_flags(db):
    with Store(db) as store:
        s = session_of(store)
        sel = s.select("flag", "exact")
        assert sel.ids == (1, 31)  # #31 is an exact copy of #1
        for sid in range(1, store.total_samples() + 1):
            sample = store.sample(sid)
            flagged = any(f.kind == "exact" for f in s.flags(sample))
            assert flagged == (sid in sel.ids)
        with pytest.raises(ValueError, match="no flag kind 'nope'; one of exact"):
            s.select("flag", "nope")
        # KIND=TEXT: only the flags of that kind that say TEXT (label or details).
        narrowed = s.select("flag", "exact=2 COPIES")
        assert narrowed.ids == (1, 31) and narrowed.label == "flag “exact” with “2 COPIES”"
        assert s.select("flag", "exact=3 copies").ids == ()


def test_ids_are_parsed_and_every_one_must_exist(db):
    assert parse_ids("1,5-9, 12") == [(1, 1), (5, 9), (12, 12)]
    for bad, msg in (("1,x", "'x' is not a sample number"), ("9-5", "runs backwards"), (",", "no sample numbers")):
        with pytest.raises(ValueError, match=msg):
            parse_ids(bad)
    with Store(db) as store:
        s = session_of(store)
        assert s.select("ids", "3,1-2,2").ids == (1, 2, 3)
        with pytest.raises(
            ValueError, match=r"no sample #32, #33, #34, #35, #36 \(10 of 12 missing\) .* nothing was decided"
        ):
            s.select("ids", "30-41")


def test_undo_of_a_bulk_decision_keeps_the_cursor_on_the_sample_on_screen(db):
    with Store(db) as store:
        s = session_of(store)
        s.jump(7)
        s.bulk_decide(s.preview_bulk(s.select("search", "as an ai"), "drop"))
        s.undo()
        assert s.cursor == 7
        s.keep()  # a single decision: undo goes back to that sample as before
        assert s.cursor == 8
        s.undo()
        assert s.cursor == 7


# ---------------------------------------------------------------------- the commands


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args, code=0):
        result = runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result

    return invoke


def test_decide_prints_the_preview_then_writes_one_step_that_undo_reverts(db, run):
    out = run("decide", "--db", db, "--search", "As an AI language model", "drop", "--reason", "style-drift").output
    assert "goal #1: Short helpful answers." in out
    assert "search “As an AI language model”: 11 samples → drop as style-drift" in out
    assert "11 undecided · 0 decided otherwise, overwritten · 0 already so" in out
    assert (
        "#1 " in out and "…estion 0 assistant: As an AI language model, I cannot say." in out and "… and 6 more" in out
    )
    assert "decided 11 samples as one step" in out
    with Store(db) as store:
        assert store.counts(1).by_reason == {"style-drift": 11}
    out = run("undo", "--db", db).output
    assert "undone: drop as style-drift of 11 samples (search “As an AI language model”)" in out
    with Store(db) as store:
        assert store.counts(1).dropped == 0 and consistent(store, 1) == {}
    run("redo", "--db", db)
    with Store(db) as store:
        assert store.counts(1).dropped == 11


def test_dry_run_writes_nothing_and_json_carries_the_same_figures(db, run):
    run("decide", "--db", db, "--ids", "1-2", "keep")
    with Store(db) as store:
        n = store.conn.execute("SELECT count(*) FROM actions").fetchone()[0]
    out = run("decide", "--db", db, "--ids", "1-4", "drop", "--dry-run", "--json").output
    data = json.loads(out)
    assert data["dry_run"] is True and data["action"] is None
    assert (data["matched"], data["undecided"], data["overwritten"], data["will_change"]) == (4, 2, 2, 4)
    assert data["goal"] == {"id": 1, "sentence": "Short helpful answers."}
    assert data["reason"] == "other" and [f["id"] for f in data["first"]] == [1, 2, 3, 4]
    with Store(db) as store:
        assert store.conn.execute("SELECT count(*) FROM actions").fetchone()[0] == n
        assert store.decision(1, 3) == UNDECIDED
    data = json.loads(run("decide", "--db", db, "--ids", "1-4", "drop", "--json", "--tag", "t").output)
    assert data["dry_run"] is False and isinstance(data["action"], int)
    undo = json.loads(run("undo", "--db", db, "--json", "--steps", "5").output)
    assert [r["action"] for r in undo["undo"]] == [data["action"], data["action"] - 1]
    assert undo["undo"][0]["detail"]["selector"] == {"ids": "1-4"} and undo["undo"][0]["samples"] == 4
    with Store(db) as store:
        assert consistent(store, 1) == {}


def test_decide_refuses_what_it_cannot_do_in_one_line(db, run):
    r = run("decide", "--db", db, "keep", code=2)
    assert "exactly one of --queue, --search, --flag, --ids" in r.output
    r = run("decide", "--db", db, "--ids", "1", "--search", "x", "keep", code=2)
    assert "exactly one of" in r.output
    r = run("decide", "--db", db, "--ids", "1", "keep", "--reason", "noisy", code=2)
    assert "--reason goes with drop" in r.output
    r = run("decide", "--db", db, "--ids", "99", "keep", code=2)
    assert "no sample #99" in r.output and "Traceback" not in r.output
    r = run("decide", "--db", db, "--queue", "nonesuch", "keep", code=2)
    assert "unknown queue 'nonesuch'" in r.output
    r = run("undo", "--db", db)
    assert "nothing to undo under goal #1" in r.output


def test_decide_is_refused_while_a_review_screen_holds_the_project(db, run):
    from review.lock import ProjectLock

    lock = ProjectLock(db)
    lock.acquire()
    try:
        r = run("decide", "--db", db, "--ids", "1", "keep", code=2)
        assert "already open for review" in r.output and "nothing was written" in r.output
        assert "nothing" in run("decide", "--db", db, "--ids", "1", "keep", "--dry-run").output  # a preview only reads
    finally:
        lock.release()
    with Store(db) as store:
        assert store.decision(1, 1) == UNDECIDED


def test_keep_one_keeps_one_per_cluster_and_drops_the_rest_as_one_step(tmp_path, run):
    recs = [chat("q a", "same a")] * 3 + [chat("q b", "same b")] * 2 + [chat("q c", "unique")]
    src = write_jsonl(tmp_path / "k.jsonl", recs)
    db = tmp_path / "k.db"
    with Store(db) as store:
        store.import_file(src)
        store.add_goal("One of each.")
        store.apply(1, [Change(2, "keep")])  # the curator's pick in the first cluster stays kept
    out = run("decide", "--db", db, "--flag", "exact", "keep-one", "--dry-run").output
    assert "2 clusters → keep 2 (one each), drop 3 as duplicate" in out and "keeping #2, #4" in out
    data = json.loads(run("decide", "--db", db, "--flag", "exact", "keep-one", "--json").output)
    assert (data["clusters"], data["keep"], data["drop"], data["overwritten"]) == (2, 2, 3, 0)
    with Store(db) as store:
        state = consistent(store, 1)
        assert {k: (d.verdict, d.reason) for k, d in state.items()} == {
            1: ("drop", "duplicate"),
            2: ("keep", None),
            3: ("drop", "duplicate"),
            4: ("keep", None),
            5: ("drop", "duplicate"),
        }
    assert "undone: keep one per cluster of 5 samples" in run("undo", "--db", db).output
    with Store(db) as store:
        assert {k: d.verdict for k, d in consistent(store, 1).items()} == {2: "keep"}
    r = run("decide", "--db", db, "--flag", "noise", "keep-one", code=2)
    assert "keep-one goes with --flag exact | lexical | semantic" in r.output


@pytest.mark.parametrize("command", ["decide", "undo", "redo"])
def test_help(run, command):
    out = run(command, "--help").output
    assert "Example:" in out and "--db" in out and "--json" in out


# ---------------------------------------------------------------------- kill -9


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from review.store import Store
    from review.session import ReviewSession
    store = Store(sys.argv[1])
    s = ReviewSession(store, store.active_goal())
    p = s.preview_bulk(s.select("queue", "all"), "drop", reason="noisy")
    if sys.argv[2] == "inside":
        from contextlib import contextmanager
        real = store.tx
        @contextmanager
        def dying(**kw):
            with real(**kw) as conn:
                yield conn
                os.kill(os.getpid(), signal.SIGKILL)  # every row written, COMMIT not yet
        store.tx = dying
    s.bulk_decide(p)
    print("decided", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # reported: it must be in the file
    """
)


@pytest.mark.parametrize("where", ["inside", "after"])
def test_a_bulk_decision_survives_kill_9_whole_or_not_at_all(db, where):
    r = subprocess.run(
        [sys.executable, "-c", KILLER, str(db), where], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert r.returncode == -signal.SIGKILL, r.stderr
    with Store(db) as store:
        n = store.total_samples()
        state = consistent(store, 1)
        if where == "after":
            assert r.stdout.strip() == "decided"
            assert len(state) == n and store.counts(1).by_reason == {"noisy": n}
        else:
            assert r.stdout == ""
            assert state == {} and store.conn.execute("SELECT count(*) FROM events").fetchone()[0] == 0


# ---------------------------------------------------------------------- m008


def test_a_project_from_before_m008_upgrades_and_its_old_actions_undo(tmp_path):
    from sqlite_utils import Database

    from review.migrations import NAMES, migration_set, migrations

    older = NAMES[: NAMES.index("m008_bulk_actions")]  # what a winnow before bulk decisions wrote
    path = tmp_path / "old.db"
    src = write_jsonl(tmp_path / "s.jsonl", [chat(f"q{i}", f"a{i}") for i in range(3)])
    with Store(tmp_path / "new.db") as s:
        s.import_file(src)
        g, _ = s.add_goal("Keep it short.")
        s.apply(g.id, [Change(1, "keep"), Change(2, "drop", "noisy")], kind="batch")
    db = Database(path)
    migration_set(older).apply(db)
    cols = [c.name for c in db["actions"].columns]
    assert "detail" not in cols
    copy_rows_from(db, tmp_path / "new.db")
    with Store(path) as store:
        assert [m.name for m in migrations.applied(store.db)] == list(NAMES)
        assert store.conn.execute("SELECT detail FROM actions").fetchall() == [(None,)]
        flip = store.flip(g.id, "undo")
        assert flip.action_kind == "batch" and flip.detail is None and flip.touched == [1, 2]
        assert consistent(store, g.id) == {}


# ---------------------------------------------------------------------- overwrite and its undo


def varied_history(store: Store, g: int, n: int) -> None:
    """Every kind of prior state over samples 1..n: kept, dropped for each reason, swapped,
    flipped, both-bad, undecided; no tags, one, several, some untagged again; notes, including
    a note set twice and one set back to empty; and one undone step among them."""
    for i in range(1, n + 1):
        changes = []
        v = i % 7
        if v == 1:
            changes.append(Change(i, "keep"))
        elif v == 2:
            changes.append(Change(i, "drop", ("noisy", "off-goal", "unsafe")[i % 3]))
        elif v == 3:
            changes.append(Change(i, ("swap", "flip", "both-bad")[i % 3], "contradictory" if i % 3 == 2 else None))
        elif v == 4:
            changes += [Change(i, "keep"), Change(i, "clear")]
        if i % 5 == 0:
            changes.append(Change(i, "tag", value="bench"))  # the tag the bulk step adds too
        if i % 4 == 0:
            changes += [Change(i, "tag", value="zh 中文"), Change(i, "tag", value="a,b")]
        if i % 8 == 0:
            changes.append(Change(i, "untag", value="a,b"))
        if i % 6 == 0:
            changes += [Change(i, "note", value=f"first {i}"), Change(i, "note", value=f'second "{i}"')]
        if i % 9 == 0:
            changes.append(Change(i, "note", value=""))
        if changes:
            store.apply(g, changes)
    store.apply(g, [Change(2, "keep"), Change(3, "tag", value="gone")])
    store.undo(g)


@pytest.mark.parametrize("tags", [["bench"], ["bench", "2nd"], []])
def test_undo_of_an_overwrite_restores_every_old_verdict_tag_and_note_exactly(tmp_path, tags):
    """A bulk drop with tags and a note over a few hundred samples in every state, on a real
    file: one undo gives back exactly the state before (tags, notes, reasons and preference
    decisions included, and the tallies), redo the state after, and again after reopening."""
    n = 300
    db = make_project(tmp_path, n)
    with Store(db) as store:
        g = store.active_goal().id  # type: ignore[union-attr]
        varied_history(store, g, n)
        before = consistent(store, g)
        assert len({d.tags for d in before.values()}) >= 4 and {d.pref for d in before.values()} >= {"swapped", ""}
        ids = list(range(1, n + 2))
        store.apply_bulk(g, ids, "drop", reason="duplicate", tags=tags, note="bulk note")
        after = consistent(store, g)
        for sid in ids:
            old = before.get(sid, UNDECIDED)
            assert after[sid] == Decision("drop", "duplicate", "bulk note", tuple(sorted(set(old.tags) | set(tags))))
        flip = store.flip(g, "undo")
        assert flip.touched == ids
        assert consistent(store, g) == before
        store.flip(g, "redo")
        assert consistent(store, g) == after
        store.flip(g, "undo")
    with Store(db) as store:
        assert consistent(store, g) == before
        store.flip(g, "redo")
        assert consistent(store, g) == after


def test_a_reason_winnow_does_not_write_is_still_counted_out_when_overwritten(db):
    """The tallies' one-pass count knows the verdicts and reasons winnow writes; a file changed
    outside winnow may hold another, which is then counted exactly all the same."""
    with Store(db) as store:
        g = store.active_goal().id  # type: ignore[union-attr]
        store.apply(g, [Change(1, "drop", "noisy"), Change(2, "drop", "noisy")])
        with store.tx() as conn:
            conn.execute("UPDATE decisions SET reason = 'legacy' WHERE goal_id = ? AND sample_id = 1", (g,))
            conn.execute("UPDATE tallies SET n = 1 WHERE goal_id = ? AND kind = 'reason' AND key = 'noisy'", (g,))
            conn.execute("INSERT INTO tallies (goal_id, kind, key, n) VALUES (?, 'reason', 'legacy', 1)", (g,))
        assert store.counts(g).by_reason == {"noisy": 1, "legacy": 1}
        store.apply_bulk(g, [1, 2, 3], "keep")
        assert store.counts(g).by_reason == {} and store.counts(g).kept == 3 and store.counts(g).dropped == 0
