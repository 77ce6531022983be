"""review/ is a headless library: importing it loads no UI and no ML stack."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_importing_review_loads_neither_textual_rich_nor_torch():
    code = (
        "import sys, review, review.store, review.session, review.importers, review.export, review.model;"
        "import review.analysis, review.embed;"
        "bad = [m for m in ('textual', 'rich', 'torch', 'sentence_transformers', 'tui') if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == ""


def test_cli_help_does_not_load_textual_or_torch():
    code = (
        "import sys; from click.testing import CliRunner; from tui.cli import cli;"
        "r = CliRunner().invoke(cli, ['--help']); assert r.exit_code == 0, r.output;"
        "print(','.join(m for m in ('textual', 'torch', 'sentence_transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == ""


def test_import_linter_contract_holds():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    out = subprocess.run([exe], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "review is headless: it never imports tui, textual or rich KEPT" in out.stdout
    assert ", 0 broken" in out.stdout
