"""Style benchmark: fingerprints, neighbours, drift, contradictions and noise on Alpaca 52k.

Each case runs in a fresh process on its own copy of one imported project (peak RSS is the case's
own). The baseline, measured in the same run, is the least any per-answer analysis must do: read
every sample from the project and touch its answer text.

    baseline            iterate the project's samples and take each answer's length
    fingerprints only   the same loop plus fingerprint() of every answer (no neighbours, no writes)
    style run, cold     run_style_analysis on a project never analysed: fingerprints stored,
                        n-gram neighbours, drift, noise, contradictions, flags and queues written
    style run, warm     the same project again: fingerprints come from the cache
    after embeddings    a project whose embedding cache holds a 384-d vector for every prompt:
                        neighbours by embeddings instead of n-grams. The vectors are random unit
                        vectors (no model runs here), so the figures measure the cost of that path,
                        not its findings.

    python -m benchmarks.bench_style [--json] [--quick] [--file PATH]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.common import measure, print_table, shared_file
else:
    from .common import measure, print_table, shared_file

QUICK_RECORDS = 5_000


def synthetic_alpaca(path: Path, n: int) -> Path:
    import random

    rnd = random.Random(11)
    words = "the a model answer question data refund password account sync plan help please why how list".split()
    recs = [
        {
            "instruction": " ".join(rnd.choices(words, k=rnd.randint(5, 20))),
            "input": "" if rnd.random() < 0.6 else " ".join(rnd.choices(words, k=10)),
            "output": ". ".join(" ".join(rnd.choices(words, k=rnd.randint(5, 15))) for _ in range(rnd.randint(1, 8))),
        }
        for _ in range(n)
    ]
    path.write_text(json.dumps(recs), encoding="utf-8")
    return path


def baseline(db: str) -> dict:
    from review.store import Store

    n = chars = 0
    with Store(db) as s:
        for sample in s.iter_samples(batch=2000):
            chars += len(sample.conversation.answer_text())
            n += 1
    return {"samples": n, "answer_chars": chars}


def fingerprints_only(db: str) -> dict:
    from review.store import Store
    from review.style.fingerprint import fingerprint

    n = 0
    with Store(db) as s:
        for sample in s.iter_samples(batch=2000):
            text = sample.conversation.answer_text()
            if text.strip():
                fingerprint(text)
                n += 1
    return {"fingerprinted": n}


def style_run(db: str) -> dict:
    from review.style import run_style_analysis

    s = run_style_analysis(db)
    stages = ", ".join(f"{k} {v:.1f}s" for k, v in s.timings.items() if v >= 0.05)
    return {
        "fingerprinted": s.fingerprinted,
        "cached": s.cached,
        "drift": s.drift,
        "contradictory_pairs": s.conflicts,
        "noisy": s.noisy,
        "neighbours": "/".join(f"{k} {v}" for k, v in s.neighbours.items() if v),
        "stages": stages,
    }


def add_random_prompt_embeddings(db: str, dim: int = 384) -> int:
    import numpy as np

    from review.analysis.store import AnalysisStore
    from review.model import text_hash
    from review.store import Store

    rng = np.random.default_rng(5)
    with Store(db) as s:
        # the same text run_style_analysis looks up: the prompt turns, without the system prompt
        prompts = ("\n".join(t.content for t in x.conversation.split()[0]) for x in s.iter_samples(batch=5000))
        hashes = sorted({text_hash(p) for p in prompts if p.strip()})
        a = AnalysisStore(s)
        for k in range(0, len(hashes), 5000):
            v = rng.standard_normal((len(hashes[k : k + 5000]), dim)).astype(np.float32)
            v /= np.linalg.norm(v, axis=1, keepdims=True)
            a.add_embeddings(
                "bench-random-384", dim, [(h, row.astype("<f4").tobytes()) for h, row in zip(hashes[k : k + 5000], v)]
            )
    return len(hashes)


def run(as_json: bool = False, quick: bool = False, file: str | None = None) -> list:
    from review.store import Store

    notes: list[str] = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        src = Path(file) if file else shared_file("alpaca_data.json")
        n = QUICK_RECORDS if quick else None
        if src is None:
            src = synthetic_alpaca(tmp / "alpaca_synthetic.json", n or 52_002)
            notes.append("../shared/datasets/alpaca_data.json not found: SYNTHETIC records of the same shape.")
        elif n:
            sub = json.loads(src.read_text(encoding="utf-8"))[:n]
            src = tmp / "alpaca_quick.json"
            src.write_text(json.dumps(sub), encoding="utf-8")
            notes.append(f"--quick: the first {n:,} Alpaca records.")
        template = tmp / "template.db"
        with Store(template) as s:
            s.import_file(src)
        embedded = tmp / "embedded.db"
        shutil.copy(template, embedded)
        vectors = add_random_prompt_embeddings(str(embedded))
        work = tmp / "work.db"

        def fresh(from_: Path = template):
            def setup() -> None:
                for f in tmp.glob("work.db*"):
                    f.unlink()
                shutil.copy(from_, work)

            return setup

        base = measure("baseline: read every answer", baseline, str(work), setup=fresh())
        fps = measure("fingerprints only", fingerprints_only, str(work), setup=fresh())
        cold = measure("style run, cold (n-gram neighbours)", style_run, str(work), setup=fresh())
        warm = measure("style run, warm (fingerprints cached)", style_run, str(work))
        emb = measure("style run after embeddings (cached 384-d)", style_run, str(work), setup=fresh(embedded))
        for f in (fps, cold, warm, emb):
            f.extra["vs_baseline"] = f"{f.seconds / base.seconds:.1f}x"
        notes.append(
            f"{base.extra['samples']:,} samples from {src.name}; baseline {base.seconds:.2f} s. "
            f"The embedding case caches {vectors:,} random unit vectors (model id bench-random-384): "
            "it times the embedding path, its findings mean nothing."
        )
        notes.append(
            "Neighbour search is exact up to 1,500 prompts; above, candidates come from a 256-wide "
            "count sketch (48 per prompt) and are re-scored exactly (see review/style/neighbours.py)."
        )
        figs = [base, fps, cold, warm, emb]
        print_table("Style analysis", figs, notes, as_json)
    return figs


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--file")
    a = ap.parse_args()
    run(a.json, a.quick, a.file)
