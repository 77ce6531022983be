"""Red team: a dataset folder someone else made (dataset_info.json), attacked through file_name
and the index itself. Each refusal is `path:line: what — what to do`, never a traceback."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from review.importers.dataset_info import MAX_INFO_BYTES, dataset_plans
from review.importers.errors import InputError

ROW = json.dumps([{"instruction": "q", "input": "", "output": "a"}])


def _folder(tmp_path: Path, entries: dict) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    (d / "dataset_info.json").write_text(json.dumps(entries, indent=2), encoding="utf-8")
    return d


def _refusal(folder: Path, name: str) -> str:
    with pytest.raises(InputError) as e:
        dataset_plans(folder, [name])
    text = str(e.value)
    assert text.startswith(str(folder / "dataset_info.json") + ":"), text
    assert " — " in text
    assert "\x1b" not in text and "\n" not in text
    return text


@pytest.mark.parametrize("file_name", ["../outside.json", "sub/../../outside.json"])
def test_dotdot_out_of_the_folder_is_refused(tmp_path: Path, file_name: str) -> None:
    (tmp_path / "outside.json").write_text(ROW, encoding="utf-8")
    d = _folder(tmp_path, {"x": {"file_name": file_name}})
    (d / "sub").mkdir()
    text = _refusal(d, "x")
    assert "outside" in text and "winnow import" in text


def test_absolute_file_name_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "abs.json"
    target.write_text(ROW, encoding="utf-8")
    d = _folder(tmp_path, {"x": {"file_name": str(target)}})
    assert "outside" in _refusal(d, "x")


def test_symlink_inside_pointing_out_is_followed_to_a_regular_file(tmp_path: Path) -> None:
    # chosen (module docstring): LLaMA-Factory follows it, and a folder of links to big files is common
    target = tmp_path / "elsewhere.json"
    target.write_text(ROW, encoding="utf-8")
    d = _folder(tmp_path, {"x": {"file_name": "link.json"}})
    os.symlink(target, d / "link.json")
    (plan,) = dataset_plans(d, ["x"])
    assert plan.path == d / "link.json"


def test_symlink_to_a_fifo_outside_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    d = _folder(tmp_path, {"x": {"file_name": "link"}})
    os.symlink(tmp_path / "pipe", d / "link")
    assert "not a regular file" in _refusal(d, "x")


def test_symlink_staying_inside_is_read(tmp_path: Path) -> None:
    d = _folder(tmp_path, {"x": {"file_name": "link.json"}})
    (d / "real.json").write_text(ROW, encoding="utf-8")
    os.symlink(d / "real.json", d / "link.json")
    (plan,) = dataset_plans(d, ["x"])
    assert plan.path == d / "link.json" and plan.fmt == "alpaca"


def test_fifo_is_refused_not_blocked_on(tmp_path: Path) -> None:
    d = _folder(tmp_path, {"x": {"file_name": "pipe"}})
    os.mkfifo(d / "pipe")
    assert "not a regular file" in _refusal(d, "x")


def test_device_is_refused(tmp_path: Path) -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero on this system")
    d = _folder(tmp_path, {"x": {"file_name": "zero"}})
    os.symlink("/dev/zero", d / "zero")
    assert "not a regular file" in _refusal(d, "x")


def test_nul_in_file_name_is_refused(tmp_path: Path) -> None:
    d = _folder(tmp_path, {"x": {"file_name": "a\x00b.json"}})
    assert "NUL" in _refusal(d, "x")


def test_newline_and_esc_in_name_and_file_name_stay_on_one_line(tmp_path: Path) -> None:
    name = "evil\n\x1b[31mname"
    d = _folder(tmp_path, {name: {"file_name": "../\x1b]0;t\x07\nx.json"}})
    _refusal(d, name)


def test_deeply_nested_index_is_refused(tmp_path: Path) -> None:
    d = tmp_path / "data"
    d.mkdir()
    (d / "dataset_info.json").write_text("[" * 200_000, encoding="utf-8")
    text = str(pytest.raises(InputError, dataset_plans, d, ["x"]).value)
    assert "nested too deeply" in text


def test_huge_index_is_refused_before_reading(tmp_path: Path) -> None:
    d = tmp_path / "data"
    d.mkdir()
    with open(d / "dataset_info.json", "wb") as fh:
        fh.truncate(MAX_INFO_BYTES + 1)  # sparse: nothing written, the size alone refuses it
    text = str(pytest.raises(InputError, dataset_plans, d, ["x"]).value)
    assert "MiB" in text
