"""kill-decide: SIGKILL at a random moment while a user decides as fast as the screen allows.

Each trial copies one prepared project (300 samples, a goal), opens it with `winnow open` in a
real pty (80x24) and decides from #1 on: keep (`a` or space), drop through the reason dialog
(`x`, wait for "why?", a digit), drop typed ahead (`x` and the digit at once), or a burst of
keeps typed without waiting. Each next key goes as soon as the screen shows the next sample.

What the screen acknowledged is modelled exactly:

* A single key is sent only once its sample is on the screen read off the pty. The app marks a
  sample painted before its frame reaches the pty, so the key decides exactly that sample.
* A burst of k keeps at sample i decides i, i+1, ... with every key that finds its sample
  painted; every other key rings the bell and does nothing (the type-ahead rule of
  tui/screens/review.py). So a burst is over when samples advanced + bells == k, and no key of
  it is left to land on a sample meant for the next key.
* The screen acknowledges the decision of every sample before the `#i` of its status line,
  including a frame that reached the pty just before the kill.

The kill (SIGKILL to the winnow process) comes at one of five moments: during start-up; right
after a key is sent, while its commit may be in flight; between decisions; with the drop dialog
open; in the middle of a burst. Then each trial checks, on fresh connections: integrity_check
is ok; every acknowledged decision is in the file with the verdict and reason sent; nothing
is decided that was not sent (a key in flight may or may not have landed, decided samples are
always #1..#m); the tallies and the event log agree with the decisions; the saved cursor is on
the last decided sample or the one after it, and not behind the last sample shown. A fresh
`winnow open` must start where the app documents (session.py: at the saved cursor, with a
"resumed at #N" note; at #1 without it when no cursor was saved), show the file's tallies,
leave the file as it was, and quit on `q` with status 0, releasing its lock.
"""

from __future__ import annotations

import random
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from reliability import Outcome, Scenario
from reliability.project import (
    GOAL,
    Bells,
    Status,
    build_project,
    file_state,
    integrity,
    lock_is_free,
    parse_status,
    records,
    tally_problems,
)
from reliability.term import WINNOW, PtyTerminal, winnow_env
from review.model import REASONS

SAMPLES = 300
MAX_STEPS = 30  # decisions (a burst counts as one) before the kill
MOMENTS = {"startup": 1, "in-flight": 4, "between": 3, "dialog": 1, "burst": 2}
TIMEOUT = 20.0  # generous: CI machines are shared


class Stuck(Exception):
    """The screen never showed what a step waits for."""


@dataclass
class Model:
    """What was sent, and what the screen has acknowledged."""

    shown: Status | None = None  # the last whole status line read off the screen
    sent: dict[int, tuple[str, str | None]] = field(default_factory=dict)  # acknowledged by the screen
    maybe: dict[int, tuple[str, str | None]] = field(default_factory=dict)  # in flight at the kill

    def expected_tallies(self, upto: int) -> tuple[int, int]:
        """(kept, dropped) the screen must show at #upto: every sample before it, as sent."""
        both = {**self.maybe, **self.sent}
        verdicts = [both[s][0] for s in range(1, upto) if s in both]
        return verdicts.count("keep"), verdicts.count("drop")


def dialog(i: int):
    rx = re.compile(rf"Drop #{i:,} — why\?")
    return lambda text: rx.search(text) is not None


class Trial:
    def __init__(self, k: int, db: Path, work: Path, rng: random.Random):
        self.k, self.db, self.work, self.rng = k, db, work, rng
        self.model = Model()
        self.moment = rng.choices(list(MOMENTS), weights=list(MOMENTS.values()))[0]
        self.steps = 0 if self.moment == "startup" else rng.randint(0, MAX_STEPS)
        self.detail = ""  # how the kill came, for failure messages
        self.failures: list[str] = []
        self.term: PtyTerminal | None = None
        self.log: list[str] = []  # the keys sent, for failure messages
        self.refused: list[str] = []  # keys the app refused on a sample already on screen
        self.bells: Bells

    def fail(self, message: str) -> None:
        self.failures.append(f"trial {self.k} (kill {self.moment}{self.detail}): {message}")

    # ------------------------------------------------------------------ reading the screen

    def stuck(self, what: str) -> Stuck:
        assert self.term is not None
        why = "the program exited" if not self.term.alive() else f"{TIMEOUT:.0f} s passed"
        return Stuck(f"never saw {what} ({why}); keys sent: {' '.join(self.log[-6:])}; screen:\n{self.term.text()}")

    def wait_status(self, ok, what: str) -> Status:
        assert self.term is not None
        end = time.monotonic() + TIMEOUT
        while True:
            st = parse_status(self.term.text())
            if st is not None and ok(st):
                return st
            if time.monotonic() > end or not self.term.alive():
                raise self.stuck(what)
            time.sleep(0.002)

    def acknowledge(self, st: Status) -> None:
        """The screen shows #st.number: everything before it is acknowledged, and its tallies
        must be those of the decisions sent (a frame is whole once kept + dropped add up)."""
        m = self.model
        for s in range(m.shown.number if m.shown else 1, st.number):
            if s in m.maybe:
                m.sent[s] = m.maybe.pop(s)
        m.shown = st
        want = m.expected_tallies(st.number)
        if (st.kept, st.dropped) != want:
            self.fail(f"screen at #{st.number} shows ✔ {st.kept} kept · ✘ {st.dropped} dropped, sent: {want}")

    # ------------------------------------------------------------------ deciding

    def send(self, keys: str) -> None:
        assert self.term is not None and self.model.shown is not None
        self.log.append(f"#{self.model.shown.number}:{keys!r}")
        self.term.send(keys)

    def press(self, keys: str, done, what: str) -> None:
        """Send keys meant for the sample on screen and wait until `done(screen text)`.

        The sample has been painted (its frame is on the pty), so the app must act on the
        first key. A bell instead means it refused it: that breaks the type-ahead rule and is
        recorded; the same keys go again a moment later, as a user would press again, and the
        trial goes on.
        """
        assert self.term is not None and self.model.shown is not None
        i = self.model.shown.number
        for attempt in range(5):
            if attempt:
                time.sleep(0.3)
            rung = self.bells.count()
            self.send(keys)
            end = time.monotonic() + TIMEOUT
            while not done(self.term.text()):
                if self.bells.count() > rung:
                    self.refused.append(f"{keys!r} on #{i}")
                    break
                if time.monotonic() > end or not self.term.alive():
                    raise self.stuck(what)
                time.sleep(0.002)
            else:
                return
        raise self.stuck(f"{what}: the key was refused five times")

    def decided(self, i: int):
        def done(text: str) -> bool:
            st = parse_status(text)
            return st is not None and st.number == i + 1 and st.kept + st.dropped == i

        return done

    def step(self) -> None:
        assert self.model.shown is not None
        rng, i = self.rng, self.model.shown.number
        kind = rng.choices(["keep", "drop", "drop-ahead", "burst"], weights=[5, 2, 2, 1])[0]
        if kind == "burst":
            self.burst(rng.randint(2, 6))
            return
        if kind == "keep":
            self.model.maybe[i] = ("keep", None)
            self.press(rng.choice("aaa "), self.decided(i), f"#{i + 1} after a keep")
        else:
            digit = rng.randint(1, len(REASONS))
            self.model.maybe[i] = ("drop", REASONS[digit - 1])
            if kind == "drop":
                self.press(rng.choice("xd"), dialog(i), f"the drop dialog of #{i}")
                self.press(str(digit), self.decided(i), f"#{i + 1} after a drop reason")
            else:
                self.press(f"x{digit}", self.decided(i), f"#{i + 1} after a drop typed ahead")
        st = parse_status(self.term.text()) if self.term else None
        if st is None or st.number != i + 1:  # pragma: no cover - press() waited for exactly this
            raise self.stuck(f"#{i + 1}")
        self.acknowledge(st)

    def burst(self, k: int, *, kill_after: float | None = None) -> None:
        """k keeps at once. Returns once each key has either advanced a sample or rung the bell."""
        assert self.term is not None and self.model.shown is not None
        i = self.model.shown.number
        for s in range(i, i + k):
            self.model.maybe[s] = ("keep", None)
        rung = self.bells.count()
        self.send("a" * k)
        if kill_after is not None:
            self.kill_after(kill_after)
            return
        st = self.wait_status(
            lambda s: s.kept + s.dropped == s.number - 1 and (s.number - i) + self.bells.count() - rung == k,
            f"a burst of {k} keeps at #{i} accounted for (samples advanced + bells == {k})",
        )
        self.acknowledge(st)
        for s in range(st.number, i + k):  # keys that rang the bell decided nothing
            self.model.maybe.pop(s, None)

    def kill_after(self, delay: float) -> None:
        assert self.term is not None
        if delay > 0:
            time.sleep(delay)
        self.term.kill()

    # ------------------------------------------------------------------ one trial

    def run(self) -> dict:
        rng, model = self.rng, self.model
        figures = {"acknowledged": 0, "in_flight": 0, "landed": 0, "resumed_on_decided": 0}
        self.term = PtyTerminal([str(WINNOW), "open", str(self.db)], env=winnow_env(self.work))
        self.bells = Bells.of_terminal(self.term)
        try:
            if self.moment == "startup":
                delay = rng.uniform(0, 0.9)
                self.detail = f" {delay * 1000:.0f} ms after exec"
                self.kill_after(delay)
            else:
                st = self.wait_status(lambda s: s.number == 1 and s.kept + s.dropped == 0, "#1 after start-up")
                self.acknowledge(st)
                for _ in range(self.steps):
                    self.step()
                self.detail = f" after {len(model.sent)} decisions"
                self.kill_moment()
        except Stuck as e:
            self.fail(str(e))
        finally:
            self.term.close()
        if self.refused:
            self.fail(
                f"{len(self.refused)} decision keys refused (bell, nothing done) although their sample's frame "
                f"was already on the terminal (pressed again 0.3 s later, they worked): {', '.join(self.refused[:5])}"
            )
        flight = dict(model.maybe)  # sent, not acknowledged when the kill came
        self.read_last_frame()
        figures["acknowledged"] = len(model.sent)
        if flight:
            figures["in_flight"] = 1
        self.check_file(figures, flight)
        return figures

    def kill_moment(self) -> None:
        assert self.term is not None and self.model.shown is not None
        rng, i = self.rng, self.model.shown.number
        if self.moment == "between":
            delay = rng.uniform(0, 0.08)
            self.detail += f", {delay * 1000:.0f} ms after #{i} showed"
            self.kill_after(delay)
        elif self.moment == "burst":
            k, delay = rng.randint(2, 8), rng.choice([0.0, rng.uniform(0, 0.03)])
            self.detail += f", {delay * 1000:.1f} ms into a burst of {k} keeps at #{i}"
            self.burst(k, kill_after=delay)
        elif self.moment == "dialog":
            self.press("x", dialog(i), f"the drop dialog of #{i}")
            delay = rng.uniform(0, 0.05)
            self.detail += f", drop dialog of #{i} open {delay * 1000:.0f} ms"
            self.kill_after(delay)
        else:  # in-flight: the key is sent, its commit may be running
            delay = rng.choice([0.0, rng.uniform(0, 0.004), rng.uniform(0, 0.015)])
            how = rng.choice(["keep", "drop-ahead", "dialog-digit"])
            if how == "keep":
                self.model.maybe[i] = ("keep", None)
                self.send("a")
            else:
                digit = rng.randint(1, len(REASONS))
                if how == "dialog-digit":
                    self.press("x", dialog(i), f"the drop dialog of #{i}")
                self.model.maybe[i] = ("drop", REASONS[digit - 1])
                self.send(str(digit) if how == "dialog-digit" else f"x{digit}")
            self.detail += f", {delay * 1000:.1f} ms after {how} on #{i}"
            self.kill_after(delay)

    def read_last_frame(self) -> None:
        """A frame that reached the pty before the kill acknowledged its decisions too. Taken only
        when whole: its tallies add up to its number and match what was sent."""
        assert self.term is not None
        m = self.model
        st = parse_status(self.term.text())
        if st is None or m.shown is None or st.number <= m.shown.number:
            return
        if st.kept + st.dropped != st.number - 1 or (st.kept, st.dropped) != m.expected_tallies(st.number):
            return  # a frame torn by the kill
        if any(s not in m.maybe and s not in m.sent for s in range(1, st.number)):
            self.fail(f"the last frame shows #{st.number}, but no key was sent for every sample before it")
            return
        self.acknowledge(st)

    # ------------------------------------------------------------------ the file, then a restart

    def check_file(self, figures: dict, flight: dict[int, tuple[str, str | None]]) -> None:
        m, db = self.model, self.db
        status = integrity(db)
        if status != "ok":
            self.fail(f"integrity_check: {status}")
            return
        fs = file_state(db)
        for problem in tally_problems(fs):
            self.fail(problem)
        shown = m.shown.number if m.shown else 1
        for s in range(1, shown):
            if s not in fs.decisions:
                self.fail(f"#{s} was acknowledged as {m.sent.get(s)} but is not in the file")
        for s, got in sorted(fs.decisions.items()):
            want = m.sent.get(s) or m.maybe.get(s)
            if want is None:
                self.fail(f"#{s} is decided in the file ({got}) but no key was sent for it")
            elif got != want:
                self.fail(f"#{s}: the file says {got}, the key sent said {want}")
        top = max(fs.decisions, default=0)
        if sorted(fs.decisions) != list(range(1, top + 1)):
            self.fail(f"decided samples are not #1..#{top}: {sorted(set(range(1, top + 1)) - set(fs.decisions))[:5]}")
        figures["landed"] = int(any(s in fs.decisions for s in flight))
        # The cursor is saved right after each decision (before the next sample is painted), by
        # its own transaction: a kill between the two leaves it where it was, on the last decided
        # sample — or, before the first move was ever saved, unsaved (None), which a restart reads
        # as the queue's first sample, #1 (seen once in 100 trials, killed right after #1's drop).
        allowed = {top, top + 1} | ({None} if top <= 1 else set())
        if fs.cursor not in allowed:
            self.fail(f"saved cursor #{fs.cursor}, decisions reach #{top}: expected one of {sorted(allowed, key=str)}")
        if m.shown and m.shown.number > 1 and (fs.cursor or 0) < m.shown.number:
            self.fail(f"saved cursor #{fs.cursor} is behind #{m.shown.number}, which the screen showed")
        if fs.cursor is not None and fs.cursor in fs.decisions:
            figures["resumed_on_decided"] = 1
        self.restart(fs)

    def restart(self, before) -> None:
        expect = before.cursor or 1  # session.py: the saved cursor, else the queue's first sample
        term = PtyTerminal([str(WINNOW), "open", str(self.db)], env=winnow_env(self.work))
        self.term = term
        try:
            st = self.wait_status(lambda s: True, "the status line after a restart")
            if before.cursor is not None:
                term.wait_for(rf"resumed at #{expect:,}", TIMEOUT)
                st = parse_status(term.text()) or st
            else:
                time.sleep(0.2)  # the note would be in the first frame; give it one more
                if "resumed at" in term.text():
                    self.fail("no cursor was saved, yet the restart says it resumed")
            if st.total != before.total:
                self.fail(f"restart shows {st.total} samples, the file holds {before.total}")
            if st.number != expect:
                self.fail(f"restart shows #{st.number}, the saved cursor is #{expect}")
            if (st.kept, st.dropped) != (before.kept, before.dropped):
                self.fail(
                    f"restart shows ✔ {st.kept} kept · ✘ {st.dropped} dropped, the file holds "
                    f"{before.kept} / {before.dropped}"
                )
            term.send("q")
            code = term.wait_exit(TIMEOUT)
            if code != 0:
                self.fail(f"`q` after the restart: exit status {code}")
        except (Stuck, AssertionError) as e:
            self.fail(f"restart: {e}")
        finally:
            term.close()
        if not lock_is_free(self.db):
            self.fail("the review lock is still held after the restarted winnow quit")
        after = file_state(self.db)
        if after.decisions != before.decisions:
            self.fail("opening and quitting changed the decisions in the file")


def run(out: Outcome, trials: int, work: Path, rng: random.Random) -> None:
    if not WINNOW.exists():
        out.skip(f"needs the installed winnow script ({WINNOW}): pip install -e .")
        return
    base = build_project(work / "base.db", records(SAMPLES, rng), GOAL)
    totals = {"acknowledged": 0, "in_flight": 0, "landed": 0, "resumed_on_decided": 0}
    moments: dict[str, int] = {}
    t0 = time.perf_counter()
    for k in range(1, trials + 1):
        db = work / f"trial-{k}.db"
        shutil.copy(base, db)
        trial = Trial(k, db, work, rng)
        figures = trial.run()
        for key, n in figures.items():
            totals[key] += n
        moments[trial.moment] = moments.get(trial.moment, 0) + 1
        for f in trial.failures:
            out.fail(f)
        out.trials = k
        if not trial.failures:
            for p in work.glob(f"trial-{k}.db*"):
                p.unlink()
    per = (time.perf_counter() - t0) / max(trials, 1)
    out.note(
        f"{out.trials} trials, {totals['acknowledged']} acknowledged decisions, {per:.1f} s per trial; kills: "
        + ", ".join(f"{n} {m}" for m, n in moments.items())
    )
    out.note(
        f"{totals['in_flight']} kills with a key in flight ({totals['landed']} landed before the kill); "
        f"{totals['resumed_on_decided']} restarts on a sample already decided (killed between commit and cursor save)"
    )


SCENARIO = Scenario(
    name="kill-decide",
    checked=(
        "kill -9 at random moments while deciding fast: every acknowledged decision is in the file as sent, "
        "nothing unsent is, integrity_check ok, tallies match, the restart resumes at the saved cursor with "
        "the file's tallies and quits cleanly"
    ),
    run=run,
    full=100,
    quick=5,
)
