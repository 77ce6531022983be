"""A preference pair and a KTO record on the review screen (issue 15 item 2): both answers under
their CHOSEN / REJECTED headers at 80x24, the KTO label, media references; the text sanitised."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from tui_helpers import GOAL, app_for, screen_text, settle

from review.store import Store

SHARED = Path(__file__).resolve().parents[3] / "shared" / "datasets"


def pair(prompt: str, chosen: str, rejected: str) -> dict:
    return {
        "conversations": [{"from": "human", "value": prompt}],
        "chosen": {"from": "gpt", "value": chosen},
        "rejected": {"from": "gpt", "value": rejected},
    }


def project(path: Path, src: Path) -> Path:
    with Store(path) as store:
        store.import_file(src)
        store.add_goal(GOAL)
    return path


async def shows(pilot, app, text: str) -> None:
    """Wait (boundedly) until `text` is on the screen: the pane paints after the screen settles."""
    for _ in range(100):
        if text in screen_text(app):
            return
        await pilot.pause(0.05)
    raise AssertionError(f"{text!r} never appeared:\n{screen_text(app)}")


def write_json(path: Path, records: list[dict]) -> Path:
    path.write_text(json.dumps(records, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


async def test_a_pair_shows_both_answers_with_their_headers_at_80x24(tmp_path):
    src = write_json(
        tmp_path / "dpo.json",
        [pair("How long do refunds take?", "Refunds take 30 days.", "Refunds take 90 days, maybe.")],
    )
    app = app_for(project(tmp_path / "p.db", src))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await shows(pilot, app, "▌")
        shown = screen_text(app)
        assert "How long do refunds take?" in shown
        assert " CHOSEN " in shown and " REJECTED " in shown
        assert "Refunds take 30 days." in shown
        assert "90 days," in shown and "maybe." in shown
        rows = shown.splitlines()
        # side by side: the two headers on one row, chosen on the left
        (row,) = [r for r in rows if " CHOSEN " in r]
        assert row.index(" CHOSEN ") < row.index(" REJECTED ")


async def test_a_pair_stacks_on_a_narrow_terminal(tmp_path):
    src = write_json(tmp_path / "dpo.json", [pair("Q?", "Yes.", "No.")])
    app = app_for(project(tmp_path / "p.db", src))
    async with app.run_test(size=(60, 24)) as pilot:
        await settle(pilot)
        await shows(pilot, app, " REJECTED ")
        rows = screen_text(app).splitlines()
        chosen = next(i for i, r in enumerate(rows) if " CHOSEN " in r)
        rejected = next(i for i, r in enumerate(rows) if " REJECTED " in r)
        assert rejected > chosen and " REJECTED " not in rows[chosen]
        assert any("Yes." in r for r in rows[chosen:rejected]) and any("No." in r for r in rows[rejected:])


async def test_pair_text_is_sanitised_and_never_markup(tmp_path):
    src = write_json(tmp_path / "dpo.json", [pair("Q [/]?", "ok [bold]x[/bold] \x1b[31mred", "no [@click=app.quit]")])
    app = app_for(project(tmp_path / "p.db", src))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await shows(pilot, app, "▌")
        shown = screen_text(app)
        assert "[bold]x[/bold]" in shown and "␛[31mred" in shown and "[@click=app.quit]" in shown
        assert "\x1b[31m" not in shown


async def test_identical_answers_say_there_is_no_preference_signal(tmp_path):
    src = write_json(tmp_path / "dpo.json", [pair("Q?", "Same answer.", "Same answer.")])
    app = app_for(project(tmp_path / "p.db", src))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await shows(pilot, app, "REJECTED")
        assert "= same as chosen: no signal" in screen_text(app)


async def test_a_kto_record_shows_its_label(tmp_path):
    msgs = [{"role": "user", "content": "Q?"}, {"role": "assistant", "content": "A bad answer."}]
    src = write_json(tmp_path / "kto.json", [{"messages": msgs, "label": False}, {"messages": msgs, "label": True}])
    app = app_for(project(tmp_path / "p.db", src))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await shows(pilot, app, "▌")
        shown = screen_text(app)
        assert "KTO LABEL" in shown and "✘ undesirable" in shown and "A bad answer." in shown
        await pilot.press("j")
        await settle(pilot)
        await shows(pilot, app, "✔ desirable")


async def test_the_real_dpo_demo_shows_both_answers(tmp_path):
    src = SHARED / "llamafactory_dpo_en_demo.json"
    if not src.exists():
        pytest.skip(f"{src} is absent: the real datasets live beside the repository, not in it")
    first = json.loads(src.read_text(encoding="utf-8"))[0]
    app = app_for(project(tmp_path / "p.db", src))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await shows(pilot, app, "▌")
        shown = screen_text(app)
        assert " CHOSEN " in shown and " REJECTED " in shown
        assert first["chosen"]["value"].split()[0] in shown and first["rejected"]["value"].split()[0] in shown


async def test_media_references_are_listed(tmp_path):
    msgs = [{"role": "user", "content": "<image>Who?"}, {"role": "assistant", "content": "Two players."}]
    src = write_json(tmp_path / "mm.json", [{"messages": msgs, "images": ["pics/1.jpg"]}])
    app = app_for(project(tmp_path / "p.db", src))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await shows(pilot, app, "▌")
        shown = screen_text(app)
        assert "MEDIA" in shown and "image: pics/1.jpg" in shown


async def test_the_full_text_view_lists_the_rejected_answer(tmp_path):
    src = write_json(tmp_path / "dpo.json", [pair("Q?", "Chosen text here.", "Rejected text here.")])
    app = app_for(project(tmp_path / "p.db", src))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await shows(pilot, app, " REJECTED ")
        await pilot.press("v")
        await shows(pilot, app, "▌REJECTED ASSISTANT")
        assert "Rejected text here." in screen_text(app) and "Chosen text here." in screen_text(app)


def test_the_compare_pane_pairs_rejected_with_rejected():
    from review.model import ASSISTANT, USER, Conversation, Sample, Turn
    from tui import render

    def sample(i: int, rejected: str) -> Sample:
        conv = Conversation("", (Turn(USER, "Q?"), Turn(ASSISTANT, "Yes.")), "", (Turn(ASSISTANT, rejected),))
        return Sample(i, 1, "s", i, i, conv, "{}", "c", "p", "a", 2, 4)

    from rich.console import Console

    console = Console(width=60, record=True)
    left, right = render.compared(sample(1, "No [/] way."), sample(2, "Never."))
    console.print(left)
    console.print(right)
    out = console.export_text()
    assert out.count("REJECTED ASSISTANT") == 2 and "No [/] way." in out and "Never." in out


def test_a_pairs_differences_are_marked_in_their_sides_colour_and_only_when_they_share_text():
    from rich.console import Console

    from review.model import ASSISTANT, USER, Conversation, Sample, Turn
    from tui import render

    def styles(chosen: str, rejected: str) -> tuple[set[str], set[str]]:
        conv = Conversation("", (Turn(USER, "Q?"), Turn(ASSISTANT, chosen)), "", (Turn(ASSISTANT, rejected),))
        block = render.pair_answers(Sample(1, 1, "s", 0, 1, conv, "{}", "c", "p", "a", 2, 4))
        seen = []
        for side in (block.chosen, block.rejected):
            body = side[1].renderable
            body = getattr(body, "text", body)  # text holding CJK is wrapped by tui/wrap.py (CJKWrapped)
            seen.append({str(sp.style) for sp in body.spans})
        Console(width=80, file=io.StringIO()).print(block)  # renders side by side without error
        return seen[0], seen[1]

    c, r = styles("The refund window is 30 days from purchase.", "The refund window is 7 days from purchase.")
    assert c == {"underline green"} and r == {"underline red"}  # the chosen side is never painted red
    c, r = styles("Sure: open Settings, then Billing.", "我不能回答这个问题。")
    assert c == set() and r == set()  # nothing in common: shown plain, no wall of colour


def test_a_long_chinese_answer_side_by_side_is_folded_not_cut():
    from rich.console import Console

    from review.model import ASSISTANT, USER, Conversation, Sample, Turn
    from tui import render

    long = "这是一个很长的中文回答，没有空格可以换行。" * 3 + "结尾在这里"
    conv = Conversation("", (Turn(USER, "问？"), Turn(ASSISTANT, long)), "", (Turn(ASSISTANT, "我不能回答。"),))
    console = Console(width=80, record=True, file=io.StringIO())
    console.print(render.pair_answers(Sample(1, 1, "s", 0, 1, conv, "{}", "c", "p", "a", 2, 4)))
    out = console.export_text().replace("\n", "").replace(" ", "")
    assert "结尾在这里" in out and "…" not in out  # every character shown, folded at the column's edge
