"""End to end: the installed `winnow` in a real terminal (tmux, 80x24), driven by keystrokes.

A new user declares a goal, decides 20 samples with single keys, the process is killed with
SIGKILL (as when an SSH link drops hard), and a restart shows the same goal, sample and
decisions. Also: hostile text cannot retitle the terminal or write the clipboard, and the app
draws with 16 and with 256 colours. Each test runs its own tmux server (-L), so it never
touches a tmux the developer is using.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tui_helpers import HOSTILE, base_records, build_project, chat, verdicts

from reliability.tmux import Tmux
from review.store import Store

WINNOW = Path(sys.executable).with_name("winnow")
pytestmark = [
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux on the PATH (apt-get install tmux)"),
    pytest.mark.skipif(not WINNOW.exists(), reason=f"needs the installed winnow script ({WINNOW}): pip install -e ."),
]


@pytest.fixture
def tmux(tmp_path):
    t = Tmux(tmp_path)
    yield t
    t.kill()


ANSWER_SHOWN = r"▌ASSISTANT\s*\n\s+\S"  # the answer pane's first line has text


def wait_first_sample(tmux, status: str) -> str:
    """The status line, then the sample's answer: a decision key acts only once the answer has
    been painted, and at start-up the status line can reach the terminal a frame before the
    pane's text (the pane renders its lines at its first resize)."""
    tmux.wait_for(status)
    return tmux.wait_for(ANSWER_SHOWN)


def winnow_pid(db: Path) -> int:
    text = Path(str(db) + ".lock").read_text()
    return int(re.search(r"pid (\d+)", text).group(1))


def test_declare_decide_kill_restart_resume(tmux, tmp_path):
    db = build_project(tmp_path / "project.db", base_records(), goal=None)
    tmux.start(f"{WINNOW} open {db}")
    tmux.wait_for(r"In one sentence: what should this batch teach the model\?")
    tmux.keys("Answer billing questions briefly.", "Enter")
    tmux.wait_for(r"GOAL .*Answer billing questions briefly\.")
    wait_first_sample(tmux, r"#1 / 30")
    for i in range(1, 21):
        if i % 4 == 0:
            tmux.keys("x")
            tmux.wait_for(r"why\?")
            tmux.keys("2")
        else:
            tmux.keys("a")
        tmux.wait_for(rf"#{i + 1} / 30")
    tmux.wait_for(r"✔ 15 kept · ✘ 5 dropped")

    os.kill(winnow_pid(db), signal.SIGKILL)
    assert tmux.exit_status(30) == 128 + signal.SIGKILL  # generous: CI machines are shared

    expected = {i: ("drop" if i % 4 == 0 else "keep") for i in range(1, 21)}
    assert verdicts(db) == expected  # every decision survived the kill
    with Store(db, create=False) as store:
        assert store.goal_state(1)[0] == 21

    tmux.respawn(f"{WINNOW} open {db}")
    tmux.wait_for(r"resumed at #21")
    text = wait_first_sample(tmux, r"#21 / 30")
    assert re.search(r"GOAL .*Answer billing questions briefly\.", text)
    assert "#21 / 30" in text and "✔ 15 kept · ✘ 5 dropped" in text
    tmux.keys("a")
    tmux.wait_for(r"#22 / 30")
    tmux.keys("q")
    assert tmux.exit_status(30) == 0  # generous: CI machines are shared
    assert verdicts(db) == {**expected, 21: "keep"}


def test_second_instance_gets_a_clear_message(tmux, tmp_path):
    db = build_project(tmp_path / "project.db", base_records())
    tmux.start(f"{WINNOW} open {db}")
    tmux.wait_for(r"#1 / 30")
    res = subprocess.run(
        [str(WINNOW), "open", str(db)],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "WINNOW_CONFIG": str(tmp_path / "none.json")},
    )
    assert res.returncode != 0
    assert "already open for review" in res.stderr
    tmux.keys("q")


def test_hostile_text_cannot_retitle_or_write_the_clipboard(tmux, tmp_path):
    db = build_project(tmp_path / "hostile.db", [chat("Show me: " + HOSTILE, HOSTILE, system=HOSTILE)])
    tmux.start(f"{WINNOW} open {db}")
    text = tmux.wait_for(r"hidden text")
    title_before = "pwned-title"
    assert title_before not in tmux.pane("#{pane_title}")
    assert "c1-title" not in tmux.pane("#{pane_title}")
    buffers = tmux.run("list-buffers", check=False)
    assert "pwned" not in buffers and "cHduZWQ" not in buffers  # OSC 52 never reached tmux
    assert "␛]0;pwned-title␇" in text
    assert "[@click=app.quit]" in text
    tmux.keys("pagedown")
    tmux.keys("c")
    time.sleep(0.3)
    assert tmux.pane("#{pane_dead}") == "0"  # still running: nothing in the text quit it
    tmux.keys("q")


@pytest.mark.parametrize(
    ("term", "allowed"),
    [
        ("xterm", re.compile(r"^(?:[0-9]|2[0-9]|3[0-79]|4[0-79]|9[0-7]|10[0-7])$")),  # 16 colours only
        ("xterm-256color", re.compile(r"^(?:[0-9]|2[0-9]|3[0-79]|4[0-79]|9[0-7]|10[0-7]|[34]8;5;\d+)$")),
    ],
)
def test_draws_with_16_and_256_colours(tmux, tmp_path, term, allowed):
    db = build_project(tmp_path / "project.db", base_records())
    tmux.start(f"{WINNOW} open {db}", term=term)
    tmux.wait_for(r"#1 / 30")
    tmux.keys("j", "c")
    tmux.wait_for(r"keep this")  # the compare pane header
    tmux.wait_for(r"No, refunds are not offered\.")
    screen = tmux.screen(escapes=True)
    params = re.findall(r"\x1b\[([0-9;]*)m", screen)
    assert params, "no colour at all"
    codes = []
    for p in params:
        parts = p.split(";")
        i = 0
        while i < len(parts):
            if parts[i] in ("38", "48") and i + 2 < len(parts) and parts[i + 1] == "5":
                codes.append(";".join(parts[i : i + 3]))
                i += 3
            else:
                codes.append(parts[i] or "0")
                i += 1
    bad = [c for c in codes if not allowed.match(c)]
    assert not bad, f"{term}: colours outside the terminal's palette: {sorted(set(bad))[:10]}"
    text = tmux.screen()
    assert "No, refunds are not offered." in text and "Yes, within 30 days of purchase." in text
    tmux.keys("q")


def test_ssh_drop_sighup_keeps_everything(tmux, tmp_path):
    db = build_project(tmp_path / "project.db", base_records())
    tmux.start(f"{WINNOW} open {db}")
    wait_first_sample(tmux, r"#1 / 30")
    for i in range(1, 4):
        tmux.keys("a")
        tmux.wait_for(rf"#{i + 1} / 30")
    pid = winnow_pid(db)
    tmux.kill()  # the terminal goes away: the app gets SIGHUP
    end = time.monotonic() + 30  # generous: CI machines are shared
    while time.monotonic() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("winnow kept running after its terminal went away")
    assert verdicts(db) == {1: "keep", 2: "keep", 3: "keep"}
    with Store(db, create=False) as store:
        assert store.goal_state(1)[0] == 4
