"""run_analysis: the three duplicate detectors, incremental, cached and resumable.

Each detector keeps, per project, the set of texts it has already compared under its current
settings (field, threshold, model). A run compares only texts not in that set with everything
in it, so a re-run on an unchanged project does nothing and an import of 1,000 samples costs
1,000 texts' worth of work. Results are committed as they are found:

* semantic: each batch of 64 embeddings is one transaction; every 1,024 embedded texts are
  searched against all earlier ones and their links committed with them; clusters are rebuilt
  every 20 s while the run goes on. A cancelled or killed run loses at most one batch.
* lexical and exact commit once, at the end of the detector (they take seconds).
* semantic with fast=True (`winnow analyze --fast`): see `_semantic_fast` below.

Changing a detector's settings discards its links (not the embedding or MinHash caches).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path
from typing import Any

import numpy as np

from ..embed import DEFAULT_MODEL, Embedder, FastCalibration, OnnxInt8Embedder, SentenceTransformerEmbedder
from ..store import Store
from . import clusters, lexical, semantic
from .store import DETECTORS, AnalysisStore
from .texts import FIELDS, refresh_texts, text_kind, texts_for

DEFAULT_THRESHOLDS = {"lexical": 0.90, "semantic": 0.95}
EMBED_BATCH = 64
SEARCH_EVERY = 1024
REFRESH_SECONDS = 20.0
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


Progress = Callable[[str, int, int], None]


class Cancelled(Exception):
    pass


@dataclass(frozen=True)
class DetectorSummary:
    detector: str
    field: str
    threshold: float | None
    pairs: int  # sample pairs at or above the threshold
    flagged: int  # samples in a cluster of two or more
    clusters: int
    largest: int
    mass: int  # duplicate mass: samples beyond the first of each cluster
    seconds: float
    compared: int  # texts compared this run (0 when nothing changed)
    embedded: int = 0  # texts sent to the model this run
    cached: int = 0  # new texts whose embedding was already in the project
    complete: bool = True
    model: str | None = None
    index: str | None = None  # semantic: exact | ann
    model_seconds: float = 0.0  # semantic: time inside the embedder (the rest is winnow's own)
    # semantic with fast=True (margin is None otherwise):
    margin: float | None = None  # candidates at threshold - margin on the int8 vectors
    fast_embedded: int = 0  # texts sent to the int8 model (embedded counts the fp32 model's)
    candidates: int = 0  # candidate pairs
    confirmed_texts: int = 0  # texts in a candidate pair, whose fp32 vectors decide


@dataclass(frozen=True)
class AnalysisSummary:
    samples: int
    field: str
    detectors: tuple[DetectorSummary, ...]
    seconds: float
    cancelled: bool = False

    def __getitem__(self, detector: str) -> DetectorSummary:
        for d in self.detectors:
            if d.detector == detector:
                return d
        raise KeyError(detector)


@dataclass
class _Run:
    store: Store
    astore: AnalysisStore
    field: str
    progress: Progress | None
    should_stop: Callable[[], bool] | None
    cancelled: bool = False
    results: list[DetectorSummary] = dc_field(default_factory=list)
    kind: str = ""  # the stored text the current detector compares (texts.text_kind)
    groups: dict[str, list[int]] = dc_field(default_factory=dict)  # its text hash -> sample ids
    texts: dict[str, str] = dc_field(default_factory=dict)  # texts read this run, by hash
    all_texts: dict[str, dict[str, str]] = dc_field(default_factory=dict)

    def use(self, detector: str) -> None:
        self.kind = text_kind(detector, self.field)
        self.groups = self.astore.text_groups(self.kind)
        self.texts = self.all_texts.get(self.kind, {})

    def report(self, stage: str, done: int, total: int) -> None:
        if self.progress:
            self.progress(stage, done, total)

    def stop(self) -> bool:
        if self.should_stop and self.should_stop():
            self.cancelled = True
        return self.cancelled


def check_thresholds(thresholds: dict | None) -> dict[str, float]:
    out = dict(DEFAULT_THRESHOLDS)
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
    """
    unknown = [d for d in detectors if d not in DETECTORS]
    if unknown:
        raise ValueError(f"unknown detector {unknown[0]!r}; one of {', '.join(DETECTORS)}")
    if field not in FIELDS:
        raise ValueError(f"unknown field {field!r}; one of {', '.join(FIELDS)}")
    if semantic_index not in ("auto", "exact", "ann"):
        raise ValueError("semantic_index is one of auto, exact, ann")
    thr = check_thresholds(thresholds)
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
                    emb = embedder or SentenceTransformerEmbedder(model, device)
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
            status = "cancelled" if run.cancelled else "done"
        finally:
            summary = AnalysisSummary(
                store.total_samples(), field, tuple(run.results), time.perf_counter() - t0, run.cancelled
            )
            astore.finish_run(run_id, status, {"settings": settings, "detectors": [d.__dict__ for d in run.results]})
        return summary
    finally:
        store.close()


# ---------------------------------------------------------------------- shared steps


@contextmanager
def _one_blas_thread() -> Iterator[None]:
    try:
        from threadpoolctl import threadpool_limits  # comes with the semantic extra (scikit-learn)
    except ImportError:
        yield
        return
    with threadpool_limits(1, user_api="blas"):
        yield


def _prepare(run: _Run, detector: str, settings: dict) -> tuple[list[str], set[str], dict | None]:
    """Texts this detector has not compared yet, those it has, and its figures if nothing changed."""
    a = run.astore
    state = a.detector_settings(detector)
    if state is None or state[0] != settings:
        a.reset_detector(detector, settings)
        state = (settings, {}, False)
    indexed = a.indexed(detector)
    removed = [h for h in indexed if h not in run.groups]
    if removed:
        a.forget(detector, removed)
        indexed.difference_update(removed)
    new = [h for h in run.groups if h not in indexed]
    if not new and not removed and state[2] and state[1]:
        return [], indexed, state[1]
    a.set_complete(detector, False)
    return new, indexed, None


def _finish(run: _Run, detector: str, started: float, compared: int, settings: dict, **extra) -> DetectorSummary:
    figures = clusters.rebuild(run.astore, detector, run.groups)
    run.astore.set_complete(detector, not run.cancelled, figures)
    return _summary(
        detector, settings, figures, time.perf_counter() - started, compared, complete=not run.cancelled, **extra
    )


def _summary(detector: str, settings: dict, figures: dict, seconds: float, compared: int, **extra) -> DetectorSummary:
    return DetectorSummary(
        detector=detector,
        field=settings["field"],
        threshold=settings.get("threshold"),
        pairs=figures.get("pairs", 0),
        flagged=figures.get("flagged", 0),
        clusters=figures.get("clusters", 0),
        largest=figures.get("largest", 0),
        mass=figures.get("mass", 0),
        seconds=seconds,
        compared=compared,
        model=settings.get("model"),
        **extra,
    )


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
    a.add_indexed("lexical", new, [(hashes[i], hashes[j], s) for i, j, s in found])
    return _finish(run, "lexical", t, len(new), settings)


def _semantic(run: _Run, threshold: float, embedder: Embedder, index: str) -> DetectorSummary:
    t = time.perf_counter()
    settings = {"field": run.field, "text": run.kind, "threshold": threshold, "model": embedder.model_id}
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
            a.add_indexed(
                "semantic",
                rows[searched:stop],
                [(rows[x], rows[y], round(float(z), 6)) for x, y, z in zip(i, j, s, strict=True)],
            )
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
        a.add_indexed(
            "semantic",
            rows[len(old) : filled],
            [(rows[x], rows[y], round(float(z), 6)) for x, y, z in zip(i, j, s, strict=True)],
        )
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
    a.add_indexed("semantic", new, links)
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
