"""What every command prints: a refused standard output is one line, and --json never carries the
characters a terminal obeys (C1 CSI, bidi overrides) raw, while parsing back to the same text."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from review.store import Store

WINNOW = Path(sys.executable).with_name("winnow")
HOSTILE = "q \x9b31m red \u202e evil"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    src = tmp_path / "a.jsonl"
    src.write_text(json.dumps({"instruction": HOSTILE, "output": "a"}) + "\n", encoding="utf-8")
    db = tmp_path / "p.db"
    with Store(db) as s:
        s.import_file(src)
        s.add_goal("Answer in one line " + HOSTILE)
    return db


def run(*args: str, stdout: int | None = subprocess.PIPE) -> subprocess.CompletedProcess:
    return subprocess.run([str(WINNOW), *args], stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=120)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux) to fill standard output")
@pytest.mark.parametrize(
    "args", [("stats",), ("stats", "--json"), ("goal", "list"), ("report",), ("goal", "diff", "1", "1", "--json")]
)
def test_a_full_standard_output_is_one_line_not_a_traceback(project: Path, args: tuple[str, ...]) -> None:
    fd = os.open("/dev/full", os.O_WRONLY)
    try:
        r = run(*args, "--db", str(project), stdout=fd)
    finally:
        os.close(fd)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert "to standard output: No space left on device" in r.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("stats", "--json"),
        ("goal", "diff", "1", "1", "--json"),
        ("decide", "--ids", "1", "keep", "--dry-run", "--json"),
    ],
)
def test_json_output_escapes_terminal_controls(project: Path, args: tuple[str, ...]) -> None:
    r = run(*args, "--db", str(project))
    assert r.returncode == 0, r.stderr
    assert "\x9b" not in r.stdout and "\u202e" not in r.stdout
    assert "\\u009b" in r.stdout or "\\u202e" in r.stdout  # the text is there, escaped
    data = json.loads(r.stdout)
    assert HOSTILE in json.dumps(data, ensure_ascii=False)  # and parses back to what it was
