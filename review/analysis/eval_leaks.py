"""Train/eval leakage: training samples that exactly, lexically or semantically duplicate an eval sample.

The evaluation side is a data file (imported into a throw-away project in a temporary folder, so
the training project never holds eval samples) or another winnow project (.db). Both sides compare
the same field, the prompt by default: a training prompt that is an eval prompt teaches the test.
Detectors and thresholds are those of `run_analysis`. Embeddings of both sides are cached in the
training project, so a second leakage check against the same eval set does no model work.
The latest check's leaks replace the previous one's and show as flags in the review screen.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..embed import Embedder, make_embedder
from ..model import text_hash
from ..store import SQLITE_MAGIC, Store
from . import lexical
from .run import EMBED_BATCH, Progress, check_thresholds
from .store import DETECTORS, AnalysisStore, Leak
from .texts import FIELDS, field_text, refresh_texts, text_kind, texts_for


@dataclass(frozen=True)
class EvalSample:
    position: int
    line: int
    text: str
    hash: str


@dataclass(frozen=True)
class LeakageReport:
    against: str
    field: str
    eval_samples: int
    train_samples: int
    leaked: dict  # detector -> training samples leaking by that detector; "any" -> by any
    leaks: tuple[Leak, ...]  # strongest first
    seconds: float
    cancelled: bool = False

    @property
    def leaked_samples(self) -> int:
        return int(self.leaked.get("any", 0))


def _read_eval(against: Path, kinds: list[str]) -> tuple[str, int, dict[str, list[EvalSample]]]:
    """(name, records, kind -> non-empty eval texts)."""

    def collect(s: Store) -> tuple[int, dict[str, list[EvalSample]]]:
        out: dict[str, list[EvalSample]] = {k: [] for k in kinds}
        n = 0
        for smp in s.iter_samples():
            n += 1
            for k in kinds:
                t = field_text(smp.conversation, k)
                if t.strip():
                    out[k].append(EvalSample(smp.position, smp.line, t, text_hash(t)))
        return n, out

    if not against.is_file():
        raise FileNotFoundError(f"{against}: no such eval file or project")
    with open(against, "rb") as fh:
        is_db = fh.read(16) == SQLITE_MAGIC
    if is_db:
        with Store(against, create=False) as s:
            return (against.name, *collect(s))
    with tempfile.TemporaryDirectory(prefix="winnow-eval-") as tmp:
        with Store(Path(tmp) / "eval.db") as s:
            s.import_file(against)
            return (against.name, *collect(s))


def leakage(
    db_path: str | Path,
    against: str | Path,
    *,
    field: str = "prompt",
    detectors: Sequence[str] = DETECTORS,
    thresholds: dict | None = None,
    model: str | None = None,
    device: str | None = None,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> LeakageReport:
    """Compare every training sample with every eval sample; store and return the leaks."""
    if field not in FIELDS:
        raise ValueError(f"unknown field {field!r}; one of {', '.join(FIELDS)}")
    unknown = [d for d in detectors if d not in DETECTORS]
    if unknown:
        raise ValueError(f"unknown detector {unknown[0]!r}; one of {', '.join(DETECTORS)}")
    emb = (embedder or make_embedder(model, device)) if "semantic" in detectors else None
    thr = check_thresholds(thresholds, emb.model_id if emb is not None else None)
    t0 = time.perf_counter()
    against = Path(against)

    def report(stage: str, done: int, total: int) -> None:
        if progress:
            progress(stage, done, total)

    def stopped() -> bool:
        return bool(should_stop and should_stop())

    kinds = {d: text_kind(d, field) for d in detectors}
    source, eval_records, eval_texts = _read_eval(against, sorted(set(kinds.values())))
    store = Store(db_path, create=False)
    try:
        a = AnalysisStore(store)
        settings = {"against": str(against), "field": field, "detectors": list(detectors), "thresholds": thr}
        run_id = a.start_run("leakage", settings)
        known = refresh_texts(store, a, sorted(set(kinds.values())))
        leaks: list[Leak] = []
        cancelled = False
        for det in DETECTORS:
            if det not in detectors or cancelled:
                continue
            kind = kinds[det]
            evals = eval_texts[kind]
            groups = a.text_groups(kind)
            hashes = list(groups)
            if not evals or not hashes:
                continue
            if det == "exact":
                found = _exact(hashes, evals)
            elif det == "lexical":
                report("leakage: lexical", 0, len(hashes))
                found = _lexical(store, a, kind, groups, hashes, known.get(kind, {}), evals, thr["lexical"])
                report("leakage: lexical", len(hashes), len(hashes))
            else:
                assert emb is not None
                res = _semantic(
                    store, a, kind, groups, hashes, known.get(kind, {}), evals, thr["semantic"], emb, report, stopped
                )
                if res is None:
                    cancelled = True
                    continue
                found = res
            leaks.extend(
                Leak(sid, det, score, source, evals[e].position, evals[e].line, evals[e].text)
                for (i, e), score in found.items()
                for sid in groups[hashes[i]]
            )
        leaked: dict[str, int] = {d: len({x.sample_id for x in leaks if x.detector == d}) for d in detectors}
        leaked["any"] = len({x.sample_id for x in leaks})
        # One leak per (training sample, eval sample): the most specific detector that found it.
        rank = {d: k for k, d in enumerate(DETECTORS)}
        best: dict[tuple[int, int], Leak] = {}
        for x in leaks:
            key = (x.sample_id, x.eval_position)
            if key not in best or rank[x.detector] < rank[best[key].detector]:
                best[key] = x
        leaks = sorted(best.values(), key=lambda x: (-x.score, x.sample_id, x.eval_position))
        if not cancelled:
            a.replace_leaks(leaks)
        out = LeakageReport(
            str(against),
            field,
            eval_records,
            store.total_samples(),
            leaked,
            tuple(leaks),
            time.perf_counter() - t0,
            cancelled,
        )
        a.finish_run(
            run_id,
            "cancelled" if cancelled else "done",
            {"against": str(against), "field": field, "eval_samples": eval_records, "leaked": leaked},
        )
        return out
    finally:
        store.close()


Found = dict[tuple[int, int], float]  # (train text index, eval index) -> score


def _exact(hashes: list[str], evals: list[EvalSample]) -> Found:
    pos = {h: i for i, h in enumerate(hashes)}
    return {(pos[ev.hash], e): 1.0 for e, ev in enumerate(evals) if ev.hash in pos}


def _lexical(
    store: Store,
    a: AnalysisStore,
    kind: str,
    groups: dict[str, list[int]],
    hashes: list[str],
    known: dict[str, str],
    evals: list[EvalSample],
    threshold: float,
) -> Found:
    sig_train = np.zeros((len(hashes), lexical.NUM_PERM), dtype=np.uint32)
    have = np.zeros(len(hashes), dtype=bool)
    idx = {h: i for i, h in enumerate(hashes)}
    for h, blob in a.minhashes(lexical.SCHEME, hashes):
        sig_train[idx[h]] = np.frombuffer(blob, dtype="<u4")
        have[idx[h]] = True
    missing = [hashes[i] for i in np.nonzero(~have)[0]]
    for k in range(0, len(missing), 5000):
        chunk = missing[k : k + 5000]
        tx = texts_for(store, kind, groups, chunk, known)
        sg = lexical.signatures(lexical.normalised([tx[h] for h in chunk]))
        for h, row in zip(chunk, sg, strict=True):
            sig_train[idx[h]] = row
        a.add_minhashes(lexical.SCHEME, [(h, r.astype("<u4").tobytes()) for h, r in zip(chunk, sg, strict=True)])
    eval_norm = lexical.normalised([ev.text for ev in evals])
    sigs = np.concatenate([sig_train, lexical.signatures(eval_norm)])
    is_eval = np.zeros(len(sigs), dtype=bool)
    is_eval[len(hashes) :] = True
    cand = lexical.candidate_pairs(lexical.band_keys(sigs), is_eval)
    cand = cand[~is_eval[cand[:, 0]] & is_eval[cand[:, 1]]]  # train (lower index) x eval only
    involved = sorted({int(i) for i in cand[:, 0]})
    tx = texts_for(store, kind, groups, [hashes[i] for i in involved], known)
    norm = {i: lexical.normalise(tx[hashes[i]]) for i in involved}
    norm.update({len(hashes) + e: t for e, t in enumerate(eval_norm)})
    return {(i, j - len(hashes)): sc for i, j, sc in lexical.verify(cand, norm, threshold, sigs)}


def _semantic(
    store: Store,
    a: AnalysisStore,
    kind: str,
    groups: dict[str, list[int]],
    hashes: list[str],
    known: dict[str, str],
    evals: list[EvalSample],
    threshold: float,
    emb: Embedder,
    report: Callable[[str, int, int], None],
    stopped: Callable[[], bool],
) -> Found | None:
    """None when stopped part-way (the embeddings made so far are kept)."""
    mats = []
    eval_text = {ev.hash: ev.text for ev in evals}
    for side, hs in (("train", hashes), ("eval", [ev.hash for ev in evals])):
        uniq = list(dict.fromkeys(hs))
        cached = a.cached_embedding_hashes(emb.model_id)
        todo = [h for h in uniq if h not in cached]
        tx = eval_text if side == "eval" else texts_for(store, kind, groups, todo, known)
        todo.sort(key=lambda h: -len(tx[h]))
        for k in range(0, len(todo), EMBED_BATCH):
            if stopped():
                return None
            batch = todo[k : k + EMBED_BATCH]
            vecs = np.asarray(emb.encode([tx[h] for h in batch]), dtype=np.float32)
            a.add_embeddings(
                emb.model_id, vecs.shape[1], [(h, v.astype("<f4").tobytes()) for h, v in zip(batch, vecs, strict=True)]
            )
            report(f"leakage: embedding {side}", k + len(batch), len(todo))
        vec: dict[str, np.ndarray] = {}
        for h, _, blob in a.embeddings(emb.model_id, uniq):
            vec[h] = np.frombuffer(blob, dtype="<f4")
        mats.append(np.stack([vec[h] for h in hs]).astype(np.float32))
    train_m, eval_m = mats
    t32 = np.float32(threshold)
    found: Found = {}
    for r0 in range(0, len(train_m), 1024):
        s = train_m[r0 : r0 + 1024] @ eval_m.T
        ii, jj = np.nonzero(s >= t32)
        for i, j in zip(ii.tolist(), jj.tolist(), strict=True):
            found[(r0 + i, j)] = round(float(s[i, j]), 6)
        report("leakage: searching", min(r0 + 1024, len(train_m)), len(train_m))
    return found
