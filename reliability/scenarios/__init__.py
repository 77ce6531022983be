"""Every scenario of the reliability suite, in the order the summary prints them.

A module is listed here once it exists; each exports SCENARIO (a reliability.Scenario).
"""

from __future__ import annotations

import importlib

from reliability import Scenario

MODULES = [
    "kill_decide",
    "kill_import",
    "contention",
    "faults",
    "hostile_pty",
    "fuzz_import",
    "export_kill",
    "hostile_input",
    "untrusted_project",
    "report_text",
    "ssh_tmux",
]


def all_scenarios() -> list[Scenario]:
    out = []
    for name in MODULES:
        try:
            mod = importlib.import_module(f"reliability.scenarios.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"reliability.scenarios.{name}":
                continue  # not written yet
            raise
        out.append(mod.SCENARIO)
    return out
