"""`winnow report --json` lists every item (issue 14 item 8): it capped each list at 50 (--limit x 5)
although its help said it listed everything. The lists now stream from the database cursor, their
counts agree with them, and a table cut at --limit says how many it shows of how many.

The flags here are written through the style store's own API into a real project (the detectors
themselves are tested elsewhere and change with their calibration); the report is what is tested."""

from __future__ import annotations

import io
import json
import tracemalloc
from pathlib import Path

import pytest
from builders import copy_rows_from
from click.testing import CliRunner

from review.figures import dumps, report_data, write_report_json
from review.store import Store
from review.style import FEATURE_VERSION, StyleStore
from review.style.store import FlagRow
from tui.cli import cli

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
FASTCHAT = SHARED / "fastchat_dummy_conversation.json"


def flagged_project(tmp_path: Path, *, samples: int = 130, drift: int = 80, noise: int = 120, pairs: int = 60) -> Path:
    """A real project of `samples` samples whose latest style run flagged `drift` drifting answers,
    `noise` noisy samples and `pairs` contradictory pairs (both sides flagged for even pairs, one side
    for odd ones, as MAX_CONFLICT_FLAGS leaves some)."""
    src = tmp_path / "data.jsonl"
    src.write_text(
        "".join(json.dumps({"instruction": f"Question {i}?", "output": f"Answer {i}."}) + "\n" for i in range(samples)),
        encoding="utf-8",
    )
    db = tmp_path / "p.db"
    with Store(db) as store:
        store.import_file(src)
        ss = StyleStore(store)
        rows = [
            FlagRow(
                i + 1,
                "noise",
                round(1 - i / (2 * noise), 4),
                None,
                (i + 1,),
                "noisy · cut off",
                (f"ends on {i}",),
                "noise",
            )
            for i in range(noise)
        ]
        rows += [
            FlagRow(
                i + 1,
                "style",
                round(0.9 - i / (4 * drift), 4),
                2,
                (i + 1, 2),
                "style drift",
                ("longer",),
                "style-drift",
            )
            for i in range(drift)
        ]
        for k in range(pairs):
            a, b = 1 + k, samples - k
            score = round(0.99 - k / (3 * pairs), 4)
            rows.append(FlagRow(a, "conflict", score, b, (a, b), f"contradicts #{b}", ("yes / no",), "contradictory"))
            if k % 2 == 0:
                rows.append(
                    FlagRow(b, "conflict", score, a, (a, b), f"contradicts #{a}", ("yes / no",), "contradictory")
                )
        ss.replace_flags(rows)
        ss.set_state(
            {
                "feature_version": FEATURE_VERSION,
                "samples_at_run": store.total_samples(),
                "group_field": None,
                "question_groups": [],
                "noise_counts": {"truncated": noise},
            }
        )
        ss.mark_run({"answers": samples, "question_groups": 0})
    return db


def run(*args: str) -> str:
    r = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return r.output


def test_json_lists_every_flag_not_the_first_fifty(tmp_path: Path) -> None:
    db = flagged_project(tmp_path)
    data = json.loads(run("report", "--db", str(db), "--json"))
    assert data["counts"] == {"style_drift": 80, "contradictions": 60, "noisy": 120}
    assert len(data["style_drift"]) == 80 and len(data["noise"]) == 120 and len(data["contradictions"]) == 60
    pairs = [tuple(p["samples"]) for p in data["contradictions"]]
    assert len(set(pairs)) == 60 and all(a < b for a, b in pairs)  # each pair once, whichever side was flagged
    for key in ("style_drift", "noise", "contradictions"):
        scores = [x["score"] for x in data[key]]
        assert scores == sorted(scores, reverse=True)  # strongest first, as the queues
    # --limit shapes the tables only: the JSON still lists everything.
    assert json.loads(run("report", "--db", str(db), "--json", "--limit", "3")) == data


def test_streamed_json_is_the_whole_read_model(tmp_path: Path) -> None:
    """What --json writes as it reads is exactly the read model with every item, as dumps() prints it."""
    db = flagged_project(tmp_path, samples=70, drift=55, noise=60, pairs=52)
    printed = run("report", "--db", str(db), "--json")
    with Store(db, create=False) as store:
        full = report_data(store, None, limit=None)
        out = io.StringIO()
        write_report_json(store, None, out, default=str)
    assert printed == dumps(full, default=str) + "\n" == out.getvalue() + "\n"
    assert len(full.findings.findings.noise) == 60


def test_json_of_a_project_never_analysed(tmp_path: Path) -> None:
    src = tmp_path / "d.jsonl"
    src.write_text(json.dumps({"instruction": "Q?", "output": "A."}) + "\n", encoding="utf-8")
    db = tmp_path / "p.db"
    with Store(db) as store:
        store.import_file(src)
        out = io.StringIO()
        write_report_json(store, None, out)
        assert out.getvalue() == dumps(report_data(store, None, limit=None))


def test_tables_say_how_many_they_show(tmp_path: Path) -> None:
    db = flagged_project(tmp_path)
    shown = " ".join(run("report", "--db", str(db), "--limit", "5").split())  # rich wraps at 80 columns
    assert "showing 5 of 80 drifting answers — --limit 80 shows them all, --json lists every one" in shown
    assert "showing 5 of 60 contradictory pairs — --limit 60 shows them all" in shown
    assert "showing 5 of 120 noisy samples — --json lists every one" in shown  # the examples stop at 5
    everything = " ".join(run("report", "--db", str(db), "--limit", "200").split())
    assert "drifting answers" not in everything and "contradictory pairs —" not in everything


def test_help_says_what_json_lists() -> None:
    shown = " ".join(run("report", "--help").split())
    assert "every drifting answer, contradictory pair and noisy sample (no --limit)" in shown
    assert "same_question_groups holds the first 200" in shown
    assert "Not used with --json" in shown and "uncapped lists of --limit" not in shown


def test_json_memory_does_not_grow_with_the_flags(tmp_path: Path) -> None:
    """20,000 noisy samples: the streamed JSON holds one item at a time. Measured with tracemalloc
    (Python allocations): streaming peaked at 0.5 MiB for 40,000 items, building the same JSON whole
    at 82 MiB. Bounds: streaming under 4 MiB; the whole build over 20 MiB, or the test says nothing."""
    db = flagged_project(tmp_path, samples=20_000, drift=10, noise=20_000, pairs=10)

    class Sink(io.TextIOBase):
        n = 0

        def write(self, s: str) -> int:
            self.n += len(s)
            return len(s)

    with Store(db, create=False) as store:
        sink = Sink()
        tracemalloc.start()
        write_report_json(store, None, sink, default=str)
        _, streamed = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        tracemalloc.start()
        whole = dumps(report_data(store, None, limit=None), default=str)
        _, built = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert sink.n == len(whole) and sink.n > 20_000 * 50
    assert streamed < 4 << 20, f"streaming peaked at {streamed / 2**20:.1f} MiB"
    assert built > 20 << 20, f"building the whole JSON took only {built / 2**20:.1f} MiB: the bound says nothing"


@pytest.mark.skipif(not FASTCHAT.exists(), reason=f"shared dataset not present: {FASTCHAT}")
def test_real_fastchat_json_lists_every_stored_question_group(tmp_path: Path) -> None:
    """FastChat's dummy conversations hold more than 50 questions asked with different answers; the
    JSON listed 50 of them (--limit 10 x 5). It lists what the style run stored (its first 200)."""
    db = tmp_path / "fc.db"
    with Store(db) as s:
        s.import_file(FASTCHAT)
    data = json.loads(run("report", "--db", str(db), "--json"))
    total = data["run"]["question_groups"]
    assert total > 50
    assert len(data["same_question_groups"]) == min(total, 200)
    assert len(data["noise"]) == data["counts"]["noisy"] and len(data["style_drift"]) == data["counts"]["style_drift"]


def _pairs_project(tmp_path: Path, samples: int) -> Path:
    """`samples` samples, each with MAX_CONFLICT_FLAGS (3) conflict flags, half of them mirrored on the
    partner's side, as a real run leaves them."""
    db = flagged_project(tmp_path, samples=samples, drift=0, noise=0, pairs=0)
    with Store(db) as store:
        rows = []
        for s in range(1, samples + 1):
            for k in (1, 7, 31):
                p = (s + k - 1) % samples + 1
                rows.append(FlagRow(s, "conflict", 0.5, p, (s, p), f"contradicts #{p}", ("yes / no",), "contradictory"))
                if k == 7:
                    rows.append(FlagRow(p, "conflict", 0.5, s, (s, p), f"contradicts #{s}", ("x",), "contradictory"))
        StyleStore(store).replace_flags(rows)
    return db


def _vm_steps(db: Path) -> tuple[int, int]:
    """SQLite virtual-machine steps (in thousands) of counting and of listing the contradictory pairs."""
    with Store(db, create=False) as store:
        ss = StyleStore(store)
        steps = [0]

        def tick() -> int:
            steps[0] += 1
            return 0

        store.conn.set_progress_handler(tick, 1000)
        n = ss.conflict_pair_count()
        assert n == sum(1 for _ in ss.iter_conflict_pairs())
        store.conn.set_progress_handler(None, 0)
    return n, steps[0]


def test_conflict_pairs_cost_grows_linearly_with_the_flags(tmp_path: Path) -> None:
    """The stall of `report --json` on 1.3M flags (15 min, 9.6 s before): the pair query looked up the
    other side of each conflict flag through style_flags_kind, scanning every conflict flag for each,
    n². Measured in SQLite VM steps, not seconds: 4x the flags must cost well under 16x (it was 15.9x;
    by sample it is about 4x)."""
    (tmp_path / "s").mkdir()
    (tmp_path / "b").mkdir()
    small, big = _pairs_project(tmp_path / "s", 400), _pairs_project(tmp_path / "b", 1600)
    n_small, cost_small = _vm_steps(small)
    n_big, cost_big = _vm_steps(big)
    assert n_big > 3 * n_small > 0
    assert cost_big < 6 * cost_small, f"{cost_small}k -> {cost_big}k VM steps for 4x the flags"


def test_a_project_from_before_m009_upgrades_with_the_pair_index(tmp_path: Path) -> None:
    """m009_report_index on a project made before it: the index is built over the flags already
    there, the counts and pairs read the same, and the pair lookup uses it (no table access)."""
    from sqlite_utils import Database

    from review.migrations import NAMES, migration_set, migrations

    assert "m009_report_index" in NAMES
    made = flagged_project(tmp_path, samples=40, drift=5, noise=6, pairs=12)
    old = tmp_path / "old.db"
    db = Database(old)
    migration_set(NAMES[: NAMES.index("m009_report_index")]).apply(db)  # what a winnow before m009 made
    assert "style_flags_pair" not in {i.name for i in db["style_flags"].indexes}
    copy_rows_from(db, made)
    with Store(old) as store:
        assert [m.name for m in migrations.applied(store.db)] == list(NAMES)
        assert "style_flags_pair" in {i.name for i in store.db["style_flags"].indexes}
    upgraded, fresh = (json.loads(run("report", "--db", str(p), "--json")) for p in (old, made))
    assert upgraded.pop("project") != fresh.pop("project")
    assert upgraded == fresh and len(upgraded["contradictions"]) == 12


HOSTILE = "x\x9b31m\x1b]0;t\x07\u202eevil\u2066\u200b\u2028\U000e0041中文"  # C1 CSI, OSC, bidi, zero-width, tag


def test_json_writes_no_terminal_control_raw_and_loses_nothing(tmp_path: Path) -> None:
    """json.dumps(ensure_ascii=False) escapes C0 controls but writes U+009B (CSI to xterm after UTF-8
    decoding), bidi overrides and the rest raw: `report --json` in a terminal obeyed a sample's text.
    They are written as \\u escapes: no such character in the output, the same data when parsed."""
    db = flagged_project(tmp_path, samples=10, drift=0, noise=0, pairs=0)
    with Store(db) as store:
        StyleStore(store).replace_flags(
            [
                FlagRow(1, "noise", 0.9, None, (1,), f"noisy {HOSTILE}", (HOSTILE,), "noise"),
                FlagRow(2, "conflict", 0.8, 3, (2, 3), f"contradicts {HOSTILE}", (HOSTILE,), "contradictory"),
                FlagRow(4, "style", 0.8, 5, (4, 5), "style drift", (HOSTILE,), "style-drift"),
            ]
        )
    printed = run("report", "--db", str(db), "--json")
    raw = [c for c in printed if 0x7F <= ord(c) <= 0x9F or c in "\x1b\u202e\u2066\u200b\u2028" or ord(c) > 0xE0000]
    assert raw == []
    data = json.loads(printed)
    assert data["noise"][0]["details"] == [HOSTILE] and data["contradictions"][0]["evidence"] == [HOSTILE]
    assert data["style_drift"][0]["details"] == [HOSTILE] and "中文" in printed  # CJK stays readable


def test_text_report_prints_stored_names_as_text_not_markup_or_controls(tmp_path: Path) -> None:
    """The noise-trigger names, feature names and answer moves come from the project's style_state
    (a shared project file carries them): they went into Rich table cells as plain strings, so
    `[bold]` was markup and a bidi override or NEL reached the terminal raw."""
    db = flagged_project(tmp_path, samples=10, drift=1, noise=1, pairs=1)
    with Store(db) as store:
        StyleStore(store).set_state(
            {
                "noise_counts": {f"cut[bold red]off[/bold red] {HOSTILE}\x85": 3},
                "prevalence": {"answers": 10, f"list[i]x[/i] {HOSTILE}": 4, "move": {f"refuse {HOSTILE}": 2}},
                "project_stability": 0.5,
                "project_varying": [f"length {HOSTILE}"],
            }
        )
    shown = run("report", "--db", str(db), "--limit", "50")
    raw = [f"U+{ord(c):04X}" for c in shown if 0x7F <= ord(c) <= 0x9F or c in "\x1b\u202e\u2066\u200b\u2028"]
    assert raw == []
    flat = " ".join(shown.split())
    assert "cut[bold red]off[/bold red]" in flat and "list[i]x[/i]" in flat  # shown as written, not styled
    assert "中文" in shown


def test_a_negative_limit_is_a_usage_error_not_a_traceback(tmp_path: Path) -> None:
    """`--limit -1` reached islice() and ended in a ValueError traceback."""
    db = flagged_project(tmp_path, samples=10, drift=3, noise=2, pairs=2)
    r = CliRunner().invoke(cli, ["report", "--db", str(db), "--limit", "-1"])
    assert r.exit_code == 2, r.output
    assert "Invalid value for '--limit': -1 is not in the range x>=0" in r.output and "Traceback" not in r.output
    assert "no style drift found" in run("report", "--db", str(db), "--limit", "0")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("noise_counts", ["x"]),
        ("noise_counts", {"cut off": "many"}),
        ("prevalence", "str"),
        ("prevalence", {"answers": "x"}),
        ("last_run", 5),
        ("last_run", {"neighbours": [1], "seconds": "x"}),
        ("project_stability", "high"),
        ("question_groups", [{"question": 1}]),
    ],
)
def test_a_malformed_style_state_is_run_again_not_a_traceback(tmp_path: Path, key: str, value: object) -> None:
    """style_state travels in a shared project file: a value of another shape (a list for the noise
    counts, a string for the stability) crashed the text report with a traceback. The state reads
    as not analysed, so the report runs the style analysis again, which rewrites it."""
    import sqlite3

    db = flagged_project(tmp_path, samples=12, drift=2, noise=2, pairs=2)
    conn = sqlite3.connect(db)
    conn.execute("INSERT OR REPLACE INTO style_state (key, value) VALUES (?, ?)", (key, json.dumps(value)))
    conn.commit()
    conn.close()
    with Store(db, create=False) as store:
        assert StyleStore(store).state("last_run") is None
    shown = run("report", "--db", str(db))
    assert "12 samples in" in shown and "style run: 12 answers" in shown
    with Store(db, create=False) as store:
        assert StyleStore(store).state("last_run") is not None  # the rerun rewrote the state
    data = json.loads(run("report", "--db", str(db), "--json"))
    assert data["analysed"] is True


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux) to make stdout a full disk")
@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_a_full_disk_on_stdout_is_one_line_not_a_traceback(tmp_path: Path, json_flag: list[str]) -> None:
    """`winnow report > /dev/full` ended in an OSError traceback (ENOSPC) from Rich or the JSON stream."""
    import subprocess
    import sys

    db = flagged_project(tmp_path, samples=10, drift=2, noise=2, pairs=2)
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-c", "from tui.cli import main; main()", "report", "--db", str(db), *json_flag],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[1],
            timeout=120,
        )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "winnow: could not write the report to standard output: No space left on device"
        " — free some space or write it elsewhere"
    ]
