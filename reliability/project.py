"""What the kill and ssh scenarios share: project files to attack, and reading them back.

Reading back never goes through the process under test: a fresh `sqlite3` connection for
`PRAGMA integrity_check` (before anything could write), then a fresh `Store` for decisions,
tallies and the cursor. The screen is read the way a user reads it: the status line
`#21 / 300 ██░░ 7% · ✔ 15 kept · ✘ 5 dropped · ○ 280 undecided`.
"""

from __future__ import annotations

import fcntl
import json
import random
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from review.store import Store

GOAL = "Answer billing questions with the 30-day policy, briefly."

_WORDS = (
    "billing refund invoice account password reset plan upgrade cancel support policy days order "
    "ship receipt charge card tax export team seat trial renewal discount"
).split()

# The status line in full: a frame cut in the middle of this row never parses, and the figures
# must add up to the total, so a half-painted line is never taken for an acknowledgement.
STATUS = re.compile(r"#([\d,]+) / ([\d,]+) .*?✔ ([\d,]+) kept · ✘ ([\d,]+) dropped · ○ ([\d,]+) undecided")


@dataclass(frozen=True)
class Status:
    number: int  # the sample on screen
    total: int
    kept: int
    dropped: int


def parse_status(screen: str) -> Status | None:
    m = STATUS.search(screen)
    if not m:
        return None
    number, total, kept, dropped, undecided = (int(g.replace(",", "")) for g in m.groups())
    if kept + dropped + undecided != total:
        return None
    return Status(number, total, kept, dropped)


def records(n: int, rng: random.Random, *, long_every: int = 17) -> list[dict]:
    """n distinct chats in OpenAI `messages` form; every `long_every`-th answer runs for pages,
    so some samples take longer to paint than others."""
    out = []
    for i in range(1, n + 1):
        q = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(4, 20)))
        words = rng.randint(300, 900) if long_every and i % long_every == 0 else rng.randint(8, 60)
        a = " ".join(rng.choice(_WORDS) for _ in range(words))
        out.append(
            {
                "messages": [
                    {"role": "user", "content": f"Question {i}: {q}?"},
                    {"role": "assistant", "content": f"Answer {i}: {a}."},
                ]
            }
        )
    return out


def write_jsonl(path: Path, recs: list[dict]) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for r in recs:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return path


def build_project(path: Path, recs: list[dict], goal: str | None = GOAL) -> Path:
    """A project file made the way a user makes one: import a JSONL file, declare a goal."""
    src = write_jsonl(path.with_suffix(".jsonl"), recs)
    with Store(path) as store:
        store.import_file(src)
        if goal:
            store.add_goal(goal)
    return path


def integrity(path: Path) -> str:
    """'ok', or what SQLite found wrong (integrity and foreign keys), on a fresh connection."""
    conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True)
    try:
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        fks = conn.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        conn.close()
    problems = [] if rows == ["ok"] else rows[:5]
    problems += [f"foreign key: {fk}" for fk in fks[:5]]
    return "; ".join(problems) or "ok"


@dataclass(frozen=True)
class FileState:
    decisions: dict[int, tuple[str | None, str | None]]  # sample -> (verdict, reason)
    rebuilt: dict[int, tuple[str | None, str | None]]  # the same, replayed from the event log
    kept: int  # the tallies table's figures
    dropped: int
    by_reason: dict[str, int]
    cursor: int | None
    queue: dict
    total: int


def file_state(path: Path, goal_id: int = 1) -> FileState:
    with Store(path, create=False) as store:
        mat = {s: (d.verdict, d.reason) for s, d in store.materialised_decisions(goal_id).items()}
        rebuilt = {s: (d.verdict, d.reason) for s, d in store.rebuild_decisions(goal_id).items()}
        c = store.counts(goal_id)
        cursor, queue = store.goal_state(goal_id)
        return FileState(mat, rebuilt, c.kept, c.dropped, dict(c.by_reason), cursor, queue.to_json(), c.total)


def tally_problems(fs: FileState) -> list[str]:
    """The tallies table against the decisions it summarises, and the log against both."""
    out = []
    kept = sum(1 for v, _ in fs.decisions.values() if v == "keep")
    dropped = sum(1 for v, _ in fs.decisions.values() if v == "drop")
    reasons: dict[str, int] = {}
    for v, r in fs.decisions.values():
        if v == "drop" and r:
            reasons[r] = reasons.get(r, 0) + 1
    if (fs.kept, fs.dropped) != (kept, dropped):
        out.append(f"tallies say {fs.kept} kept / {fs.dropped} dropped, decisions say {kept} / {dropped}")
    if {k: n for k, n in fs.by_reason.items() if n} != reasons:
        out.append(f"reason tallies {fs.by_reason} != decisions {reasons}")
    if fs.decisions != fs.rebuilt:
        diff = sorted(set(fs.decisions.items()) ^ set(fs.rebuilt.items()))[:5]
        out.append(f"decisions table and event log disagree: {diff}")
    return out


def lock_is_free(db: Path) -> bool:
    """True when no process holds the review lock beside `db` (flock, as ProjectLock takes it)."""
    lock = Path(str(db) + ".lock")
    if not lock.exists():
        return True
    with open(lock, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        fcntl.flock(fh, fcntl.LOCK_UN)
        return True


_OSC = re.compile(rb"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
_OSC_END = re.compile(rb"\x07|\x1b\\")


class Bells:
    """Counts the bells a program rang: BEL bytes that are not the terminator of an OSC sequence
    (Textual ends its pointer-shape OSC 22 with BEL). `read(pos)` returns everything the program
    wrote from byte `pos` on (a PtyTerminal's `.raw`, or a file tmux pipe-pane appends to).
    Incremental, so polling it stays cheap however much the program has written."""

    def __init__(self, read: Callable[[int], bytes]) -> None:
        self.read = read
        self.pos = 0
        self.n = 0

    @classmethod
    def of_terminal(cls, term) -> Bells:
        return cls(lambda pos: bytes(term.raw[pos:]))

    @classmethod
    def of_file(cls, path: Path) -> Bells:
        def read(pos: int) -> bytes:
            try:
                with open(path, "rb") as fh:
                    fh.seek(pos)
                    return fh.read()
            except FileNotFoundError:
                return b""

        return cls(read)

    def count(self) -> int:
        data = self.read(self.pos)
        cut = data.rfind(b"\x1b]")
        if cut != -1 and not _OSC_END.search(data, cut + 2):
            data = data[:cut]  # an OSC sequence still arriving: read it whole next time
        self.n += _OSC.sub(b"", data).count(b"\x07")
        self.pos += len(data)
        return self.n
