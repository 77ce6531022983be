"""Drive the real app on the demo project and save SVG screenshots into screenshots/.

    python scripts/screenshots.py            # writes screenshots/*.svg (80x24, plus one wide)

It builds the demo project in a temporary folder, declares a goal through the goal prompt,
decides a few samples with the same keys a user presses, and calls `app.save_screenshot` at
each screen. Re-run it whenever the UI changes; the README embeds the files.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OUT = ROOT / "screenshots"
GOAL = "Answer support questions accurately, politely and briefly, in the customer's language."
GOAL_B = "Refuse what the support policy does not cover, politely."


async def wait_painted(pilot) -> None:
    from tui.screens.review import ReviewScreen

    app = pilot.app
    for _ in range(200):
        await app.workers.wait_for_complete()
        await pilot.pause()
        s = app.screen
        if not isinstance(s, ReviewScreen) or (not s.busy and s.view and s.painted == s.view.sample.id):
            return
    raise RuntimeError("the review screen never painted")


async def shoot(db: Path, size: tuple[int, int], shots: list[str]) -> None:
    from tui.app import make_app

    app = make_app(db, config={"cursor_blink": False})

    def save(name: str) -> None:
        app.clear_notifications()
        app.save_screenshot(f"{name}.svg", str(OUT))
        shots.append(name)

    async with app.run_test(size=size, notifications=True) as pilot:
        await pilot.pause()
        if size == (80, 24):
            await pilot.press(*GOAL[:40])
            save("goal")
            await pilot.press(*GOAL[40:], "enter")
            await wait_painted(pilot)
            for keys in (["a"], ["a"], ["x", "2"], ["a"]):
                await pilot.press(*keys)
                await wait_painted(pilot)
            save("review")
            await pilot.press("x")
            await pilot.pause()
            save("drop")
            await pilot.press("escape", "asterisk")  # bulk: every sample of the queue, previewed
            await app.workers.wait_for_complete()
            await pilot.pause()
            save("bulk")
            await pilot.press("escape")
            await pilot.pause()
            await pilot.press("colon", *"93", "enter")  # #93 and #186: same prompt, different answer
            await wait_painted(pilot)
            await pilot.press("c")
            await wait_painted(pilot)
            save("compare")
            await pilot.press("c", "question_mark")
            await pilot.pause()
            save("help")
            await pilot.press("escape", "colon", *"4", "enter")
            await wait_painted(pilot)
            for keys in (["t", *"billing", "enter"], ["a"], ["x", "o"], ["a"], ["a"], ["x", "c"], ["a"]):
                await pilot.press(*keys)
                await wait_painted(pilot)
            await pilot.press("s")
            await app.workers.wait_for_complete()
            await pilot.pause()
            save("stats")
            await pilot.press("escape", "G", "n", *GOAL_B, "tab", *"refusals show the model where to stop", "enter")
            await wait_painted(pilot)
            for keys in (["a"], ["x", "o"], ["a"], ["a"], ["x", "2"], ["a"]):
                await pilot.press(*keys)
                await wait_painted(pilot)
            await pilot.press("G", "k")
            await app.workers.wait_for_complete()
            await pilot.pause()
            save("goals")
            await pilot.press("d", "enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            save("goal_diff")
        else:
            await wait_painted(pilot)
            await pilot.press("colon", *"10", "enter")  # #10 and #200: the same in Chinese
            await wait_painted(pilot)
            await pilot.press("c")
            await wait_painted(pilot)
            save("compare_wide")
        await pilot.press("q")


PAIRS = ROOT.parent / "shared" / "datasets" / "llamafactory_dpo_zh_demo.json"
PAIR_GOAL = "回答要准确、简洁，拒绝不安全的请求。"


async def shoot_pair(db: Path, size: tuple[int, int], name: str, shots: list[str]) -> None:
    """A preference pair (LLaMA-Factory's Chinese DPO demo): chosen and rejected side by side."""
    from tui.app import make_app

    app = make_app(db, config={"cursor_blink": False})
    async with app.run_test(size=size, notifications=True) as pilot:
        await pilot.pause()
        await pilot.press(*PAIR_GOAL, "enter")
        await wait_painted(pilot)
        await pilot.press("colon", *"3", "enter")
        await wait_painted(pilot)
        app.clear_notifications()
        app.save_screenshot(f"{name}.svg", str(OUT))
        shots.append(name)
        await pilot.press("q")


def analyse(db: Path) -> None:
    """Exact + lexical duplicates and the style analysis, so the screenshots show real flags
    (the semantic detector is left out: it would load a model)."""
    from review.analysis import run_analysis
    from review.style import run_style_analysis

    run_analysis(db, detectors=("exact", "lexical"))
    run_style_analysis(db)


def main() -> None:
    from review.demo import DEMO_PATH
    from review.store import Store

    OUT.mkdir(exist_ok=True)
    shots: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "demo.db"
        with Store(db) as store:
            store.import_file(DEMO_PATH)
        analyse(db)
        asyncio.run(shoot(db, (80, 24), shots))
        asyncio.run(shoot(db, (130, 30), shots))
        if PAIRS.exists():
            for size, name in (((80, 24), "pair"), ((120, 36), "pair_wide")):
                pdb = Path(tmp) / f"{name}.db"
                with Store(pdb) as store:
                    store.import_file(PAIRS)
                asyncio.run(shoot_pair(pdb, size, name, shots))
        else:
            print(f"pair screenshots skipped: {PAIRS} is not here (the shared datasets sit beside the repository)")
    for name in shots:
        print(f"screenshots/{name}.svg")


if __name__ == "__main__":
    main()
