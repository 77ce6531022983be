"""Cosine threshold search over unit-length float32 embeddings, without an n x n matrix.

Exact (default up to ANN_ABOVE texts): rows are compared in blocks, `query block @ column
block.T` with at most BLOCK_ROWS x BLOCK_COLS scores alive at once (1024 x 8192 float32 = 32 MiB),
each pair once (column index < row index).

Scores are canonical: the float32 matrix product only proposes candidates (at threshold -
CANDIDATE_SLACK), and each candidate's score is then computed once more as the float64 dot product
of its two stored float32 vectors (`pair_scores`), and that score decides. A matrix product's last
digits depend on the shapes of the blocks (a resumed run searches in other blocks), on BLAS
threads and on the CPU's kernels; the float64 dot product of two given vectors does not. So a run
that was stopped and resumed, or searched in other blocks, stores the same pairs with the same
scores as one run start to finish. (A float32 product of unit vectors of dimension <= 1024 is
within about 1e-6 of the float64 one, far inside CANDIDATE_SLACK, so no pair is lost by the
proposal step.)

Approximate (above ANN_ABOVE texts, or when asked): a usearch HNSW index (cosine, f16 storage,
connectivity 16). usearch is one small wheel with no BLAS of its own (faiss-cpu ships a second
OpenBLAS beside numpy's and is 30x larger; hnswlib has had no release since 2023), it adds and
searches in batches on all cores, and it stores f16/i8 to halve or quarter memory. Each text asks
for its K nearest neighbours; texts whose K neighbours all pass the threshold ask again with 4K,
so large clusters are not cut off. Candidates are kept at threshold - 0.01 on the f16 scores and
re-scored with `pair_scores` before the threshold is applied, so no reported score is approximate
and every score equals the exact search's.
Recall against the exact search is measured in benchmarks/bench_dedup.py. usearch builds the graph
on all cores, so two runs build different graphs and may differ by a rare pair (1 run in 40 of a
300-text test on a loaded machine missed one of 85); a single-threaded build is deterministic but
measured 2.5x slower on 2 cores (20k texts: 19 s vs 7.9 s), more on more cores, so it is not used.

What a duplicate is (issue 14, from the 244 read pairs of tests/fixtures/quality/dup.jsonl): the
same question AND a near-same answer, a record that multiplies its weight in training. So the
vectors are of the whole record (the `full` field), not the prompt alone: the same question with a
different answer is the same_prompt/contradiction detectors' job. Prompt-only e5 vectors were
measured on the same labels and did not separate better (FastChat 0.80 precision at prompt cosine
>= 0.985 keeping 16/26 duplicates; COIG-CQIA 0.93 with 97/100), so they are not used. Nor as a
second condition beside the whole record's cosine (measured 2026-12-04 on all 452 read FastChat
flags, e5, user turns only): reworded same questions score 0.87-0.95 ("Can you introduce
yourself?" / "Tell me who you are."), different questions 0.89-0.97 ("Who are you?" / "Who
created you?"); a prompt cut at 0.96 keeps 0.94 precision but loses a quarter of the duplicates.
What separates them is written in the user turns, and veto.py reads it (numbers, tools, names,
follow-ups, the question's form).

Memory: exact path n x d x 4 bytes for the matrix (52k x 384: 80 MB) plus 32 MiB of scores;
approximate path about n x (2d + 200) bytes for the index plus the same matrix.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

BLOCK_ROWS = 1024
BLOCK_COLS = 8192
ANN_ABOVE = 200_000
CANDIDATE_SLACK = 1e-4  # float32 products propose pairs this far below the threshold; pair_scores decides
PAIR_CHUNK = 8192  # pairs scored at once: 8192 x 384 x 8 bytes x 2 = 50 MB at most


def pair_scores(m: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """The canonical cosine of each pair (i[k], j[k]): the float64 dot product of the two float32 rows.

    Row by row, with a summation order fixed by the vector length alone, so a pair's score does not
    depend on which other pairs are scored with it, on threads or on BLAS."""
    if len(i) == 0:
        return np.zeros(0, dtype=np.float64)
    out = np.empty(len(i), dtype=np.float64)
    for c in range(0, len(i), PAIR_CHUNK):
        a = m[i[c : c + PAIR_CHUNK]].astype(np.float64)
        b = m[j[c : c + PAIR_CHUNK]].astype(np.float64)
        out[c : c + PAIR_CHUNK] = (a * b).sum(axis=1)
    return out


def search_block(
    m: np.ndarray, start: int, stop: int, threshold: float, *, block_cols: int = BLOCK_COLS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (i, j, score) with start <= i < stop, j < i and pair_scores(m, i, j) >= threshold."""
    q = m[start:stop]
    rows_out, cols_out = [], []
    thr = np.float32(threshold - CANDIDATE_SLACK)
    for c0 in range(0, stop, block_cols):
        c1 = min(c0 + block_cols, stop)
        s = q @ m[c0:c1].T
        r, c = np.nonzero(s >= thr)
        if len(r) == 0:
            continue
        gi, gj = r + start, c + c0
        keep = gj < gi
        rows_out.append(gi[keep])
        cols_out.append(gj[keep])
    if not rows_out:
        e = np.zeros(0, dtype=np.int64)
        return e, e, np.zeros(0, dtype=np.float64)
    i, j = np.concatenate(rows_out), np.concatenate(cols_out)
    scores = pair_scores(m, i, j)
    keep = scores >= threshold
    return i[keep], j[keep], scores[keep]


def exact_pairs(
    m: np.ndarray,
    threshold: float,
    *,
    start: int = 0,
    block_rows: int = BLOCK_ROWS,
    on_block: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair (i, j), j < i, i >= start, with cosine >= threshold (rows of m are unit length)."""
    out_i, out_j, out_s = [], [], []
    for r0 in range(start, len(m), block_rows):
        r1 = min(r0 + block_rows, len(m))
        i, j, s = search_block(m, r0, r1, threshold)
        out_i.append(i)
        out_j.append(j)
        out_s.append(s)
        if on_block:
            on_block(r1 - start, len(m) - start)
    if not out_i:
        e = np.zeros(0, dtype=np.int64)
        return e, e, np.zeros(0, dtype=np.float64)
    return np.concatenate(out_i), np.concatenate(out_j), np.concatenate(out_s)


def ann_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("usearch") is not None


def ann_pairs(
    m: np.ndarray,
    threshold: float,
    *,
    start: int = 0,
    k: int = 16,
    slack: float = 0.01,
    connectivity: int = 16,
    expansion_search: int = 128,
    dtype: str = "f16",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Approximate version of exact_pairs: the same contract, found through a usearch HNSW index."""
    try:
        from usearch.index import Index
    except ImportError as err:
        raise RuntimeError(
            "more than 200,000 texts need the approximate index: pip install usearch "
            "(or pass semantic_index='exact' to search exactly, slower)"
        ) from err
    n, d = m.shape
    index = Index(
        ndim=d,
        metric="cos",
        dtype=dtype,
        connectivity=connectivity,
        expansion_add=128,
        expansion_search=expansion_search,
    )
    keys = np.arange(n, dtype=np.uint64)
    index.add(keys, m, log=False)
    queries = np.arange(start, n)
    pairs: set[int] = set()
    floor = 1.0 - (threshold - slack)  # usearch cos metric returns distance = 1 - cosine
    kk = k
    while len(queries) and kk <= 4096:
        res = index.search(m[queries], min(kk, n), log=False)
        found_keys = np.asarray(res.keys, dtype=np.int64).reshape(len(queries), -1)
        dist = np.asarray(res.distances, dtype=np.float32).reshape(len(queries), -1)
        ok = (dist <= floor) & (found_keys >= 0) & (found_keys < n)
        qi = np.repeat(queries, ok.sum(axis=1))
        qj = found_keys[ok]
        lo, hi = np.minimum(qi, qj), np.maximum(qi, qj)
        sel = lo != hi
        pairs.update((hi[sel] * n + lo[sel]).tolist())
        full = ok.all(axis=1) & (found_keys.shape[1] == kk)
        queries = queries[full]
        kk *= 4
    if not pairs:
        e = np.zeros(0, dtype=np.int64)
        return e, e, np.zeros(0, dtype=np.float64)
    codes = np.fromiter(pairs, dtype=np.int64, count=len(pairs))
    i, j = codes // n, codes % n
    # The canonical re-score, so no approximate score survives and each equals the exact search's.
    scores = pair_scores(m, i, j)
    keep = scores >= threshold
    return i[keep], j[keep], scores[keep]
