"""Review-screen speed on a 1,000,000-sample project, driven through the real app with Pilot.

    python benchmarks/bench_tui.py                 # generates the project once (cached), then measures
    python benchmarks/bench_tui.py --samples 100000 --keys 400

Prints:
  * time to first sample: a fresh Python process runs `make_app(...)` headless at 80x24; the
    clock runs from spawning it until it reports the first sample painted (interpreter start and
    imports included, winnow's modules byte-compiled first as installed; median of --runs runs);
  * keypress -> painted p50/p95: a key event is posted as the terminal driver would post it and
    the clock stops when the screen reports that sample painted (Textual's after-refresh
    callback), for `j` (next) and `a` (keep and advance) alternately;
  * the baseline, measured in the same run on the same file: the bare `ReviewSession` calls the
    same step makes (next + view, decide + next + view), without any rendering;
  * the bare-Textual baseline (issue 16 item 7), in the same run: a fresh process running a
    minimal Textual app (a header line, a ~2 KB Static, a footer) headless at 80x24, spawn to
    first paint the same way; the target is winnow's first sample <= 1.5x that;
  * queue picker: `f` to the picker painted with its counts from the tallies (the built-in
    queues; analysis queues count in a worker afterwards), target <= 50 ms: to its first complete
    frame, and (as before 2026-12-04) to its first idle moment after it.

The headless driver renders every frame but does not write it to a terminal; writing ~2 KB of a
frame to a local pty adds well under a millisecond.
"""

from __future__ import annotations

import time

T_PROCESS = time.perf_counter()  # before any heavy import: the first-paint clock starts here

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOAL = "Answer billing questions with the 30-day refund policy, briefly and politely."
TOPICS = ["refund", "password", "invoice", "upgrade", "sync", "share link", "storage", "2FA", "export", "team"]
ZH = ["退款", "密码", "发票", "升级", "同步", "分享链接", "存储空间", "两步验证", "导出", "团队"]


def conversations(n: int):
    """Deterministic, varied samples: English and Chinese, 1-3 turns, short to ~3 KB answers,
    an exact copy every 997 samples and a same-prompt pair every 101."""
    from review.model import Conversation, Turn

    for i in range(n):
        k = i % 997 if i % 997 == 0 and i else i
        t = k % len(TOPICS)
        if k % 5 == 4:
            system = "你是北风云盘的客服助手。"
            q = f"请问{ZH[t]}怎么处理？（编号 {k}）"
            a = f"您好！关于{ZH[t]}：请打开“设置”，按提示操作。编号 {k}。" * (1 + k % 7)
        else:
            system = "You are the support assistant for Northwind Cloud."
            q = f"How do I handle {TOPICS[t]} for account {k}?"
            a = f"Open Settings and choose {TOPICS[t].title()}. Reference {k}. " * (1 + (k * 7) % 12)
        if i % 101 == 1:
            q = f"How do I handle {TOPICS[t]} for account {k - 1}?"  # same prompt as the sample before
        turns = [Turn("user", q), Turn("assistant", a)]
        if k % 3 == 0:
            turns += [Turn("user", "Thanks. And for my team?"), Turn("assistant", f"Teams work the same way. {k}")]
        yield Conversation(system, tuple(turns))


def ensure_project(path: Path, n: int) -> None:
    from review.store import Store

    if path.exists():
        with Store(path, create=False) as store:
            if store.total_samples() == n:
                return
        for suffix in ("", "-wal", "-shm", ".lock"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    print(f"generating {n:,} samples into {path} (once; cached for later runs)...", flush=True)
    t = time.perf_counter()
    with Store(path) as store:
        store.add_conversations("bench", conversations(n))
        store.add_goal(GOAL)
    print(f"  generated in {time.perf_counter() - t:.1f} s", flush=True)


def reset_position(path: Path) -> None:
    """Start every run at sample #1, all samples, nothing decided (the previous run's keeps undone)."""
    from review.model import Queue
    from review.session import open_session
    from review.store import Store

    with Store(path, create=False) as store:
        session = open_session(store)
        assert session is not None
        while store.undo(session.goal.id):
            pass
        session.set_queue(Queue("all"))
        session.first()


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


# ---------------------------------------------------------------------- first paint (child process)


def first_paint(db: str) -> None:
    """Runs in a fresh process: print seconds from process start to the first painted sample."""
    from tui.app import make_app
    from tui.screens.review import ReviewScreen

    t_import = time.perf_counter() - T_PROCESS

    async def run() -> None:
        t0 = time.perf_counter()
        app = make_app(db, config={"cursor_blink": False})
        async with app.run_test(size=(80, 24)) as pilot:
            while True:
                screen = app.screen
                if isinstance(screen, ReviewScreen) and screen.view and screen.painted == screen.view.sample.id:
                    break
                await asyncio.sleep(0.001)
            t1 = time.perf_counter()
            print(json.dumps({"total": t1 - T_PROCESS, "imports": t_import, "open_to_paint": t1 - t0}), flush=True)
            await pilot.press("q")

    asyncio.run(run())


def bare_paint() -> None:
    """Runs in a fresh process: a minimal Textual app, seconds from process start to its first
    frame painted (the after-refresh callback), printed as JSON."""
    from textual.app import App, ComposeResult
    from textual.widgets import Footer, Static

    t_import = time.perf_counter() - T_PROCESS
    text = ("How do I handle refund for account 12? Open Settings and choose Refund. " * 28)[:2000]

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Static("winnow-like header · goal #1 · 1 of 1,000,000")
            yield Static(text)
            yield Footer()

    async def run() -> None:
        app = Bare()
        async with app.run_test(size=(80, 24)) as pilot:
            done = asyncio.Event()
            app.call_after_refresh(done.set)
            await done.wait()
            t1 = time.perf_counter()
            print(json.dumps({"total": t1 - T_PROCESS, "imports": t_import}), flush=True)
            await pilot.pause()

    asyncio.run(run())


def compile_modules() -> None:
    """Byte-compile winnow's own modules first, as an installed winnow has them. With
    PYTHONDONTWRITEBYTECODE set (some shells and CI set it) a .pyc is never rewritten, so each
    child would compile every module changed since its .pyc was written, on every run: time the
    bare app, whose Textual came compiled from pip, never spends (0.1-0.2 s on this machine)."""
    import compileall

    for package in ("review", "tui"):
        compileall.compile_dir(str(ROOT / package), quiet=1)


def _spawn_first(flag: str, arg: str | None) -> dict:
    t_spawn = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, __file__, flag, *([arg] if arg else [])],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # printed the moment the first frame is painted
    out = json.loads(line)
    out["spawn"] = time.perf_counter() - t_spawn
    proc.wait()
    return out


async def queue_picker(db: Path, n: int) -> dict[str, list[float]]:
    """`f` -> the queue picker painted with its counts, n times (Esc between). Two clocks stop:
    "frame", when the picker's first complete frame has been handed to the driver (the test of
    tui/paint_gate.py: a refresh with no layout pending, or the one the layout pass paints
    itself); "idle", when the picker next has nothing left to draw (its after-refresh callback,
    posted once it is the current screen: the measure before 2026-12-04, which under load can
    also take in the worker's first counts)."""
    from textual import events

    from tui.app import make_app
    from tui.screens.dialogs import QueueDialog

    framed = asyncio.Event()
    in_layout = [False]
    refresh, layout = QueueDialog._compositor_refresh, QueueDialog._refresh_layout

    def compositor_refresh(self: QueueDialog) -> None:
        refresh(self)
        if self.is_current and (in_layout[0] or not self._layout_required):
            framed.set()

    def refresh_layout(self: QueueDialog, size=None, scroll: bool = False) -> None:
        in_layout[0] = True
        try:
            layout(self, size, scroll)
        finally:
            in_layout[0] = False

    QueueDialog._compositor_refresh = compositor_refresh  # type: ignore[method-assign]
    QueueDialog._refresh_layout = refresh_layout  # type: ignore[method-assign]
    out: dict[str, list[float]] = {"frame": [], "idle": []}
    app = make_app(db, config={"cursor_blink": False})
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            screen = app.screen
            while not (screen.view and screen.painted == screen.view.sample.id):
                await asyncio.sleep(0.001)
            await asyncio.sleep(0.5)  # the first paint's follow-up work (the dialogs' import) done
            for _ in range(n):
                framed.clear()
                t0 = time.perf_counter()
                app._driver.send_message(events.Key("f", "f"))
                while not isinstance(app.screen, QueueDialog):
                    await asyncio.sleep(0.0005)
                done = asyncio.Event()
                app.screen.call_after_refresh(done.set)
                await framed.wait()
                out["frame"].append(time.perf_counter() - t0)
                await done.wait()
                out["idle"].append(time.perf_counter() - t0)
                await pilot.press("escape")
                await asyncio.sleep(0.02)
            await pilot.press("q")
    finally:
        QueueDialog._compositor_refresh = refresh  # type: ignore[method-assign]
        QueueDialog._refresh_layout = layout  # type: ignore[method-assign]
    return out


# ---------------------------------------------------------------------- keypress -> painted


async def keypresses(db: Path, n: int) -> dict[str, list[float]]:
    from textual import events

    from tui.app import make_app

    out: dict[str, list[float]] = {"j": [], "a": []}
    app = make_app(db, config={"cursor_blink": False})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        while not (screen.view and screen.painted == screen.view.sample.id):
            await asyncio.sleep(0.001)
        painted = asyncio.Event()
        mark = screen._mark_painted

        def marked(sample_id: int) -> None:  # the screen's own "this sample is on screen" hook
            mark(sample_id)
            if screen.painted == sample_id:
                painted.set()

        screen._mark_painted = marked
        for i in range(n):
            key = "j" if i % 2 == 0 else "a"
            if key == "a" and not screen._answer_shown():
                # A sample whose answer starts below the fold at 80x24 (a long first answer in a
                # multi-turn sample): `a` would rightly be refused there ("PgDn shows it"), so the
                # step is a `j` (the benchmark used to wait for that move forever).
                key = "j"
            before = screen.view.sample.id
            painted.clear()
            t0 = time.perf_counter()
            app._driver.send_message(events.Key(key, key))
            while True:
                await painted.wait()
                if screen.view.sample.id != before:
                    break
                painted.clear()
            out[key].append(time.perf_counter() - t0)
            await asyncio.sleep(0.02)  # a fast typist: ~50 keys a second, never faster than the paint
        await pilot.press("q")
    return out


def baseline(db: Path, n: int) -> dict[str, list[float]]:
    """The same steps through the bare façade, no UI: what the store costs per keypress."""
    from review.session import open_session
    from review.store import Store

    out: dict[str, list[float]] = {"j": [], "a": []}
    with Store(db, create=False) as store:
        session = open_session(store)
        assert session is not None
        for i in range(n):
            t0 = time.perf_counter()
            if i % 2 == 0:
                session.next()
            else:
                assert session.cursor is not None
                session.decide(session.cursor, "keep")
                session.next()
            view = session.view()
            session.flags(view.sample if view else None)
            (out["j"] if i % 2 == 0 else out["a"]).append(time.perf_counter() - t0)
        while store.undo(session.goal.id):
            pass
    return out


def measure_all(db: Path, samples: int, keys: int, runs: int) -> dict:
    """Every figure this benchmark prints, measured in one go on `db` (generated if missing)."""
    import resource

    ensure_project(db, samples)
    reset_position(db)
    compile_modules()
    firsts, bares = [], []
    for _ in range(runs):  # interleaved, so a busy moment of the machine hits both alike
        firsts.append(_spawn_first("--first-paint", str(db)))
        bares.append(_spawn_first("--bare-paint", None))
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    reset_position(db)
    ui = asyncio.run(keypresses(db, keys))
    reset_position(db)
    picker = asyncio.run(queue_picker(db, 20))
    reset_position(db)
    base = baseline(db, keys)
    reset_position(db)
    from review.store import Store

    with Store(db, create=False) as store:
        n = store.total_samples()
    return {
        "samples": n,
        "db_mb": db.stat().st_size / 1e6,
        "runs": runs,
        "spawn": statistics.median(r["spawn"] for r in firsts),
        "total": statistics.median(r["total"] for r in firsts),
        "imports": statistics.median(r["imports"] for r in firsts),
        "open_paint": statistics.median(r["open_to_paint"] for r in firsts),
        "child_rss_mb": rss,
        "bare_spawn": statistics.median(r["spawn"] for r in bares),
        "bare_imports": statistics.median(r["imports"] for r in bares),
        "picker": picker,
        "ui": ui,
        "base": base,
    }


def report(m: dict) -> None:
    ui, base = m["ui"], m["base"]
    ms = 1000
    print(
        f"\nproject: {m['samples']:,} samples ({m['db_mb']:,.0f} MB) · terminal 80x24 · Python {sys.version.split()[0]}"
    )
    print(
        f"time to first sample:   {m['spawn']:.3f} s from spawning python to the first sample painted "
        f"(median of {m['runs']} fresh processes)   target ≤ 1 s"
    )
    print(
        f"   of which: script start→painted {m['total']:.3f} s = imports {m['imports']:.3f} s + "
        f"make_app→painted {m['open_paint']:.3f} s; peak RSS {m['child_rss_mb']:.0f} MB"
    )
    ratio = m["spawn"] / m["bare_spawn"]
    print(
        f"bare Textual app, same run: {m['bare_spawn']:.3f} s spawn→painted (imports {m['bare_imports']:.3f} s) · "
        f"winnow/bare = {ratio:.2f}x   target ≤ 1.5x"
    )
    pk, idle = m["picker"]["frame"], m["picker"]["idle"]
    print(
        f"queue picker (f) painted with counts: p50 {statistics.median(pk) * ms:.1f} ms  max {max(pk) * ms:.1f} ms"
        f" (the first opening builds it)   target ≤ 50 ms   (n={len(pk)}); until idle: p50"
        f" {statistics.median(idle) * ms:.1f} ms  max {max(idle) * ms:.1f} ms"
    )
    for key, label in (("j", "next (j)"), ("a", "keep+next (a)")):
        u, b = ui[key], base[key]
        print(
            f"keypress→painted {label:>14}: p50 {statistics.median(u) * ms:5.1f} ms  p95 {pct(u, 95) * ms:5.1f} ms"
            f"   | baseline store calls p50 {statistics.median(b) * ms:5.2f} ms  p95 {pct(b, 95) * ms:5.2f} ms"
            f"   (n={len(u)})"
        )
    both = ui["j"] + ui["a"]
    print(
        f"keypress→painted, all keys: p50 {statistics.median(both) * ms:.1f} ms  p95 {pct(both, 95) * ms:.1f} ms"
        f"   target p95 ≤ 20 ms"
    )


def run(as_json: bool = False, quick: bool = False) -> list:
    """For `python -m benchmarks`: the 1M project (100k with quick), as Figures."""
    from benchmarks.common import Figure, print_table

    samples = 100_000 if quick else 1_000_000
    db = Path(tempfile.gettempdir()) / f"winnow_bench_{samples}.db"
    m = measure_all(db, samples, keys=100 if quick else 300, runs=1 if quick else 3)
    if not as_json:
        report(m)
    both = m["ui"]["j"] + m["ui"]["a"]
    base = m["base"]["j"] + m["base"]["a"]
    label = f"{m['samples']:,}-sample project"
    figs = [
        Figure(
            f"{label}: time to first sample (spawn → painted)",
            m["spawn"],
            m["child_rss_mb"],
            {"target": "≤ 1.5x bare Textual", "imports_s": round(m["imports"], 3)},
        ),
        Figure(
            "bare Textual app: time to first paint (spawn → painted), same run",
            m["bare_spawn"],
            0.0,
            {"ratio": round(m["spawn"] / m["bare_spawn"], 2)},
        ),
        Figure(
            f"{label}: queue picker (f) painted with counts, p50",
            statistics.median(m["picker"]["frame"]),
            0.0,
            {
                "max_ms": round(max(m["picker"]["frame"]) * 1000, 1),
                "idle_p50_ms": round(statistics.median(m["picker"]["idle"]) * 1000, 1),
                "target": "≤ 50 ms",
            },
        ),
        Figure(
            f"{label}: keypress → painted, p50 (j and a)",
            statistics.median(both),
            m["child_rss_mb"],
            {"p95_ms": round(pct(both, 95) * 1000, 1), "target": "p95 ≤ 20 ms", "keys": len(both)},
        ),
        Figure(
            f"{label}: baseline, bare store calls per key, p50",
            statistics.median(base),
            0.0,
            {"p95_ms": round(pct(base, 95) * 1000, 2)},
        ),
    ]
    print_table("Review screen", figs, [], as_json)
    return figs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--keys", type=int, default=300, help="keypresses to time (alternating j and a)")
    ap.add_argument("--runs", type=int, default=3, help="fresh processes timed for the first paint")
    ap.add_argument("--db", type=Path, help="project file (default: one cached in the temp folder)")
    ap.add_argument("--first-paint", metavar="DB", help=argparse.SUPPRESS)
    ap.add_argument("--bare-paint", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.bare_paint:
        bare_paint()
        return
    if args.first_paint:
        first_paint(args.first_paint)
        return
    db = args.db or Path(tempfile.gettempdir()) / f"winnow_bench_{args.samples}.db"
    report(measure_all(db, args.samples, args.keys, args.runs))


if __name__ == "__main__":
    main()
