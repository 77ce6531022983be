"""run_style_analysis: fingerprints, drift, contradictions and noise for a whole project.

Opens its own Store (call it from the thread that runs it, e.g. a TUI worker). Fingerprints are
cached per distinct answer text and feature version, so a re-run only fingerprints new answers;
neighbours, drift, contradictions and noise are recomputed each run (seconds at 52k samples) and
replace the previous flags in one transaction each.
"""

from __future__ import annotations

import json
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..model import ASSISTANT, TOOL_CALL, USER, text_hash
from ..prompt import context_key, question_key
from ..store import Store
from . import features as F
from . import noise_rules as R
from .boundaries import stability
from .conflicts import Conflict, conflict_label, disagreement, minimal_pair, question_type, same_subject
from .drift import compute_drift, drift_label, similarity_floor
from .fingerprint import Fingerprint, answer_key, fingerprint
from .neighbours import find_neighbours, pair_similarity
from .noise import Trigger, Vocabulary, length_triggers, triggers
from .noise_rules import load_boilerplate
from .store import FlagRow, StyleStore

Progress = Callable[[str, int, int], None]
NOISE_ORDER = (
    "no_user_turn",
    "empty_answer",
    "empty_turn",
    "truncated",
    "ends_on_user",
    "placeholder",
    "template_field",
    "repetition",
    "boilerplate",
    "language_mismatch",
    "extreme_length",
    "self_contradiction",
    "emotional",
    "informal",
)
NOISE_WORDS = F.NOISE_WORDS  # the flag label's words (features.py)
MAX_CONFLICT_FLAGS = 3  # per sample, strongest first
QUESTION_GROUPS_KEPT = 200


@dataclass(frozen=True)
class StyleSummary:
    samples: int
    answers: int  # samples with a non-empty answer
    fingerprinted: int  # answers fingerprinted this run
    cached: int  # answers whose fingerprint was already stored
    drift: int  # samples flagged for style drift
    conflicts: int  # contradictory pairs
    noisy: int  # samples with a noise flag
    question_groups: int  # questions asked 2+ times with 2+ different answers
    neighbours: dict = field(default_factory=dict)  # semantic / lexical / group: samples compared that way
    model: str | None = None  # embedding model whose cached vectors were used
    seconds: float = 0.0
    timings: dict = field(default_factory=dict)
    cancelled: bool = False


class Cancelled(Exception):
    pass


@dataclass
class _Exchange:
    pos: int  # sample position
    qhash: str  # review.prompt.question_key: the question with its tools and the conversation before it
    ctx: str  # review.prompt.context_key: the tools and the conversation before the question
    question: str
    answer: str
    last: bool  # the sample's final exchange (its answer)


def _exchanges(pos: int, conv) -> list[_Exchange]:
    """Every user turn answered by the assistant. Its identity is the whole setting (tools, earlier
    turns), so "继续" after two different conversations is two different questions."""
    turns = conv.turns
    out = []
    k = 0
    while k < len(turns):
        if turns[k].role == USER:
            j = k + 1
            while j < len(turns) and turns[j].role in (ASSISTANT, TOOL_CALL):
                j += 1
            answer = "\n".join(t.content for t in turns[k + 1 : j] if t.role == ASSISTANT)
            if j > k + 1 and answer.strip() and turns[k].content.strip():
                out.append(
                    _Exchange(
                        pos,
                        question_key(conv, k + 1),
                        context_key(conv, k),
                        turns[k].content,
                        answer,
                        j == len(turns),
                    )
                )
            k = j
        else:
            k += 1
    return out


def fps_tokens(key: str, new: dict, text: str) -> int:
    fp = new.get(key)
    return fp.tokens if fp is not None else len(F.TOKEN.findall(text))


def _group_value(raw: str, group_field: str) -> str | None:
    try:
        rec = json.loads(raw)
    except ValueError:
        return None
    v = rec.get(group_field) if isinstance(rec, dict) else None
    return None if v is None or v == "" else str(v)


def _cached_vectors(store: Store, hashes: list[str], embedder, texts: list[str]) -> tuple[dict[int, np.ndarray], str]:
    """Cached prompt embeddings (position -> vector) from the analysis embedding cache; with an
    `embedder`, prompts not cached yet are embedded and cached first."""
    from ..analysis.store import AnalysisStore

    a = AnalysisStore(store)
    models = a.embedding_count()
    model_id = getattr(embedder, "model_id", None) or (max(models, key=lambda m: models[m]) if models else "")
    if not model_id:
        return {}, ""
    wanted = {h for h in hashes if h}
    if embedder is not None:
        have = a.cached_embedding_hashes(model_id)
        todo = sorted(wanted - have)
        first = {h: i for i, h in reversed(list(enumerate(hashes)))}
        for k in range(0, len(todo), 64):
            batch = todo[k : k + 64]
            vecs = np.asarray(embedder.encode([texts[first[h]] for h in batch]), dtype=np.float32)
            a.add_embeddings(model_id, vecs.shape[1], [(h, v.astype("<f4").tobytes()) for h, v in zip(batch, vecs)])
    found: dict[str, np.ndarray] = {}
    for h, dim, blob in a.embeddings(model_id, sorted(wanted)):
        found[h] = np.frombuffer(blob, dtype="<f4", count=dim)
    if len(found) < 0.5 * max(len(wanted), 1):
        return {}, ""  # too few prompts embedded to compare like with like; stay lexical
    return {i: found[h] for i, h in enumerate(hashes) if h in found}, model_id


def run_style_analysis(
    db_path: str | Path,
    *,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    group_field: str | None = None,
    embedder=None,
) -> StyleSummary:
    """Fingerprint every answer, then flag style drift, contradictions and noise.

    progress(stage, done, total) is called between batches; should_stop() is polled there, and a
    stop keeps the fingerprints computed so far (the summary says cancelled=True). group_field
    names a top-level field of the source records (e.g. "category") whose values are the
    comparison groups of samples with too few similar prompts. embedder: embed prompts that are
    not in the embedding cache yet (else only cached vectors are used, else n-grams).
    """
    t0 = time.perf_counter()
    timings: dict[str, float] = {}

    def report(stage: str, done: int, total: int) -> None:
        if progress:
            progress(stage, done, total)

    def check() -> None:
        if should_stop and should_stop():
            raise Cancelled

    store = Store(db_path, create=False)
    try:
        ss = StyleStore(store)
        total = store.total_samples()
        cached = ss.cached_keys(F.FEATURE_VERSION)
        ids: list[int] = []
        prompts: list[str] = []
        prompt_hashes: list[str] = []
        keys: list[str] = []
        group_vals: list[str | None] = []
        exchanges: list[_Exchange] = []
        new: dict[str, Fingerprint] = {}
        vocab = Vocabulary()
        ends_on_user = no_user = 0
        long_answers = punctuated = 0
        pending: list[tuple[str, str, str, int, str]] = []
        sample_keys: list[tuple[int, str]] = []
        try:
            report("fingerprints", 0, total)
            for s in store.iter_samples(batch=2000):
                conv = s.conversation
                prompt_turns, answer_turns = conv.split()
                prompt = "\n".join(t.content for t in prompt_turns)
                answer = "\n".join(t.content for t in answer_turns if t.role == ASSISTANT)
                key = answer_key(answer) if answer.strip() else ""
                if key and key not in cached and key not in new:
                    fp = fingerprint(answer)
                    new[key] = fp
                    pending.append((key, fp.move, fp.script, fp.tokens, fp.to_json()))
                pos = len(ids)
                ids.append(s.id)
                prompts.append(prompt)
                prompt_hashes.append(text_hash(prompt) if prompt.strip() else "")
                keys.append(key)
                sample_keys.append((s.id, key))
                if group_field:
                    group_vals.append(_group_value(s.raw, group_field))
                exchanges.extend(_exchanges(pos, conv))
                vocab.add(prompt)
                vocab.add(answer)
                if conv.turns and conv.turns[-1].role == USER:
                    ends_on_user += 1
                no_user += not any(t.role == USER and t.content.strip() for t in conv.turns)
                stripped = answer.rstrip()
                if fps_tokens(key, new, stripped) >= F.TRUNCATED_MIN_TOKENS:
                    long_answers += 1
                    punctuated += bool(F.TERMINAL.search(stripped))
                if len(ids) % 2000 == 0:
                    ss.add_fingerprints(F.FEATURE_VERSION, pending)
                    ss.set_sample_keys(sample_keys)
                    pending, sample_keys = [], []
                    report("fingerprints", len(ids), total)
                    check()
            ss.add_fingerprints(F.FEATURE_VERSION, pending)
            ss.set_sample_keys(sample_keys)
            report("fingerprints", len(ids), total)
            timings["fingerprints"] = time.perf_counter() - t0
            check()

            fps: list[Fingerprint | None] = [None] * len(ids)
            need = sorted({k for k in keys if k and k not in new})
            stored = ss.fingerprints(F.FEATURE_VERSION, need)
            parsed = {k: Fingerprint.from_json(v) for k, v in stored.items()}
            for i, k in enumerate(keys):
                if k:
                    fps[i] = new.get(k) or parsed.get(k)
            timings["load"] = time.perf_counter() - t0 - sum(timings.values())

            t = time.perf_counter()
            report("neighbours", 0, len(ids))
            vectors, model_id = _cached_vectors(store, prompt_hashes, embedder, prompts)
            nb = find_neighbours(
                prompts,
                F.K_NEIGHBOURS,
                vectors=vectors,
                model_id=model_id,
                should_stop=should_stop,
                on_block=lambda d, n: report("neighbours", d, n),
            )
            check()
            timings["neighbours"] = time.perf_counter() - t

            t = time.perf_counter()
            report("drift", 0, len(ids))
            min_sim = similarity_floor(nb.source, prompts, vectors)
            group_names: list[str] = []
            groups = None
            if group_field:
                names = sorted({v for v in group_vals if v is not None})
                code = {v: i for i, v in enumerate(names)}
                groups = np.array([code.get(v, -1) if v is not None else -1 for v in group_vals], dtype=np.int64)
                group_names = [f"{group_field}={v}" for v in names]
            drift = compute_drift(fps, nb.idx, nb.sim, min_sim, groups, group_names, prompts)
            timings["drift"] = time.perf_counter() - t
            check()

            t = time.perf_counter()
            ends_ok = ends_on_user > F.ENDS_ON_USER_MAX_SHARE * max(len(ids), 1)
            share = punctuated / long_answers if long_answers else 0.0
            noise: dict[int, list[Trigger]] = {}
            boilerplate = load_boilerplate()
            no_user_ok = no_user > F.NO_USER_MAX_SHARE * max(len(ids), 1)
            report("noise", 0, len(ids))
            offered: set[int] = set()  # short answers the prompt spells out ("write “Not answerable”")
            for n, s in enumerate(store.iter_samples(batch=2000)):
                tr = triggers(
                    s.conversation,
                    vocab,
                    ends_on_user_ok=ends_ok,
                    punctuated_share=share,
                    no_user_ok=no_user_ok,
                    boilerplate=boilerplate,
                )
                if tr:
                    noise[n] = tr
                fpn = fps[n]
                if fpn is not None and fpn.tokens <= R.SHORT_MAX_TOKENS and R.answer_offered(s.conversation):
                    offered.add(n)
                if n % 5000 == 4999:
                    report("noise", n + 1, len(ids))
                    check()
            lengths = [fp.tokens if fp is not None else 0 for fp in fps]
            for n, trig in length_triggers(lengths, nb.idx, nb.sim, min_sim, offered).items():
                noise.setdefault(n, []).append(trig)
            timings["noise"] = time.perf_counter() - t

            t = time.perf_counter()
            report("contradictions", 0, len(ids))
            conflicts, qgroups = _find_conflicts(ids, prompts, fps, exchanges, nb, model_id)
            timings["contradictions"] = time.perf_counter() - t
            check()
        except Cancelled:
            return StyleSummary(
                len(ids),
                sum(1 for k in keys if k),
                len(new),
                0,
                0,
                0,
                0,
                0,
                seconds=time.perf_counter() - t0,
                timings=timings,
                cancelled=True,
            )

        t = time.perf_counter()
        rows, queues = _flag_rows(ids, drift, conflicts, noise, nb)
        ss.replace_flags(rows)
        for kind, order in queues.items():
            ss.replace_queue(kind, order)
        prevalence = _prevalence(fps)
        project_figure, project_varying = stability([fp for fp in fps if fp is not None])
        sources = {"semantic": int((nb.source == 2).sum()), "lexical": int((nb.source == 1).sum())}
        with_answer = sum(1 for k in keys if k)
        drift_flagged = sum(1 for r in rows if r.kind == "style" and r.shown)
        noisy = len(noise)
        summary = StyleSummary(
            samples=len(ids),
            answers=with_answer,
            fingerprinted=len(new),
            cached=len({k for k in keys if k}) - len(new),
            drift=drift_flagged,
            conflicts=len(conflicts),
            noisy=noisy,
            question_groups=len(qgroups),
            neighbours={**sources, "group": sum(1 for d in drift.values() if d.basis != "similar prompts")},
            model=model_id or None,
            seconds=0.0,
            timings=timings,
        )
        ss.set_state(
            {
                "question_groups": qgroups[:QUESTION_GROUPS_KEPT],
                "prevalence": prevalence,
                "group_field": group_field,
                "feature_version": F.FEATURE_VERSION,
                "project_stability": project_figure,
                "project_varying": project_varying,
                "samples_at_run": total,
                "noise_counts": dict(Counter(tr.name for trs in noise.values() for tr in trs)),
                "boilerplate": {"source": boilerplate.source, "phrases": len(boilerplate.phrases)},
            }
        )
        timings["saving"] = time.perf_counter() - t
        out = StyleSummary(**{**asdict(summary), "seconds": time.perf_counter() - t0, "timings": timings})
        ss.mark_run(asdict(out))
        return out
    finally:
        store.close()


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def _numbers(text: str) -> set[str]:
    return set(_NUMBER.findall(unicodedata.normalize("NFKC", text)))


def _find_conflicts(ids, prompts, fps, exchanges, nb, model_id: str = "") -> tuple[list[Conflict], list[dict]]:
    """Contradictory pairs (positions) and the same-question groups for the report.

    The same question: equal `review.prompt.question_key` (the turn, the conversation before it and
    the tool schema). A reworded one: the same setting (`context_key`), prompt neighbours above the
    model's bar (F.conflict_min_semantic) or the n-gram bar, each other's closest, the same kind of
    factual question with the same numbers, not a minimal pair, and about the same things
    (`subject_coverage`)."""
    moves: dict[int, str] = {}

    def move_of(ex: _Exchange) -> str:
        fp = fps[ex.pos]
        if ex.last and fp is not None:
            return fp.move
        if id(ex) not in moves:
            moves[id(ex)] = fingerprint(ex.answer).move
        return moves[id(ex)]

    by_q: dict[str, list[_Exchange]] = {}
    for ex in exchanges:
        by_q.setdefault(ex.qhash, []).append(ex)
    found: dict[tuple[int, int], Conflict] = {}
    qgroups: list[dict] = []
    for exs in by_q.values():
        if len(exs) < 2 or len({e.pos for e in exs}) < 2:
            continue
        distinct: dict[str, list[_Exchange]] = {}
        for e in exs:
            distinct.setdefault(text_hash(e.answer), []).append(e)
        if len(distinct) < 2:
            continue
        reps = sorted(distinct.values(), key=lambda g: (-len(g), g[0].pos))
        qtype = question_type(exs[0].question)
        disagreements = []
        cap = reps[: F.GROUP_PAIR_CAP]
        for x in range(len(cap)):
            for y in range(x + 1, len(cap)):
                a, b = cap[x][0], cap[y][0]
                strength, ev, short = disagreement(
                    a.answer, b.answer, move_of(a), move_of(b), a.question, same_question=True, qtype=qtype
                )
                if strength <= 0:
                    continue
                disagreements.append(short)
                for ea in cap[x][:5]:
                    for eb in cap[y][:5]:
                        key = (min(ea.pos, eb.pos), max(ea.pos, eb.pos))
                        if ea.pos != eb.pos and (key not in found or found[key].score < strength):
                            found[key] = Conflict(
                                key[0], key[1], round(strength, 3), tuple(ev), short, a.question, True, 1.0
                            )
        qgroups.append(
            {
                "question": exs[0].question[:200],
                "samples": len({e.pos for e in exs}),
                "distinct_answers": len(distinct),
                "answers": [
                    {"text": g[0].answer[:160], "samples": len(g), "ids": [ids[e.pos] for e in g[:8]]} for g in reps[:6]
                ],
                "disagreements": sorted(set(disagreements))[:5],
            }
        )
    qgroups.sort(key=lambda g: (-g["samples"], -g["distinct_answers"], g["question"]))

    # Reworded questions: prompt neighbours above the bar, same kind of factual question, not a minimal pair.
    last_q = {ex.pos: ex for ex in exchanges if ex.last}
    qtypes: dict[int, str] = {}

    def qtype_of(pos: int) -> str:
        if pos not in qtypes:
            ex = last_q.get(pos)
            qtypes[pos] = question_type(ex.question) if ex else "none"
        return qtypes[pos]

    eligible = set(F.NUMBER_QUESTIONS) | set(F.STANCE_QUESTIONS)
    thr = np.where(nb.source == 2, F.conflict_min_semantic(model_id), F.CONFLICT_MIN_LEXICAL).astype(np.float32)
    rows, cols = np.nonzero((nb.idx >= 0) & (nb.sim >= thr[:, None]))
    checked: set[tuple[int, int]] = set()
    for i, k in zip(rows.tolist(), cols.tolist()):
        j = int(nb.idx[i, k])
        lo, hi = (i, j) if i < j else (j, i)
        if (lo, hi) in found or (lo, hi) in checked:
            continue
        checked.add((lo, hi))
        fi, fj = fps[i], fps[j]
        qa, qb = last_q.get(i), last_q.get(j)
        if fi is None or fj is None or qa is None or qb is None or qa.qhash == qb.qhash or qa.ctx != qb.ctx:
            continue  # the same question (found above), or asked with other tools or after another conversation
        if k >= F.MUTUAL_RANK or i not in nb.idx[j, : F.MUTUAL_RANK]:
            continue  # not each other's closest prompts: a neighbour, not the same question reworded
        kind = qtype_of(i)
        if kind not in eligible or kind != qtype_of(j) or minimal_pair(prompts[i], prompts[j]):
            continue
        if _numbers(prompts[i]) != _numbers(prompts[j]):
            continue  # "3 apples" and "1000 apples" are different questions
        if not same_subject(qa.question, qb.question):
            continue  # "…会持续多久？" about a cough and about chickenpox: one kind of question, two subjects
        strength, ev, short = disagreement(
            qa.answer, qb.answer, fi.move, fj.move, qa.question + "\n" + qb.question, same_question=False, qtype=kind
        )
        score = round(strength * 0.9, 3)
        if score >= F.CONFLICT_FLAG:
            found[(lo, hi)] = Conflict(
                lo, hi, score, tuple(ev), short, prompts[i], False, round(float(nb.sim[i, k]), 3)
            )
    conflicts = [c for c in found.values() if c.score >= F.CONFLICT_FLAG]
    if conflicts:
        answers = {ex.pos: ex.answer for ex in exchanges if ex.last}
        sims = pair_similarity([answers.get(c.a, "") for c in conflicts], [answers.get(c.b, "") for c in conflicts])
        conflicts = [
            Conflict(
                c.a,
                c.b,
                c.score,
                c.evidence,
                c.short,
                c.question,
                c.same_question,
                c.prompt_similarity,
                round(float(s), 3),
            )
            for c, s in zip(conflicts, sims)
        ]
    conflicts.sort(key=lambda c: (-c.score, c.a, c.b))
    return conflicts, qgroups


def _flag_rows(ids, drift, conflicts, noise, nb) -> tuple[list[FlagRow], dict[str, list[int]]]:
    rows: list[FlagRow] = []
    for pos, trs in noise.items():
        trs = sorted(trs, key=lambda t: NOISE_ORDER.index(t.name))
        reason = trs[0].reason
        label = F.NOISE_PREFIX + ", ".join(dict.fromkeys(NOISE_WORDS[t.name] for t in trs))
        rows.append(
            FlagRow(
                ids[pos],
                "noise",
                max(t.confidence for t in trs),
                None,
                (ids[pos],),
                label,
                tuple(t.detail for t in trs),
                reason,
            )
        )
    source_word = {0: "group", 1: "n-grams", 2: "embeddings"}
    for pos, d in drift.items():
        if d.score < F.DRIFT_FLAG:
            continue
        typical = ids[d.typical] if d.typical is not None else None
        how = (
            f"compared with {d.compared} answers to similar prompts ({source_word[int(nb.source[pos])]})"
            if d.basis == "similar prompts"
            else "within the answer itself"
            if d.basis == "the answer itself"
            else f"compared with {d.compared} answers ({d.basis})"
        )
        rows.append(
            FlagRow(
                ids[pos],
                "style",
                d.score,
                typical,
                tuple(x for x in (ids[pos], typical) if x),
                drift_label(d, typical),
                (*d.details, how),
                "style-drift",
                shown=pos not in noise,
            )
        )
    per_sample: Counter[int] = Counter()
    for c in conflicts:
        for me, other in ((c.a, c.b), (c.b, c.a)):
            if per_sample[me] >= MAX_CONFLICT_FLAGS:
                continue
            per_sample[me] += 1
            q = " ".join(c.question.split())
            details = [
                *c.evidence,
                f"same question: “{q[:80]}”"
                if c.same_question
                else f"similar question ({c.prompt_similarity:.2f}): “{q[:80]}”",
            ]
            if c.answer_similarity is not None:
                details.append(
                    f"answer similarity {c.answer_similarity:.2f}"
                    + (" — they share little" if c.answer_similarity < F.LOW_ANSWER_SIMILARITY else "")
                )
            rows.append(
                FlagRow(
                    ids[me],
                    "conflict",
                    c.score,
                    ids[other],
                    tuple(sorted((ids[me], ids[other]))),
                    conflict_label(c, ids[other]),
                    tuple(details),
                    "contradictory",
                )
            )
    queues = {
        "style_drift": [
            r.sample_id
            for r in sorted((r for r in rows if r.kind == "style" and r.shown), key=lambda r: (-r.score, r.sample_id))
        ],
        "contradictions": [x for c in conflicts for x in (ids[c.a], ids[c.b])],
        "noisy": [
            r.sample_id for r in sorted((r for r in rows if r.kind == "noise"), key=lambda r: (-r.score, r.sample_id))
        ],
    }
    return rows, queues


def _prevalence(fps) -> dict:
    """How many answers show each feature, for `winnow report`."""
    have = [fp for fp in fps if fp is not None]
    out: dict = {"answers": len(have)}
    for name in F.FLAG_FEATURES:
        out[name] = sum(1 for fp in have if getattr(fp, name))
    for name in ("you_zh", "script", "punct_width", "move"):
        out[name] = dict(Counter(getattr(fp, name) for fp in have).most_common())
    tokens = sorted(fp.tokens for fp in have)
    if tokens:
        out["tokens"] = {
            "median": tokens[len(tokens) // 2],
            "p10": tokens[len(tokens) // 10],
            "p90": tokens[(9 * len(tokens)) // 10],
            "max": tokens[-1],
        }
    return out


__all__ = ["Cancelled", "StyleSummary", "run_style_analysis"]
