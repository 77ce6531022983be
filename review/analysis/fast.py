"""The semantic detector's fast path (`winnow analyze --fast`): int8 candidates, fp32 decisions.

See `_semantic_fast` for what it guarantees and `fast_margin_for` for its margin.
"""

from __future__ import annotations

import math
import time

import numpy as np

from ..embed import DEFAULT_MODEL, Embedder
from ..embed_onnx import FastCalibration, OnnxInt8Embedder
from . import semantic
from .steps import EMBED_BATCH, DetectorSummary, _finish, _prepare, _Run, _summary
from .texts import texts_for
from .veto import veto_for

# The fast path's candidates are the pairs whose int8 cosine is at least threshold - margin.
# The default margin is the larger of two:
# * max(FAST_MARGIN, FAST_MARGIN_FACTOR x (1 - threshold)): 0.03 at 0.95 and above, 0.06 at 0.90,
#   0.12 at 0.80. It widens as the threshold falls because the int8 error grows with the distance
#   between the texts: on one CPU (AVX512-VNNI), a pair's int8 cosine was at most 0.019 below its
#   fp32 cosine for pairs at 0.90 or more (3,000 Alpaca texts, the planted set), but up to 0.041
#   below for pairs at 0.80-0.85 (the planted set's short Chinese texts), where a fixed 0.03
#   missed 3 of 104 pairs at threshold 0.80.
# * FAST_SAFETY_FACTOR x the error measured on the CPU that runs the model + FAST_SAFETY_FLOOR:
#   the largest amount by which a probe pair's int8 cosine fell below its fp32 cosine, among the
#   probe pairs at fp32 cosine >= the threshold (OnnxInt8Embedder.calibration, on the fixed probe
#   set of review/embed_probes.py, measured once per CPU and cached with the export). A fixed
#   margin cannot hold everywhere: int8 kernels differ between CPUs (AVX2 against VNNI), and on
#   a CI machine one planted pair fell 0.0006 further below its fp32 cosine than the first
#   margin allows. The factor is for data that errs more than the probes (on the CPU above, the
#   probes' largest shortfall at 0.95 or more was 0.030 against the planted set's 0.018, at 0.90 or
#   more 0.054 against 0.019: the probes' short Chinese pairs err most); the floor covers fp32
#   vectors that differ in the last digits between machines and the rounding of the figures.
# Both terms fall as the threshold rises, and threshold - margin never falls as the threshold
# rises, so a pair that is a candidate at its own fp32 cosine is one at every lower threshold.
FAST_MARGIN = 0.03
FAST_MARGIN_FACTOR = 0.6
FAST_SAFETY_FACTOR = 1.25
FAST_SAFETY_FLOOR = 0.005


def fast_margin_for(threshold: float, calibration: FastCalibration | None = None) -> float:
    """The fast path's default margin at this threshold, for the int8 error `calibration` measured.

    Without a calibration: max(0.03, 0.6 x (1 - threshold)), 0.03 at 0.95 and above, 0.06 at 0.90.
    With one (run_analysis passes the int8 model's, measured on this CPU): at least
    1.25 x its largest probe shortfall at this threshold + 0.005. Guaranteed on the probe set
    itself: no probe pair at fp32 cosine >= threshold has an int8 cosine below threshold - margin.
    Not guaranteed on other texts: that rests on their int8 error being within the factor and
    floor of the probes' (measured: it was, on Alpaca and the planted set).
    """
    margin = max(FAST_MARGIN_FACTOR * (1.0 - threshold), FAST_MARGIN)
    if calibration is not None:
        margin = max(margin, FAST_SAFETY_FACTOR * calibration.shortfall_at(threshold) + FAST_SAFETY_FLOOR)
    return math.ceil(round(margin * 1e6, 3)) / 1e6  # up to 1e-6; 0.09 stays 0.09 (not 0.090001)


def _calibration_of(quick: Embedder) -> FastCalibration | None:
    """The measured int8 error of a fast embedder that can measure it (OnnxInt8Embedder), else None."""
    measure = getattr(quick, "calibration", None)
    return measure() if callable(measure) else None


def _fast_embedder(exact: Embedder) -> Embedder:
    if exact.model_id != DEFAULT_MODEL:
        raise ValueError(
            f"--fast works with the bundled {DEFAULT_MODEL} only (its int8 export is the one measured); "
            f"the model here is {exact.model_id}"
        )
    return OnnxInt8Embedder()


def _semantic_fast(
    run: _Run, threshold: float, exact: Embedder, quick: Embedder, margin: float, index: str
) -> DetectorSummary:
    """The semantic detector with an int8 prefilter: the fp32 model embeds only texts in candidate pairs.

    1. "semantic: fast encode": every text gets an approximate vector: its fp32 vector where the
       project has one, else its int8 vector (`quick`), cached per batch under the int8 model id.
    2. "semantic: search": candidate pairs are those at cosine >= threshold - margin on those
       vectors (the same blocked search as the exact path, or usearch above 200,000 texts).
    3. "semantic: confirm": the texts in a candidate pair are embedded with the fp32 model
       (`exact`), cached per batch under its own model id, so a later run without --fast reuses them.
    4. The pairs kept are found by the exact blocked search among those texts' fp32 vectors at the
       threshold (above 200,000 texts: the candidates re-scored in fp32). Every reported pair and
       score is therefore an fp32 one, computed as the exact path computes it (to the last bit of
       float32 rounding, which a matrix product of other shapes may round apart).

    Guaranteed: no pair below the threshold in fp32, no approximate score. Not guaranteed: a pair
    whose approximate cosine is below threshold - margin while its fp32 cosine reaches the
    threshold is missed. The default margin (fast_margin_for with the int8 model's calibration on
    this CPU) rules that out on the probe set it was measured on, and is 1.25 x its error + 0.005
    for other texts. Measured with the first, fixed margin on one CPU: none missed on 2,000 and
    3,000 Alpaca texts at thresholds 0.80-0.95 nor on the planted set (where a fixed 0.03 missed 3
    of 104 pairs at 0.80); Alpaca 52k at 0.95 is in benchmarks/bench_dedup.py.

    Resumable like the exact path: both encodes commit per batch and are never repeated; the
    search and the confirmation take seconds and are redone after a stop. Pairs are committed at
    the end, in one transaction. Its settings record the fast model and margin, so switching
    between fast and exact runs re-searches (from cached vectors) rather than mixing the two.
    """
    t = time.perf_counter()
    settings = {
        "field": run.field,
        "text": run.kind,
        "threshold": threshold,
        "model": exact.model_id,
        "fast": {"model": quick.model_id, "margin": margin},
    }
    veto = veto_for(run.store, run.groups, run.field, settings)
    new, indexed, figures = _prepare(run, "semantic", settings)
    if figures is not None:
        return _summary("semantic", settings, figures, time.perf_counter() - t, 0, index="cached", margin=margin)
    if not new:
        return _finish(run, "semantic", t, 0, settings, margin=margin)
    a = run.astore
    old = [h for h in run.groups if h in indexed]
    rows = old + new
    n, start = len(rows), len(old)
    pos = {h: i for i, h in enumerate(rows)}
    have_exact = a.cached_embedding_hashes(exact.model_id)
    have_quick = a.cached_embedding_hashes(quick.model_id)
    m: np.ndarray | None = None

    def place(target: np.ndarray | None, size: int, at: dict[str, int], h: str, v: np.ndarray) -> np.ndarray:
        if target is None:
            target = np.empty((size, v.shape[0]), dtype=np.float32)
        elif v.shape[0] != target.shape[1]:
            raise RuntimeError(f"vectors of {v.shape[0]} and {target.shape[1]} dimensions cannot be compared")
        target[at[h]] = v
        return target

    by_exact = [h for h in rows if h in have_exact]
    by_quick = [h for h in rows if h not in have_exact and h in have_quick]
    for model_id, group in ((exact.model_id, by_exact), (quick.model_id, by_quick)):
        for h, _, blob in a.embeddings(model_id, group):
            m = place(m, n, pos, h, np.frombuffer(blob, dtype="<f4"))
    to_encode = [h for h in rows if h not in have_exact and h not in have_quick]
    cached = sum(1 for h in new if h in have_exact or h in have_quick)
    model_seconds = 0.0

    def encode(embedder: Embedder, hashes: list[str], texts: dict[str, str]) -> np.ndarray:
        nonlocal model_seconds
        t_model = time.perf_counter()
        vecs = np.asarray(embedder.encode([texts[h] for h in hashes]), dtype=np.float32)
        model_seconds += time.perf_counter() - t_model
        if vecs.ndim != 2 or vecs.shape[0] != len(hashes):
            raise RuntimeError(f"embedder {embedder.model_id} returned {vecs.shape} for {len(hashes)} texts")
        a.add_embeddings(
            embedder.model_id,
            vecs.shape[1],
            [(h, v.astype("<f4").tobytes()) for h, v in zip(hashes, vecs, strict=True)],
        )
        return vecs

    def stopped(**figures) -> DetectorSummary:
        return _finish(run, "semantic", t, 0, settings, margin=margin, model_seconds=model_seconds, **figures)

    # 1. approximate vectors
    texts = texts_for(run.store, run.kind, run.groups, to_encode, run.texts)
    run.report("semantic: fast encode", 0, len(to_encode))
    for k in range(0, len(to_encode), EMBED_BATCH):
        if run.stop():
            return stopped(fast_embedded=k, cached=cached)
        batch = to_encode[k : k + EMBED_BATCH]
        for h, v in zip(batch, encode(quick, batch, texts), strict=True):
            m = place(m, n, pos, h, v)
        run.report("semantic: fast encode", k + len(batch), len(to_encode))
    assert m is not None  # new is not empty, and every row now has a vector
    fast_embedded = len(to_encode)

    # 2. candidates at threshold - margin
    use_ann = index == "ann" or (index == "auto" and n > semantic.ANN_ABOVE)
    if use_ann and not semantic.ann_available():
        if index == "ann":
            raise RuntimeError("the approximate index needs usearch: pip install usearch")
        use_ann = False
    floor = threshold - margin
    if use_ann:
        run.report("semantic: search", 0, n - start)
        ci, cj, _ = semantic.ann_pairs(m, floor, start=start)
    else:
        parts: list[tuple[np.ndarray, np.ndarray]] = []
        for r0 in range(start, n, semantic.BLOCK_ROWS):
            if run.stop():
                return stopped(fast_embedded=fast_embedded, cached=cached)
            r1 = min(r0 + semantic.BLOCK_ROWS, n)
            i, j, _ = semantic.search_block(m, r0, r1, floor)
            parts.append((i, j))
            run.report("semantic: search", r1 - start, n - start)
        ci = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
        cj = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
    run.report("semantic: search", n - start, n - start)

    # 3. fp32 vectors of the texts in a candidate pair
    involved = np.unique(np.concatenate([ci, cj])).astype(np.int64)
    local = {rows[x]: k for k, x in enumerate(involved.tolist())}
    need = [rows[x] for x in involved.tolist() if rows[x] not in have_exact]
    ready = [x for x in involved.tolist() if rows[x] in have_exact]
    e = np.empty((len(involved), m.shape[1]), dtype=np.float32)
    e[[local[rows[x]] for x in ready]] = m[ready]  # their approximate vectors were the fp32 ones
    texts = texts_for(run.store, run.kind, run.groups, need, run.texts)
    # Longest first, as the exact path embeds: batches of similar length pad least.
    need.sort(key=lambda h: -len(texts[h]))
    run.report("semantic: confirm", 0, len(need))
    for k in range(0, len(need), EMBED_BATCH):
        if run.stop():
            return stopped(fast_embedded=fast_embedded, cached=cached, embedded=k, candidates=len(ci))
        batch = need[k : k + EMBED_BATCH]
        for h, v in zip(batch, encode(exact, batch, texts), strict=True):
            e = place(e, len(involved), local, h, v)
        run.report("semantic: confirm", k + len(batch), len(need))

    # 4. the fp32 pairs among them
    links: list[tuple[str, str, float]] = []
    if len(involved):
        if use_ann:
            li = np.searchsorted(involved, ci)
            lj = np.searchsorted(involved, cj)
            s = semantic.pair_scores(e, li, lj)  # the canonical score, as on every other path
            keep = s >= threshold
            gi, gj, gs = ci[keep], cj[keep], s[keep]
        else:
            # The exact path's own blocked search over these texts' fp32 vectors (canonical scores).
            first_new = int(np.searchsorted(involved, start))
            i, j, gs = semantic.exact_pairs(e, threshold, start=first_new)
            gi, gj = involved[i], involved[j]
        links = [(rows[x], rows[y], round(float(z), 6)) for x, y, z in zip(gi.tolist(), gj.tolist(), gs, strict=True)]
    a.add_indexed("semantic", new, veto.keep(links) if veto else links)
    return _finish(
        run,
        "semantic",
        t,
        len(new),
        settings,
        embedded=len(need),
        cached=cached,
        index="ann" if use_ann else "exact",
        model_seconds=model_seconds,
        margin=margin,
        fast_embedded=fast_embedded,
        candidates=len(ci),
        confirmed_texts=len(involved),
    )
