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
