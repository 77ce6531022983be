"""The read models of review/figures.py, each against a real project file (the bundled demo), and
the CLI helpers of tui/cli_common.py.

The JSON of each read model is what `winnow stats --json`, `winnow report --json`, `winnow goal
diff --json` and the export manifest have always written: the key lists below are those outputs'
keys in order, so a field added, renamed or moved in a dataclass shows up here.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from review.batch import propose_batch
from review.demo import DEMO_PATH
from review.figures import (
    SESSION_GAP_S,
    AddMoreSignals,
    GoalDetail,
    GoalFigures,
    ProjectStats,
    Repeats,
    ReportData,
    StatsFigures,
    add_more_signals,
    diff_goals,
    dumps,
    goal_detail,
    goal_figures,
    kept_duplicate_mass,
    pace,
    project_stats,
    report_data,
    stats_figures,
    style_needs_run,
    to_json,
)
from review.goals import archive_goal, edit_goal
from review.store import Change, Store
from tui.cli import cli

ROOT = Path(__file__).resolve().parents[1]

GOAL_FIGURE_KEYS = [
    "kept",
    "dropped",
    "undecided",
    "dropped_by_reason",
    "duplicate_mass",
    "style_stability",
    "style_varying",
    "boundary_moves",
    "boundary_warnings",
    "style",
]
SIGNAL_KEYS = [
    "goal",
    "kept",
    "kept_before_last_n",
    "last_n",
    "repeats",
    "repeats_before",
    "style_stability",
    "varying",
    "moves",
    "boundary_warnings",
    "style_stability_before",
    "advice",
]


@pytest.fixture
def demo(tmp_path):
    """The demo project: goal #1 with 40 decisions (some tagged, two copies of one sample kept),
    goal #2 archived with a few, goal #3 active and untouched."""
    path = tmp_path / "demo.db"
    with Store(path) as store:
        store.import_file(DEMO_PATH)
        g1, _ = store.add_goal("Answer billing questions briefly, answer first.")
        g2, _ = store.add_goal("When a request is out of scope, redirect politely.")
        store.apply(
            g1.id,
            [Change(i, "keep" if i % 4 else "drop", None if i % 4 else "off-goal") for i in range(1, 41)],
            kind="batch",
        )
        store.apply(g1.id, [Change(i, "tag", value=f"t{i % 2}") for i in range(1, 7)], kind="batch")
        store.apply(g2.id, [Change(i, "keep") for i in range(1, 6)], kind="batch")
        archive_goal(store, g2.id)
        store.add_goal("A third goal, active.")
    return path


def frozen(obj) -> None:
    f = dataclasses.fields(obj)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(obj, f, None)


def run_cli(*args) -> str:
    r = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return r.output


def test_project_stats(demo):
    with Store(demo, create=False) as store:
        st = project_stats(store)
        one = project_stats(store, store.goal(1))
        c1 = store.counts(1)
    assert isinstance(st, ProjectStats)
    frozen(st)
    assert st.samples == 251 and st.project == str(demo)
    assert [s.name for s in st.sources] == [Path(DEMO_PATH).name] and st.sources[0].records == 251
    assert [g.id for g in st.goals] == [1, 3] and [g.active for g in st.goals] == [False, True]
    g1 = st.goals[0]
    assert (g1.kept, g1.dropped, g1.undecided) == (c1.kept, c1.dropped, c1.undecided) == (30, 10, 211)
    assert g1.dropped_by_reason == {"off-goal": 10} and g1.by_tag == {"t0": 3, "t1": 3}
    assert st.archived_goals is not None and [(a.id, a.kept) for a in st.archived_goals] == [(2, 5)]
    data = to_json(st)
    assert list(data) == ["project", "samples", "sources", "goals", "archived_goals", "analysis"]
    assert list(data["sources"][0]) == [
        "id", "name", "path", "format", "container", "records", "sha256", "imported_at"
    ]  # fmt: skip
    assert list(data["goals"][0]) == [
        "id", "sentence", "archived", "active", "kept", "dropped", "undecided", "dropped_by_reason", "by_tag"
    ]  # fmt: skip
    assert list(data["archived_goals"][0]) == ["id", "sentence", "kept", "dropped", "undecided"]
    # One named goal: no archived list at all (not an empty one).
    assert one.archived_goals is None and "archived_goals" not in to_json(one) and [g.id for g in one.goals] == [1]
    # `winnow stats --json` is this read model, byte for byte.
    assert run_cli("stats", "--db", demo, "--json") == dumps(st) + "\n"
    assert run_cli("stats", "--db", demo, "--goal", 1, "--json") == dumps(one) + "\n"


def test_analysis_figures(demo, tmp_path):
    from review.analysis import analysis_stats, leakage, run_analysis
    from review.analysis.figures import AnalysisFigures, DetectorFigures, analysis_figures

    with Store(demo, create=False) as store:
        before = analysis_figures(store)
    assert before.detectors == {} and before.duplicates.samples == 0 and before.leakage is None
    assert before.last_run is None and list(before.to_json()) == ["detectors", "duplicates", "embeddings"]
    run_analysis(demo, detectors=("exact", "lexical"))
    evalset = tmp_path / "eval.jsonl"
    evalset.write_text("".join(line for i, line in enumerate(open(DEMO_PATH, encoding="utf-8")) if i < 20))
    leakage(demo, evalset, detectors=("exact",))
    with Store(demo, create=False) as store:
        a = analysis_figures(store)
        st = project_stats(store)
        as_dict = analysis_stats(store)
    assert isinstance(a, AnalysisFigures)
    frozen(a)
    assert sorted(a.detectors) == ["exact", "lexical"] and all(
        isinstance(d, DetectorFigures) for d in a.detectors.values()
    )
    lex = a.detectors["lexical"]
    assert lex.threshold == 0.9 and lex.complete and lex.flagged_samples >= lex.clusters > 0
    assert a.duplicates.samples > 0 and a.duplicates.duplicate_mass == a.duplicates.samples - a.duplicates.groups
    assert a.duplicates.duplicate_share == round(a.duplicates.duplicate_mass / 251, 4)
    assert a.leakage is not None and a.leakage.status == "done" and a.leakage.eval_samples == 20
    assert a.leakage.leaked_samples["any"] >= 20  # the eval set is the demo's first 20 records
    assert a.last_run is not None and a.last_run.status == "done"
    # The JSON: analysis_stats (what `winnow stats --json` prints as "analysis") in its old key order.
    data = a.to_json()
    assert data == as_dict and list(data) == ["detectors", "duplicates", "embeddings", "leakage", "last_run"]
    assert list(data["detectors"]["lexical"]) == [
        "field", "threshold", "pairs", "flagged_samples", "clusters", "largest_cluster", "duplicate_mass", "complete"
    ]  # fmt: skip
    assert list(data["duplicates"]) == ["samples", "groups", "duplicate_mass", "duplicate_share"]
    assert list(data["leakage"]) == ["against", "field", "status", "eval_samples", "leaked_samples"]
    assert list(data["last_run"]) == ["started_at", "finished_at", "status"]
    assert st.analysis == a and to_json(st)["analysis"] == data
    text = run_cli("stats", "--db", demo)
    assert f"lexical (≥ 0.9): {lex.flagged_samples:,} samples flagged in {lex.clusters:,} clusters" in text
    assert f"near-duplicates, all detectors: {a.duplicates.samples:,} samples in {a.duplicates.groups:,} groups" in text


def test_pace():
    def at(*seconds: float) -> list[str]:
        return [time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(1_800_000_000 + s)) + "+00:00" for s in seconds]

    assert pace([]) == (None, 0.0) and pace(at(0)) == (None, 0.0)
    assert pace(at(0, 20)) == (None, 20 / 60)  # under 30 s of work: no rate yet
    per_hour, minutes = pace(at(0, 60, 120))
    assert minutes == 2.0 and per_hour == 3 / (120 / 3600)
    # A pause longer than SESSION_GAP_S is not work: the same three decisions, then two after a break.
    per_hour, minutes = pace(at(0, 60, 120, 120 + SESSION_GAP_S + 1, 180 + SESSION_GAP_S + 1))
    assert minutes == 3.0 and per_hour == 5 / (180 / 3600)


def test_stats_figures(demo):
    with Store(demo, create=False) as store:
        f = stats_figures(store, 1)
        counts = store.counts(1)
    assert isinstance(f, StatsFigures)
    frozen(f)
    assert f.counts == counts
    assert sorted(f.lengths) == ["drop", "keep"] and (len(f.lengths["keep"]), len(f.lengths["drop"])) == (30, 10)
    # The decisions were two batches a moment apart: less than 30 s of work, so no rate.
    assert f.decided_per_hour is None and f.active_minutes < 0.5
    assert isinstance(f.signals, AddMoreSignals) and f.signals.kept == 30 and f.signals.last_n == 50


def test_goal_detail(demo):
    with Store(demo, create=False) as store:
        before = goal_detail(store, 1)
        edit_goal(store, 1, "Answer billing questions in two sentences, answer first.")
        b = propose_batch(store, 1, size=20, seed=1)
        store.apply(1, [Change(b.sample_ids[0], "keep")])
        after = goal_detail(store, 1)
    assert isinstance(after, GoalDetail)
    frozen(after)
    assert before.rereview == 0 and before.batch is None and len(before.revisions) == 1
    assert [r.number for r in after.revisions] == [1, 2] and after.revisions[-1].note == "edited"
    assert after.goal.sentence.startswith("Answer billing questions in two sentences")
    assert after.rereview == 40 - (b.sample_ids[0] <= 40)  # decided under the old wording, less the one redecided
    assert after.batch == (b.id, 1, b.size)
    assert after.counts.decided == 40 + (b.sample_ids[0] > 40)


def test_goal_figures_diff_and_export_manifest(demo, tmp_path):
    with Store(demo, create=False) as store:
        store.apply(1, [Change(2, "drop", "duplicate")])  # re-decide one sample so the goals differ there
        fig = goal_figures(store, 1)
        d = diff_goals(store, 1, 2)
        mass = kept_duplicate_mass(
            store, [s for s, x in store.materialised_decisions(1).items() if x.verdict == "keep"]
        )
    assert isinstance(fig, GoalFigures)
    frozen(fig)
    assert (fig.kept, fig.dropped) == (29, 11) and fig.duplicate_mass == mass and isinstance(mass, Repeats)
    assert fig.style is not None and fig.style_stability == fig.style.stability
    assert set(fig.boundary_moves) == {"answer", "clarify", "refuse", "redirect"}
    data = to_json(fig)
    assert list(data) == GOAL_FIGURE_KEYS and data["duplicate_mass"] == {
        "repeating": mass.repeating,
        "share": mass.share,
    }
    assert d.figures[1] == fig and d.figures[2].kept == 5
    # Under #1 every fourth sample is dropped and #2 is redropped; #2 kept 1-5.
    assert d.disagree == ((2, "drop", "keep"), (4, "drop", "keep")) and d.only_b == (2, 4) and d.both_kept == 3
    diff = json.loads(run_cli("goal", "diff", 1, 2, "--db", demo, "--json"))
    assert diff["figures"] == {"1": data, "2": to_json(d.figures[2])}
    run_cli("export", "--db", demo, "--goal", 1, "-o", tmp_path / "kept.jsonl")
    manifest = json.loads((tmp_path / "kept.jsonl.manifest.json").read_text(encoding="utf-8"))
    assert manifest["figures"] == data


def test_add_more_signals(demo):
    with Store(demo, create=False) as store:
        sig = add_more_signals(store, 1, last_n=1)
        sig_all = add_more_signals(store, 1, last_n=2)
    assert isinstance(sig, AddMoreSignals)
    frozen(sig)
    assert sig.goal == "Answer billing questions briefly, answer first."
    # The last action (the tags) changed no verdict; before both actions nothing was kept.
    assert (sig.kept, sig.kept_before_last_n) == (30, 30) and sig_all.kept_before_last_n == 0
    assert sig.repeats == sig.repeats_before and sig_all.repeats_before == Repeats(0, 0.0)
    assert sig.style is not None and sig.style.moves == dict(sig.style.moves)
    assert isinstance(sig.advice, tuple) and sig.advice
    data = to_json(sig)
    assert list(data) == SIGNAL_KEYS and data["advice"] == list(sig.advice)


def test_report_data_is_what_winnow_report_prints(demo):
    from review.style import run_style_analysis

    with Store(demo, create=False) as store:
        assert style_needs_run(store, None)
    run_style_analysis(demo)
    with Store(demo, create=False) as store:
        assert not style_needs_run(store, None)
        assert style_needs_run(store, "category")  # another group field: the run must be redone
        store.use_goal(1)
        rd = report_data(store, 1, limit=50)
        none = report_data(store, None, limit=50)
    assert isinstance(rd, ReportData)
    frozen(rd)
    assert isinstance(rd.should_i_add_more, AddMoreSignals) and none.should_i_add_more is None
    data = to_json(rd)
    assert list(data)[-1] == "should_i_add_more" and list(data["should_i_add_more"]) == SIGNAL_KEYS
    assert (
        "should_i_add_more" not in to_json(none)
        and rd.findings.boundaries is not None
        and rd.findings.boundaries.goal_id == 1
    )
    printed = run_cli("report", "--db", demo, "--json")  # --limit 10: lists of 50, as above
    assert printed == dumps(rd, default=str) + "\n"


def test_style_report_read_model(demo, capsys):
    from review.style import run_style_analysis
    from review.style.findings import ConflictPair, FlagRow, StyleReport, report
    from tui.cli_report import render

    with Store(demo, create=False) as store:
        never = report(store, 1)
    assert isinstance(never, StyleReport) and not never.analysed and never.findings is None and never.run is None
    assert list(never.to_json()) == ["project", "samples", "analysed", "feature_version", "run"]
    render(ReportData(never), 10)  # before any run: every section says it found nothing
    shown = capsys.readouterr().out
    assert "251 samples in" in shown and "no style drift found" in shown and "Boundaries" not in shown
    run_style_analysis(demo)
    with Store(demo, create=False) as store:
        sr = report(store, 1, limit=3)
        wide = report(store, None, limit=100)
    frozen(sr)
    f = sr.findings
    assert f is not None and sr.analysed and sr.run["answers"] == 247
    assert f.counts == {"style_drift": 4, "contradictions": 8, "noisy": 20}  # complete, whatever the limit
    assert len(f.style_drift) == len(f.contradictions) == len(f.noise) == 3 and len(wide.findings.contradictions) == 8
    assert all(isinstance(r, FlagRow) for r in f.style_drift + f.noise)
    assert all(isinstance(p, ConflictPair) and p.samples[0] < p.samples[1] for p in wide.findings.contradictions)
    assert len({p.samples for p in wide.findings.contradictions}) == 8  # each pair once
    assert [r.score for r in f.style_drift] == sorted((r.score for r in f.style_drift), reverse=True)
    assert sr.boundaries is not None and sr.boundaries.goal_id == 1 and sr.boundaries.kept == 30
    assert wide.boundaries is None
    data = sr.to_json()
    assert list(data) == [
        "project", "samples", "analysed", "feature_version", "run", "counts", "noise_triggers", "prevalence",
        "project_stability", "project_varying", "style_drift", "contradictions", "same_question_groups", "noise",
        "thresholds", "boundaries",
    ]  # fmt: skip
    assert list(data["style_drift"][0]) == ["sample", "score", "label", "partner", "details", "reason"]
    assert list(data["contradictions"][0]) == ["samples", "score", "label", "evidence", "reason"]
    assert list(data["boundaries"]) == [
        "goal", "kept", "with_answer", "moves", "stability", "project_stability", "varying", "warnings",
        "dominant_question", "history",
    ]  # fmt: skip
    assert "boundaries" not in wide.to_json()


# ---------------------------------------------------------------------- tui/cli_common.py


def test_fail_is_one_sanitised_line_and_the_exit_code(tmp_path):
    code = "from tui.cli_common import fail\nfail('no such goal \\x1b[31mred\\x1b[0m\\nsecond line', 7)\n"
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 7 and r.stdout == ""
    assert r.stderr.startswith("winnow: no such goal ") and "\x1b" not in r.stderr


def test_every_db_option_is_the_one_option():
    out = {c: run_cli(*c.split(), "--help") for c in ("stats", "report", "analyze", "leakage", "goal list", "batch")}
    for text in out.values():
        assert "--db FILE" in text and "Also from" in text and "$WINNOW_DB." in text and "[required]" in text
    r = CliRunner().invoke(cli, ["report"], env={"WINNOW_DB": ""})
    assert r.exit_code == 2 and "Missing option '--db'" in r.output


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")
def test_progress_bar_draws_on_a_terminal_and_nothing_when_piped(tmp_path):
    """The one bar, in each of its three shapes, on a real pty; and silent when stderr is a pipe."""
    import pty

    script = (
        "import time\n"
        "from tui.cli_common import ProgressBar\n"
        "b = ProgressBar('importing x.jsonl', rate='rows'); print('active', b.active, flush=True)\n"
        "b.rows(5, 10, 500); time.sleep(0.3); b.rows(5, 10, 500); b.progress.refresh(); time.sleep(0.2); b.stop()\n"
        "b = ProgressBar(count='m_of_n', rate='items', per_stage=True)\n"
        "b('embedding', 3, 7); b.progress.refresh(); time.sleep(0.2); b.stop()\n"
        "b = ProgressBar(description='style: {task.description}')\n"
        "b.stage('fingerprints', 1, 4); b.progress.refresh(); time.sleep(0.2); b.stop()\n"
    )
    env = {**os.environ, "COLUMNS": "120", "TERM": "xterm"}
    leader, follower = pty.openpty()
    try:
        p = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=follower, text=True)  # fmt: skip
        os.close(follower)
        follower = -1
        seen = b""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the child closed the pty
                break
            if not chunk:
                break
            seen += chunk
        out, _ = p.communicate(timeout=60)
    finally:
        os.close(leader)
        if follower != -1:
            os.close(follower)
    text = seen.decode("utf-8", "replace")
    assert "active True" in text + out  # (a live bar sends stdout to its own console: the pty)
    assert "importing x.jsonl" in text and "50%" in text and "500 rows" in text and "rows/s" in text
    assert "embedding" in text and "3/7" in text
    assert "style: fingerprints" in text and "25%" in text
    piped = subprocess.run([sys.executable, "-c", script.replace("b.progress.refresh(); ", "")], cwd=ROOT,
                           capture_output=True, text=True, timeout=60)  # fmt: skip
    assert piped.returncode == 0 and piped.stdout == "active False\n" and piped.stderr == ""
