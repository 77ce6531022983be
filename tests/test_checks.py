"""`make check` inside the suite, so CI runs it: ruff (lint and format), mypy on review/ and tui/,
and the import-linter contracts of pyproject.toml (the layers ARCHITECTURE.md describes).

The tools are pinned in the `test` extra: a new release's rules cannot fail unchanged code.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PATHS = ["review", "tui", "tests", "benchmarks", "scripts", "reliability", "tools"]


def check(*command: str) -> None:
    r = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, f"{' '.join(command[:4])} failed:\n{r.stdout[-6000:]}\n{r.stderr[-3000:]}"


def test_ruff_finds_nothing() -> None:
    check(sys.executable, "-m", "ruff", "check", *PATHS)


def test_every_file_is_formatted() -> None:
    check(sys.executable, "-m", "ruff", "format", "--check", *PATHS)


def test_mypy_is_clean_on_review_and_tui() -> None:
    check(sys.executable, "-m", "mypy", "review", "tui")


def test_the_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    if not lint.exists():
        pytest.fail(f"{lint} is missing: install the test extra (pip install -e '.[test]')")
    check(str(lint))
