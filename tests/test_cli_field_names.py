"""The import summary names unread fields in a bounded line (red team, 2026-12-04: twelve keys of
10,000 characters made one 120 KB line): each name sanitised and cut at 40 characters."""

from __future__ import annotations

import json

from click.testing import CliRunner

from tui.cli import FIELD_NAME_CHARS, cli


def test_long_unread_field_names_are_cut_and_escaped(tmp_path):
    extra = {f"k{i:02d}" + "x" * 10_000: "v" for i in range(14)}
    extra["\x1b[31mred"] = "v"
    src = tmp_path / "a.jsonl"
    src.write_text(
        "".join(json.dumps({"instruction": f"q{i}", "output": "a", **extra}) + "\n" for i in range(3)), encoding="utf-8"
    )
    r = CliRunner().invoke(cli, ["import", str(src), "--db", str(tmp_path / "p.db")])
    assert r.exit_code == 0, r.output
    line = next(x for x in r.output.splitlines() if "fields not shown as turns" in x)
    assert len(line) < 12 * (FIELD_NAME_CHARS + 2) + 200
    assert "k00" + "x" * (FIELD_NAME_CHARS - 4) + "…" in line
    assert "\x1b" not in r.output and "and 3 more" in line
