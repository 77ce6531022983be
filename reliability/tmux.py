"""A private tmux server (80x24) driven by keystrokes, for end-to-end runs of the installed winnow.

Each Tmux runs its own server (`tmux -L <unique socket>`), so it never touches a tmux the
developer is using. Used by tests/tui/test_e2e_tmux.py and the reliability suite's ssh scenario.

    t = Tmux(tmp)
    t.start(f"{WINNOW} open {db}")
    t.wait_for(r"#1 / 30")
    t.keys("a")
    t.kill()                      # the whole server: the pane's program gets SIGHUP

The pane runs `COMMAND; echo $? > FILE` in tmux's shell, like a program started from a login
shell in a real pane, and `exit_status()` reads FILE: tmux's own #{pane_dead_status} is filled
in only when tmux reaps the child, which on a loaded machine came seconds late or (about once in
ten runs after a killed sshd session) never. `program_pid()` is the program's pid, the shell's
child.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import time
import uuid
from pathlib import Path


class Tmux:
    def __init__(self, tmp_path: Path) -> None:
        self.socket = f"winnow-test-{uuid.uuid4().hex[:8]}"
        self.tmp = tmp_path
        self.runs = 0
        self.exit_file = tmp_path / "pane-exit-0"

    def _recorded(self, command: str) -> str:
        """The command line, followed by writing its exit status to a new file."""
        self.runs += 1
        self.exit_file = self.tmp / f"pane-exit-{self.socket}-{self.runs}"
        self.exit_file.unlink(missing_ok=True)
        return f"{command}; echo $? > {shlex.quote(str(self.exit_file))}"

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
        line = self._recorded(f"env {exports} {command}")
        self.run("-f", "/dev/null", "new-session", "-d", "-s", "w", "-x", "80", "-y", "24", line)
        self.run("set-option", "-g", "remain-on-exit", "on")
        self.run("set-option", "-g", "set-clipboard", "on")

    def respawn(self, command: str) -> None:
        env = f"env WINNOW_HOME={self.tmp / 'home'} WINNOW_CONFIG={self.tmp / 'none.json'} TERM=xterm-256color"
        self.run("respawn-pane", "-k", "-t", "w", self._recorded(f"{env} {command}"))

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

    def exit_status(self, timeout: float = 30.0) -> int | None:
        """Wait until the pane's program has exited; its exit status (128 + N after signal N), or
        None if it still runs after `timeout` seconds."""
        end = time.monotonic() + timeout
        while True:
            try:
                text = self.exit_file.read_text()
            except FileNotFoundError:
                text = ""
            if text.endswith("\n"):
                return int(text)
            if time.monotonic() > end:
                return None
            time.sleep(0.05)

    def wait_dead(self, timeout: float = 30.0) -> bool:
        """Wait until the pane's program has exited."""
        return self.exit_status(timeout) is not None

    def program_pid(self, timeout: float = 10.0) -> int:
        """The pid of the program the pane runs (the child of the pane's shell)."""
        shell = int(self.pane("#{pane_pid}"))
        end = time.monotonic() + timeout
        while True:
            try:
                children = Path(f"/proc/{shell}/task/{shell}/children").read_text().split()
            except FileNotFoundError:
                children = []
            if children:
                return int(children[0])
            if time.monotonic() > end:
                raise AssertionError(f"the pane's shell (pid {shell}) runs no program")
            time.sleep(0.05)

    def kill(self) -> None:
        self.run("kill-server", check=False)
