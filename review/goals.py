"""Goals as hypotheses: edit with history, archive, fork, compare two goals.

A goal's wording can change as the curator learns; an edit never rewrites what was decided.
The old wording stays in `goal_revisions`, and samples decided before the edit form the
"re-review" queue until they are decided again under the new wording.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .model import Goal
from .store import Change, Store, check_goal_sentence, now


@dataclass(frozen=True)
class Revision:
    number: int  # 1 = the wording the goal was created with
    sentence: str
    hypothesis: str
    at: str
    log_position: int  # newest action id when this wording took effect
    note: str = ""


def revisions(store: Store, goal_id: int) -> list[Revision]:
    rows = store.conn.execute(
        "SELECT sentence, hypothesis, at, log_position, note FROM goal_revisions WHERE goal_id = ? ORDER BY id",
        (goal_id,),
    ).fetchall()
    return [Revision(i + 1, *r) for i, r in enumerate(rows)]


def edit_goal(store: Store, goal_id: int, sentence: str | None = None, hypothesis: str | None = None) -> tuple[Goal, list[str]]:
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
    with store.tx() as conn:
        # revision + 1: a review screen open on this goal elsewhere refuses its next write (GoalChanged).
        conn.execute(
            "UPDATE goals SET sentence = ?, hypothesis = ?, revision = revision + 1 WHERE id = ?",
            (new_sentence, new_hyp, goal_id),
        )
        conn.execute(
            "INSERT INTO goal_revisions (goal_id, sentence, hypothesis, at, log_position, note) VALUES (?, ?, ?, ?, ?, ?)",
            (goal_id, new_sentence, new_hyp, now(), store.log_position(), "edited"),
        )
    return store.goal(goal_id), warnings


def archive_goal(store: Store, goal_id: int, archived: bool = True) -> Goal:
    """Archive (or restore) a goal: its decisions stay, but nothing more is written into it
    (Store.apply refuses) until it is restored. Both bump its revision."""
    with store.tx() as conn:
        conn.execute(
            "UPDATE goals SET archived_at = ?, revision = revision + 1 WHERE id = ?",
            (now() if archived else None, goal_id),
        )
        active = store.meta("active_goal")
        if archived and active == str(goal_id):
            others = [g for g in store.goals() if g.id != goal_id]
            conn.execute("DELETE FROM meta WHERE key = 'active_goal'")
            if others:
                conn.execute("INSERT INTO meta (key, value) VALUES ('active_goal', ?)", (str(others[-1].id),))
    return store.goal(goal_id)


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
    with store.tx() as conn:
        # The draft's wording takes effect after the copy: every copied decision needs re-review.
        conn.execute(
            "UPDATE goal_revisions SET log_position = ?, note = ? WHERE goal_id = ?",
            (store.log_position(), f"forked from goal #{src.id}", goal.id),
        )
    return goal, len({c.sample_id for c in changes})


def rereview_step(store: Store, goal_id: int, queue: dict, after: int, forward: bool) -> int | None:
    """Queue "rereview": decided samples whose last effective change predates the goal's wording."""
    op, order = (">", "ASC") if forward else ("<", "DESC")
    row = store.conn.execute(
        "SELECT max(log_position) FROM goal_revisions WHERE goal_id = ?", (goal_id,)
    ).fetchone()
    since = row[0] or 0
    if since == 0:
        return None
    r = store.conn.execute(
        f"SELECT d.sample_id FROM decisions d WHERE d.goal_id = ? AND d.verdict IS NOT NULL AND d.sample_id {op} ?"
        " AND NOT EXISTS (SELECT 1 FROM events e JOIN actions a ON a.id = e.action_id"
        "   WHERE e.goal_id = d.goal_id AND e.sample_id = d.sample_id AND e.action_id > ? AND a.undone = 0"
        "   AND e.kind IN ('keep', 'drop'))"
        f" ORDER BY d.sample_id {order} LIMIT 1",
        (goal_id, after, since),
    ).fetchone()
    return r[0] if r else None


def rereview_count(store: Store, goal_id: int) -> int:
    n, sid = 0, 0
    while (sid := rereview_step(store, goal_id, {}, sid, True) or 0) and n < 100_000:
        n += 1
    return n


@dataclass(frozen=True)
class GoalDiff:
    a: Goal
    b: Goal
    only_a: tuple[int, ...]  # kept under A, not kept under B
    only_b: tuple[int, ...]
    disagree: tuple[tuple[int, str, str], ...]  # (sample, A's verdict, B's verdict) where both decided differently
    both_kept: int
    figures: dict = field(default_factory=dict)  # per goal: kept, dropped, duplicate mass, style, boundaries


def diff_goals(store: Store, a_id: int, b_id: int) -> GoalDiff:
    a, b = store.goal(a_id), store.goal(b_id)
    da, db = store.materialised_decisions(a_id), store.materialised_decisions(b_id)
    kept_a = {s for s, d in da.items() if d.verdict == "keep"}
    kept_b = {s for s, d in db.items() if d.verdict == "keep"}
    disagree = tuple(
        (s, da[s].verdict or "", db[s].verdict or "")
        for s in sorted(set(da) & set(db))
        if da[s].verdict and db[s].verdict and da[s].verdict != db[s].verdict
    )
    figures = {g.id: goal_figures(store, g.id) for g in (a, b)}
    return GoalDiff(a, b, tuple(sorted(kept_a - kept_b)), tuple(sorted(kept_b - kept_a)), disagree,
                    len(kept_a & kept_b), figures)


def goal_figures(store: Store, goal_id: int) -> dict:
    """Size, duplicate mass, style stability and boundary mix of a goal's kept set — whatever the
    analyses present can say (a missing analysis leaves its figure out rather than guessing)."""
    c = store.counts(goal_id)
    out: dict = {"kept": c.kept, "dropped": c.dropped, "undecided": c.undecided, "dropped_by_reason": c.by_reason}
    kept = [s for s, d in store.materialised_decisions(goal_id).items() if d.verdict == "keep"]
    out["duplicate_mass"] = kept_duplicate_mass(store, kept)
    try:
        from . import style
    except ImportError:  # pragma: no cover - style analysis not installed
        return out
    from .style.boundaries import summary_dict

    b = style.boundary_summary(store, goal_id, record=False)
    out["style_stability"] = b.stability
    out["style_varying"] = list(b.varying)
    out["boundary_moves"] = b.moves
    out["boundary_warnings"] = list(b.warnings)
    out["style"] = summary_dict(b)
    return out


def kept_duplicate_mass(store: Store, kept: list[int]) -> dict:
    """How much of the kept set repeats itself: kept samples that share an exact content hash or
    a near-duplicate cluster with another kept sample."""
    if not kept:
        return {"repeating": 0, "share": 0.0}
    keep = set(kept)
    groups: dict[str, list[int]] = {}
    for chunk_start in range(0, len(kept), 500):
        chunk = kept[chunk_start:chunk_start + 500]
        q = ",".join("?" * len(chunk))
        for sid, h in store.conn.execute(f"SELECT id, content_hash FROM samples WHERE id IN ({q})", chunk):
            groups.setdefault(f"h:{h}", []).append(sid)
        try:
            rows = store.conn.execute(
                f"SELECT sample_id, detector || ':' || cluster_id FROM dup_clusters WHERE sample_id IN ({q})", chunk
            ).fetchall()
        except Exception:  # noqa: BLE001 - no analysis tables yet
            rows = []
        for sid, key in rows:
            groups.setdefault(key, []).append(sid)
    repeating = set()
    for members in groups.values():
        inside = [m for m in members if m in keep]
        if len(inside) > 1:
            repeating.update(sorted(inside)[1:])  # the first of each group is the signal, the rest repeat it
    return {"repeating": len(repeating), "share": round(len(repeating) / len(keep), 4)}


def add_more_signals(store: Store, goal_id: int, last_n: int = 50) -> dict:
    """The "should I add more?" panel: how much the kept set repeats itself, how consistent its
    style is, whether it shows where the behaviour stops — and how the last `last_n` decisions
    moved those figures. Advice is phrased from the figures, never invented."""
    now_kept = [s for s, d in store.materialised_decisions(goal_id).items() if d.verdict == "keep"]
    row = store.conn.execute(
        "SELECT id FROM actions WHERE goal_id = ? AND kind NOT IN ('undo', 'redo') ORDER BY id DESC LIMIT 1 OFFSET ?",
        (goal_id, last_n),
    ).fetchone()
    before_pos = row[0] if row else 0
    then_kept = [s for s, d in store.rebuild_decisions(goal_id, upto=before_pos).items() if d.verdict == "keep"]
    dup_now, dup_then = kept_duplicate_mass(store, now_kept), kept_duplicate_mass(store, then_kept)
    out: dict = {
        "goal": store.goal(goal_id).sentence,
        "kept": len(now_kept),
        "kept_before_last_n": len(then_kept),
        "last_n": last_n,
        "repeats": dup_now,
        "repeats_before": dup_then,
    }
    advice: list[str] = []
    try:
        from .style import boundary_summary
    except ImportError:  # pragma: no cover
        boundary_summary = None  # type: ignore[assignment]
    if boundary_summary is not None:
        b = boundary_summary(store, goal_id, record=False)
        out["style_stability"] = b.stability
        out["varying"] = list(b.varying)
        out["moves"] = b.moves
        out["boundary_warnings"] = list(b.warnings)
        earlier = [st for n, st in b.history if n <= max(len(then_kept), 0)]
        out["style_stability_before"] = earlier[-1] if earlier else None
        advice += list(b.warnings)
        if b.stability is not None and b.stability < 0.6:
            advice.append(f"style stability is {b.stability:.2f}: make the kept answers agree in style before adding more")
        if out["style_stability_before"] is not None and b.stability is not None \
                and b.stability < out["style_stability_before"] - 0.05:
            advice.append(f"the last {last_n} decisions made the style less consistent "
                          f"({out['style_stability_before']:.2f} → {b.stability:.2f})")
    if dup_now["share"] >= 0.05:
        advice.append(f"{dup_now['repeating']} kept samples ({dup_now['share']:.0%}) repeat another kept sample: "
                      "deduplicate before adding more")
    if len(now_kept) < 20:
        advice.append(f"only {len(now_kept)} kept: review a small batch first (winnow batch) before judging")
    if not advice:
        advice.append("the kept set is consistent, shows its boundaries and does not repeat itself: adding data "
                      "is justified only if you can say what the new samples strengthen")
    out["advice"] = advice
    return out
