"""Fixtures for the review-screen tests: real project files in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest
from tui_helpers import HOSTILE, base_records, build_project, chat


@pytest.fixture
def project(tmp_path) -> Path:
    return build_project(tmp_path / "project.db", base_records())


@pytest.fixture
def hostile_project(tmp_path) -> Path:
    return build_project(tmp_path / "hostile.db", [chat("Show me: " + HOSTILE, HOSTILE, system=HOSTILE)])
