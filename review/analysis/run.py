"""run_analysis: the three duplicate detectors, incremental, cached and resumable.

Each detector keeps, per project, the set of texts it has already compared under its current
settings (field, threshold, model). A run compares only texts not in that set with everything
in it, so a re-run on an unchanged project does nothing and an import of 1,000 samples costs
1,000 texts' worth of work. Results are committed as they are found:

* semantic: each batch of 64 embeddings is one transaction; every 1,024 embedded texts are
  searched against all earlier ones and their links committed with them; clusters are rebuilt
  every 20 s while the run goes on. A cancelled or killed run loses at most one batch.
* lexical and exact commit once, at the end of the detector (they take seconds).

Changing a detector's settings discards its links (not the embedding or MinHash caches).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path

import numpy as np

from ..embed import Embedder, SentenceTransformerEmbedder
from ..store import Store
from . import clusters, lexical, semantic
from .store import DETECTORS, AnalysisStore
from .texts import FIELDS, refresh_texts, text_kind, texts_for

DEFAULT_THRESHOLDS = {"lexical": 0.90, "semantic": 0.95}
EMBED_BATCH = 64
SEARCH_EVERY = 1024
REFRESH_SECONDS = 20.0

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
) -> AnalysisSummary:
    """Find exact, lexical and semantic near-duplicates in a project; store links and clusters.

    Opens its own connection, so call it from the thread that runs it (a TUI worker).
    progress(stage, done, total) is called often; should_stop() is polled between batches and a
    stop leaves everything found so far committed (the summary says cancelled=True).
    semantic_index: "auto" (exact up to 200,000 texts, usearch HNSW above), "exact" or "ann".
    """
    unknown = [d for d in detectors if d not in DETECTORS]
    if unknown:
        raise ValueError(f"unknown detector {unknown[0]!r}; one of {', '.join(DETECTORS)}")
    if field not in FIELDS:
        raise ValueError(f"unknown field {field!r}; one of {', '.join(FIELDS)}")
    if semantic_index not in ("auto", "exact", "ann"):
        raise ValueError("semantic_index is one of auto, exact, ann")
    thr = check_thresholds(thresholds)
    t0 = time.perf_counter()
    store = Store(db_path, create=False)
    try:
        astore = AnalysisStore(store)
        settings = {"detectors": list(detectors), "field": field, "thresholds": thr, "model": model}
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
