"""Which fields of an unknown schema hold the prompt and the answer, judged by name *and* content.

Used in two places:

- the "unknown schema" refusal suggests `--map prompt=F --map answer=G` (`suggest`);
- a mapping the user gave is refused when its answer field is the same in most records or its
  prompt is a short category label (`mapping_problem`): importing it would fill the project with
  samples that are not questions and answers, and nothing tells the curator until much later.

All judgements are over the records sampled to detect the format (the first 32, `SAMPLE_RECORDS`).
What the content says (an answer field must vary; a prompt is not a short label with few values;
a field holding the same placeholder in every record is metadata) overrides what the name says;
among the fields the content allows, names decide (instruction/question/query/input/prompt;
output/answer/response/target/chosen, misspellings and `en_`/`zh_` prefixes included), and the
language of prompt and answer should agree (`en_input` goes with `en_output`).
"""

from __future__ import annotations

import re
import shlex
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from statistics import median

MIN_RECORDS = 5  # fewer sampled records than this: too few to call a field constant or a label
MOST = 0.8  # "the same in most records": the share of sampled records holding the modal value
LABEL_MEDIAN = 16  # a label's median length in characters (皮肤科, "maths", "expert")
LABEL_MAX = 40  # ...and no value longer than this
LABEL_DISTINCT = 0.5  # ...and at most this share of distinct values (repeats are what make a label)
FIELDS_PROFILED = 200  # a record with 100k fields is profiled on its first ones (names are still listed)

PROMPT_WORDS = {
    "instruction": 3.0,
    "question": 3.0,
    "prompt": 3.0,
    "query": 2.5,
    "problem": 2.5,
    "request": 2.0,
    "input": 2.0,
    "user": 2.0,
    "human": 2.0,
    "ask": 1.5,
    "q": 1.5,
    "context": 0.5,
    "source": 0.5,
    "src": 0.5,
    "text": 0.5,
    "问题": 3.0,
    "指令": 3.0,
    "提问": 3.0,
    "输入": 2.0,
}
ANSWER_WORDS = {
    "output": 3.0,
    "answer": 3.0,
    "response": 3.0,
    "completion": 3.0,
    "reply": 2.5,
    "solution": 2.5,
    "target": 2.5,
    "chosen": 2.0,
    "assistant": 2.0,
    "gpt": 2.0,
    "summary": 1.5,
    "bot": 1.5,
    "tgt": 1.5,
    "a": 1.5,
    "label": 0.5,
    "回答": 3.0,
    "答案": 3.0,
    "输出": 3.0,
    "回复": 3.0,
}
# Words of metadata fields: never a prompt or an answer by name.
META_WORDS = {
    "id", "uuid", "idx", "index", "category", "cate", "cate1", "cate2", "type", "domain", "metadata", "meta",
    "copyright", "license", "lang", "language", "tag", "tags", "url", "date", "time", "verified", "score",
    "task", "name", "title", "from", "author", "split", "level", "difficulty", "类别", "分类", "来源",
}  # fmt: skip
LANG_WORDS = {
    "en": "en", "english": "en", "eng": "en", "zh": "zh", "cn": "zh", "chinese": "zh", "ja": "ja", "jp": "ja",
    "ko": "ko", "fr": "fr", "de": "de", "es": "es", "ru": "ru",
}  # fmt: skip
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
LETTER = re.compile(r"[^\W\d_]")
QUESTION = re.compile(
    r"[?？]\s*$|^(what|why|how|who|when|where|which|is|are|can|do|does|should)\b|吗|什么|怎么|为什么|如何"
)


@dataclass(frozen=True)
class Profile:
    """What the sampled records hold in one field (string values only)."""

    name: str
    records: int  # records sampled
    strings: int  # records where the field is a string
    nonempty: int  # ...a non-blank one
    distinct: int  # distinct string values
    modal: int  # records holding the most common value (strings)
    modal_value: str
    median_len: float
    max_len: int
    cjk: float  # share of letters that are Chinese/Japanese/Korean
    questions: float  # share of non-empty values that read as a question

    @property
    def constant(self) -> bool:
        """The same value in most sampled records: a placeholder or metadata, not content."""
        return self.records >= MIN_RECORDS and self.modal >= MOST * self.records

    @property
    def label(self) -> bool:
        """Short values with few distinct ones (or under a category-like name): a category, a
        source tag, a verdict."""
        return (
            self.strings >= MIN_RECORDS
            and self.median_len <= LABEL_MEDIAN
            and self.max_len <= LABEL_MAX
            and (self.distinct <= max(2, LABEL_DISTINCT * self.strings) or _is_meta(self.name))
        )

    def examples(self, n: int = 3) -> str:
        return ", ".join(repr(v) for v in self._values[:n])

    _values: tuple[str, ...] = ()


def _edit1(a: str, b: str) -> bool:
    """Whether a and b differ by at most one insertion, deletion or substitution."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i + (len(a) == len(b)) :] == b[i + 1 :]


def similar(a: str, b: str) -> bool:
    """Two field names that plausibly mean the same (a typo, a cut or a plural): instuction ~
    instruction, instruct ~ instruction, outputs ~ output."""
    a, b = a.lower(), b.lower()
    if a == b:
        return True
    if min(len(a), len(b)) < 5:
        return False
    return _edit1(a, b) or a.startswith(b) or b.startswith(a)


def edit_distance(a: str, b: str, cap: int = 3) -> int:
    """Damerau-Levenshtein distance (optimal string alignment: insertions, deletions,
    substitutions and swaps of two neighbours), or `cap` when it is at least that."""
    if abs(len(a) - len(b)) >= cap:
        return cap
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], prev2[j - 2] + 1)
        if min(row) >= cap:
            return cap
        prev2, prev = prev, row
    return min(prev[-1], cap)


SPELLING_MIN = 5  # a key and the key it stands for both have at least this many characters


def spelt_as(key: str, canonical: str) -> bool:
    """Whether a record's `key` is `canonical` spelt another way, by the rule imports read such a
    key by (schemas.respellings). Ignoring case, both have at least SPELLING_MIN characters and
    the same first letter, and `key` is `canonical`, or a cut of it (instruct ~ instruction), or
    within Damerau-Levenshtein distance 1 of it (ouput ~ output, inputs ~ input, histroy ~
    history), 2 when `canonical` has 8 characters or more (instuctoin ~ instruction). A longer
    key that starts with `canonical` (input_ids, system_prompt) is another field, not a spelling;
    so is a word two edits from a short key (story is not history)."""
    if key == canonical or len(key) < SPELLING_MIN or len(canonical) < SPELLING_MIN:
        return False
    k, c = key.lower(), canonical.lower()
    if k[0] != c[0]:
        return False
    if c.startswith(k):
        return True
    return edit_distance(k, c) <= (1 if len(c) < 8 else 2)


def _tokens(name: str) -> list[str]:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return [t for t in re.split(r"[^0-9a-zA-Z\u4e00-\u9fff]+", spaced.lower()) if t]


def _word_score(name: str, words: dict[str, float]) -> float:
    best = 0.0
    for tok in _tokens(name) or [name.lower()]:
        for word, score in words.items():
            if tok == word or (len(word) >= 5 and similar(tok, word)):
                best = max(best, score)
    return best


def _lang(name: str) -> str | None:
    return next((LANG_WORDS[t] for t in _tokens(name) if t in LANG_WORDS), None)


def _is_meta(name: str) -> bool:
    return any(t in META_WORDS for t in _tokens(name))


def profile(objs: list[dict]) -> dict[str, Profile]:
    """Profiles of the string fields of the sampled records (the first FIELDS_PROFILED fields)."""
    values: dict[str, list[str]] = {}
    for obj in objs:
        for k, v in obj.items():
            if isinstance(v, str):
                if k in values:
                    values[k].append(v)
                elif len(values) < FIELDS_PROFILED:
                    values[k] = [v]
    out = {}
    for k, vs in values.items():
        counts = Counter(vs)
        modal_value, modal = counts.most_common(1)[0]
        filled = [v for v in vs if v.strip()]
        letters = sum(len(LETTER.findall(v[:2000])) for v in filled)
        cjk = sum(len(CJK.findall(v[:2000])) for v in filled)
        out[k] = Profile(
            k,
            len(objs),
            len(vs),
            len(filled),
            len(counts),
            modal,
            modal_value,
            median(len(v) for v in vs),
            max(len(v) for v in vs),
            cjk / letters if letters else 0.0,
            sum(1 for v in filled if QUESTION.search(v.strip()[-200:].lower() if len(v) > 200 else v.strip().lower()))
            / len(filled)
            if filled
            else 0.0,
            tuple(dict.fromkeys(vs)),
        )
    return out


def _usable(p: Profile) -> bool:
    return p.strings * 2 >= p.records and p.nonempty * 2 >= p.records and not p.constant


def _prompt_score(p: Profile) -> float | None:
    if not _usable(p) or p.label:
        return None
    score = _word_score(p.name, PROMPT_WORDS) - (1.5 if _is_meta(p.name) else 0.0)
    return score + p.questions + 0.5 * p.distinct / max(1, p.strings)


def _answer_score(p: Profile) -> float | None:
    if not _usable(p):
        return None
    score = _word_score(p.name, ANSWER_WORDS) - (1.5 if _is_meta(p.name) else 0.0)
    score -= 2.0 if p.label else 0.0
    score -= 0.5 * p.questions  # answers seldom end in a question mark
    return score + 0.5 * p.distinct / max(1, p.strings)


def _pair_bonus(p: Profile, a: Profile) -> float:
    """Prompt and answer in the same language (by name tag, else by script), the answer not shorter."""
    lp, la = _lang(p.name), _lang(a.name)
    bonus = (1.0 if lp == la else -0.5) if lp and la else (0.5 if abs(p.cjk - a.cjk) < 0.3 else 0.0)
    bonus += 0.5 if a.median_len >= p.median_len else 0.0
    # Prompt-like by name but chosen as the answer (en_input): the pair reads backwards.
    bonus -= 1.5 if _word_score(a.name, PROMPT_WORDS) >= 2 and _word_score(a.name, ANSWER_WORDS) == 0 else 0.0
    return bonus


@dataclass(frozen=True)
class Suggestion:
    prompt: str | None
    answer: str | None
    query: str | None
    left_out: tuple[str, ...]  # why fields a guess could have taken were not: "'meta' is the same in 32 of 32 records"


def _why_not(p: Profile) -> str | None:
    if p.constant and not p.modal_value.strip():
        return f"{p.name!r} is empty in {p.modal} of {p.records} records"
    if p.constant:
        return f"{p.name!r} is the same in {p.modal} of {p.records} records"
    if p.label and p.distinct * 2 > p.strings:
        return f"{p.name!r} holds short tags or ids (e.g. {p.examples(2)})"
    if p.label:
        return f"{p.name!r} is a short label ({p.distinct} values in {p.strings} records, e.g. {p.examples(2)})"
    if p.nonempty * 2 < p.records:
        return f"{p.name!r} is empty in {p.records - p.nonempty} of {p.records} records"
    return None


def suggest(objs: list[dict], exclude: tuple[str, ...] = ()) -> Suggestion:
    """The most plausible prompt and answer fields of the sampled records (None where none fits)."""
    profiles = {k: p for k, p in profile(objs).items() if k not in exclude}
    prompts = {k: s for k, p in profiles.items() if (s := _prompt_score(p)) is not None}
    answers = {k: s for k, p in profiles.items() if (s := _answer_score(p)) is not None}
    best: tuple[float, str | None, str | None] = (float("-inf"), None, None)
    for kp, sp in prompts.items():
        for ka, sa in answers.items():
            if ka != kp:
                score = sp + sa + _pair_bonus(profiles[kp], profiles[ka])
                if score > best[0]:
                    best = (score, kp, ka)
    _, prompt, answer = best
    if prompt is None:
        prompt = max(prompts, key=lambda k: prompts[k], default=None)
    if answer is None:
        answer = max((k for k in answers if k != prompt), key=lambda k: answers[k], default=None)
    # A second prompt-side field that is filled now and then (alpaca's input): the query.
    query = next(
        (
            k
            for k, p in profiles.items()
            if k not in (prompt, answer)
            and p.nonempty > 0
            and not p.label
            and (_word_score(k, {"input": 1.0, "context": 1.0, "query": 1.0, "输入": 1.0}) > 0)
            and prompt is not None
            and _word_score(prompt, PROMPT_WORDS) > _word_score(k, PROMPT_WORDS)
        ),
        None,
    )
    # Name the fields a guess by name or length would have taken, the name-suggestive ones first.
    passed = [p for k, p in profiles.items() if k not in (prompt, answer, query)]
    passed.sort(key=lambda p: -max(_word_score(p.name, PROMPT_WORDS), _word_score(p.name, ANSWER_WORDS)))
    left_out = tuple(why for p in passed for why in [_why_not(p)] if why is not None)
    return Suggestion(prompt, answer, query, left_out[:4])


def mapping_problem(objs: list[dict], mapping: dict[str, str]) -> tuple[str, str] | None:
    """(what, todo) when a user's mapping would import records that are not prompts and answers:
    an answer field that is the same in most records, or a prompt that is a short label (a
    category name) with no query to go with it. None when the mapping is plausible."""
    kp, ka, kq = mapping.get("prompt"), mapping.get("answer"), mapping.get("query")
    profiles = profile(objs)
    ans = profiles.get(ka) if ka else None
    if ans is not None and ans.constant:
        value = ans.modal_value if len(ans.modal_value) <= 40 else ans.modal_value[:39] + "…"
        what = f"the answer field {ka!r} holds the same value in {ans.modal} of {ans.records} sampled records ({value!r}): these are not answers"
        return what, _remap("answer", objs, mapping)
    pro = profiles.get(kp) if kp else None
    query = profiles.get(kq) if kq else None
    if pro is not None and (pro.label or pro.constant) and (query is None or query.nonempty * 2 < query.records):
        shape = (
            f"the same in {pro.modal} of {pro.records} sampled records"
            if pro.constant
            else f"{pro.distinct} short values in {pro.strings} sampled records, e.g. {pro.examples()}"
        )
        what = f"the prompt field {kp!r} looks like a category label or an id, not a prompt ({shape})"
        return what, _remap("prompt", objs, mapping)
    return None


def _remap(key: str, objs: list[dict], mapping: dict[str, str]) -> str:
    s = suggest(objs)
    field = s.prompt if key == "prompt" else s.answer
    others = {v for k, v in mapping.items() if k != key}
    what = "the question or instruction" if key == "prompt" else "the answers"
    if field and field != mapping.get(key) and field not in others:
        return f"map {key} to the field that holds {what}, e.g. --map {key}={field}"
    return f"map {key} to the field that holds {what}"


def near_miss(obj: dict, missing: str, used: set[str]) -> str | None:
    """A key of the record that is plausibly `missing` under another spelling (instuction,
    instruct), and is not a field the mapping already reads."""
    return next((k for k in obj if k not in used and k != missing and similar(k, missing)), None)


def rename_command(path: str, container: str, old: str, new: str) -> str:
    """A jq command that renames a key in every record that has it, keeping the others as they are."""
    step = f"if has({_jq(old)}) then .[{_jq(new)}] = .[{_jq(old)}] | del(.[{_jq(old)}]) else . end"
    name = Path(path).name.removesuffix(".gz")  # written where the user is: the source's folder may be read-only
    dot = name.rfind(".")
    fixed = f"{name[:dot]}.fixed{name[dot:]}" if dot > 0 else f"{name}.fixed"
    src, dst = shlex.quote(path), shlex.quote(fixed)
    if container.startswith("jsonl"):
        program = shlex.quote(step)
        if container.endswith(".gz"):
            return f"gunzip -c {src} | jq -c {program} > {dst}"
        return f"jq -c {program} {src} > {dst}"
    program = shlex.quote(f"map({step})")
    if container.endswith(".gz"):
        return f"gunzip -c {src} | jq {program} > {dst}"
    return f"jq {program} {src} > {dst}"


def _jq(s: str) -> str:
    import json

    return json.dumps(s)
