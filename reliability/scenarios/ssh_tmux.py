"""ssh: winnow over a real `ssh` connection to localhost, inside tmux, and the link dropped hard.

The scenario runs its own OpenSSH server on a free 127.0.0.1 port (host and client keys made
with ssh-keygen in the work folder, its own config, pid file and authorized_keys), and a
private tmux server (80x24) whose pane runs `ssh -tt ... 'env -i ... winnow open DB'`. Where
sshd is missing it installs openssh-server, but only as root with apt-get; otherwise it skips,
saying what to install. Each trial:

1. sees the goal and `#1 / N` on the far side of the link, and decides 10 samples (keeps and
   drops with a reason), each key waiting for the next sample on screen;
2. drops the connection hard: SIGKILL to the ssh client (odd trials) or to the sshd processes
   serving the session (even trials). The remote winnow must then exit (SIGHUP from its pty)
   and release its lock, and every decision the screen showed is in the file, with the cursor
   on the next sample and integrity_check ok;
3. reconnects over ssh: the screen must say "resumed at #11" with the file's tallies; decides
   5 more, quits with `q`; ssh must report exit status 0, and the file must hold all 15
   decisions as sent, with the lock free.

sshd and the tmux server are always stopped in a `finally`, with any session they left.
"""

from __future__ import annotations

import os
import pwd
import random
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from reliability import Outcome, Scenario
from reliability.project import GOAL, Bells, build_project, file_state, integrity, lock_is_free, parse_status, records
from reliability.term import WINNOW, winnow_env
from reliability.tmux import Tmux
from review.model import REASONS

SAMPLES = 40
FIRST, MORE = 10, 5  # decisions before the drop, and after reconnecting
TIMEOUT = 30.0  # generous: CI machines are shared


class Skip(Exception):
    """The scenario cannot run on this machine; the message says what to install."""


class Broken(Exception):
    """A step did not happen as it must; the trial stops there."""


# ---------------------------------------------------------------------- an sshd of our own


def find_sshd() -> str | None:
    for p in (shutil.which("sshd"), "/usr/sbin/sshd", "/usr/local/sbin/sshd"):
        if p and os.access(p, os.X_OK):
            return p
    return None


def ensure_tools(out: Outcome) -> str:
    """The sshd binary, installing openssh-server when that is possible; Skip otherwise."""
    missing = [t for t in ("ssh", "ssh-keygen", "tmux") if shutil.which(t) is None]
    sshd = find_sshd()
    if sshd and not missing:
        return sshd
    wanted = (["openssh-server"] if not sshd else []) + sorted(
        {"ssh": "openssh-client", "ssh-keygen": "openssh-client", "tmux": "tmux"}[t] for t in missing
    )
    what = " ".join(dict.fromkeys(wanted))
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise Skip(f"needs {what} (sshd, ssh, ssh-keygen, tmux): apt-get install {what}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    t = time.perf_counter()
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *dict.fromkeys(wanted)]):
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
        except subprocess.TimeoutExpired:
            raise Skip(f"`{' '.join(cmd)}` took over 10 minutes; install {what} by hand") from None
        if res.returncode != 0:
            raise Skip(f"`{' '.join(cmd)}` failed ({res.stderr.strip()[-300:]}); install {what} by hand")
    out.note(f"installed {what} with apt-get ({time.perf_counter() - t:.0f} s)")
    sshd = find_sshd()
    if not sshd or any(shutil.which(t) is None for t in ("ssh", "ssh-keygen", "tmux")):
        raise Skip(f"installed {what}, yet sshd/ssh/ssh-keygen/tmux are still missing")
    return sshd


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True, timeout=30)


class Sshd:
    """One sshd on 127.0.0.1:port that lets the current user in with one key, and nobody else."""

    def __init__(self, binary: str, folder: Path) -> None:
        self.binary, self.dir = binary, folder
        folder.mkdir(parents=True, exist_ok=True)
        self.user = pwd.getpwuid(os.geteuid()).pw_name
        self.host_key, self.key = folder / "host_ed25519", folder / "id_ed25519"
        keygen(self.host_key)
        keygen(self.key)
        (folder / "authorized_keys").write_text(Path(str(self.key) + ".pub").read_text())
        self.port = free_port()
        self.config = folder / "sshd_config"
        self.config.write_text(
            "\n".join(
                [
                    f"Port {self.port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {self.host_key}",
                    f"AuthorizedKeysFile {folder / 'authorized_keys'}",
                    f"PidFile {folder / 'sshd.pid'}",
                    f"AllowUsers {self.user}",
                    "PermitRootLogin prohibit-password",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "StrictModes no",
                    "UsePAM no",
                    "UseDNS no",
                    "PrintMotd no",
                    "PrintLastLog no",
                    "LogLevel VERBOSE",
                    "",
                ]
            )
        )
        self.log = folder / "sshd.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation needs it
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [self.binary, "-D", "-e", "-f", str(self.config)], stdout=log, stderr=subprocess.STDOUT
            )
        end = time.monotonic() + 15
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise Skip(f"sshd would not start here (exit {self.proc.returncode}): {self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise Skip(f"sshd did not listen on 127.0.0.1:{self.port} within 15 s: {self.log_tail()}")

    def log_tail(self) -> str:
        try:
            return " | ".join(self.log.read_text(errors="replace").strip().splitlines()[-4:])
        except OSError:
            return "(no log)"

    def ssh(self, remote: str) -> str:
        """The shell command line that runs `remote` on the far side with a pty."""
        opts = [
            "-F", "/dev/null", "-tt", "-p", str(self.port), "-i", str(self.key),
            "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10",
        ]  # fmt: skip
        return shlex.join(["ssh", *opts, f"{self.user}@127.0.0.1", remote])

    def sessions(self) -> list[int]:
        """The sshd processes serving connections (descendants of the listener named sshd*)."""
        if self.proc is None:
            return []
        return [p for p in descendants(self.proc.pid) if comm(p).startswith("sshd")]

    def stop(self) -> None:
        for pid in self.sessions():
            kill(pid, signal.SIGKILL)
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def descendants(pid: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(d.name))
    out, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def kill(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def alive(pid: int) -> bool:
    """Running (a zombie nobody reaped has exited: it holds no files and no lock)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


# ---------------------------------------------------------------------- one trial


class Trial:
    def __init__(self, k: int, sshd: Sshd, work: Path, rng: random.Random) -> None:
        self.k, self.sshd, self.rng = k, sshd, rng
        self.work = work / f"trial-{k}"
        self.work.mkdir(parents=True, exist_ok=True)
        self.db = build_project(self.work / "project.db", records(SAMPLES, rng), GOAL)
        self.drop_how = "ssh client" if k % 2 else "sshd session"
        self.sent: dict[int, tuple[str, str | None]] = {}
        self.failures: list[str] = []
        self.refused: list[str] = []
        self.bells: Bells
        env = winnow_env(self.work)
        remote = "env -i " + " ".join(f"{name}={shlex.quote(v)}" for name, v in env.items())
        self.command = sshd.ssh(f"{remote} {shlex.quote(str(WINNOW))} open {shlex.quote(str(self.db))}")

    def fail(self, message: str) -> None:
        self.failures.append(f"trial {self.k} (drop: kill -9 the {self.drop_how}): {message}")

    def status(self, tmux: Tmux):
        return parse_status(tmux.screen())

    def wait_sample(self, tmux: Tmux, n: int) -> None:
        end = time.monotonic() + TIMEOUT
        while time.monotonic() < end:
            st = self.status(tmux)
            if st is not None and st.number == n and st.kept + st.dropped == n - 1:
                return
            time.sleep(0.03)
        raise Broken(f"never saw #{n} / {SAMPLES} with {n - 1} decided; screen:\n{tmux.screen()}")

    def decide(self, tmux: Tmux, count: int) -> None:
        """`count` decisions from the sample on screen, each key waiting for the next sample."""
        for _ in range(count):
            st = self.status(tmux)
            assert st is not None
            i = st.number
            if self.rng.random() < 0.7:
                self.sent[i] = ("keep", None)
                self.press(tmux, "a", lambda i=i: self.at(tmux, i + 1), f"#{i + 1} after a keep")
            else:
                digit = self.rng.randint(1, len(REASONS))
                self.sent[i] = ("drop", REASONS[digit - 1])
                self.press(tmux, "x", lambda i=i: f"Drop #{i} — why?" in tmux.screen(), f"the drop dialog of #{i}")
                self.press(tmux, str(digit), lambda i=i: self.at(tmux, i + 1), f"#{i + 1} after a drop reason")

    def at(self, tmux: Tmux, n: int) -> bool:
        st = self.status(tmux)
        return st is not None and st.number == n and st.kept + st.dropped == n - 1

    def press(self, tmux: Tmux, key: str, done, what: str) -> None:
        """One key for the sample on screen, then wait for `done()`. A bell instead (read from the
        pane's output) means winnow refused a key for a sample already painted: recorded, and
        pressed again a moment later, as a user would."""
        for attempt in range(5):
            if attempt:
                time.sleep(0.3)
            rung = self.bells.count()
            tmux.keys(key)
            end = time.monotonic() + TIMEOUT
            while not done():
                if self.bells.count() > rung:
                    self.refused.append(f"{key!r} waiting for {what}")
                    break
                if time.monotonic() > end:
                    raise Broken(f"never saw {what}; screen:\n{tmux.screen()}")
                time.sleep(0.03)
            else:
                return
        raise Broken(f"never saw {what}: the key was refused five times")

    def watch(self, tmux: Tmux, name: str) -> None:
        """Copy everything the pane's program writes into a file, to hear its bells."""
        out = self.work / f"pane-{name}.out"
        tmux.run("pipe-pane", "-t", "w")  # close any earlier pipe
        tmux.run("pipe-pane", "-t", "w", f"cat >> {shlex.quote(str(out))}")
        self.bells = Bells.of_file(out)

    def remote_pid(self) -> int | None:
        try:
            m = re.search(r"pid (\d+)", Path(str(self.db) + ".lock").read_text())
        except OSError:
            return None
        return int(m.group(1)) if m else None

    def check_file(self, upto: int, when: str) -> None:
        status = integrity(self.db)
        if status != "ok":
            self.fail(f"{when}: integrity_check: {status}")
            return
        fs = file_state(self.db)
        want = {s: v for s, v in self.sent.items() if s < upto}
        if fs.decisions != want:
            lost = sorted(set(want) - set(fs.decisions))
            extra = sorted(set(fs.decisions) - set(want))
            other = sorted(s for s in set(want) & set(fs.decisions) if want[s] != fs.decisions[s])
            self.fail(
                f"{when}: the file's decisions are not those acknowledged: lost {lost}, never sent {extra}, "
                f"other verdict {other}"
            )
        if fs.cursor != upto:
            self.fail(f"{when}: the saved cursor is #{fs.cursor}, the screen showed #{upto}")

    def run(self) -> None:
        tmux = Tmux(self.work)
        remote_pid = None
        try:
            tmux.start(self.command)
            self.watch(tmux, "first")
            tmux.wait_for(r"GOAL .*Answer billing questions", TIMEOUT)
            self.wait_sample(tmux, 1)
            self.decide(tmux, FIRST)
            remote_pid = self.remote_pid()
            if remote_pid is None or not alive(remote_pid):
                raise Broken(f"no live winnow behind the lock file (pid {remote_pid})")

            # The link drops hard.
            if self.drop_how == "ssh client":
                kill(tmux.program_pid(), signal.SIGKILL)
            else:
                sessions = self.sshd.sessions()
                if not sessions:
                    raise Broken("no sshd session process to kill")
                for pid in sessions:
                    kill(pid, signal.SIGKILL)
            if not tmux.wait_dead(TIMEOUT):
                self.fail("the ssh client kept running after the link dropped")
            end = time.monotonic() + TIMEOUT
            while alive(remote_pid) and time.monotonic() < end:
                time.sleep(0.05)
            if alive(remote_pid):
                self.fail(f"the remote winnow (pid {remote_pid}) kept running {TIMEOUT:.0f} s after the link dropped")
                kill(remote_pid, signal.SIGKILL)
            elif not lock_is_free(self.db):
                self.fail("the remote winnow exited but its lock is still held")
            self.check_file(FIRST + 1, "after the drop")

            # Reconnect: the same command line, a new ssh connection.
            tmux.respawn(self.command)
            self.watch(tmux, "again")
            text = tmux.wait_for(rf"resumed at #{FIRST + 1}\b", TIMEOUT)
            fs = file_state(self.db)
            st = parse_status(text)
            if st is None or st.number != FIRST + 1 or (st.kept, st.dropped) != (fs.kept, fs.dropped):
                self.fail(f"after reconnecting the screen shows {st}, the file holds {fs.kept} kept / {fs.dropped}")
            self.wait_sample(tmux, FIRST + 1)
            self.decide(tmux, MORE)
            remote_pid = self.remote_pid()
            tmux.keys("q")
            code = tmux.exit_status(TIMEOUT)
            if code is None:
                raise Broken("`q` did not end the ssh session")
            if code != 0:
                self.fail(
                    f"ssh ended with exit status {code} after `q` (the remote winnow's): {tmux.screen()[-300:]!r}"
                )
            if remote_pid is not None and alive(remote_pid):
                self.fail(f"the remote winnow (pid {remote_pid}) still runs after `q`")
            if not lock_is_free(self.db):
                self.fail("the lock is still held after `q`")
            self.check_file(FIRST + MORE + 1, "after `q`")
        except (Broken, AssertionError) as e:
            self.fail(str(e))
        finally:
            if self.refused:
                self.fail(
                    f"{len(self.refused)} decision keys refused (bell, nothing done) although their sample was "
                    f"already on screen (pressed again 0.3 s later, they worked): {', '.join(self.refused[:5])}"
                )
            tmux.kill()
            pid = self.remote_pid()
            for p in {remote_pid, pid} - {None}:
                if p and alive(p) and "winnow" in " ".join(cmdline(p)):
                    kill(p, signal.SIGKILL)


def cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def run(out: Outcome, trials: int, work: Path, rng: random.Random) -> None:
    if not WINNOW.exists():
        out.skip(f"needs the installed winnow script ({WINNOW}): pip install -e .")
        return
    try:
        binary = ensure_tools(out)
        sshd = Sshd(binary, work / "sshd")
    except Skip as e:
        out.skip(str(e))
        return
    try:
        sshd.start()
        t = time.perf_counter()
        for k in range(1, trials + 1):
            trial = Trial(k, sshd, work, rng)
            trial.run()
            for f in trial.failures:
                out.fail(f)
            out.trials = k
        out.note(
            f"{out.trials} trials over ssh to 127.0.0.1:{sshd.port}, {FIRST + MORE} decisions each, "
            f"{(time.perf_counter() - t) / max(out.trials, 1):.1f} s per trial"
        )
    except Skip as e:
        out.skip(str(e))
    finally:
        sshd.stop()


SCENARIO = Scenario(
    name="ssh",
    checked=(
        "winnow over a real ssh link inside tmux: decide, kill -9 the link, the remote winnow exits and frees its "
        "lock with every decision in the file, reconnecting resumes at the next sample, q exits 0"
    ),
    run=run,
    full=3,
    quick=1,
)
