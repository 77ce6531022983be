"""ReviewSession: queue, cursor, resume — what the review screen drives."""

from __future__ import annotations

import pytest

from review.lock import ProjectLock, ProjectLocked
from review.model import Decision, Queue
from review.session import ReviewSession, open_session
from review.store import Store


@pytest.fixture
def session(project):
    g, _ = project.add_goal("Answer support questions in one consistent style.")
    return ReviewSession(project, g)


def test_keep_and_drop_advance_and_commit(session, project):
    assert session.view().number == 1
    session.keep()
    assert session.view().number == 2
    session.drop("contradictory", note="30 vs none")
    assert session.view().number == 3
    # committed: a second connection sees it now
    other = Store(project.path)
    assert other.decision(session.goal.id, 1) == Decision("keep")
    assert other.decision(session.goal.id, 2) == Decision("drop", "contradictory", "30 vs none")
    other.close()
    c = session.counts()
    assert (c.kept, c.dropped, c.undecided) == (1, 1, 4)


def test_navigation_and_queues(session):
    assert not session.previous()  # at the start
    assert session.jump(4) and session.view().number == 4
    assert not session.jump(999) and session.view().number == 4
    session.keep()  # 4 kept, now at 5
    session.drop("duplicate")  # 5 dropped, now at 6
    assert session.first_undecided() and session.view().number == 1
    assert session.set_queue(Queue("kept")) and session.view().number == 4
    assert not session.next()  # only one kept
    assert session.set_queue(Queue("reason", "duplicate")) and session.view().number == 5
    assert session.view().queue_size == 1 and session.view().queue_label == "dropped as duplicate"
    assert not session.set_queue(Queue("tag", "nothing"))  # empty queue: unchanged
    assert session.view().queue.kind == "reason"
    session.set_queue(Queue("search", "重置"))
    assert session.view().number == 4
    session.set_queue(Queue("search", "REFUND"))
    assert session.view().number == 2  # case-insensitive, from the start when nothing after cursor
    session.set_queue(Queue("undecided"))
    seen = [session.view().number]
    while session.next():
        seen.append(session.view().number)
    assert seen == [2, 3, 6]  # the queue starts at the cursor (2), not back at the top


def test_undecided_queue_advances_past_decided(session):
    session.set_queue(Queue("undecided"))
    session.keep()
    session.keep()
    assert session.view().number == 3
    session.undo()
    assert session.view().number == 2  # undo returns to the sample it touched
    assert session.view().decision == Decision()
    session.redo()
    assert session.view().decision == Decision("keep")


def test_resume_restores_goal_queue_and_cursor(project):
    g, _ = project.add_goal("first goal")
    s = ReviewSession(project, g)
    assert not s.resumed
    s.set_queue(Queue("undecided"))
    s.keep()
    s.keep()
    path = project.path
    project.close()
    store = Store(path)
    again = open_session(store)
    assert again.goal.id == g.id and again.resumed
    assert again.view().number == 3
    assert again.queue == Queue("undecided")
    store.close()


def test_goal_switch_keeps_each_goal_position(project):
    a, _ = project.add_goal("goal a")
    s = ReviewSession(project, a)
    s.jump(5)
    b, _ = project.add_goal("goal b")
    s.switch_goal(b)
    assert s.view().number == 1
    s.jump(3)
    s.switch_goal(a)
    assert s.view().number == 5
    assert project.active_goal().id == a.id


def test_flags_from_hashes(session):
    flags = session.flags(session.store.sample(1))
    exact = [f for f in flags if f.kind == "exact"]
    assert exact and exact[0].partner == 5 and exact[0].members == (1, 5)
    same = [f for f in session.flags(session.store.sample(2)) if f.kind == "same-prompt"]
    assert same and same[0].partner == 3


def test_keep_and_drop_cluster_is_one_step(session):
    session.keep_and_drop(1, [1, 5])
    c = session.counts()
    assert (c.kept, c.by_reason) == (1, {"duplicate": 1})
    session.undo()
    assert session.counts().decided == 0


def test_second_review_screen_is_refused(project):
    first = ProjectLock(project.path)
    first.acquire()
    try:
        with pytest.raises(ProjectLocked, match="already open for review"):
            ProjectLock(project.path).acquire()
    finally:
        first.release()
    again = ProjectLock(project.path)
    again.acquire()  # released locks can be taken again
    again.release()
