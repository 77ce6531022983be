"""Goals as hypotheses: edit with history, archive, fork (comparing two goals: review.figures).

A goal's wording can change as the curator learns; an edit never rewrites what was decided.
The old wording stays in `goal_revisions`, and samples decided before the edit form the
"re-review" queue until they are decided again under the new wording.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import Goal, Queue, QueueSpec
from .store import Change, Store, check_goal_sentence


@dataclass(frozen=True)
class Revision:
    number: int  # 1 = the wording the goal was created with
    sentence: str
    hypothesis: str
    at: str
    log_position: int  # newest action id when this wording took effect
    note: str = ""


def revisions(store: Store, goal_id: int) -> list[Revision]:
    return [Revision(i + 1, *r) for i, r in enumerate(store.goal_revisions(goal_id))]


def edit_goal(
    store: Store, goal_id: int, sentence: str | None = None, hypothesis: str | None = None
) -> tuple[Goal, list[str]]:
    """Reword a goal (or its hypothesis note). The old wording is kept; decisions made under it
    are queued for re-review (queue kind "rereview")."""
    goal = store.goal(goal_id)
    warnings: list[str] = []
    new_sentence = goal.sentence
    if sentence is not None:
        new_sentence, warnings = check_goal_sentence(sentence)
    new_hyp = goal.hypothesis if hypothesis is None else hypothesis
    if (new_sentence, new_hyp) == (goal.sentence, goal.hypothesis):
        return goal, ["nothing changed"]
    store.reword_goal(goal_id, new_sentence, new_hyp)
    return store.goal(goal_id), warnings


def archive_goal(store: Store, goal_id: int, archived: bool = True) -> Goal:
    """Archive (or restore) a goal: its decisions stay, but nothing more is written into it
    (Store.apply refuses) until it is restored. Both bump its revision."""
    return store.archive_goal(goal_id, archived)


def fork_goal(store: Store, source_id: int, sentence: str, hypothesis: str = "") -> tuple[Goal, int]:
    """Start a new goal from another goal's decisions, as a draft: the copied decisions land as
    one undoable step under the new goal and are all in its re-review queue."""
    src = store.goal(source_id)
    goal, _ = store.add_goal(sentence, hypothesis)
    changes: list[Change] = []
    for sid, d in store.materialised_decisions(source_id).items():
        if d.verdict:
            changes.append(Change(sid, d.verdict, d.reason if d.verdict == "drop" else None))
        changes += [Change(sid, "tag", value=t) for t in d.tags]
        if d.note:
            changes.append(Change(sid, "note", value=d.note))
    if changes:
        store.apply(goal.id, changes, kind="batch")
    # The draft's wording takes effect after the copy: every copied decision needs re-review.
    store.restate_goal(goal.id, f"forked from goal #{src.id}")
    return goal, len({c.sample_id for c in changes})


def rereview_step(store: Store, goal_id: int, queue: Queue, after: int, forward: bool) -> int | None:
    """Queue "rereview": decided samples whose last effective change predates the goal's wording."""
    return store.rereview_step(goal_id, after, forward=forward)


def rereview_count(store: Store, goal_id: int) -> int:
    n, sid = 0, 0
    while (sid := rereview_step(store, goal_id, Queue("rereview"), sid, True) or 0) and n < 100_000:
        n += 1
    return n


def queue_specs() -> dict[str, QueueSpec[Store]]:
    """The re-review queue, for review.queues.default_queues()."""
    return {"rereview": QueueSpec("re-review: decided under an older wording", rereview_step)}
