"""Similar prompts: the k nearest neighbours of every prompt, never an n × n matrix.

Two sources, chosen per prompt:

semantic
    Cached embeddings of the prompt text (the `prompt` analysis field) from the project's
    embedding cache (`review.analysis.store.AnalysisStore.embeddings`), when `winnow analyze`
    has embedded prompts. Never for CJK-dominant prompts under an English-only model: measured
    on all-MiniLM-L6-v2, unrelated short Chinese prompts score 0.99+ cosine, so its neighbours
    of a Chinese prompt are noise. Models whose id names them multilingual are trusted.
lexical (the fallback, and always for CJK prompts under an English model)
    TF-IDF over character n-grams of the normalised prompt (`model.normalise`): 3-grams, or 1- and
    2-grams for CJK-dominant text, where a character carries about a word. Sublinear tf, smooth
    idf, unit rows. Exact cosine.

Search. Up to EXACT_UP_TO prompts, every pair is scored exactly (the demo, tests, small sets).
Above, candidates come from a blocked dense search over a 256-wide count sketch of the TF-IDF
rows (each n-gram hashed to one column with a ±1 sign; a sketch dot product is an unbiased
estimate of the cosine), CANDIDATES per prompt, which are then re-scored exactly on the sparse
rows. Memory: the sketch is n × 256 float32 (52k prompts: 53 MB) and one block of scores
BLOCK × n float32 (1024 × 52k: 213 MB, 512 rows by default: 107 MB).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..model import normalise
from .fingerprint import is_cjk_dominant

EXACT_UP_TO = 1500
SKETCH_DIM = 256
BLOCK = 512
CANDIDATES = 48
CHUNK = 64  # top-k via per-chunk maxima: exact, and far cheaper than argpartition over n columns
MULTILINGUAL_HINTS = ("multilingual", "m3", "labse", "xlm", "e5", "bge-m3", "gte-multilingual", "paraphrase-multi")

_P = np.uint64(1_000_003)


@dataclass(frozen=True)
class Neighbours:
    """idx[i] are the positions of prompt i's nearest neighbours (-1 pads), sim[i] their cosine."""

    idx: np.ndarray  # (n, k) int32
    sim: np.ndarray  # (n, k) float32
    source: np.ndarray  # (n,) uint8: 0 none, 1 lexical, 2 semantic

    def of(self, i: int, min_sim: float = 0.0) -> list[tuple[int, float]]:
        return [(int(j), float(s)) for j, s in zip(self.idx[i], self.sim[i]) if j >= 0 and s >= min_sim]


@dataclass(frozen=True)
class Tfidf:
    """Unit-length TF-IDF rows in CSR form."""

    indptr: np.ndarray
    indices: np.ndarray  # n-gram ids, ascending within a row
    data: np.ndarray  # float32
    vocab: int

    def __len__(self) -> int:
        return len(self.indptr) - 1


def _grams(texts: list[str], n: int) -> tuple[np.ndarray, np.ndarray]:
    """(doc index, n-gram hash) of every character n-gram that lies inside one text."""
    if not texts:
        return np.zeros(0, np.int64), np.zeros(0, np.uint64)
    lens = np.fromiter((len(s) + 1 for s in texts), dtype=np.int64, count=len(texts))
    cat = "\x00".join(texts) + "\x00"
    c = np.frombuffer(cat.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
    doc = np.repeat(np.arange(len(texts), dtype=np.int64), lens)
    doc[np.cumsum(lens) - 1] = -1
    m = len(c) - n + 1
    if m <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.uint64)
    h = np.zeros(m, dtype=np.uint64)
    for j in range(n):
        h = h * _P + c[j : j + m]
    ok = (doc[:m] == doc[n - 1 : n - 1 + m]) & (doc[:m] >= 0)
    # Tag the gram size so a CJK bigram never collides with a Latin trigram by construction.
    return doc[:m][ok], h[ok] * np.uint64(8) + np.uint64(n)


def tfidf(texts: list[str]) -> Tfidf:
    norm = [normalise(t) for t in texts]
    cjk = np.fromiter((is_cjk_dominant(t) for t in norm), dtype=bool, count=len(norm))
    parts_d, parts_h = [], []
    for mask, sizes in ((~cjk, (3,)), (cjk, (1, 2))):
        ids = np.flatnonzero(mask)
        if not len(ids):
            continue
        sub = [norm[i] for i in ids]
        for n in sizes:
            d, h = _grams(sub, n)
            parts_d.append(ids[d])
            parts_h.append(h)
    n_docs = len(texts)
    if not parts_h or not sum(len(h) for h in parts_h):
        return Tfidf(np.zeros(n_docs + 1, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32), 0)
    docs = np.concatenate(parts_d)
    hashes = np.concatenate(parts_h)
    uniq, gid = np.unique(hashes, return_inverse=True)
    vocab = len(uniq)
    keys, tf = np.unique(docs * vocab + gid.astype(np.int64), return_counts=True)
    row = keys // vocab
    col = keys % vocab
    df = np.bincount(col, minlength=vocab)
    idf = np.log((1 + n_docs) / (1 + df)) + 1.0
    w = (1.0 + np.log(tf)) * idf[col]
    norms = np.sqrt(np.bincount(row, weights=w * w, minlength=n_docs))
    w = w / np.where(norms[row] > 0, norms[row], 1.0)
    indptr = np.zeros(n_docs + 1, np.int64)
    np.cumsum(np.bincount(row, minlength=n_docs), out=indptr[1:])
    return Tfidf(indptr, col, w.astype(np.float32), vocab)


def _rows_dense(x: Tfidf, rows: np.ndarray) -> np.ndarray:
    out = np.zeros((len(rows), x.vocab), dtype=np.float32)
    for k, r in enumerate(rows):
        a, b = x.indptr[r], x.indptr[r + 1]
        out[k, x.indices[a:b]] = x.data[a:b]
    return out


def rescore(x: Tfidf, qi: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """Exact cosine of query rows qi[r] with each of cand[r] (-1 = none), shape of cand."""
    out = np.zeros(cand.shape, dtype=np.float32)
    step = max(1, min(256, 2_000_000 // max(x.vocab, 1)))
    for s in range(0, len(qi), step):
        rows = qi[s : s + step]
        dense = _rows_dense(x, rows)
        c = cand[s : s + step]
        r_idx, k_idx = np.nonzero(c >= 0)
        docs = c[r_idx, k_idx]
        starts, ends = x.indptr[docs], x.indptr[docs + 1]
        lens = ends - starts
        if not lens.sum():
            continue
        owner = np.repeat(np.arange(len(docs)), lens)
        pos = np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens) + np.repeat(starts, lens)
        prod = dense[r_idx[owner], x.indices[pos]] * x.data[pos]
        out[s + r_idx, k_idx] = np.bincount(owner, weights=prod, minlength=len(docs)).astype(np.float32)
    return out


def sketch(x: Tfidf, dim: int = SKETCH_DIM) -> np.ndarray:
    rng = np.random.default_rng(0x57A1E)
    bucket = rng.integers(0, dim, x.vocab)
    sign = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), x.vocab)
    row = np.repeat(np.arange(len(x)), np.diff(x.indptr))
    flat = np.bincount(row * dim + bucket[x.indices], weights=x.data * sign[x.indices], minlength=len(x) * dim)
    m = flat.reshape(len(x), dim).astype(np.float32)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return m / norms


def dense_top_k(
    m: np.ndarray,
    k: int,
    *,
    block: int = BLOCK,
    should_stop: Callable[[], bool] | None = None,
    on_block: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k by dot product among the rows of m (self excluded), by blocks of rows."""
    n = len(m)
    k = min(k, max(n - 1, 0))
    idx = np.full((n, k), -1, dtype=np.int32)
    sim = np.zeros((n, k), dtype=np.float32)
    if k == 0:
        return idx, sim
    pad = (-n) % CHUNK
    # Pad the columns once (zero rows of m), not every block: a block of scores is never copied.
    mt = np.ascontiguousarray(np.vstack([m, np.zeros((pad, m.shape[1]), dtype=m.dtype)]).T) if pad else m.T
    for r0 in range(0, n, block):
        if should_stop and should_stop():
            break
        r1 = min(n, r0 + block)
        s = m[r0:r1] @ mt
        s[np.arange(r1 - r0), np.arange(r0, r1)] = -np.inf
        if pad:
            s[:, n:] = -np.inf
        chunks = s.reshape(r1 - r0, -1, CHUNK)
        best_chunks = np.argpartition(-chunks.max(axis=2), min(k, chunks.shape[1] - 1), axis=1)[:, :k]
        cand = (best_chunks[:, :, None] * CHUNK + np.arange(CHUNK)).reshape(r1 - r0, -1)
        vals = np.take_along_axis(s, cand, axis=1)
        top = np.argpartition(-vals, k - 1, axis=1)[:, :k] if vals.shape[1] > k else np.arange(vals.shape[1])[None, :]
        top_vals = np.take_along_axis(vals, top, axis=1)
        order = np.argsort(-top_vals, axis=1, kind="stable")
        idx[r0:r1] = np.take_along_axis(np.take_along_axis(cand, top, axis=1), order, axis=1)
        sim[r0:r1] = np.take_along_axis(top_vals, order, axis=1)
        if on_block:
            on_block(r1, n)
    bad = (idx >= n) | ~np.isfinite(sim)
    idx[bad] = -1
    sim[bad] = 0.0
    return idx, sim


def lexical_top_k(
    texts: list[str],
    k: int,
    *,
    should_stop: Callable[[], bool] | None = None,
    on_block: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    x = tfidf(texts)
    n = len(x)
    if n <= EXACT_UP_TO:
        cand = np.tile(np.arange(n, dtype=np.int64), (n, 1))
        np.fill_diagonal(cand, -1)
    else:
        cand, _ = dense_top_k(sketch(x), CANDIDATES, should_stop=should_stop, on_block=on_block)
        cand = cand.astype(np.int64)
    scores = rescore(x, np.arange(n), cand)
    scores[cand < 0] = -1.0
    kk = min(k, cand.shape[1])
    order = np.argsort(-scores, axis=1, kind="stable")[:, :kk]
    idx = np.take_along_axis(cand, order, axis=1).astype(np.int32)
    sim = np.take_along_axis(scores, order, axis=1)
    idx[sim <= 0] = -1
    sim[sim <= 0] = 0.0
    return idx, sim


def pair_similarity(texts_a: list[str], texts_b: list[str]) -> np.ndarray:
    """Exact lexical cosine of texts_a[i] with texts_b[i], for a few pairs (answers of two samples)."""
    x = tfidf(list(texts_a) + list(texts_b))
    n = len(texts_a)
    return rescore(x, np.arange(n), (np.arange(n) + n).reshape(-1, 1))[:, 0]


def trusts_cjk(model_id: str) -> bool:
    low = model_id.lower()
    return any(h in low for h in MULTILINGUAL_HINTS)


def find_neighbours(
    texts: list[str],
    k: int,
    *,
    vectors: dict[int, np.ndarray] | None = None,
    model_id: str = "",
    should_stop: Callable[[], bool] | None = None,
    on_block: Callable[[int, int], None] | None = None,
) -> Neighbours:
    """k nearest prompts of each text. `vectors` maps a text's position to its cached embedding;
    texts with one (and not CJK-dominant, unless the model is multilingual) are searched among each
    other semantically, the rest lexically among each other."""
    n = len(texts)
    idx = np.full((n, k), -1, dtype=np.int32)
    sim = np.zeros((n, k), dtype=np.float32)
    source = np.zeros(n, dtype=np.uint8)
    sem: list[int] = []
    if vectors:
        cjk_ok = trusts_cjk(model_id)
        sem = [i for i in range(n) if i in vectors and (cjk_ok or not is_cjk_dominant(texts[i]))]
    sem_set = set(sem)
    lex = [i for i in range(n) if i not in sem_set and texts[i].strip()]
    if len(sem) > 1:
        m = np.stack([vectors[i] for i in sem]).astype(np.float32)  # type: ignore[index]
        i2, s2 = dense_top_k(m, k, should_stop=should_stop, on_block=on_block)
        pos = np.asarray(sem, dtype=np.int32)
        kk = i2.shape[1]
        idx[pos, :kk] = np.where(i2 >= 0, pos[np.maximum(i2, 0)], -1)
        sim[pos, :kk] = s2
        source[pos] = 2
    if len(lex) > 1:
        i2, s2 = lexical_top_k([texts[i] for i in lex], k, should_stop=should_stop, on_block=on_block)
        pos = np.asarray(lex, dtype=np.int32)
        kk = i2.shape[1]
        idx[pos, :kk] = np.where(i2 >= 0, pos[np.maximum(i2, 0)], -1)
        sim[pos, :kk] = s2
        source[pos] = 1
    return Neighbours(idx, sim, source)
