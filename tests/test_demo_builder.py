"""The demo builder (tools/demo/, outside the package) reproduces the bundled demo files exactly, and
refuses broken content with one line naming the file and line while leaving the output folder as it was.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from review.demo import DEMO_PATH, LABELS_PATH

ROOT = Path(__file__).resolve().parents[1]
BUILDER = ROOT / "tools" / "demo" / "build_demo.py"
CONTENT = ROOT / "tools" / "demo" / "content"
FILES = ("support_demo.jsonl", "labels.json", "README.md")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(BUILDER), *args], capture_output=True, text=True, timeout=120)


def test_builder_writes_the_bundled_demo_byte_for_byte(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = run(str(out))
    assert done.returncode == 0, done.stderr
    for name in FILES:
        assert (out / name).read_bytes() == (DEMO_PATH.parent / name).read_bytes(), f"{name} differs: rerun the builder"
    assert DEMO_PATH.name == "support_demo.jsonl" and LABELS_PATH.name == "labels.json"


def test_the_package_holds_no_builder() -> None:
    assert sorted(p.name for p in DEMO_PATH.parent.glob("*.py")) == ["__init__.py"]


def test_broken_content_is_refused_with_its_line_and_nothing_written(tmp_path: Path) -> None:
    # a copy of the builder beside a copy of the content, with one sample naming a prompt that does not exist
    tools = tmp_path / "tools" / "demo"
    shutil.copytree(CONTENT, tools / "content")
    shutil.copy(BUILDER, tools / "build_demo.py")
    samples = tools / "content" / "samples.json"
    text = samples.read_text(encoding="utf-8")
    samples.write_text(text.replace('"system": "en"', '"system": "klingon"', 1), encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "README.md").write_text("before\n", encoding="utf-8")

    done = subprocess.run(
        [sys.executable, str(tools / "build_demo.py"), str(out)], capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    first = text.splitlines().index('    "key": "en_plan_switch_annual",') + 1
    assert f"{samples}:{first}: " in done.stderr and "'klingon'" in done.stderr and " — " in done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["README.md"]
    assert (out / "README.md").read_text(encoding="utf-8") == "before\n"
