"""Pair check 2 (review/analysis/pairs.py): the rejected answer of a preference pair is better by
the noise rules than its chosen one. Here, not in analysis, because the style package imports
analysis (its store), so analysis cannot import the noise rules back; `winnow analyze` hands
`noise_check` to `run_analysis(pair_noise=...)`.

The chosen answer and the rejected one are each read as the record's answer to its prompt
(`noise.triggers`, which runs noise_rules.py) and a DEFECTS trigger the chosen one has and the
rejected one has not is the finding. Boilerplate, informal and emotional wording are left out,
from reading the real DPO files: of 13 pairs where only the chosen answer carries "As an AI" /
"作为一个AI语言模型", the chosen was the better answer in most (a refusal of an offensive request
beside a rejected answer that complied; a correct list of World Cup years beside "Scotland has never
qualified"): a disclaimer is a style matter, not a sign the pair is the wrong way round.
"""

from __future__ import annotations

from ..analysis.store import PairFlagRow
from ..model import Conversation, Sample
from .noise import triggers

# Noise triggers that say an answer is defective, whatever the prompt: the chosen one having one
# that the rejected one lacks says the pair may be the wrong way round.
DEFECTS = {
    "empty_answer": "empty",
    "truncated": "truncated",
    "repetition": "repeating itself",
    "placeholder": "a placeholder",
    "template_field": "an unfilled template",
    "language_mismatch": "in the other language",
}


def noise_check(sample: Sample) -> PairFlagRow | None:
    """The chosen answer has a defect (DEFECTS) the noise rules find and the rejected has not."""
    conv = sample.conversation
    if not conv.is_pair:
        return None
    mine = [t for t in triggers(conv) if t.name in DEFECTS]
    if not mine:
        return None
    prompt, _ = conv.split()
    theirs = {t.name for t in triggers(Conversation(conv.system, prompt + conv.rejected, conv.tools))}
    found = sorted((t for t in mine if t.name not in theirs), key=lambda t: -t.confidence)
    if not found:
        return None
    top = found[0]
    label = f"pair: chosen is {DEFECTS[top.name]}; rejected is not — {top.detail}"
    details = tuple(f"chosen is also {DEFECTS[t.name]}: {t.detail}" for t in found[1:])
    return PairFlagRow(sample.id, "pair-noise", None, round(top.confidence, 4), label, (sample.id,), details)
