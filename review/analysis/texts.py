"""What each analysis field compares, and the per-sample text hashes (computed once per sample).

full
    The whole sample: every turn with its role ("user: ...") and the tool schemas, and for the
    exact detector the system prompt too. Two records are exact duplicates only when all of these
    match after normalisation, so two tool-call samples with the same conversation but different
    tool lists are *not* duplicates. The lexical and semantic detectors leave the system prompt
    out: one system prompt shared by a whole dataset is most of a short sample's text and made
    unrelated samples look alike (measured on the demo: 660 of 674 semantic pairs at 0.95, all
    false, came from the shared Chinese system prompt); a conversation repeated under two system
    prompts is then a lexical/semantic duplicate with similarity 1.0.
prompt
    The prompt side's turns (user / tool turns before the answer), without the system prompt: a
    system prompt shared by the whole dataset would otherwise make every short prompt look alike.
answer
    The answer: the trailing assistant / tool-call turns.

Exact duplicates compare `model.normalise()` of that text (Unicode NFKC, whitespace runs folded
to one space, trimmed, case folded; punctuation kept), through `model.text_hash()`.
Empty texts (a prompt-only record's answer) are compared by no detector.
"""

from __future__ import annotations

from collections.abc import Callable

from ..model import Conversation, text_hash
from ..store import Store
from .store import AnalysisStore

FIELDS = ("full", "prompt", "answer")
KINDS = ("full", "dialog", "prompt", "answer")  # the texts stored; "dialog" is full less the system prompt


def text_kind(detector: str, field: str) -> str:
    """Which stored text a detector compares for a field."""
    if field == "full" and detector != "exact":
        return "dialog"
    return field


def field_text(conv: Conversation, field: str) -> str:
    if field in ("full", "dialog"):
        parts = [f"system: {conv.system}"] if conv.system and field == "full" else []
        parts += [f"{t.role}: {t.content}" for t in conv.turns]
        if conv.tools:
            parts.append(f"tools: {conv.tools}")
        return "\n".join(parts)
    if field == "prompt":
        prompt, _ = conv.split()
        return "\n".join(t.content for t in prompt)
    if field == "answer":
        return conv.answer_text()
    raise ValueError(f"unknown field {field!r}; one of {', '.join(KINDS)}")


def refresh_texts(
    store: Store,
    astore: AnalysisStore,
    kinds: list[str],
    *,
    keep_texts: bool = True,
    should_stop: Callable[[], bool] | None = None,
) -> dict[str, dict[str, str]]:
    """Hash the texts of every sample not hashed yet, in one pass over them; returns, per kind,
    hash -> text for those (the texts a run is about to need), so a first run reads each sample once."""
    kinds = list(dict.fromkeys(kinds))
    after = min((astore.last_text_sample(k) for k in kinds), default=0)
    done = {k: astore.last_text_sample(k) for k in kinds}
    texts: dict[str, dict[str, str]] = {k: {} for k in kinds}
    batch: dict[str, list[tuple[int, str]]] = {k: [] for k in kinds}

    def flush() -> None:
        for k in kinds:
            if batch[k]:
                astore.add_texts(k, batch[k])
                batch[k] = []

    for n, s in enumerate(store.iter_samples(after=after, batch=2000), 1):
        for k in kinds:
            if s.id <= done[k]:
                continue
            t = field_text(s.conversation, k)
            h = text_hash(t) if t.strip() else ""
            batch[k].append((s.id, h))
            if keep_texts and h and h not in texts[k]:
                texts[k][h] = t
        if n % 5000 == 0:
            flush()
            if should_stop and should_stop():
                break
    flush()
    return texts


def texts_for(
    store: Store, field: str, groups: dict[str, list[int]], hashes: list[str], known: dict[str, str] | None = None
) -> dict[str, str]:
    """hash -> text (of the first sample with that hash) for `hashes`, reading only those samples."""
    out = {h: known[h] for h in hashes if known and h in known}
    need = {groups[h][0]: h for h in hashes if h not in out}
    ids = sorted(need)
    for i in range(0, len(ids), 1000):
        for s in store.samples(ids[i : i + 1000]):
            out[need[s.id]] = field_text(s.conversation, field)
    return out
