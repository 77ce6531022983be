"""A real pseudo-terminal for the reliability suite: run a command in a pty, keep every byte it
writes, and render those bytes with pyte (a VT100/xterm emulator) to read the screen a user sees.

    with PtyTerminal([winnow, "open", str(db)], env=winnow_env(tmp)) as term:
        term.wait_for(r"#1 / 30")
        term.send("a")
        term.wait_for(r"#2 / 30")
        term.kill()                 # SIGKILL, as when an SSH link drops hard
        raw = term.raw              # every byte the app wrote, up to its death

Nothing here knows about winnow except `winnow_env` and `WINNOW`.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import signal
import struct
import sys
import termios
import threading
import time
from pathlib import Path

import pyte

WINNOW = Path(sys.executable).with_name("winnow")


def winnow_env(tmp: Path, **extra: str) -> dict[str, str]:
    """A clean environment: winnow's home and config inside `tmp`, a 256-colour xterm."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp / "home"),
        "WINNOW_HOME": str(tmp / "home"),
        "WINNOW_CONFIG": str(tmp / "none.json"),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
    }
    env.update(extra)
    return env


class PtyTerminal:
    def __init__(
        self,
        argv: list[str],
        *,
        env: dict[str, str],
        cols: int = 80,
        rows: int = 24,
        cwd: str | None = None,
        screen_class: type[pyte.Screen] = pyte.Screen,
    ):
        self.cols, self.rows = cols, rows
        self.screen = screen_class(cols, rows)
        self._stream = pyte.ByteStream(self.screen)
        self.raw = bytearray()
        self._cond = threading.Condition()
        self._eof = False
        self.last_output = 0.0  # time.monotonic() of the newest chunk read
        pid, fd = pty.fork()
        if pid == 0:  # child: the pty is already its controlling terminal and stdio
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
                if cwd:
                    os.chdir(cwd)
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.status: int | None = None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    # ------------------------------------------------------------------ output

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:  # EIO: every writer of the slave side has gone
                chunk = b""
            with self._cond:
                if not chunk:
                    self._eof = True
                    self._cond.notify_all()
                    return
                self.last_output = time.monotonic()
                self.raw += chunk
                self._stream.feed(chunk)
                self._cond.notify_all()

    @property
    def lock(self) -> threading.Condition:
        """Held by the reader thread while it feeds the screen: hold it to read cells consistently."""
        return self._cond

    def text(self) -> str:
        """The screen as the emulator shows it now, one line per row."""
        with self._cond:
            return "\n".join(self.screen.display)

    def wait_for(self, pattern: str, timeout: float = 20.0) -> re.Match[str]:
        """Block until the screen matches `pattern`; AssertionError with the screen if it never does."""
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        with self._cond:
            while True:
                m = rx.search("\n".join(self.screen.display))
                if m:
                    return m
                left = end - time.monotonic()
                if left <= 0 or self._eof:
                    screen = "\n".join(self.screen.display)
                    why = "the program exited" if self._eof else f"{timeout:.0f} s passed"
                    raise AssertionError(f"never saw {pattern!r} on screen ({why}):\n{screen}")
                self._cond.wait(min(left, 0.2))

    def settle(self, since: float, quiet: float = 0.06, timeout: float = 3.0) -> float | None:
        """Wait for output written after `since` and then `quiet` seconds of silence; return the
        time of the last byte of that burst (None if nothing came within `timeout`)."""
        end = since + timeout
        with self._cond:
            while time.monotonic() < end:
                last = self.last_output
                if last > since and time.monotonic() - last >= quiet:
                    return last
                self._cond.wait(quiet / 3)
            return self.last_output if self.last_output > since else None

    def peak_rss_mb(self) -> float:
        """The process's peak resident memory so far (VmHWM), in MB; 0 if it has exited."""
        try:
            with open(f"/proc/{self.pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def wait_eof(self, timeout: float = 20.0) -> bool:
        end = time.monotonic() + timeout
        with self._cond:
            while not self._eof and time.monotonic() < end:
                self._cond.wait(0.1)
            return self._eof

    # ------------------------------------------------------------------ input and lifecycle

    def send(self, data: str | bytes) -> None:
        os.write(self.fd, data.encode() if isinstance(data, str) else data)

    def alive(self) -> bool:
        if self.status is not None:
            return False
        pid, status = os.waitpid(self.pid, os.WNOHANG)
        if pid:
            self.status = status
            return False
        return True

    def wait_exit(self, timeout: float = 20.0) -> int | None:
        """The exit code (negative: killed by that signal), or None if it is still running."""
        end = time.monotonic() + timeout
        while self.alive() and time.monotonic() < end:
            time.sleep(0.02)
        if self.status is None:
            return None
        return os.waitstatus_to_exitcode(self.status)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.alive():
            os.kill(self.pid, sig)
            self.wait_exit(10)
        self.wait_eof(5)

    def close(self) -> None:
        self.kill()
        try:
            os.close(self.fd)
        except OSError:
            pass

    def __enter__(self) -> PtyTerminal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
