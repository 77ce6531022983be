"""The reliability suite: winnow attacked the way real use attacks it, with a printed summary.

    python -m reliability              # the full suite (`make reliability`): >= 100 kill trials
    python -m reliability --quick      # the reduced form CI runs inside pytest
    python -m reliability --only kill-decide --trials 20 --json

Each scenario is a function `run(out, trials, work, rng)` in `reliability/scenarios/`. It runs
`trials` independent trials against real project files, real processes and real terminals, and
records every broken promise with `out.fail(...)`. A scenario that cannot run on this machine
(no sshd, not root for a tmpfs) says why with `out.skip(...)`; that is shown, never counted as a
pass. tests/test_reliability.py runs every scenario in its reduced form and fails on any failure.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class Outcome:
    scenario: str
    checked: str  # one sentence: what every trial asserts
    trials: int = 0
    failures: list[str] = field(default_factory=list)
    skipped: str | None = None
    notes: list[str] = field(default_factory=list)  # figures worth printing (kill moments, sizes...)
    seconds: float = 0.0

    def fail(self, message: str) -> None:
        self.failures.append(message)

    def skip(self, reason: str) -> None:
        self.skipped = reason

    def note(self, message: str) -> None:
        self.notes.append(message)

    @property
    def ok(self) -> bool:
        return not self.failures

    def as_dict(self) -> dict:
        return asdict(self)


Runner = Callable[[Outcome, int, Path, random.Random], None]


@dataclass(frozen=True)
class Scenario:
    name: str
    checked: str
    run: Runner
    full: int  # trials in the full suite
    quick: int  # trials in the reduced (CI) form


def run_scenario(sc: Scenario, work: Path, *, trials: int, seed: int) -> Outcome:
    out = Outcome(sc.name, sc.checked)
    work.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    try:
        sc.run(out, trials, work, random.Random(seed))
    except Exception as e:  # a crash in the harness or in winnow is a failure, reported with its type
        import traceback

        out.fail(f"scenario crashed: {type(e).__name__}: {e}\n{traceback.format_exc(limit=6)}")
    out.seconds = time.perf_counter() - t
    return out
