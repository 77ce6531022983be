"""Vectors of any texts through the project's embedding cache, keyed by (model id, text hash).

The duplicate detectors embed one stored text per sample (texts.py); other detectors compare
other texts: the contradiction check asks whether two samples ask the same question, which is
the prompt side, not the whole record. `cached_vectors` gives any detector vectors for its own
texts through the same cache, so a text embedded by one detector or one run (the whole record
by `winnow analyze`, the prompt by `--field prompt` or by the style analysis) is never encoded
again by the same model: the key is `model.text_hash` of the text, the hash texts.py stores.

`question_text` is what a same-question check needs embedded for a multi-turn sample: the last
user turn of the prompt side. Its earlier turns are its setting, which review.prompt's keys
compare exactly; embedding the whole history instead costs 16x the tokens on a multi-turn set
(zhongjing CMtMedQA: 394,285 tokens for the prompt sides, 23,878 for their last user turns).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..embed import Embedder
from ..model import USER, Conversation, text_hash
from ..store import Store
from .steps import EMBED_BATCH
from .store import AnalysisStore


def question_text(conv: Conversation) -> str:
    """The last user turn before the answer ("" when the prompt side has none)."""
    prompt, _ = conv.split()
    for t in reversed(prompt):
        if t.role == USER:
            return t.content
    return ""


def cached_vectors(
    store: Store,
    embedder: Embedder,
    texts: Sequence[str],
    *,
    hashes: Sequence[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(vectors, have): one float32 unit row per text (zeros where have is False: an empty text,
    or a stop before it was embedded). Each distinct text is encoded at most once, longest first,
    only when (embedder.model_id, its hash) is not cached, and cached batch by batch.

    hashes: `model.text_hash` of each text, when the caller has them already (else computed).
    progress(done, to_encode) after each batch; should_stop() is polled between batches."""
    if hashes is not None and len(hashes) != len(texts):
        raise ValueError(f"{len(hashes)} hashes for {len(texts)} texts")
    hs = list(hashes) if hashes is not None else [text_hash(t) if t.strip() else "" for t in texts]
    first: dict[str, int] = {}
    for i, h in enumerate(hs):
        if h and h not in first and texts[i].strip():
            first[h] = i
    a = AnalysisStore(store)
    model_id = embedder.model_id
    found: dict[str, np.ndarray] = {}
    for h, dim, blob in a.embeddings(model_id, list(first)):
        found[h] = np.frombuffer(blob, dtype="<f4", count=dim)
    todo = sorted((h for h in first if h not in found), key=lambda h: -len(texts[first[h]]))
    done = 0
    for k in range(0, len(todo), EMBED_BATCH):
        if should_stop and should_stop():
            break
        batch = todo[k : k + EMBED_BATCH]
        vecs = np.asarray(embedder.encode([texts[first[h]] for h in batch]), dtype=np.float32)
        if vecs.ndim != 2 or vecs.shape[0] != len(batch):
            raise RuntimeError(f"embedder {model_id} returned {vecs.shape} for {len(batch)} texts")
        a.add_embeddings(
            model_id, vecs.shape[1], [(h, v.astype("<f4").tobytes()) for h, v in zip(batch, vecs, strict=True)]
        )
        found.update(zip(batch, vecs, strict=True))
        done += len(batch)
        if progress:
            progress(done, len(todo))
    dim = next((len(v) for v in found.values()), 0) or int(embedder.dim)
    out = np.zeros((len(texts), dim), dtype=np.float32)
    have = np.zeros(len(texts), dtype=bool)
    for i, h in enumerate(hs):
        v = found.get(h) if h else None
        if v is not None:
            out[i] = v
            have[i] = True
    return out, have
