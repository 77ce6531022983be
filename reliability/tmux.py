"""A private tmux server (80x24) driven by keystrokes, for end-to-end runs of the installed winnow.

Each Tmux runs its own server (`tmux -L <unique socket>`), so it never touches a tmux the
developer is using. Used by tests/tui/test_e2e_tmux.py and the reliability suite's ssh scenario.

    t = Tmux(tmp)
    t.start(f"{WINNOW} open {db}")
    t.wait_for(r"#1 / 30")
    t.keys("a")
    t.kill()                      # the whole server: the pane's program gets SIGHUP
"""

from __future__ import annotations

import re
import subprocess
import time
import uuid
from pathlib import Path


class Tmux:
    def __init__(self, tmp_path: Path) -> None:
        self.socket = f"winnow-test-{uuid.uuid4().hex[:8]}"
        self.tmp = tmp_path

    def run(self, *args: str, check: bool = True) -> str:
        res = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=check)
        return res.stdout

    def start(self, command: str, *, term: str = "xterm-256color") -> None:
        env = {
            "WINNOW_HOME": str(self.tmp / "home"),
            "WINNOW_CONFIG": str(self.tmp / "none.json"),
            "TERM": term,
            "COLORTERM": "",
        }
        exports = " ".join(f"{k}={v!s}" for k, v in env.items())
        self.run("-f", "/dev/null", "new-session", "-d", "-s", "w", "-x", "80", "-y", "24", f"env {exports} {command}")
        self.run("set-option", "-g", "remain-on-exit", "on")
        self.run("set-option", "-g", "set-clipboard", "on")

    def respawn(self, command: str) -> None:
        env = f"env WINNOW_HOME={self.tmp / 'home'} WINNOW_CONFIG={self.tmp / 'none.json'} TERM=xterm-256color"
        self.run("respawn-pane", "-k", "-t", "w", f"{env} {command}")

    def screen(self, *, escapes: bool = False) -> str:
        return self.run("capture-pane", "-p", *(["-e"] if escapes else []), "-t", "w")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "w", *keys)

    def wait_for(self, pattern: str, timeout: float = 15.0) -> str:
        end = time.monotonic() + timeout
        text = ""
        while time.monotonic() < end:
            text = self.screen()
            if re.search(pattern, text):
                return text
            time.sleep(0.05)
        raise AssertionError(f"never saw {pattern!r} on screen:\n{text}")

    def pane(self, fmt: str) -> str:
        return self.run("display-message", "-p", "-t", "w", fmt).strip()

    def wait_dead(self, timeout: float = 30.0) -> bool:
        """Wait until the pane's program has exited (remain-on-exit keeps the pane to read)."""
        # The pane is marked dead when its pty closes; its exit status (or the signal that
        # killed it) arrives when tmux reaps the process, a moment later: wait for that too, so
        # pane_dead_status / pane_dead_signal can be read.
        end = time.monotonic() + timeout
        dead = False
        while time.monotonic() < end:
            state = self.pane("#{pane_dead}|#{pane_dead_status}|#{pane_dead_signal}").split("|")
            dead = state[0] == "1"
            if dead and any(state[1:]):
                return True
            time.sleep(0.05)
        return dead

    def kill(self) -> None:
        self.run("kill-server", check=False)
