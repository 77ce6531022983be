"""The bundled demo dataset (synthetic Northwind Cloud support logs) and its ground-truth labels.

The files here are generated: `python tools/demo/build_demo.py` (a dev tool outside the package, not in
the wheel) writes them from the content in tools/demo/content/.
"""

from pathlib import Path

DEMO_PATH = Path(__file__).with_name("support_demo.jsonl")
LABELS_PATH = Path(__file__).with_name("labels.json")

__all__ = ["DEMO_PATH", "LABELS_PATH"]
