"""The bundled demo dataset (synthetic Northwind Cloud support logs) and its ground-truth labels.

`build_demo.py` beside this file regenerates both; it is a dev tool and is never imported here.
"""

from pathlib import Path

DEMO_PATH = Path(__file__).with_name("support_demo.jsonl")
LABELS_PATH = Path(__file__).with_name("labels.json")

__all__ = ["DEMO_PATH", "LABELS_PATH"]
