"""Style drift: an answer in another style than the answers to its most similar prompts.

What a curator calls drift is narrow: another register (您 where the others use 你), another format
where similar answers agree strongly (a bullet list where none of them has one, headings, a table,
a code block), another language, a greeting or sign-off the others lack, an extreme length where
the others agree on theirs. Measured on real data (tests/fixtures/quality/drift.jsonl), the earlier
rule flagged every fourth sample of a Chinese Alpaca set, for four reasons this module now avoids:

* weak neighbours: a prompt's 10 nearest prompts by character n-grams were mostly unrelated
  (median cosine 0.15 on Chinese Alpaca, where random pairs reach 0.12 at the 99th percentile), so
  "1 of 10 similar answers" was chance. A neighbour now counts only above an absolute bar and above
  what 99% of random prompt pairs of the same project reach (`similarity_floor`), whatever the model;
* weak agreement: "1 of 10" (20%) was rare enough. Now at most RARE_SHARE (10%) of them may share
  the sample's value, and the confidence grows with how many agree (`_confidence`);
* many weak features combined by noisy-OR: first person + hedging + "mixed-width punctuation" made a
  flag. Weak features (person, hedging, bold, follow-up question) no longer score, and the score is
  the strongest feature plus a little for each other one — two weak signs are not one strong one;
* prompt-driven format: a code block for "write a Python function", a table for "make a table", an
  English answer for "translate into English" are what the prompt asked for, not drift.
  Script drift also needs the answer's language to differ from the prompt's. "Mixed scripts" (a
  Chinese answer quoting English titles) never counts; 您/你 inside quotation marks never counts.

Whole-project (or user-chosen group) comparison, for samples with too few similar prompts, flags
only values at most PROJECT_RARE_SHARE of the project shares, at PROJECT_FACTOR of the score: the
project is not a like-for-like comparison. Everything is vectorised over samples: the comparison
sets are an (n, k) index matrix, and the Python loop that writes the named details runs only for
the samples that drift.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import features as F
from .fingerprint import Fingerprint, script_of

SCORED_FLAGS = tuple(f.name for f in F.FEATURES if f.kind == "flag" and f.weight > 0)
CATEGORIES: dict[str, tuple[str, ...]] = {
    # value codes; the values listed in IGNORED never count (nothing to compare)
    "you_zh": ("none", "您", "你", "mixed"),
    "script": ("none", "zh", "en", "mixed", "ja", "ko", "other"),
    "punct_width": ("n/a", "none", "full", "half", "mixed"),
}
IGNORED = {"you_zh": {"none"}, "script": {"none", "mixed", "other"}, "punct_width": {"n/a", "none", "mixed"}}
VALUE_NAMES = {
    "you_zh": {"您": "您", "你": "你", "mixed": "both 您 and 你"},
    "script": F.SCRIPT_NAMES,
    "punct_width": {"full": "full", "half": "half", "mixed": "mixed"},
}
_W_FLAG = np.array([F.FEATURE_BY_NAME[n].weight for n in SCORED_FLAGS])
_CAT_NAMES = tuple(CATEGORIES)
_W_CAT = np.array([F.FEATURE_BY_NAME[n].weight for n in _CAT_NAMES])
_LISTS = [SCORED_FLAGS.index(n) for n in ("bullet_list", "numbered_list") if n in SCORED_FLAGS]
_LETTER = re.compile(
    r"\b(?:letter|e-?mail|memo|speech|invitation|note to|message to|toast|greeting|excuse)\b|"
    r"信|邮件|书信|致辞|演讲|邀请|贺卡|祝福|留言|便条|通知",
    re.I,
)
# A text in a genre the prompt asks for (a dialogue, a story, a reply to a given message): its greetings,
# sign-offs, apologies and exclamations are the text's own (a teacher's "Good luck!" in a dialogue, "Sure,
# let's take a break" as the response asked for), not the assistant's style. Labels: Alpaca 2544, 905, 4086.
_GENRE = (
    r"|\b(?:dialog(?:ue)?s?|conversations?|story|stories|script|skit|screenplay|poem|song|lyrics|blog|"
    r"(?:respon(?:se|d)|reply|replies|answer) to (?:the|this|a|an|following|these)|complaints?|customer)\b|"
    r"对话|对白|故事|剧本|台词|诗|歌词|回复|回应|投诉"
)
# the user closes the conversation ("谢谢！", "thanks, bye"): a closing wish is the reply to that
_THANKS = r"|(?:谢谢|感谢|多谢|thanks?(?: you)?|bye|再见|好的)[^\n]{0,12}$"
# the user greets ("Hi! I'd like to create…"): a warm close answers in kind
_GREETS = r"|^\s*(?:hi|hello|hey|你好|您好|嗨)\b"
# a count of items ("a series of 8 words", "five tips", "三个例子") comes as a list
_ITEMS = (
    r"|\bseries of\b|\b(?:\d+|two|three|four|five|six|seven|eight|nine|ten|several) (?:\w+ )?(?:words|items|things|ways|"
    r"examples|ideas|tips|reasons|names|steps|facts|questions|adjectives|verbs|nouns|synonyms|benefits|points)\b|"
    r"(?<![\d一])(?:[2-9]|\d{2,}|[两二三四五六七八九十几])(?:个|种|条|点|项)"  # not 一个: "写一个故事" asks for one
)
# Format the prompt asks for: having it is not drift (lacking it still can be).
PROMPT_ASKS = {
    "code_block": re.compile(
        r"\b(?:code|program|programming|script|function|python|java|javascript|sql|html|css|c\+\+|regex|json|xml|yaml|"
        r"csv|query|class|algorithm|snippet|bash|shell|command|loop|recursion|recursive|pseudo-?code|"
        r"structured data|data format)\b|代码|程序|函数|编程|脚本|算法|语句|正则|查询|循环|递归|格式化",
        re.I,
    ),
    # a chart or a matrix that compares is a table in plain text (Alpaca 2593, 3370, 4657)
    "table": re.compile(r"\btables?\b|tabular|\bcharts?\b|\bmatrix\b|spreadsheet|表格|列表|表|图表|矩阵|对比", re.I),
    "bullet_list": re.compile(r"\blist\b|bullet|steps|列出|列举|清单|列表|步骤|几点|要点" + _ITEMS, re.I),
    "numbered_list": re.compile(r"\blist\b|steps|rank|列出|列举|清单|列表|步骤|几点|排名|排序" + _ITEMS, re.I),
    "heading": re.compile(r"\bheadings?\b|\bsections?\b|markdown|outline|标题|大纲|提纲", re.I),
    # a letter, an e-mail, a speech or a post opens and closes like one; a greeting is answered with one
    "sign_off": re.compile(_LETTER.pattern + _GENRE + _THANKS + _GREETS, re.I),
    # a profile, a bio, an introduction or a role opens as that person ("Hi, I'm Tim!")
    "preamble": re.compile(
        _LETTER.pattern
        + _GENRE
        + r"|^\s*(?:hi|hello|hey|你好|您好|嗨)|\b(?:introduc\w*|profile|bio|pretend|role-?play|act as)\b|"
        r"自我介绍|扮演|假设你是|介绍一下你",
        re.I,
    ),
    # an excuse, an apology or a reply to a complaint apologises by request
    "apology": re.compile(_LETTER.pattern + _GENRE + r"|apolog|\bsorry\b|inconvenience|道歉|致歉|检讨|请假|投诉", re.I),
    "offer_help": re.compile(_LETTER.pattern + _GENRE + _THANKS + _GREETS, re.I),
    "emoji": re.compile(
        r"tweet|twitter|instagram|facebook|tiktok|social media|post\b|caption|emoji|\bbio\b|profile|\breviews?\b|yelp|"
        r"推文|微博|朋友圈|评论|点评|"
        r"社交媒体|表情|文案|"
        "[\U0001f300-\U0001faff\u2600-\u27bf]",
        re.I,
    ),
    # a post, a bio, a greeting or a letter exclaims by genre ("Ready for takeoff!", "Hi, I'm Tim!")
    "exclamation": re.compile(
        _LETTER.pattern
        + _GENRE
        + r"|tweet|twitter|instagram|facebook|tiktok|social media|post\b|caption|\bbio\b|profile|slogan|"
        r"advert|\bad\b|推文|微博|朋友圈|社交媒体|文案|口号|广告",
        re.I,
    ),
}
# Compared with the whole project (or a user-chosen group), only what does not follow from the
# question: register, language, greetings and sign-offs, emoji. A list, a heading, a table, a code
# block or a length against unrelated questions says what the question needed, not the style.
PROJECT_FLAGS = ("preamble", "empathy", "offer_help", "sign_off", "emoji", "exclamation")
_PROJECT_MASK = np.array([n in PROJECT_FLAGS for n in SCORED_FLAGS], dtype=bool)
_ABSENT_MASK = np.array([n in F.ABSENT_SCORED for n in SCORED_FLAGS], dtype=bool)
TRANSLATE = re.compile(
    r"translat|\bin (?:english|chinese|french|german|spanish|japanese)\b|into (?:english|chinese)|"
    r"翻译|译成|译为|英文|英语|中文|汉语|法语|德语|日语|西班牙语",
    re.I,
)
SHORT_FOR_OPENINGS = 6  # answers this short (tokens) have no opening or closing to speak of
# A length the prompt sets (a tweet, "140 characters", "8 words", one sentence, a title) is no drift.
LENGTH_ASKED = re.compile(
    r"\btweet|twitter|\b\d+[- ](?:characters?|words?|sentences?|lines?)\b|\b(?:one|two|three|four|five|six|seven|eight|"
    r"nine|ten|single)[- ](?:word|sentence|line)s?\b|\bseries of \d+\b|\bhaiku\b|\bslogan\b|\btagline\b|\bheadline\b|"
    r"\btitle\b|\bin short\b|\bbriefly\b|\d+\s*(?:个?字|句)|一句话|简短|简要|标题|口号|推文",
    re.I,
)


@dataclass(frozen=True)
class Drift:
    """One sample's drift: score, the named features that drift (short form, full detail line)."""

    score: float
    short: tuple[str, ...]  # "bullet list", "3.4× longer", "uses 你"
    details: tuple[str, ...]  # "bullet list — none of 9 similar answers use one"
    typical: int | None  # position of the group's most central answer
    compared: int  # answers compared with
    basis: str  # "similar prompts" | "field category=billing" | "whole project"


@dataclass
class Encoded:
    flags: np.ndarray  # (n, F) bool
    cats: np.ndarray  # (n, C) int16, -1 = nothing to compare
    tokens: np.ndarray  # (n,) float64
    valid: np.ndarray  # (n,) bool: has an answer that is a plain answer
    evidence: list[dict]
    exempt: np.ndarray  # (n, F) bool: the prompt asks for this format, having it is no drift
    script_ok: np.ndarray  # (n,) bool: the answer's script may be compared (not a translation, not the prompt's)
    length_asked: np.ndarray  # (n,) bool: the prompt sets the length (LENGTH_ASKED): a length is no drift


def encode(fps: Sequence[Fingerprint | None], prompts: Sequence[str] | None = None) -> Encoded:
    n = len(fps)
    flags = np.zeros((n, len(SCORED_FLAGS)), dtype=bool)
    cats = np.full((n, len(_CAT_NAMES)), -1, dtype=np.int16)
    tokens = np.zeros(n)
    valid = np.zeros(n, dtype=bool)
    exempt = np.zeros((n, len(SCORED_FLAGS)), dtype=bool)
    script_ok = np.ones(n, dtype=bool)
    length_asked = np.zeros(n, dtype=bool)
    evidence: list[dict] = [{}] * n
    codes = {c: {v: k for k, v in enumerate(vals)} for c, vals in CATEGORIES.items()}
    asks = [(SCORED_FLAGS.index(name), rx) for name, rx in PROMPT_ASKS.items() if name in SCORED_FLAGS]
    for i, fp in enumerate(fps):
        if fp is None or fp.tokens == 0:
            continue
        valid[i] = fp.move == "answer"
        tokens[i] = fp.tokens
        flags[i] = [getattr(fp, name) for name in SCORED_FLAGS]
        if fp.tokens < SHORT_FOR_OPENINGS:
            for name in ("preamble", "sign_off", "offer_help", "empathy"):
                if name in SCORED_FLAGS:
                    flags[i, SCORED_FLAGS.index(name)] = False
        for c, name in enumerate(_CAT_NAMES):
            v = getattr(fp, name)
            if v not in IGNORED[name]:
                cats[i, c] = codes[name].get(v, -1)
        evidence[i] = fp.evidence
        if prompts is not None:
            p = prompts[i]
            for f, rx in asks:
                exempt[i, f] = bool(rx.search(p))
            folded = p.casefold()
            for f, name in enumerate(SCORED_FLAGS):
                # the words that made the feature are the prompt's own (a sentence to reword that says
                # "sincerely", an apology quoted in the input): content, not style
                said = str(fp.evidence.get(name, "")).strip("“”\"' ").casefold()
                if flags[i, f] and len(said) >= 2 and _said_in(said, folded):
                    exempt[i, f] = True
            script_ok[i] = not TRANSLATE.search(p) and script_of(p) != fp.script and not fp.code_block
            length_asked[i] = bool(LENGTH_ASKED.search(p))
    return Encoded(flags, cats, tokens, valid, evidence, exempt, script_ok, length_asked)


def _said_in(said: str, prompt: str) -> bool:
    """The feature's words stand in the prompt as words ("Format: Hi [name], …" holds the answer's "Hi";
    "this" does not hold "hi")."""
    if F.CJK.search(said):
        return said in prompt
    return re.search(r"(?<!\w)" + re.escape(said) + r"(?!\w)", prompt) is not None


def _chance(own: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """P(at most `own` of n answers drawn from the whole project share the value | its project share p).

    Near neighbours that are no better than random answers of the project say nothing: "none of 10
    similar answers use a list" is evidence only where lists are common enough in the project that
    10 random answers would show one."""
    n = np.asarray(n, dtype=np.float64)
    own = np.asarray(own, dtype=np.float64)
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
    q = 1.0 - p
    out = np.zeros(np.broadcast(own, n, p).shape)
    term = q**n  # j = 0
    for j in range(int(np.max(own, initial=0)) + 1):
        out = out + np.where(j <= own, term, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            term = np.where(q > 0, term * (n - j) / (j + 1) * p / np.maximum(q, 1e-12), 0.0)
    return np.minimum(out, 1.0)


def _confidence(own: np.ndarray, n: np.ndarray) -> np.ndarray:
    """How sure the compared answers agree against the sample: 1 − (own + ½) / (n + 1).

    own = how many of the n compared answers share the sample's value. None of 10: 0.95; none of
    5: 0.92; 1 of 10: 0.86. Few answers, or one that shares the value, lower it."""
    return 1.0 - (own + 0.5) / (np.maximum(n, 1) + 1.0)


@dataclass
class _Stats:
    """Counts over each sample's comparison set, (n, ...) arrays."""

    n: np.ndarray  # (n,) answers compared
    flag_k: np.ndarray  # (n, F) how many of them have each flag
    list_k: np.ndarray  # (n,) how many of them have a list of either kind
    cat_k: list[np.ndarray]  # per category: (n, V) how many have each value
    cat_n: np.ndarray  # (n, C) how many have a comparable value
    med: np.ndarray  # (n,) median tokens
    lo: np.ndarray
    hi: np.ndarray
    near: bool  # similar prompts (True) or a group / the whole project


def _any_list(flags: np.ndarray) -> np.ndarray:
    return np.asarray(flags[..., _LISTS].any(axis=-1)) if _LISTS else np.zeros(flags.shape[:-1], dtype=bool)


def _stats_from_sets(enc: Encoded, idx: np.ndarray, mask: np.ndarray) -> _Stats:
    safe = np.maximum(idx, 0)
    n = mask.sum(axis=1)
    flag_k = (enc.flags[safe] & mask[..., None]).sum(axis=1)
    list_k = (_any_list(enc.flags[safe]) & mask).sum(axis=1)
    cat_k, cat_n = [], np.zeros((len(idx), len(_CAT_NAMES)), dtype=np.int64)
    for c, name in enumerate(_CAT_NAMES):
        codes = np.where(mask, enc.cats[safe, c], -1)
        k = np.stack([(codes == v).sum(axis=1) for v in range(len(CATEGORIES[name]))], axis=1)
        cat_k.append(k)
        cat_n[:, c] = (codes >= 0).sum(axis=1)
    tok = np.where(mask, enc.tokens[safe], np.nan)
    with np.errstate(all="ignore"):
        filled = np.where(n[:, None] > 0, tok, 0.0)
        med = np.where(n > 0, np.nanmedian(filled, axis=1), 0.0)
        # the answer must also lie outside the bulk of the set (10th-90th percentile), so one other
        # long answer among the neighbours does not hide a third one
        lo = np.where(n > 0, np.nanpercentile(filled, 10, axis=1), 0.0)
        hi = np.where(n > 0, np.nanpercentile(filled, 90, axis=1), 0.0)
    return _Stats(n, flag_k, list_k, cat_k, cat_n, med, lo, hi, True)


def _stats_from_groups(enc: Encoded, groups: np.ndarray, rows: np.ndarray) -> tuple[_Stats, dict[int, int]]:
    """Stats of each row's whole group (the row itself left out), and each group's typical member."""
    out_n = np.zeros(len(rows), dtype=np.int64)
    flag_k = np.zeros((len(rows), len(SCORED_FLAGS)), dtype=np.int64)
    list_k = np.zeros(len(rows), dtype=np.int64)
    cat_k = [np.zeros((len(rows), len(CATEGORIES[c])), dtype=np.int64) for c in _CAT_NAMES]
    cat_n = np.zeros((len(rows), len(_CAT_NAMES)), dtype=np.int64)
    med, lo, hi = np.zeros(len(rows)), np.zeros(len(rows)), np.zeros(len(rows))
    typical: dict[int, int] = {}
    for g in np.unique(groups[rows]):
        members = np.flatnonzero((groups == g) & enc.valid)
        here = np.flatnonzero(groups[rows] == g)
        if not len(members):
            continue
        fk = enc.flags[members].sum(axis=0)
        lk = int(_any_list(enc.flags[members]).sum())
        ck = [
            np.bincount(
                np.maximum(enc.cats[members, c], 0),
                weights=(enc.cats[members, c] >= 0),
                minlength=len(CATEGORIES[name]),
            ).astype(np.int64)
            for c, name in enumerate(_CAT_NAMES)
        ]
        tok = enc.tokens[members]
        me = rows[here]
        inside = enc.valid[me].astype(np.int64)  # leave the sample itself out of its own group
        out_n[here] = len(members) - inside
        flag_k[here] = fk[None, :] - enc.flags[me] * inside[:, None]
        list_k[here] = lk - _any_list(enc.flags[me]) * inside
        for c in range(len(_CAT_NAMES)):
            own = np.zeros((len(me), len(ck[c])), dtype=np.int64)
            ok = enc.cats[me, c] >= 0
            own[np.flatnonzero(ok), enc.cats[me, c][ok]] = 1
            cat_k[c][here] = ck[c][None, :] - own * inside[:, None]
            cat_n[here, c] = cat_k[c][here].sum(axis=1)
        med[here], lo[here], hi[here] = np.median(tok), np.quantile(tok, 0.1), np.quantile(tok, 0.9)
        typ = _typicality(enc, members, fk, ck, len(members), float(np.median(tok)))
        typical[int(g)] = int(members[int(np.argmax(typ))])
    return _Stats(out_n, flag_k, list_k, cat_k, cat_n, med, lo, hi, False), typical


def _typicality(enc: Encoded, members: np.ndarray, fk: np.ndarray, ck: list[np.ndarray], n: int, med: float):
    """How much each member agrees with the group, feature by feature: the highest is the typical answer."""
    agree = np.where(enc.flags[members], fk[None, :], n - fk[None, :]).sum(axis=1) / max(n, 1)
    for c in range(len(_CAT_NAMES)):
        codes = enc.cats[members, c]
        agree = agree + np.where(codes >= 0, ck[c][np.maximum(codes, 0)], 0) / max(n, 1)
    closeness = -np.abs(np.log2(np.maximum(enc.tokens[members], 1) / max(med, 1)))
    return agree + closeness


@dataclass
class _Shares:
    """Each value's share of the whole project's plain answers."""

    count: np.ndarray  # (F,) answers with each flag
    any_list: int  # answers with a list of either kind
    m: int  # plain answers
    cat: list[np.ndarray]  # per category (V,) share, of the answers with a comparable value


def _shares(enc: Encoded) -> _Shares:
    v = enc.valid
    m = max(int(v.sum()), 1)
    cat = []
    for c, name in enumerate(_CAT_NAMES):
        codes = enc.cats[v, c]
        codes = codes[codes >= 0]
        cat.append(np.bincount(codes, minlength=len(CATEGORIES[name])) / max(len(codes), 1))
    return _Shares(enc.flags[v].sum(axis=0), int(_any_list(enc.flags[v]).sum()), m, cat)


@dataclass
class _Scored:
    score: np.ndarray  # (r,)
    rare: np.ndarray  # (r, F) bool: has it, the others do not
    missing: np.ndarray  # (r, F) bool: lacks it, the others have it
    s_flag: np.ndarray  # (r, F) each flag's score
    cat_drift: list[np.ndarray]  # per category (r,) the others' value code, -1 = no drift
    s_cat: np.ndarray  # (r, C)
    ratio: np.ndarray  # (r,) length ratio where it drifts, else 0
    s_len: np.ndarray  # (r,)
    med: np.ndarray


def score_all(enc: Encoded, st: _Stats, rows: np.ndarray, sh: _Shares | None = None) -> _Scored:
    """Per row: each drifting feature's score and the combined drift score."""
    sh = sh or _shares(enc)
    n = st.n[:, None]
    enough = st.n[:, None] >= (F.MIN_NEIGHBOURS if st.near else F.MIN_GROUP)
    rare_share = F.RARE_SHARE if st.near else F.PROJECT_RARE_SHARE
    factor = 1.0 if st.near else F.PROJECT_FACTOR
    has = enc.flags[rows]
    # a list of the other kind counts as a list: bullets among numbered lists are not prose among lists
    k_has = st.flag_k.copy()
    own_list = _any_list(has)
    for f in _LISTS:
        k_has[:, f] = np.where(has[:, f], st.list_k, st.flag_k[:, f])
    limit = np.floor(rare_share * n + 1e-9)
    if not st.near:
        enough = enough & _PROJECT_MASK[None, :]
    rare = has & ~enc.exempt[rows] & (k_has <= limit) & enough
    lacks = n - st.flag_k  # compared answers that lack it, like the sample
    missing = ~has & (lacks <= limit) & enough & _ABSENT_MASK[None, :]
    for f in _LISTS:
        missing[:, f] &= ~own_list  # a numbered list where the others use bullets is still a list
    if st.near:
        # beyond chance: the similar answers agree more than random answers of the project would,
        # or the sample's value is rare among the project's other answers too
        m1 = max(sh.m - 1, 1)
        p_has = np.broadcast_to(sh.count, has.shape) - has
        for f in _LISTS:
            p_has[:, f] = np.where(has[:, f], sh.any_list - own_list, p_has[:, f])
        p_has = p_has / m1
        rare &= (_chance(k_has, n, p_has) <= F.CHANCE_MAX) | (p_has <= F.PROJECT_RARE_SHARE)
        p_lacks = (sh.m - np.broadcast_to(sh.count, has.shape) - (~has)) / m1
        missing &= (_chance(lacks, n, p_lacks) <= F.CHANCE_MAX) | (p_lacks <= F.PROJECT_RARE_SHARE)
    s_flag = np.where(rare, _W_FLAG * _confidence(k_has, n), 0.0)
    s_flag = s_flag + np.where(missing, _W_FLAG * F.ABSENT_FACTOR * _confidence(lacks, n), 0.0)
    cat_drift = []
    s_cat = np.zeros((len(rows), len(_CAT_NAMES)))
    for c, name in enumerate(_CAT_NAMES):
        k = st.cat_k[c]
        cn = st.cat_n[:, c]
        mode = np.argmax(k, axis=1)
        own = enc.cats[rows, c]
        own_k = np.where(own >= 0, k[np.arange(len(rows)), np.maximum(own, 0)], 0)
        drift = (
            (own >= 0)
            & (own != mode)
            & (cn >= (F.MIN_NEIGHBOURS if st.near else F.MIN_GROUP))
            & (own_k <= np.floor(rare_share * np.maximum(cn, 1) + 1e-9))
            & (k[np.arange(len(rows)), mode] >= np.ceil(F.MODE_SHARE * np.maximum(cn, 1) - 1e-9))
        )
        if name == "script":
            drift &= enc.script_ok[rows]
        if st.near:
            p_own = np.where(own >= 0, sh.cat[c][np.maximum(own, 0)], 1.0)
            drift &= (_chance(own_k, cn, p_own) <= F.CHANCE_MAX) | (p_own <= F.PROJECT_RARE_SHARE)
        cat_drift.append(np.where(drift, mode, -1))
        s_cat[:, c] = np.where(drift, _W_CAT[c] * _confidence(own_k, cn), 0.0)
    tok = enc.tokens[rows]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(st.med > 0, tok / np.maximum(st.med, 1e-9), 1.0)
        spread = np.where(st.lo > 0, st.hi / np.maximum(st.lo, 1e-9), np.inf)
    long_ok = (np.maximum(tok, st.med) >= F.LENGTH_MIN_TOKENS) & (st.n >= F.MIN_NEIGHBOURS)
    longer = long_ok & (ratio >= F.LENGTH_RATIO) & (tok > st.hi)
    shorter = long_ok & (ratio <= 1 / F.LENGTH_RATIO) & (tok < st.lo)
    # Shorter never drifts on its own reading: of 9 labelled "N× shorter" flags one was a real problem
    # ("No output required"); the others were whole short answers (an acronym, a genre, "Mystery.") to
    # prompts whose neighbours ask for more. Longer still does (a padded answer among terse ones).
    drifts = (longer | (shorter & F.LENGTH_SHORTER_DRIFTS)) & st.near & ~enc.length_asked[rows]
    ratio = np.where(drifts, ratio, 0.0)
    # Length scores only against similar prompts that agree on theirs (their 90th percentile within
    # LENGTH_MAX_SPREAD of their 10th): the whole project's lengths say nothing about one question.
    lr = np.abs(np.log2(np.where(ratio > 0, ratio, 1.0)))
    s_len = np.where(
        drifts & (spread <= F.LENGTH_MAX_SPREAD),
        F.LENGTH_WEIGHT * np.clip((lr - 1.0) / 2.0, 0.0, 1.0) * _confidence(np.zeros(len(rows)), st.n),
        0.0,
    )
    parts = np.concatenate([s_flag, s_cat, s_len[:, None]], axis=1) * factor
    top = parts.max(axis=1) if parts.shape[1] else np.zeros(len(rows))
    score = np.minimum(0.99, top + F.EXTRA_FEATURE_SHARE * (parts.sum(axis=1) - top))
    return _Scored(score, rare, missing, s_flag * factor, cat_drift, s_cat * factor, ratio, s_len * factor, st.med)


def _count(k: int, n: int) -> str:
    return f"none of {n}" if k == 0 else f"all {n}" if k == n and n > 2 else f"{k} of {n}"


def _describe(enc: Encoded, st: _Stats, sc: _Scored, r: int, row: int, noun: str):
    n = int(st.n[r])
    short, details, weights = [], [], []
    ev = enc.evidence[row]
    for f, name in enumerate(SCORED_FLAGS):
        feat = F.FEATURE_BY_NAME[name]
        if sc.rare[r, f]:
            k = int(st.list_k[r]) if f in _LISTS else int(st.flag_k[r, f])
            text = feat.rare.format(k=_count(k, n), n=n, evidence=ev.get(name, "")).replace(" ()", "")
            short.append(feat.label)
        elif sc.missing[r, f]:
            text = feat.missing.format(k=_count(int(st.flag_k[r, f]), n), n=n)
            short.append(f"no {feat.label}")
        else:
            continue
        details.append(_fix_counts(text, n).replace("similar answers", noun))
        weights.append(float(sc.s_flag[r, f]))
    for c, name in enumerate(_CAT_NAMES):
        mode = int(sc.cat_drift[c][r])
        if mode < 0:
            continue
        vals = CATEGORIES[name]
        own = vals[int(enc.cats[row, c])]
        names = VALUE_NAMES[name]
        k = int(st.cat_k[c][r, mode])
        text = F.CATEGORY_TEMPLATES[name].format(
            value=names.get(own, own), mode=names.get(vals[mode], vals[mode]), k=_count(k, int(st.cat_n[r, c]))
        )
        details.append(_fix_counts(text, int(st.cat_n[r, c])).replace("similar answers", noun))
        short.append(
            {
                "you_zh": f"uses {names.get(own, own)}",
                "script": f"answers in {names.get(own, own)}",
                "punct_width": f"{names.get(own, own)}-width punctuation",
            }[name]
        )
        weights.append(float(sc.s_cat[r, c]))
    if sc.ratio[r] > 0:
        x = float(sc.ratio[r])
        word = f"{x:.1f}× longer" if x >= 1 else f"{1 / x:.1f}× shorter"
        short.append(word)
        spread = f", theirs {st.lo[r]:.0f}–{st.hi[r]:.0f}" if st.near else ""
        details.append(
            f"{word} than the typical answer ({int(enc.tokens[row])} vs {sc.med[r]:.0f} tokens{spread}; {n} {noun})"
        )
        weights.append(float(sc.s_len[r]))
    order = sorted(range(len(short)), key=lambda i: -weights[i])
    return tuple(short[i] for i in order), tuple(details[i] for i in order)


def _fix_counts(text: str, n: int) -> str:
    """The templates say "{k} of {n}"; with k already "none of 10" or "all 10", drop the repeat."""
    return re.sub(rf"((?:none|all|\d+) of {n}|all {n}) of {n}\b", r"\1", text)


def compute_drift(
    fps: Sequence[Fingerprint | None],
    nbr_idx: np.ndarray,
    nbr_sim: np.ndarray,
    min_sim: np.ndarray,
    groups: np.ndarray | None = None,
    group_names: Sequence[str] | None = None,
    prompts: Sequence[str] | None = None,
) -> dict[int, Drift]:
    """Drift of every plain answer: position -> Drift (only those with a score above zero).

    nbr_idx/nbr_sim: (n, k) neighbours by prompt; min_sim: (n,) the similarity each row's
    neighbours must reach (see `similarity_floor`). groups: (n,) fallback group per sample (-1: the
    whole project), group_names their labels. prompts: the prompt texts, for the format and
    language the prompt asks for (without them, every format counts).
    """
    enc = encode(fps, prompts)
    n = len(fps)
    if n == 0:
        return {}
    shares = _shares(enc)
    safe = np.maximum(nbr_idx, 0)
    mask = (nbr_idx >= 0) & (nbr_sim >= min_sim[:, None]) & enc.valid[safe]
    rows_all = np.flatnonzero(enc.valid)
    enough = mask[rows_all].sum(axis=1) >= F.MIN_NEIGHBOURS
    out: dict[int, Drift] = {}
    near_rows = rows_all[enough]
    far_rows = rows_all[~enough]
    if len(near_rows):
        st = _stats_from_sets(enc, nbr_idx[near_rows], mask[near_rows])
        sc = score_all(enc, st, near_rows, shares)
        # The typical answer of each comparison set: its member that agrees most with the set.
        sets = safe[near_rows]
        agree = np.where(enc.flags[sets], st.flag_k[:, None, :], st.n[:, None, None] - st.flag_k[:, None, :]).sum(-1)
        for c in range(len(_CAT_NAMES)):
            codes = enc.cats[sets, c]
            agree = agree + np.where(codes >= 0, np.take_along_axis(st.cat_k[c], np.maximum(codes, 0), axis=1), 0)
        agree = agree / np.maximum(st.n, 1)[:, None]
        agree = agree - np.abs(np.log2(np.maximum(enc.tokens[sets], 1) / np.maximum(st.med, 1)[:, None]))
        agree = np.where(mask[near_rows], agree, -np.inf)
        typical = np.take_along_axis(sets, np.argmax(agree, axis=1)[:, None], axis=1)[:, 0]
        for r in np.flatnonzero(sc.score > 0):
            row = int(near_rows[r])
            short, details = _describe(enc, st, sc, int(r), row, "similar answers")
            out[row] = Drift(
                round(float(sc.score[r]), 3), short, details, int(typical[r]), int(st.n[r]), "similar prompts"
            )
    if len(far_rows):
        g = groups if groups is not None else np.full(n, -1, dtype=np.int64)
        st, typical_of = _stats_from_groups(enc, g, far_rows)
        sc = score_all(enc, st, far_rows, shares)
        for r in np.flatnonzero(sc.score > 0):
            row = int(far_rows[r])
            gid = int(g[row])
            basis = group_names[gid] if group_names is not None and gid >= 0 else "whole project"
            noun = "answers in the project" if gid < 0 else "answers in its group"
            short, details = _describe(enc, st, sc, int(r), row, noun)
            typ = typical_of.get(gid)
            out[row] = Drift(
                round(float(sc.score[r]), 3), short, details, None if typ == row else typ, int(st.n[r]), basis
            )
    register_mix(fps, enc.valid, out)
    return out


def register_mix(fps: Sequence[Fingerprint | None], valid: np.ndarray, out: dict[int, Drift]) -> None:
    """Answers that mix 您 and 你 (F.MIXED_YOU_*), added to `out` in place: a drift within the answer."""
    mixed = []
    for i, fp in enumerate(fps):
        if fp is None or not valid[i] or fp.you_zh != "mixed":
            continue
        a, _, b = str(fp.evidence.get("you_zh", "0/0")).partition("/")
        if min(int(a or 0), int(b or 0)) >= F.MIXED_YOU_MIN:
            mixed.append((i, int(a), int(b)))
    if not mixed or len(mixed) > F.MIXED_YOU_MAX_SHARE * max(int(valid.sum()), 1):
        return
    for i, formal, informal in mixed:
        detail = f"mixes 您 ({formal}×) and 你 ({informal}×) in one answer"
        d = out.get(i)
        if d is None:
            out[i] = Drift(F.MIXED_YOU_SCORE, ("mixes 您 and 你",), (detail,), None, 0, "the answer itself")
        elif not any("mixes 您" in x for x in d.details):
            score = round(max(d.score, F.MIXED_YOU_SCORE) + F.EXTRA_FEATURE_SHARE * min(d.score, F.MIXED_YOU_SCORE), 3)
            out[i] = Drift(
                min(score, 0.99), ("mixes 您 and 你", *d.short), (detail, *d.details), d.typical, d.compared, d.basis
            )


def similarity_floor(
    source: np.ndarray, prompts: Sequence[str], vectors: dict[int, np.ndarray] | None, *, pairs: int = 4000
) -> np.ndarray:
    """(n,) the similarity a neighbour must reach: the absolute bar of its source (embeddings or
    n-grams), raised to what RANDOM_PAIR_QUANTILE of random prompt pairs of this project reach.

    Score bands differ by model (multilingual-e5 puts unrelated Chinese prompts at ~0.84, MiniLM
    unrelated English ones at ~0.05) and by data (templated prompts share their template), so a
    fixed bar is either useless or too strict; the project's own random pairs set it. Seeded, so a
    re-run gives the same floor."""
    from .neighbours import rescore, tfidf

    rng = np.random.default_rng(0xD21F7)
    out = np.where(source == 2, F.SEMANTIC_MIN_SIMILARITY, F.LEXICAL_MIN_SIMILARITY).astype(np.float32)
    sem = np.flatnonzero(source == 2)
    if vectors and len(sem) >= 20:
        m = np.stack([vectors[int(i)] for i in sem]).astype(np.float32)
        m /= np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-9)
        a, b = rng.integers(0, len(sem), pairs), rng.integers(0, len(sem), pairs)
        keep = a != b
        bg = (m[a[keep]] * m[b[keep]]).sum(axis=1)
        out[sem] = max(F.SEMANTIC_MIN_SIMILARITY, float(np.quantile(bg, F.RANDOM_PAIR_QUANTILE)))
    lex = np.flatnonzero(source == 1)
    if len(lex) >= 20:
        pick = lex if len(lex) <= pairs else np.sort(rng.choice(lex, pairs, replace=False))
        x = tfidf([prompts[int(i)] for i in pick])
        a = rng.integers(0, len(pick), pairs)
        b = rng.integers(0, len(pick), pairs)
        keep = a != b
        bg = rescore(x, a[keep], b[keep].reshape(-1, 1))[:, 0]
        out[lex] = max(F.LEXICAL_MIN_SIMILARITY, float(np.quantile(bg, F.RANDOM_PAIR_QUANTILE)))
    return out


def drift_label(d: Drift, typical_id: int | None) -> str:
    vs = f" · vs typical #{typical_id}" if typical_id is not None else ""
    return f"style drift {d.score:.2f} · {', '.join(d.short[:3])}{vs}"


def spread(values: Sequence[float]) -> float:
    """Coefficient of variation of log lengths, for the stability figure (0 = all alike)."""
    if len(values) < 2:
        return 0.0
    logs = [math.log(max(v, 1.0)) for v in values]
    mean = sum(logs) / len(logs)
    return math.sqrt(sum((x - mean) ** 2 for x in logs) / len(logs))
