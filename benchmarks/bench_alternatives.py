"""winnow beside the terminal tools a user might open the same data with: VisiData and dtflow's
`dt view`, each measured the same way through a real pseudo-terminal at 80x24.

    python -m benchmarks.bench_alternatives             # Alpaca 52k and a 1,000,000-sample JSONL
    python -m benchmarks.bench_alternatives --quick     # Alpaca 52k only, fewer keypresses

For every tool and file, the same three figures, read from the bytes the tool writes to the pty:
  * first paint: from spawning the process until the first record's text is on the emulated
    screen (pyte), interpreter start and imports included; median of --runs fresh processes;
  * keypress -> painted: `j` (next row for VisiData and dtflow, next sample for winnow) is
    written to the pty; the clock stops at the last byte of the burst the tool writes in reply
    (followed by 60 ms of silence); p50/p95 over --keys presses, 150 ms apart;
  * peak RSS of the tool's process (VmHWM) after the keypresses.

Fairness: the alternatives read the file directly; winnow reads its project file, so its import
of the same file is timed on its own row (winnow's review needs it once per dataset). VisiData
loads the whole file in a background thread and paints while it loads; `dt view` parses a
window of 10,000 rows. The tools are found on PATH or in $WINNOW_ALT_BIN (a virtualenv's bin/):
`pip install visidata dtflow`. A tool that is not installed gets a row saying so.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import Figure, print_table, shared_file  # noqa: E402
from reliability.term import WINNOW, PtyTerminal, winnow_env  # noqa: E402

GOAL = "Answer the instruction directly and correctly."


def find_tool(name: str) -> str | None:
    for d in filter(None, [os.environ.get("WINNOW_ALT_BIN"), str(ROOT.parent / "altvenv" / "bin")]):
        p = Path(d) / name
        if p.exists():
            return str(p)
    return shutil.which(name)


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def measure_tool(argv: list[str], first_text: str, tmp: Path, *, runs: int, keys: int) -> dict:
    env = winnow_env(tmp)
    firsts = []
    for r in range(runs):
        t0 = time.monotonic()
        with PtyTerminal(argv, env=env) as term:
            term.wait_for(first_text, timeout=180)
            firsts.append(time.monotonic() - t0)
            if r < runs - 1:
                continue
            time.sleep(1.0)  # let start-up work (status messages, background loads) settle
            term.settle(time.monotonic() - 0.01, quiet=0.3, timeout=5)
            lat = []
            for _ in range(keys):
                t = time.monotonic()
                term.send("j")
                last = term.settle(t)
                if last is not None:
                    lat.append(last - t)
                time.sleep(0.15)
            rss = term.peak_rss_mb()
    return {
        "first_paint": statistics.median(firsts),
        "p50": statistics.median(lat) if lat else float("nan"),
        "p95": pct(lat, 95) if lat else float("nan"),
        "answered": f"{len(lat)}/{keys}",
        "rss": rss,
    }


def write_million_jsonl(path: Path, n: int) -> None:
    """The same samples bench_tui generates for winnow's 1M project, as OpenAI `messages` JSONL."""
    from benchmarks.bench_tui import conversations

    if path.exists() and path.stat().st_size > 0:
        return
    print(f"… writing {n:,} samples to {path} (once)", file=sys.stderr, flush=True)
    tmp = path.with_suffix(".part")
    with open(tmp, "w", encoding="utf-8") as fh:
        for c in conversations(n):
            msgs = [{"role": "system", "content": c.system}] if c.system else []
            msgs += [{"role": t.role, "content": t.content} for t in c.turns]
            fh.write(json.dumps({"messages": msgs}, ensure_ascii=False) + "\n")
    tmp.rename(path)


def import_project(src: Path, db: Path) -> float:
    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    t = time.perf_counter()
    subprocess.run([str(WINNOW), "import", str(src), "--db", str(db)], check=True, capture_output=True)
    seconds = time.perf_counter() - t
    from review.store import Store

    with Store(db, create=False) as store:
        store.add_goal(GOAL)
    return seconds


def run(as_json: bool = False, quick: bool = False, keys: int | None = None, runs: int | None = None) -> list:
    keys = keys or (40 if quick else 150)
    runs = runs or (1 if quick else 3)
    figs: list[Figure] = []
    notes = [
        "first paint: spawn → the first record's text on the emulated screen (median of fresh runs); "
        "keypress: `j` → last byte of the reply burst; peak RSS: VmHWM of the tool's process.",
    ]
    tools = {"VisiData": find_tool("vd"), "dtflow dt view": find_tool("dt")}
    for name, path in tools.items():
        if path is None:
            notes.append(
                f"{name}: not installed here (pip install visidata dtflow, or set WINNOW_ALT_BIN): not measured."
            )
    with tempfile.TemporaryDirectory(prefix="winnow-alt-") as d:
        tmp = Path(d)
        files: list[tuple[str, Path, str]] = []
        alpaca = shared_file("alpaca_data.json")
        if alpaca is None:
            from benchmarks.bench_import import synthetic_alpaca

            alpaca = synthetic_alpaca(tmp / "alpaca_synthetic.json")
            notes.append("../shared/datasets/alpaca_data.json not found: SYNTHETIC data of the same shape.")
        first = json.loads(alpaca.read_text(encoding="utf-8"))[0]
        files.append(("Alpaca 52k JSON", alpaca, first["instruction"][:15]))
        if not quick:
            big = Path(tempfile.gettempdir()) / "winnow_alt_1000000.jsonl"
            write_million_jsonl(big, 1_000_000)
            files.append(("1M JSONL", big, "How do I handle"))
        for label, src, first_text in files:
            pattern = "".join("\\" + ch if ch in ".^$*+?{}[]|()\\" else ch for ch in first_text)
            db = tmp / "project.db"
            imp = import_project(src, db)
            figs.append(
                Figure(
                    f"{label}: winnow import (once per dataset)", imp, 0.0, {"file_mb": round(src.stat().st_size / 1e6)}
                )
            )
            candidates = [("winnow", [str(WINNOW), "open", str(db)])]
            for name, path in tools.items():
                if path:
                    argv = [path, str(src)] if name == "VisiData" else [path, "view", str(src)]
                    candidates.append((name, argv))
            for name, argv in candidates:
                print(f"… {name} on {label}", file=sys.stderr, flush=True)
                try:
                    r = measure_tool(argv, pattern, tmp, runs=runs, keys=keys)
                except AssertionError as e:
                    notes.append(f"{name} on {label}: could not be measured ({str(e).splitlines()[0]})")
                    continue
                figs.append(
                    Figure(
                        f"{label}: {name}",
                        r["first_paint"],
                        r["rss"],
                        {
                            "first_paint_s": round(r["first_paint"], 3),
                            "key_p50_ms": round(r["p50"] * 1000, 1),
                            "key_p95_ms": round(r["p95"] * 1000, 1),
                            "keys_answered": r["answered"],
                        },
                    )
                )
            for suffix in ("", "-wal", "-shm", ".lock"):
                Path(str(db) + suffix).unlink(missing_ok=True)
    print_table("winnow beside VisiData and dtflow (wall = first paint)", figs, notes, as_json)
    return figs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="Alpaca 52k only, 40 keypresses, one run")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--keys", type=int)
    ap.add_argument("--runs", type=int)
    a = ap.parse_args()
    run(as_json=a.json, quick=a.quick, keys=a.keys, runs=a.runs)


if __name__ == "__main__":
    main()
