"""App-wide messages, past-tense, as small dataclasses. Widget messages live in their widgets."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class SampleDecided(Message):
    """A keep or drop was committed (it is on disk when this is posted)."""

    sample_id: int
    verdict: str
    reason: str | None


@dataclass
class AnalysisProgressed(Message):
    """The analysis worker reached `done` of `total` in `stage` (posted from its thread)."""

    stage: str
    done: int
    total: int
    rate: float  # items per second in this stage so far


@dataclass
class AnalysisFinished(Message):
    """The analysis thread has returned: everything it found is committed."""

    summary: str
    cancelled: bool
    error: str | None = None
