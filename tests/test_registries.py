"""Queues, flag providers and the review lock are explicit (issue 13 item 1): nothing registers at
import, so what a module can do never depends on which other module happened to be imported."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Forbids modules in a fresh interpreter, as on a platform that does not have them (Windows: fcntl).
FORBID = textwrap.dedent(
    """
    import sys
    for name in {names!r}:
        sys.modules[name] = None  # `import name` now raises ImportError
    """
)


def python(code: str, *, forbid: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    prelude = FORBID.format(names=forbid) if forbid else ""
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def test_analysis_and_style_import_without_fcntl():
    done = python(
        """
        import review.analysis, review.style
        import review.lock
        print("ok" if "review.session" not in sys.modules else "imported review.session")
        """,
        forbid=("fcntl",),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_review_lock_without_any_os_lock_warns_and_does_not_lock(tmp_path):
    db = tmp_path / "p.winnow"
    done = python(
        f"""
        import json, warnings
        from pathlib import Path
        from review.lock import LockWarning, ProjectLock
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            first = ProjectLock(Path({str(db)!r}))
            first.acquire()
            second = ProjectLock(Path({str(db)!r}))
            second.acquire()  # not refused: there is no lock to hold
        print(json.dumps({{
            "warned": [str(w.message) for w in caught if issubclass(w.category, LockWarning)],
            "warning": first.warning,
            "holder": Path({str(db)!r} + ".lock").read_text(),
        }}))
        first.release()
        second.release()
        """,
        forbid=("fcntl", "msvcrt"),
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert len(out["warned"]) == 2
    assert out["warning"] == out["warned"][0]
    assert "has no file lock" in out["warning"] and "open it in one only" in out["warning"]
    assert out["holder"].startswith("winnow pid ")


def test_a_queue_steps_in_an_interpreter_that_never_imported_the_session(project):
    # Today's failure: review.store alone raised "unknown queue 'duplicates'" until something
    # happened to import review.session (whose import registered the analysis queues).
    from review.analysis.store import AnalysisStore

    goal, _ = project.add_goal("Answer support questions in one consistent style.")
    AnalysisStore(project).replace_queue([(5, 1), (1, 1), (3, 2), (2, 2)])  # two groups, in rank order
    project.close()
    done = python(
        f"""
        import json, sys
        from review.model import Queue
        from review.queues import default_queues
        from review.store import Store
        store = Store({str(project.path)!r}, create=False)
        queues = default_queues()
        walk, cur = [], 0
        while (cur := queues.step(store, {goal.id}, Queue("duplicates", "all"), cur)) is not None:
            walk.append(cur)
        print(json.dumps({{"walk": walk, "session": "review.session" in sys.modules,
                           "size": queues.size(store, {goal.id}, Queue("duplicates")),
                           "label": queues.label(Queue("duplicates"))}}))
        """
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out == {"walk": [5, 1, 3, 2], "session": False, "size": None, "label": "duplicates, cluster by cluster"}


def test_every_queue_label_reads_as_it_did():
    from review.model import Queue
    from review.queues import default_queues

    queues = default_queues()
    labels = {kind: queues.label(Queue(kind, "X")) for kind in queues}
    assert labels == {
        "all": "all samples",
        "undecided": "undecided",
        "kept": "kept",
        "dropped": "dropped",
        "reason": "dropped as X",
        "tag": "tagged X",
        "search": "search “X”",
        "batch": "proposed batch",
        "rereview": "re-review: decided under an older wording",
        "off_goal": "off-goal first",
        "duplicates": "duplicates, cluster by cluster",
        "flagged": "flagged by analysis",
        "leaks": "leaks into eval",
        "style_drift": "style drift first",
        "contradictions": "contradictions, pair by pair",
        "noisy": "noisy samples",
        "noise_kind": "noisy · X",
        "pairs": "preference pairs flagged, most certain first",
    }
    assert queues.label(Queue("some_future_kind")) == "some future kind"
    # instant (stepped on the UI thread): the indexed keyset queues; the rest go to a worker
    assert [k for k in queues if queues.instant(Queue(k))] == ["all", "undecided", "kept", "dropped", "reason", "tag"]
    assert queues.offered() == [
        "batch",
        "rereview",
        "off_goal",
        "duplicates",
        "flagged",
        "leaks",
        "style_drift",
        "contradictions",
        "noisy",
        "pairs",  # last: empty on every project without preference pairs
    ]


def test_the_session_uses_the_queues_and_flag_providers_it_is_given(project):
    from review.flags import hash_flags
    from review.model import Flag, Queue, QueueSpec
    from review.queues import default_queues
    from review.session import ReviewSession

    def evens(store, goal_id, queue, after, forward):
        n = after + 1 if forward else after - 1
        while 0 < n <= store.total_samples():
            if n % 2 == 0:
                return n
            n += 1 if forward else -1
        return None

    def marker(store, goal_id, sample):
        return [Flag("note", f"sample #{sample.id} seen by the test provider")]

    goal, _ = project.add_goal("Answer support questions in one consistent style.")
    queues = default_queues().with_queue("evens", QueueSpec("even samples", evens))
    session = ReviewSession(project, goal, queues=queues, flag_providers=[marker, hash_flags])
    assert session.set_queue(Queue("evens")) and session.cursor == 2
    assert session.next() and session.cursor == 4
    assert session.view().queue_label == "even samples" and session.view().queue == Queue("evens")
    assert [f.kind for f in session.flags(project.sample(1))] == ["note", "exact"]
    plain = ReviewSession(project, goal)  # the defaults know no "evens"
    with pytest.raises(ValueError, match="unknown queue 'evens'"):
        plain.set_queue(Queue("evens"))


def test_a_queue_is_stored_as_it_always_was(project):
    from review.model import Queue
    from review.session import ReviewSession

    goal, _ = project.add_goal("Answer support questions in one consistent style.")
    session = ReviewSession(project, goal)
    stored = lambda: json.loads(  # noqa: E731
        project.conn.execute("SELECT queue FROM goal_state WHERE goal_id = ?", (goal.id,)).fetchone()[0]
    )
    session.set_queue(Queue("search", "refund"))
    assert stored() == {"kind": "search", "value": "refund"}
    session.set_queue(Queue("undecided"))
    assert stored() == {"kind": "undecided"}
    # A file written before: the stored object is read back as the same queue.
    project.conn.execute(
        "UPDATE goal_state SET queue = ? WHERE goal_id = ?", ('{"kind": "reason", "value": "duplicate"}', goal.id)
    )
    project.conn.commit()
    assert ReviewSession(project, goal).queue == Queue("reason", "duplicate")
