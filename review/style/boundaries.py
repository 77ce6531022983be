"""Boundaries per goal: the mix of answer moves in the kept set, and how stable its style is.

A good batch shows where the behaviour stops (some clarifying questions, refusals or redirects
among the plain answers), is not dominated by one kind of sample, and says things one way.
`boundary_summary` reads the kept samples' stored fingerprints (run the style analysis first) and
returns the figures and warnings; each call that sees a new kept count appends the stability to
the goal's history, so the curator can watch the batch get clearer, or not, as they decide.

Stability: for each feature in STABLE_FEATURES, how far the kept answers agree beyond chance,
(agreement - chance) / (1 - chance), where agreement is the share holding the most common value
and chance is 1/2 for a yes/no feature, 1/(values seen) for a category; length agreement is the
share within a factor of two of the median. The figure is their mean over the features some kept
answer shows (plus length): 1.00 = every kept answer alike, 0 = as mixed as a coin toss.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..model import USER, text_hash
from ..store import Store
from . import features as F
from .fingerprint import Fingerprint
from .store import StyleStore

HISTORY_KEEP = 200
_IGNORED = {"you_zh": {"none"}, "script": {"none"}, "punct_width": {"n/a", "none"}}


@dataclass(frozen=True)
class BoundarySummary:
    goal_id: int
    kept: int
    with_answer: int  # kept samples that have a fingerprinted answer
    moves: dict  # answer / clarify / refuse / redirect -> count
    stability: float | None  # None below 2 kept answers
    project_stability: float | None  # the same figure over every answer in the project
    varying: tuple[str, ...]  # the features that vary most, with counts
    warnings: tuple[str, ...]
    dominant_question: dict | None = None  # {"question", "count", "share"} when one question dominates
    history: tuple[tuple[int, float], ...] = ()  # (kept answers, stability) as decisions went on


def _consistency(values: list, ignore: set | None = None) -> tuple[float, Counter, int] | None:
    vals = [v for v in values if not ignore or v not in ignore]
    if len(vals) < 2:
        return None
    c = Counter(vals)
    top = c.most_common(1)[0][1] / len(vals)
    chance = 0.5 if all(isinstance(v, bool) for v in c) else 1.0 / max(len(c), 1)
    if chance >= 1.0:
        return 1.0, c, len(vals)
    return max(0.0, (top - chance) / (1.0 - chance)), c, len(vals)


def stability(fps: Sequence[Fingerprint]) -> tuple[float | None, list[str]]:
    """(figure, the features that vary most, worst first, each with its counts)."""
    if len(fps) < 2:
        return None, []
    scored: list[tuple[float, str]] = []
    for name in F.STABLE_FEATURES:
        feat = F.FEATURE_BY_NAME[name]
        got = _consistency([getattr(fp, name) for fp in fps], _IGNORED.get(name))
        if got is None:
            continue
        c_, counts, n = got
        if feat.kind == "flag" and not counts.get(True):
            continue  # a feature no kept answer shows says nothing about how alike they are
        if feat.kind == "flag":
            k = counts.get(True, 0)
            text = f"{feat.label}: {k} of {n} kept answers"
        else:
            text = f"{feat.label}: " + ", ".join(f"{v} {k}" for v, k in counts.most_common(4))
        scored.append((c_, text))
    toks = sorted(fp.tokens for fp in fps)
    med = max(toks[len(toks) // 2], 1)
    within = sum(1 for t in toks if med / 2 <= max(t, 1) <= med * 2) / len(toks)
    scored.append(
        (within, f"length: {toks[0]}–{toks[-1]} tokens (median {med}), {round(100 * within)}% within 2× of the median")
    )
    figure = sum(s for s, _ in scored) / len(scored)
    varying = [t for s, t in sorted(scored, key=lambda x: x[0]) if s < 0.8][:5]
    return round(figure, 3), varying


def move_warnings(moves: Counter, kept: int) -> list[str]:
    out: list[str] = []
    n = sum(moves.values())
    if n < F.BOUNDARY_MIN_KEPT:
        return out
    stops = sum(moves[m] for m in ("clarify", "refuse", "redirect"))
    if stops == 0:
        out.append(
            f"no examples of where the behaviour stops: all {n} kept answers answer directly — "
            "keep some clarifying questions, refusals or redirects"
        )
    elif stops / n < 0.02 and n >= 50:
        out.append(
            f"few examples of where the behaviour stops: {stops} of {n} kept answers "
            f"({', '.join(f'{moves[m]} {m}' for m in ('clarify', 'refuse', 'redirect') if moves[m])})"
        )
    for m in ("clarify", "refuse", "redirect"):
        if moves[m] / n >= F.DOMINANT_SHARE:
            out.append(
                f"{m} dominates: {moves[m]} of {n} kept answers ({round(100 * moves[m] / n)}%) — "
                "the batch mostly teaches the model to stop"
            )
    return out


def _last_user_turns(store: Store, ids: Iterable[int]) -> Counter:
    questions: Counter = Counter()
    ids = list(ids)
    for k in range(0, len(ids), 1000):
        for s in store.samples(ids[k : k + 1000]):
            users = [t.content for t in s.conversation.turns if t.role == USER]
            if users:
                questions[(text_hash(users[-1]), users[-1][:120])] += 1
    return questions


def boundary_summary(store: Store, goal_id: int, *, record: bool = True, question_cap: int = 20_000) -> BoundarySummary:
    ss = StyleStore(store)
    kept = ss.kept_count(goal_id)
    ids, fps = [], []
    for sid, js in ss.kept_fingerprints(goal_id, F.FEATURE_VERSION):
        ids.append(sid)
        fps.append(Fingerprint.from_json(js))
    moves = Counter({m: 0 for m in F.MOVES})
    moves.update(fp.move for fp in fps)
    figure, varying = stability(fps)
    warnings = move_warnings(moves, kept)
    dominant = None
    if len(ids) >= F.BOUNDARY_MIN_KEPT:
        qs = _last_user_turns(store, ids[:question_cap])
        if qs:
            (_, q), count = qs.most_common(1)[0]
            share = count / min(len(ids), question_cap)
            if share >= F.QUESTION_DOMINANT_SHARE and count > 1:
                dominant = {"question": q, "count": count, "share": round(share, 3)}
                warnings.append(
                    f"one question dominates: “{' '.join(q.split())[:60]}” is {count} of "
                    f"{min(len(ids), question_cap)} kept samples ({round(100 * share)}%)"
                )
    missing = ss.kept_without_fingerprint(goal_id)
    if kept and missing == kept and not fps:
        warnings.append("no style figures yet: run the style analysis (winnow report does)")
    key = f"stability_history:{goal_id}"
    stored = ss.state(key, [])
    history = [tuple(x) for x in stored] if isinstance(stored, list) else []
    if record and figure is not None and (not history or history[-1][0] != len(fps)):
        history.append((len(fps), figure))
        history = history[-HISTORY_KEEP:]
        ss.set_state({key: history})
    project = ss.state("project_stability")
    return BoundarySummary(
        goal_id=goal_id,
        kept=kept,
        with_answer=len(fps),
        moves=dict(moves),
        stability=figure,
        project_stability=project if isinstance(project, (int, float)) else None,
        varying=tuple(varying),
        warnings=tuple(warnings),
        dominant_question=dominant,
        history=tuple((int(a), float(b)) for a, b in history),
    )


def summary_dict(b: BoundarySummary) -> dict:
    return json.loads(json.dumps(b.__dict__, default=list))
