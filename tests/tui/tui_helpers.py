"""Helpers for the review-screen tests: real project files built by importing a JSONL file in
OpenAI `messages` format, and waits until the screen has painted."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from reliability.pilot import screen_text  # noqa: F401  (re-exported for the tests)
from reliability.pilot import settle as _settle
from review.store import Store

GOAL = "Answer billing questions with the 30-day policy, briefly."

HOSTILE = (
    "markup: [/] [INST] [Alice]: hi list[int] [@click=app.quit] [link=http://evil]click[/link] [bold]b[/bold]\n"
    "CSI: \x1b[31mRED\x1b[0m \x1b[2J\n"
    "OSC title: \x1b]0;pwned-title\x07 OSC 52: \x1b]52;c;cHduZWQ=\x07 OSC 8: \x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\\n"
    "DCS: \x1bP1$qm\x1b\\ APC: \x1b_Gf=100;AAAA\x1b\\\n"
    "C1: \x9b31m \x9d0;c1-title\x9c SO/SI: \x0e\x0f CR: a\rb BS: a\x08b NUL: a\x00b DEL: a\x7fb\n"
    "bidi: user\u202egnp.exe \u2066iso\u2069 zero-width: pass\u200bword \ufeffbom\n"
    "tags: hi" + "".join(chr(0xE0000 + ord(c)) for c in "smuggled") + "\n"
)


def chat(user: str, assistant: str, system: str | None = None) -> dict:
    msgs = [{"role": "system", "content": system}] if system else []
    return {"messages": msgs + [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]}


def tool_sample() -> dict:
    return {
        "messages": [
            {"role": "user", "content": "What is the weather in Paris?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "name": "get_weather", "content": '{"temp_c": 18}'},
            {"role": "assistant", "content": "It is 18 °C in Paris."},
        ]
    }


def base_records() -> list[dict]:
    """30 samples: #2/#3 share a prompt, #5 copies #1, #6 looks like markup, #7 calls a tool,
    #4 is Chinese, #17 is the only one mentioning zanzibar."""
    recs = [
        chat("How do I reset my password?", "Open Settings → Security and choose Reset password."),
        chat("Can I get a refund?", "Yes, within 30 days of purchase."),
        chat("Can I get a refund?", "No, refunds are not offered."),
        chat("如何重置密码？", "请在“设置 → 安全”中选择重置密码。😀", system="你是客服助手。"),
        chat("How do I reset my password?", "Open Settings → Security and choose Reset password."),
        chat("Is [/] a problem? [@click=app.quit] [INST]", "list[int] is a type; [Alice]: hi [link=http://x]y"),
        tool_sample(),
    ]
    for i in range(8, 31):
        extra = " We also ship to Zanzibar." if i == 17 else ""
        recs.append(chat(f"Question {i} about billing?", f"Answer {i}: see the billing page.{extra}"))
    return recs


def build_project(path: Path, records: list[dict], goal: str | None = GOAL) -> Path:
    src = path.with_suffix(".jsonl")
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    with Store(path) as store:
        store.import_file(src)
        if goal:
            store.add_goal(goal)
    return path


def app_for(path: Path, **config):
    from tui.app import make_app

    return make_app(path, config={"cursor_blink": False, **config})


async def settle(pilot) -> None:
    """Wait for workers, then until the review screen has painted its sample."""
    await _settle(pilot, tries=100, message="the review screen never painted its sample")


def on_disk(path: Path, goal_id: int = 1):
    """What the project file holds now, read through a separate connection."""
    with Store(path, create=False) as store:
        cursor, queue = store.goal_state(goal_id)
        return store.materialised_decisions(goal_id), cursor, queue.to_json()  # the queue as the file stores it


def verdicts(path: Path, goal_id: int = 1) -> dict[int, str | None]:
    return {sid: d.verdict for sid, d in on_disk(path, goal_id)[0].items()}


def terminal_bytes(app) -> str:
    """Exactly what the app would write to the terminal for a full repaint of the screen."""
    return app.screen._compositor.render_full_update().render_segments(app.console)


def freeze_times(path: Path) -> None:
    """Give every logged action a fixed time, one minute apart (for stats snapshots)."""
    with sqlite3.connect(path) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM actions ORDER BY id")]
        for n, aid in enumerate(ids):
            at = f"2026-11-25T{9 + n // 60:02d}:{n % 60:02d}:00.000+00:00"
            conn.execute("UPDATE actions SET at = ? WHERE id = ?", (at, aid))
            conn.execute("UPDATE events SET at = ? WHERE action_id = ?", (at, aid))
