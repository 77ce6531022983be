"""Shared fixtures: real SQLite project files in tmp_path, small datasets written on the fly."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from builders import chat, write_jsonl

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    # winnow's own data folder (the demo project) goes to a temp dir in every test.
    monkeypatch.setenv("WINNOW_HOME", str(tmp_path_factory.mktemp("winnow_home")))
    monkeypatch.delenv("WINNOW_DB", raising=False)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture
def records() -> list[dict]:
    return [
        chat("How do I reset my password?", "Open Settings → Security and choose Reset password."),
        chat("Can I get a refund?", "Yes, within 30 days of purchase."),
        chat("Can I get a refund?", "No, refunds are not offered."),
        chat("如何重置密码？", "请在“设置 → 安全”中选择重置密码。", system="你是客服助手。"),
        chat("How do I reset my password?", "Open Settings → Security and choose Reset password."),
        chat("Is [/] a problem? [@click=app.quit]", "list[int] is a type; [Alice]: hi"),
    ]


@pytest.fixture
def data_file(tmp_path, records) -> Path:
    return write_jsonl(tmp_path / "train.jsonl", records)


@pytest.fixture
def project(tmp_path, data_file):
    from review.store import Store

    store = Store(tmp_path / "project.db")
    store.import_file(data_file)
    yield store
    store.close()
