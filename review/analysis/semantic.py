"""Cosine threshold search over unit-length float32 embeddings, without an n x n matrix.

Exact (default up to ANN_ABOVE texts): rows are compared in blocks, `query block @ column
block.T` with at most BLOCK_ROWS x BLOCK_COLS scores alive at once (1024 x 8192 float32 = 32 MiB),
each pair once (column index < row index). The result is exactly the set of pairs a brute-force
n x n matrix gives at the same threshold, found in the same float32 arithmetic.

Approximate (above ANN_ABOVE texts, or when asked): a usearch HNSW index (cosine, f16 storage,
connectivity 16). usearch is one small wheel with no BLAS of its own (faiss-cpu ships a second
OpenBLAS beside numpy's and is 30x larger; hnswlib has had no release since 2023), it adds and
searches in batches on all cores, and it stores f16/i8 to halve or quarter memory. Each text asks
for its K nearest neighbours; texts whose K neighbours all pass the threshold ask again with 4K,
so large clusters are not cut off. Candidates are kept at threshold - 0.01 on the f16 scores and
re-scored in float32 from the vectors before the threshold is applied, so no reported score is
approximate (it agrees with the exact search's to about 1e-6: a dot product instead of a matrix product).
Recall against the exact search is measured in benchmarks/bench_dedup.py.

Memory: exact path n x d x 4 bytes for the matrix (52k x 384: 80 MB) plus 32 MiB of scores;
approximate path about n x (2d + 200) bytes for the index plus the same matrix.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

BLOCK_ROWS = 1024
BLOCK_COLS = 8192
ANN_ABOVE = 200_000


def search_block(
    m: np.ndarray, start: int, stop: int, threshold: float, *, block_cols: int = BLOCK_COLS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (i, j, score) with start <= i < stop, j < i and m[i] . m[j] >= threshold."""
    q = m[start:stop]
    rows_out, cols_out, scores_out = [], [], []
    thr = np.float32(threshold)
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
        scores_out.append(s[r[keep], c[keep]])
    if not rows_out:
        e = np.zeros(0, dtype=np.int64)
        return e, e, np.zeros(0, dtype=np.float32)
    return np.concatenate(rows_out), np.concatenate(cols_out), np.concatenate(scores_out)


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
        return e, e, np.zeros(0, dtype=np.float32)
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
        return e, e, np.zeros(0, dtype=np.float32)
    codes = np.fromiter(pairs, dtype=np.int64, count=len(pairs))
    i, j = codes // n, codes % n
    # Exact float32 re-score, in chunks, so no approximate score survives.
    scores = np.concatenate(
        [np.einsum("ij,ij->i", m[i[c : c + 65536]], m[j[c : c + 65536]]) for c in range(0, len(i), 65536)]
    ).astype(np.float32)
    keep = scores >= np.float32(threshold)
    return i[keep], j[keep], scores[keep]
