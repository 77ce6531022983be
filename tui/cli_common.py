"""What every `winnow` command module shares, written once: the one-line error and exit, the
`--db` option, opening the project and finding the goal a command names, and the progress bar
on stderr."""

from __future__ import annotations

import io
import json
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, TextIO

import click

from review.model import Goal
from review.sanitize import sanitize
from review.store import ProjectError, Store


def fail(message: str, code: int = 2) -> NoReturn:
    """`winnow: MESSAGE` on stderr (sanitised: file names and sample text are untrusted), then exit."""
    click.echo(f"winnow: {sanitize(message)}", err=True)
    sys.exit(code)


db_option = click.option(
    "--db",
    "db",
    envvar="WINNOW_DB",
    required=True,
    type=click.Path(dir_okay=False),
    help="The project file (SQLite). Also from $WINNOW_DB.",
)


def open_store(db: str | Path, *, create: bool = False, then: str = "") -> Store:
    """The project, or a one-line error (`then`: what that means for the command) and exit 2."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.meta["winnow.db"] = Path(db)  # so that an error from the file names it (DefaultToOpen)
    try:
        return Store(db, create=create)
    except ProjectError as e:
        fail(f"{e}\n{then}" if then else str(e))


def resolve_goal(store: Store, ref: str | None) -> Goal:
    try:
        g = store.find_goal(ref) if ref else store.active_goal()
    except ProjectError as e:
        fail(str(e))
    if g is None:
        archived = [a for a in store.goals(include_archived=True) if a.archived]
        if archived and not store.goals():  # every goal is archived: name them rather than say there is none
            a = archived[-1]
            fail(
                f"{store.path}: no active goal — {archived_goal_line(store, a)}"
                + (f" ({len(archived) - 1} more archived: winnow goal list)" if len(archived) > 1 else "")
            )
        fail(f'{store.path}: no goal yet — add one: winnow goal add "..." --db {store.path}')
    return g


def archived_goal_line(store: Store, g: Goal) -> str:
    """What to say about an archived goal where the active one is looked for (stats, export)."""
    c = store.counts(g.id)
    return (
        f"goal #{g.id} “{g.sentence}” is archived; {c.kept:,} kept, {c.dropped:,} dropped — "
        f"restore it with `winnow goal archive {g.id} --restore --db {store.path}`, or name it with --goal {g.id}"
    )


class Interrupted(BaseException):
    """SIGTERM/SIGINT during an import: unwinds like an error, so the transaction rolls back and a
    project file this command created is removed (the default SIGTERM action would leave it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


_shield = {"depth": 0, "pending": 0}


def interrupt(signum: int, frame: object) -> None:
    """The signal handler an import installs: raises Interrupted where the main thread is, except
    inside `shielded()` (drawing the progress bar), where it is held until the block ends — an
    exception raised inside Rich's Live display can leave it unable to stop, and the clean exit
    (rollback, message, 128 + signal) must not depend on where the signal landed."""
    if _shield["depth"]:
        _shield["pending"] = signum
        return
    raise Interrupted(signum)


@contextmanager
def shielded() -> Iterator[None]:
    """A block a signal handled by `interrupt` does not cut in two; the signal is raised after it."""
    _shield["depth"] += 1
    try:
        yield
    finally:
        _shield["depth"] -= 1
        if not _shield["depth"] and _shield["pending"]:
            signum, _shield["pending"] = _shield["pending"], 0
            raise Interrupted(signum)


class ProgressBar:
    """A rich progress bar on stderr while stderr is a terminal (transient: it leaves no trace);
    nothing at all when stderr is piped, so logs and `--json` output stay clean.

    `description`: the text before the bar ({task.description} is the stage, or `label`);
    `count`: "percent" (`42%`) or "m_of_n" (`420/1,000`) beside the bar; `rate`: "rows" (rows
    imported per second, for `rows`), "items" (items per second of the current stage) or None;
    `per_stage`: each stage gets its own line (otherwise the one line's description changes).
    Call `stage(stage, done, total)` or `rows(done, total, rows)`, then `stop()`.
    """

    def __init__(
        self,
        label: str = "starting",
        *,
        description: str = "{task.description}",
        count: str = "percent",
        rate: str | None = None,
        per_stage: bool = False,
    ) -> None:
        self.progress: Any = None
        self.per_stage = per_stage
        self.rate = rate
        self.tasks: dict[str, Any] = {}
        self.started: dict[str, tuple[float, int]] = {}
        if not sys.stderr.isatty():
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        columns: list[Any] = [TextColumn(description), BarColumn()]
        columns.append(MofNCompleteColumn() if count == "m_of_n" else TextColumn("{task.percentage:>3.0f}%"))
        if rate == "rows":
            columns.append(TextColumn("{task.fields[rows]:,} rows · {task.fields[rate]}"))
        elif rate == "items":
            columns.append(TextColumn("{task.fields[rate]}"))
        columns.append(TimeRemainingColumn())
        with shielded():
            self.progress = Progress(*columns, console=Console(stderr=True), transient=True)
            if not per_stage:
                self.task = self.progress.add_task(
                    label, total=1, **({"rows": 0, "rate": ""} if rate == "rows" else {})
                )
            self.progress.start()

    @property
    def active(self) -> bool:
        """Whether a bar is shown (stderr is a terminal): callers skip progress work otherwise."""
        return self.progress is not None

    def stage(self, stage: str, done: int, total: int) -> None:
        if self.progress is None:
            return
        with shielded():
            self._stage(stage, done, total)

    def _stage(self, stage: str, done: int, total: int) -> None:
        if not self.per_stage:
            self.progress.update(self.task, description=stage, completed=done, total=max(total, 1))
            return
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(stage, total=max(total, 1), rate="")
            self.started[stage] = (time.perf_counter(), done)
        t0, d0 = self.started[stage]
        elapsed = time.perf_counter() - t0
        rate = f"{(done - d0) / elapsed:,.0f}/s" if elapsed > 0.5 and done > d0 else ""
        self.progress.update(self.tasks[stage], completed=done, total=max(total, 1), rate=rate)

    def rows(self, done: int, total: int, rows: int) -> None:
        if self.progress is None:
            return
        with shielded():
            elapsed = self.progress.tasks[0].elapsed or 0
            rate = f"{rows / elapsed:,.0f} rows/s" if elapsed > 0.2 else ""
            self.progress.update(self.task, completed=done, total=max(total, 1), rows=rows, rate=rate)

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.stage(stage, done, total)

    def stop(self) -> None:
        if self.progress is not None:
            with shielded():
                self.progress.stop()


def output_failed(e: OSError, what: str = "the output") -> NoReturn:
    """Standard output refused `what`: a reader that left (`| head`) is success; a full disk or
    another error is one line on stderr and exit 1, never a traceback. Either way stdout is pointed
    at /dev/null so the interpreter's last flush cannot raise again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    if isinstance(e, BrokenPipeError):
        sys.exit(0)
    fail(f"could not write {what} to standard output: {e.strerror or e} — free some space or write it elsewhere", 1)


# What json.dumps(ensure_ascii=False) leaves raw but a terminal obeys or reorders: DEL and the C1
# controls (U+009B is CSI to xterm after UTF-8 decoding), bidi and zero-width controls, line and
# paragraph separators, unicode tags, noncharacters. JSON holds them only inside strings, so writing
# each as its \uXXXX escape keeps the JSON valid and the data as it was (json.loads gives them back).
_RAW_IN_JSON = re.compile(
    "[\x7f-\x9f\xad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff0-\uffff\U000e0000-\U000e0fff]"
)


def _escape(m: re.Match[str]) -> str:
    cp = ord(m.group())
    if cp < 0x10000:
        return f"\\u{cp:04x}"
    cp -= 0x10000
    return f"\\u{0xD800 + (cp >> 10):04x}\\u{0xDC00 + (cp & 0x3FF):04x}"


def terminal_safe(json_text: str) -> str:
    """JSON text with the characters of _RAW_IN_JSON written as their escapes (the same data)."""
    return _RAW_IN_JSON.sub(_escape, json_text)


def json_text(obj: Any, **kwargs: Any) -> str:
    """`json.dumps` for what a command prints: non-ASCII text as it is (unless told otherwise),
    the characters a terminal obeys escaped (`terminal_safe`). Every `--json` goes through it."""
    kwargs.setdefault("ensure_ascii", False)
    return terminal_safe(json.dumps(obj, **kwargs))


class JsonTerminalSafe(io.TextIOBase):
    """A text stream that writes JSON text to `out` with the characters of _RAW_IN_JSON escaped."""

    def __init__(self, out: TextIO):
        self.out = out

    def write(self, s: str) -> int:
        self.out.write(_RAW_IN_JSON.sub(_escape, s))
        return len(s)

    def flush(self) -> None:
        self.out.flush()
