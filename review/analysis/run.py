"""run_analysis: the three duplicate detectors, incremental, cached and resumable.

Each detector keeps, per project, the set of texts it has already compared under its current
settings (field, threshold, model). A run compares only texts not in that set with everything
in it, so a re-run on an unchanged project does nothing and an import of 1,000 samples costs
1,000 texts' worth of work. Results are committed as they are found:

* semantic: each batch of 64 embeddings is one transaction; every 1,024 embedded texts are
  searched against all earlier ones and their links committed with them; clusters are rebuilt
  every 20 s while the run goes on. A cancelled or killed run loses at most one batch.
* lexical and exact commit once, at the end of the detector (they take seconds).
* semantic with fast=True (`winnow analyze --fast`): see `_semantic_fast` in fast.py.
* then the preference pair checks (pairs.py) on every pair and KTO record: recomputed each run
  (seconds for thousands of pairs), stored in one transaction.

Changing a detector's settings discards its links (not the embedding or MinHash caches).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..embed import DEFAULT_MODEL, Embedder, make_embedder
from ..embed_e5 import E5_MODEL_ID
from ..store import Store
from . import clusters, lexical, pairs, semantic
from .fast import (
    FAST_MARGIN,
    FAST_MARGIN_FACTOR,
    FAST_SAFETY_FACTOR,
    FAST_SAFETY_FLOOR,
    _calibration_of,
    _fast_embedder,
    _semantic_fast,
    fast_margin_for,
)
from .steps import (
    EMBED_BATCH,
    Cancelled,
    DetectorSummary,
    Progress,
    _finish,
    _one_blas_thread,
    _prepare,
    _Run,
    _summary,
)
from .store import DETECTORS, AnalysisStore
from .texts import FIELDS, refresh_texts, text_kind, texts_for
from .veto import veto_for

# Importable from here as before the fast path and the shared steps moved to fast.py and steps.py.
__all__ = [
    "DEFAULT_THRESHOLDS",
    "EMBED_BATCH",
    "FAST_MARGIN",
    "FAST_MARGIN_FACTOR",
    "FAST_SAFETY_FACTOR",
    "FAST_SAFETY_FLOOR",
    "REFRESH_SECONDS",
    "SEARCH_EVERY",
    "AnalysisSummary",
    "Cancelled",
    "DetectorSummary",
    "Progress",
    "SEMANTIC_THRESHOLDS",
    "check_thresholds",
    "semantic_threshold_for",
    "fast_margin_for",
    "run_analysis",
]

DEFAULT_THRESHOLDS = {"lexical": 0.90, "semantic": 0.95}  # semantic: a model not in SEMANTIC_THRESHOLDS
# Cosine bands differ per model (multilingual-e5 puts unrelated Chinese prompts near 0.84,
# all-MiniLM-L6-v2 near 0.5, unrelated English ones near 0.78 and 0.08): each model's default
# semantic threshold, calibrated on the labelled real pairs of tests/fixtures/quality/dup.jsonl
# (python -m benchmarks.bench_quality). A model not listed gets DEFAULT_THRESHOLDS["semantic"].
# e5 0.97 (244 read pairs, issue 14): the highest cut that keeps recall >= 0.9 on the Chinese sets;
# 0.975 keeps 72/100 of COIG-CQIA's duplicates and 3/5 of ruozhiba's, 0.98 41/100 and 1/5.
# Precision at 0.97: alpaca zh 13/14, ruozhiba 5/5, COIG 100/108; templated sets are below target
# at every cut (FastChat identity chats 26/100 at 0.97, 0.77 at 0.99 with 17/26 kept; glaive zh
# tool calls 10/17, 1.00 only at 0.99 with 7/10 kept): one shared template plus one differing
# word ('davinci-002' / 'davinci-003') is beyond a cosine cut, prompt-only vectors included.
# all-MiniLM-L6-v2 0.95: not recalibrated (no labelled run with it yet).
SEMANTIC_THRESHOLDS = {E5_MODEL_ID: 0.97, DEFAULT_MODEL: 0.95}
SEARCH_EVERY = 1024
REFRESH_SECONDS = 20.0


@dataclass(frozen=True)
class AnalysisSummary:
    samples: int
    field: str
    detectors: tuple[DetectorSummary, ...]
    seconds: float
    cancelled: bool = False
    model_note: str = ""  # why the default model could not be used (default_embedder's note)
    pairs: pairs.PairSummary | None = None  # the preference pair checks; None: not run (or stopped)

    def __getitem__(self, detector: str) -> DetectorSummary:
        for d in self.detectors:
            if d.detector == detector:
                return d
        raise KeyError(detector)


def semantic_threshold_for(model_id: str | None) -> float:
    """The default semantic threshold of a model (SEMANTIC_THRESHOLDS, else 0.95)."""
    return SEMANTIC_THRESHOLDS.get(model_id or "", DEFAULT_THRESHOLDS["semantic"])


def check_thresholds(thresholds: dict | None, model_id: str | None = None) -> dict[str, float]:
    """Defaults with the given ones over them; the semantic default is model_id's own."""
    out = dict(DEFAULT_THRESHOLDS)
    out["semantic"] = semantic_threshold_for(model_id)
    for k, v in (thresholds or {}).items():
        if k not in DEFAULT_THRESHOLDS:
            raise ValueError(f"no threshold for {k!r}; thresholds exist for {', '.join(DEFAULT_THRESHOLDS)}")
        v = float(v)
        if not 0.0 < v <= 1.0:
            raise ValueError(f"{k} threshold {v} is outside (0, 1] — e.g. 0.95 for cosine, 0.90 for rapidfuzz ratio 90")
        out[k] = v
    return out


def run_analysis(
    db_path: str | Path,
    *,
    detectors: Sequence[str] = DETECTORS,
    field: str = "full",
    thresholds: dict | None = None,
    model: str | None = None,
    device: str | None = None,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    semantic_index: str = "auto",
    fast: bool = False,
    fast_margin: float | None = None,
    fast_embedder: Embedder | None = None,
    pair_checks: bool = True,
    pair_noise: pairs.PairCheck | None = None,
) -> AnalysisSummary:
    """Find exact, lexical and semantic near-duplicates in a project; store links and clusters.

    Opens its own connection, so call it from the thread that runs it (a TUI worker).
    progress(stage, done, total) is called often; should_stop() is polled between batches and a
    stop leaves everything found so far committed (the summary says cancelled=True).
    semantic_index: "auto" (exact up to 200,000 texts, usearch HNSW above), "exact" or "ann".

    fast=True: the semantic detector finds candidates with the int8 ONNX model (the `fast` extra)
    at threshold - fast_margin (default: fast_margin_for(threshold, the int8 model's calibration
    on this CPU), at least 0.03 at 0.95) and decides them with the fp32 model; see `_semantic_fast` for what that guarantees. Only with the bundled
    model (or a fast_embedder given here, as the tests do).

    pair_checks: run the preference pair checks after the detectors (pairs.py); pair_noise is
    their check 2 (review.style.pair_noise.noise_check: style imports analysis, so the caller
    hands it in; without it checks 1, 3 and 4 run).
    """
    unknown = [d for d in detectors if d not in DETECTORS]
    if unknown:
        raise ValueError(f"unknown detector {unknown[0]!r}; one of {', '.join(DETECTORS)}")
    if field not in FIELDS:
        raise ValueError(f"unknown field {field!r}; one of {', '.join(FIELDS)}")
    if semantic_index not in ("auto", "exact", "ann"):
        raise ValueError("semantic_index is one of auto, exact, ann")
    emb: Embedder | None = None
    if "semantic" in detectors:
        # --fast is all-MiniLM-L6-v2's int8 copy: with no model named, MiniLM decides.
        emb = embedder or make_embedder(DEFAULT_MODEL if fast and model is None else model, device)
    thr = check_thresholds(thresholds, emb.model_id if emb is not None else None)
    if fast and fast_margin is not None and not 0.0 <= float(fast_margin) < thr["semantic"]:
        raise ValueError(f"fast_margin {float(fast_margin)} must be at least 0 and below the semantic threshold")
    t0 = time.perf_counter()
    store = Store(db_path, create=False)
    try:
        astore = AnalysisStore(store)
        settings: dict[str, Any] = {"detectors": list(detectors), "field": field, "thresholds": thr, "model": model}
        if fast:  # the default is known once the int8 model's calibration is read (below)
            settings["fast_margin"] = "calibrated" if fast_margin is None else float(fast_margin)
        run_id = astore.start_run("analyze", settings)
        status = "failed"
        pair_summary: pairs.PairSummary | None = None
        run = _Run(store, astore, field, progress, should_stop)
        try:
            run.report("reading samples", 0, store.total_samples())
            run.all_texts = refresh_texts(store, astore, [text_kind(d, field) for d in detectors], should_stop=run.stop)
            changed = False
            for det in DETECTORS:
                if det not in detectors or run.stop():
                    continue
                run.use(det)
                if det == "exact":
                    res = _exact(run)
                elif det == "lexical":
                    res = _lexical(run, thr["lexical"])
                else:
                    assert emb is not None
                    # The model used is part of the run's record (analysis_runs.summary), beside
                    # what was asked for ("model": None is the default).
                    settings["model_id"] = emb.model_id
                    note = getattr(emb, "note", "")
                    if note:
                        settings["model_note"] = note
                    if fast:
                        quick = fast_embedder or _fast_embedder(emb)
                        margin = (
                            fast_margin_for(thr["semantic"], _calibration_of(quick))
                            if fast_margin is None
                            else float(fast_margin)
                        )
                        settings["fast_margin"] = margin
                        res = _semantic_fast(run, thr["semantic"], emb, quick, margin, semantic_index)
                    else:
                        res = _semantic(run, thr["semantic"], emb, semantic_index)
                changed = changed or res.compared > 0 or res.embedded > 0
                run.results.append(res)
            if changed:
                clusters.rebuild_queue(astore)
            if pair_checks and not run.stop():
                pair_summary = pairs.run_pairs(store, noise=pair_noise, progress=run.report, should_stop=run.stop)
                if pair_summary is not None:
                    settings["pairs"] = pair_summary.to_json()
            status = "cancelled" if run.cancelled else "done"
        finally:
            summary = AnalysisSummary(
                store.total_samples(),
                field,
                tuple(run.results),
                time.perf_counter() - t0,
                run.cancelled,
                str(settings.get("model_note", "")),
                pair_summary,
            )
            astore.finish_run(run_id, status, {"settings": settings, "detectors": [d.__dict__ for d in run.results]})
        return summary
    finally:
        store.close()


# ---------------------------------------------------------------------- detectors


def _exact(run: _Run) -> DetectorSummary:
    t = time.perf_counter()
    settings = {"field": run.field, "text": run.kind}
    new, _, figures = _prepare(run, "exact", settings)
    if figures is not None:
        return _summary("exact", settings, figures, time.perf_counter() - t, 0)
    run.report("exact", 0, len(new))
    run.astore.add_indexed("exact", new, [])
    run.report("exact", len(new), len(new))
    return _finish(run, "exact", t, len(new), settings)


def _lexical(run: _Run, threshold: float) -> DetectorSummary:
    t = time.perf_counter()
    settings = {"field": run.field, "text": run.kind, "threshold": threshold, "scheme": lexical.SCHEME}
    # The same veto as semantic: shared wording around other numbers or tools is another request.
    veto = veto_for(run.store, run.groups, run.field, settings)
    new, indexed, figures = _prepare(run, "lexical", settings)
    if figures is not None:
        return _summary("lexical", settings, figures, time.perf_counter() - t, 0)
    if not new:
        return _finish(run, "lexical", t, 0, settings)
    a = run.astore
    hashes = list(run.groups)
    pos = {h: i for i, h in enumerate(hashes)}
    sigs = np.zeros((len(hashes), lexical.NUM_PERM), dtype=np.uint32)
    have = np.zeros(len(hashes), dtype=bool)
    for h, blob in a.minhashes(lexical.SCHEME, hashes):
        sigs[pos[h]] = np.frombuffer(blob, dtype="<u4")
        have[pos[h]] = True
    missing = [hashes[i] for i in np.nonzero(~have)[0]]
    norm: dict[int, str] = {}
    step = 5000
    for k in range(0, len(missing), step):
        chunk = missing[k : k + step]
        texts = texts_for(run.store, run.kind, run.groups, chunk, run.texts)
        normed = lexical.normalised([texts[h] for h in chunk])
        s = lexical.signatures(normed)
        for h, nt, row in zip(chunk, normed, s, strict=True):
            sigs[pos[h]] = row
            norm[pos[h]] = nt
        a.add_minhashes(lexical.SCHEME, [(h, row.astype("<u4").tobytes()) for h, row in zip(chunk, s, strict=True)])
        run.report("lexical: signatures", min(k + step, len(missing)), len(missing))
        if run.stop():
            # Signatures are cached; nothing is marked compared, so the next run starts here.
            return _summary("lexical", settings, {}, time.perf_counter() - t, 0, complete=False)
    is_new = np.zeros(len(hashes), dtype=bool)
    is_new[[pos[h] for h in new]] = True
    cand = lexical.candidate_pairs(lexical.band_keys(sigs), is_new)
    run.report("lexical: verifying", 0, len(cand))
    involved = [int(i) for i in np.unique(cand) if int(i) not in norm]
    texts = texts_for(run.store, run.kind, run.groups, [hashes[i] for i in involved], run.texts)
    for i in involved:
        norm[i] = lexical.normalise(texts[hashes[i]])
    found = lexical.verify(cand, norm, threshold, sigs)
    run.report("lexical: verifying", len(cand), len(cand))
    links = [(hashes[i], hashes[j], s) for i, j, s in found]
    a.add_indexed("lexical", new, veto.keep(links) if veto else links)
    return _finish(run, "lexical", t, len(new), settings)


def _semantic(run: _Run, threshold: float, embedder: Embedder, index: str) -> DetectorSummary:
    t = time.perf_counter()
    settings = {"field": run.field, "text": run.kind, "threshold": threshold, "model": embedder.model_id}
    veto = veto_for(run.store, run.groups, run.field, settings)
    new, indexed, figures = _prepare(run, "semantic", settings)
    if figures is not None:
        return _summary("semantic", settings, figures, time.perf_counter() - t, 0, index="cached")
    if not new:
        return _finish(run, "semantic", t, 0, settings)
    a = run.astore
    cached = a.cached_embedding_hashes(embedder.model_id)
    old = [h for h in run.groups if h in indexed]
    new_cached = [h for h in new if h in cached]
    to_embed = [h for h in new if h not in cached]
    texts = texts_for(run.store, run.kind, run.groups, to_embed, run.texts)
    # Longest first, as sentence-transformers orders a single encode() call: batches of similar
    # length pad least, so batch-by-batch embedding costs what one big call costs.
    to_embed.sort(key=lambda h: -len(texts[h]))
    rows = old + new_cached + to_embed
    n = len(rows)
    use_ann = index == "ann" or (index == "auto" and n > semantic.ANN_ABOVE)
    if use_ann and not semantic.ann_available():
        if index == "ann":
            raise RuntimeError("the approximate index needs usearch: pip install usearch")
        use_ann = False  # exact search instead: slower (quadratic), never wrong
    m: np.ndarray | None = None
    filled = searched = 0
    dim = 0

    def put(hs: Sequence[str], vecs: np.ndarray) -> None:
        nonlocal m, filled, dim
        if m is None:
            dim = vecs.shape[1]
            m = np.empty((n, dim), dtype=np.float32)
        m[filled : filled + len(hs)] = vecs
        filled += len(hs)

    # Cached vectors (texts compared before, then new texts embedded by an earlier or killed run).
    for group in (old, new_cached):
        pos = {h: i for i, h in enumerate(group)}
        buf: np.ndarray | None = None
        for h, d, blob in a.embeddings(embedder.model_id, group):
            if buf is None:
                buf = np.empty((len(group), d), dtype=np.float32)
            buf[pos[h]] = np.frombuffer(blob, dtype="<f4")
        if buf is not None:
            put(group, buf)
    searched = len(old)

    last_refresh = time.perf_counter()

    def search_to(limit: int) -> None:
        nonlocal searched, last_refresh
        if use_ann or m is None:
            return
        while searched < limit:
            stop = min(searched + semantic.BLOCK_ROWS, limit)
            i, j, s = semantic.search_block(m, searched, stop, threshold)
            found = [(rows[x], rows[y], round(float(z), 6)) for x, y, z in zip(i, j, s, strict=True)]
            a.add_indexed("semantic", rows[searched:stop], veto.keep(found) if veto else found)
            searched = stop
        if time.perf_counter() - last_refresh > REFRESH_SECONDS:
            clusters.rebuild(a, "semantic", run.groups)
            clusters.rebuild_queue(a)
            last_refresh = time.perf_counter()

    search_to(filled)
    embedded = 0
    model_seconds = 0.0
    run.report("semantic: embedding", 0, len(to_embed))
    for k in range(0, len(to_embed), EMBED_BATCH):
        if run.stop():
            break
        batch = to_embed[k : k + EMBED_BATCH]
        t_model = time.perf_counter()
        vecs = np.asarray(embedder.encode([texts[h] for h in batch]), dtype=np.float32)
        model_seconds += time.perf_counter() - t_model
        if vecs.shape[0] != len(batch) or (dim and vecs.shape[1] != dim):
            raise RuntimeError(f"embedder {embedder.model_id} returned {vecs.shape} for {len(batch)} texts")
        a.add_embeddings(
            embedder.model_id, vecs.shape[1], [(h, v.astype("<f4").tobytes()) for h, v in zip(batch, vecs, strict=True)]
        )
        put(batch, vecs)
        embedded += len(batch)
        run.report("semantic: embedding", embedded, len(to_embed))
        if filled - searched >= SEARCH_EVERY:
            # While the model runs, numpy's BLAS threads would spin-wait after each matrix product
            # and steal the cores torch is using (measured: +13% model time). One BLAS thread here;
            # the product is the same, element for element (threads only split rows and columns).
            with _one_blas_thread():
                search_to(filled)
    if use_ann and m is not None and not run.cancelled:
        run.report("semantic: index", 0, filled - len(old))
        i, j, s = semantic.ann_pairs(m[:filled], threshold, start=len(old))
        found = [(rows[x], rows[y], round(float(z), 6)) for x, y, z in zip(i, j, s, strict=True)]
        a.add_indexed("semantic", rows[len(old) : filled], veto.keep(found) if veto else found)
    else:
        search_to(filled)
    run.report("semantic: search", filled, n)
    return _finish(
        run,
        "semantic",
        t,
        filled - len(old),
        settings,
        embedded=embedded,
        cached=len(new_cached),
        index="ann" if use_ann else "exact",
        model_seconds=model_seconds,
    )
