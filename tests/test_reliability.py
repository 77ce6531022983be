"""The reliability suite's reduced form (what CI runs): every scenario, a few trials each.

The full suite is `make reliability` (python -m reliability); this runs the same code with the
scenario's `quick` trial count and fails on any broken promise, printing each failure.
"""

from __future__ import annotations

import random

import pytest

from reliability import run_scenario
from reliability.scenarios import all_scenarios

SCENARIOS = all_scenarios()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_reliability_reduced(scenario, tmp_path):
    seed = random.randrange(1 << 30)
    out = run_scenario(scenario, tmp_path, trials=scenario.quick, seed=seed)
    if out.skipped:
        pytest.skip(f"{scenario.name}: {out.skipped}")
    assert out.trials >= 1, f"{scenario.name} ran no trials"
    assert out.ok, f"{scenario.name} (seed {seed}): " + "\n".join(out.failures)
