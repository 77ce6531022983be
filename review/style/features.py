"""The style rules in one table: every feature, word list, pattern and threshold, English and Chinese.

Read this module to know what winnow means by "style drift", "contradiction", "noise" and
"boundary"; change a threshold here and nothing else. The README's "Style checks" section is this
module in prose. Bump FEATURE_VERSION whenever a pattern or a fingerprint feature changes: cached
fingerprints carry the version they were computed with and are recomputed under a new one.

Fingerprint features (one answer at a time; `fingerprint.py` computes them)

    group      feature            what it is                                   drift weight
    ---------  -----------------  -------------------------------------------  ------------
    length     tokens             CJK characters + Latin words/numbers          by ratio, at most 0.45
               chars, sentences, paragraphs                                     shown, not scored
    structure  bullet_list        2+ lines starting "-", "*", "•"               0.6
               numbered_list      2+ lines "1." "2)" "（1）" "一、"               0.6
               heading            a markdown "#" line or a line that is all bold  0.6
               table              a markdown table (pipes + a --- rule)          0.6
               code_block         a ``` or ~~~ fence                            0.6
               bold               **bold** or __bold__ inline                    0.4
    opening    preamble           "Sure!", "Of course", "Great question", "当然", "好的"  0.6
               apology            "Sorry", "I apologise", "抱歉", "对不起"       0.6
               empathy            "I understand", "sorry to hear", "理解您", "别担心"  0.5
               answer_first       none of the three (shown, not scored)
    closing    offer_help         "Let me know if…", "Anything else…", "如还有其他问题"  0.5
               sign_off           "Hope this helps", "Best regards", "希望对您有帮助"  0.6
               follow_up_question the last sentence is a question that is not an offer  0.4
    register   you_zh             您 / 你 / mixed / none  (Chinese address)      0.7
               emoji              any pictograph                                 0.6
               exclamation        any "!" or "！"                                 0.5
               hedging            "maybe", "I think", "可能", "也许"               0.4
               first_person       I / me / my / 我                               0.2
               second_person      you / your / 您 / 你                            0.2
    script     script             zh / en (Latin) / mixed / ja / ko / other / none  0.8
               punct_width        full / half / mixed / none (Chinese text only)  0.5
    move       move               answer / clarify / refuse / redirect           0 (a boundary, not drift)

A feature *drifts* when the sample has it and at most RARE_SHARE of its similar answers do
("bullet list — 1 of 9 similar answers use one"), or lacks it while at least COMMON_SHARE of them
have it (scored at ABSENT_FACTOR of its weight), or (categories) takes another value than the one
MODE_SHARE of them share ("uses 你 where 6 of 6 use 您"). Length drifts when the answer is at least
LENGTH_RATIO times longer or shorter than the typical (median) one and outside their range. The drift
score is the noisy-OR of the drifting features' weights, 1 - Π(1 - wᵢ): one strong feature gives
0.6, two give 0.84; a sample is flagged at DRIFT_FLAG.

Only answers that make the same *move* are compared: a refusal that apologises is a boundary (see
`boundaries.py`), not an answer drifting into apologies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FEATURE_VERSION = (
    3  # 2: 您/你 outside quotation marks only (issue 14); 3: narrower sign-offs, offers, empathy, half-width
)

# ---------------------------------------------------------------------------------------------
# Characters and scripts

CJK_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
KANA_CLASS = "\u3040-\u30ff"
HANGUL_CLASS = "\uac00-\ud7af"
CJK = re.compile(f"[{CJK_CLASS}]")
# One token = one CJK character or one Latin word / number (CJK text has no spaces to split on).
TOKEN = re.compile(rf"[{CJK_CLASS}{KANA_CLASS}{HANGUL_CLASS}]|[^\W_]+(?:['’.\-][^\W_]+)*", re.UNICODE)
LATIN_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f]")
FULL_WIDTH_PUNCT = re.compile(r"[，。！？：；“”‘’（）、《》【】…—]")
HALF_WIDTH_PUNCT_IN_CJK = re.compile(rf"(?<=[{CJK_CLASS}])[,.!?:;()]|[,!?:;()](?=[{CJK_CLASS}])")
EMOJI = re.compile("[\U0001f300-\U0001faff\U0001f000-\U0001f2ff\u2600-\u27bf\u2b50\u2b55\u203c\u2049]")

SCRIPT_ZH_SHARE = 0.6  # CJK share of letters at or above which an answer is Chinese
SCRIPT_EN_SHARE = 0.1  # ... at or below which (with Latin letters) it is English

# ---------------------------------------------------------------------------------------------
# Sentences and structure

# Split after closing punctuation (keeping a closing quote with its sentence), after a CJK stop, at newlines.
SENTENCE_END = re.compile(r"(?<=[.!?。！？…])\s+|(?<=[.!?。！？…][\"'”’)）])\s*|(?<=[。！？])|\n+")
BULLET_LINE = re.compile(r"^\s*[-*•·‣▪◦]\s+\S", re.M)
NUMBERED_LINE = re.compile(r"^\s*(?:\d{1,2}[.)、．]|[（(]\d{1,2}[)）]|[一二三四五六七八九十]{1,3}[、.．])\s*\S", re.M)
HEADING_LINE = re.compile(r"^\s{0,3}#{1,6}\s+\S|^\s*(?:\*\*|__)[^*_\n]{1,60}(?:\*\*|__)[:：]?\s*$", re.M)
TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)+\|?\s*$", re.M)
CODE_FENCE = re.compile(r"^\s*(?:```|~~~)", re.M)
# Unfenced code: lines that only code looks like. CODE_MIN_LINES of them make the answer code (its
# "# comments" are then not headings, its "- x" not bullets).
CODE_LINE = re.compile(
    r"^\s*(?:def |class |import |from \w+ import |for .+ in .+:|while .+:|if .+:\s*$|elif |else:|return\b|print\(|"
    r"#include|public |private |function |var |let |const |SELECT |INSERT |CREATE |\}|\{\s*$|[\w.\[\]]+\s*[+\-*/]?=\s*\S|"
    r"[\w.]+\([^()]*\)\s*;?\s*$)",
    re.M,
)
CODE_MIN_LINES = 2
BOLD = re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__")
LIST_MIN_LINES = 2

# ---------------------------------------------------------------------------------------------
# Opening moves — matched at the start of the answer (after an optional greeting)

GREETING = r"(?:(?:hi|hello|hey|dear [^,\n]{1,30})[,!.]?\s+|(?:您好|你好|尊敬的[^，,]{0,20})[，,！!。]?\s*)?"
PREAMBLE = re.compile(
    r"^(?:sure|of course|certainly|absolutely|definitely|great question|good question|happy to help|"
    r"glad to help|glad you asked|no problem|okay|ok|alright|hi|hello|hey|thanks for (?:asking|reaching out)|"
    r"thank you for (?:asking|reaching out|contacting)|当然|好的|没问题|好问题|您好|你好|尊敬的|感谢您|谢谢您|亲)\b",
    re.I,
)
APOLOGY = re.compile(
    GREETING + r"(?:(?:i'?m|i am|we'?re|we are) (?:so |very |really |terribly |truly )?sorry|sorry|"
    r"(?:i|we) apologi[sz]e|(?:my )?apologies|(?:非常|很|十分|真的)?(?:抱歉|对不起|不好意思))",
    re.I,
)
EMPATHY = re.compile(
    r"(?:i (?:completely |totally |really |fully )?understand|i know how|"
    r"that sounds (?:hard|difficult|frustrating|stressful|tough|awful|terrible|painful|scary|overwhelming|upsetting)|"
    r"sorry to hear|i hear you|(?:很|非常)?(?:抱歉|遗憾|难过)(?:地)?听到|"
    r"i can see why|must be (?:frustrating|stressful|hard)|理解您|我理解|非常理解|能理解|别担心|不要担心|请放心|辛苦了)",
    re.I,
)
OPENING_SPAN = 2  # empathy is looked for in the first this-many sentences

# ---------------------------------------------------------------------------------------------
# Closing moves — matched in the last sentence (offer: last two sentences)

OFFER_HELP = re.compile(
    r"(?:let (?:me|us) know|feel free to|happy to help|glad to help|anything else|any (?:other |more )?questions|"
    r"reach out to (?:me|us)\b|don'?t hesitate|here to help|if you need (?:anything|more|help|further)|how can i help|"
    r"i can (?:help|walk you|point you|send you|explain)|tell me if|"
    r"如还有其他问题|如需进一步帮助|有任何问题|随时(?:联系|告诉|找|问|咨询)|欢迎(?:随时|再)|有其他(?:问题|疑问)|"
    r"需要其他帮助|还有什么(?:可以|能)?帮|有什么可以帮|我可以告诉您|需要的话我可以)",
    re.I,
)
SIGN_OFF = re.compile(
    r"(?:hope (?:this|that|it) (?:helps|is helpful)|best regards|kind regards|warm regards|regards,|cheers|"
    r"sincerely|yours (?:truly|faithfully|sincerely)|respectfully,|"
    r"have a (?:great|nice|good|wonderful) (?:day|one)|^\W*good luck|take care|"
    # 希望…帮助 closes the sentence ("希望对您有帮助。"): "希望能帮助用户解决…" says what the bot is for
    r"希望(?:以上(?:内容|信息)?)?(?:对您|对你|能)?(?:有所|有)?帮助(?:到)?(?:您|你)?[。！!~～]?\s*$|祝您|祝你|此致|敬礼)",
    re.I,
)
QUESTION_END = re.compile(r"[?？]\s*$")  # a quoted label ("Forgot password?") is not a question

# ---------------------------------------------------------------------------------------------
# Register

YOU_FORMAL_ZH = re.compile("您")
YOU_INFORMAL_ZH = re.compile("你(?!们)")
FIRST_PERSON = re.compile(r"\b(?:i|i'm|i've|i'll|i'd|me|my|mine)\b|我(?!们)", re.I)
SECOND_PERSON = re.compile(r"\b(?:you|your|yours|you're|you'll|you've)\b|[您你]", re.I)
HEDGING = re.compile(
    r"\b(?:maybe|perhaps|might|possibly|probably|i think|i believe|i guess|it seems|not sure|i suppose)\b|"
    r"可能|也许|大概|或许|应该是|好像|似乎|不太确定|我觉得|估计",
    re.I,
)
EXCLAMATION = re.compile(r"[!！](?!=)")

# ---------------------------------------------------------------------------------------------
# Answer moves (boundaries). Refusal and redirect cues are looked for in the first MOVE_SPAN
# sentences; a clarifying question anywhere. Precedence: redirect > refuse > clarify > answer.

MOVES = ("answer", "clarify", "refuse", "redirect")
MOVE_SPAN = 2
REDIRECT = re.compile(
    r"(?:outside (?:of )?(?:what|the scope)|not something i can (?:help|advise|answer)|"
    r"can'?t (?:give|provide|offer) (?:legal|medical|financial|tax|investment)|is the right place|"
    r"a question for|will serve you better|better (?:suited|placed) to|beyond (?:my|the) scope|"
    r"不在我(?:能|可以)?(?:提供|回答|处理)?(?:帮助)?的?(?:服务)?范围|超出了?我的(?:服务|能力)?范围|超出(?:服务|能力)范围|"
    r"建议您?咨询|请咨询)",
    re.I,
)
# A professional named next to a "can't" is a redirect too ("I can't say; ask a lawyer").
PROFESSIONAL = re.compile(
    r"\b(?:lawyer|attorney|doctor|physician|accountant|therapist|tax advis[eo]r|financial advis[eo]r)s?\b|"
    r"律师|医生|专业人士|专业机构",
    re.I,
)
CANT = re.compile(r"\b(?:can'?t|cannot|unable|not able)\b|无法|不能", re.I)
REFUSE = re.compile(
    r"(?:\b(?:i|we)\s+(?:can'?t|cannot|can not|won'?t|will not|am unable to|'m unable to|are unable to|"
    r"'re unable to|am not able to|'m not able to|are not able to|'re not able to|am not allowed to|"
    r"'m not allowed to)\s+(?:help|assist|share|provide|give|change|disclose|access|do|write|create|reveal|"
    r"turn|look|tell|process|make|generate|comply|look up|bypass|remove)\b|"
    r"无法(?:为您|向您|给您)?(?:提供|透露|协助|帮您|帮你|查询他人)|不能(?:为您|向您|给您)?(?:提供|透露|协助|帮)|"
    r"恕(?:我)?不能|不便透露|我们?不能(?:替|帮|为)|拒绝)",
    re.I,
)
CLARIFY_CUE = re.compile(
    r"(?:\b(?:which|what kind|what type|what exactly|could you (?:tell|share|clarify|let me know|give|describe|"
    r"confirm)|can you (?:tell|share|clarify|confirm|describe)|do you mean|did you mean|are you (?:referring|"
    r"asking|using|on|the)|is (?:it|this|that) (?:the|a|for|on|in)|was (?:it|the|this)|were you|"
    r"or (?:is|are|was|were) (?:it|they|one)|to make sure)\b|请问|哪个|哪一|哪些|哪种|什么时候|是否|还是|能否告诉|"
    r"可以告诉我|具体是|确认一下)",
    re.I,
)
CLARIFY_SHORT = 3  # an answer this many sentences or fewer whose early question is a clarifying one

# ---------------------------------------------------------------------------------------------
# Drift thresholds (see the module docstring)

K_NEIGHBOURS = 10  # similar prompts compared with
MIN_NEIGHBOURS = 5  # fewer than this: compare with the group (user field, else the whole project)
# A neighbour counts above these bars and above RANDOM_PAIR_QUANTILE of random prompt pairs of the
# same project (drift.similarity_floor). Measured: Chinese Alpaca n-gram neighbours had a median
# cosine of 0.15 against 0.12 for the 99th percentile of random pairs, i.e. they were chance.
LEXICAL_MIN_SIMILARITY = 0.20  # char n-gram TF-IDF cosine a neighbour must reach
SEMANTIC_MIN_SIMILARITY = 0.45  # embedding cosine a neighbour must reach
RANDOM_PAIR_QUANTILE = 0.99
# Similar answers that agree no better than random answers of the project would are no evidence:
# P(at most the sample's count of them share its value | the value's project share) must be at most
# CHANCE_MAX, unless the value is rare in the project too (PROJECT_RARE_SHARE).
CHANCE_MAX = 0.05
RARE_SHARE = 0.1  # at most this share of the similar answers may share the sample's value
MODE_SHARE = 0.9  # a category drifts from a value at least this share of them take
ABSENT_FACTOR = 0.8  # lacking what (nearly) all of them have, against having what none of them have
MIN_GROUP = 5  # a group / the whole project is compared with only from this many answers...
PROJECT_RARE_SHARE = 0.02  # ...and only for values at most this share of it takes...
PROJECT_FACTOR = 0.9  # ...at this factor of the score (the project is not a like-for-like comparison)
EXTRA_FEATURE_SHARE = 0.1  # score = the strongest feature + this share of the others (not noisy-OR)
LENGTH_RATIO = 2.5  # named when this many times longer/shorter than the median and outside their range
LENGTH_WEIGHT = 0.85  # scores from 2× the ratio's log2 over 1 (4×: 0.5 of it, 8×: all of it)...
LENGTH_MAX_SPREAD = 3.0  # ...and only where the similar answers agree: their p90 within 3× of their p10
LENGTH_MIN_TOKENS = 8  # answers shorter than this on both sides are not compared by length
# One answer that addresses the reader as both 您 and 你, each at least MIXED_YOU_MIN times outside
# quotes ("我希望你一切都好 … 如果您还有其他问题": Alpaca zh 552), drifts within itself whatever its
# neighbours, unless more than MIXED_YOU_MAX_SHARE of the project's answers mix them too (then it is the
# data's way). One 你 among 您 is often generic ("你可以…" = one can), so one of each is not enough.
MIXED_YOU_MIN = 2
MIXED_YOU_MAX_SHARE = 0.05
MIXED_YOU_SCORE = 0.75
PUNCT_HALF_MIN = (
    3  # half-width punctuation in Chinese text counts from this many marks (one "key: value" colon is none)
)
# Only structure drifts by its absence ("no bullet list — 9 of 10 similar answers use one"). Lacking a
# pleasantry the others have (a sign-off, an offer of help, a greeting, an exclamation) is no problem a
# curator drops a sample for; labels: zhongjing 211 ("no sign-off, no offer" after advice).
ABSENT_SCORED = ("bullet_list", "numbered_list", "heading", "table", "code_block")
LENGTH_SHORTER_DRIFTS = False  # a short answer is no drift (labels: 1 of 9 "N× shorter" flags was a problem)
DRIFT_FLAG = 0.7
NEIGHBOUR_SCRIPTS_SAME = True  # compare Chinese answers with Chinese ones, Latin with Latin


@dataclass(frozen=True)
class Feature:
    """One row of the table. `rare`/`missing` are the detail lines, with {k} of {n} filled in."""

    name: str
    group: str
    kind: str  # flag | category | number
    weight: float  # drift weight; 0 = shown in the fingerprint, never scored
    label: str
    rare: str = ""  # the sample has it, few similar answers do
    missing: str = ""  # the sample lacks it, most similar answers have it


FEATURES: tuple[Feature, ...] = (
    Feature("chars", "length", "number", 0.0, "characters"),
    Feature("tokens", "length", "number", 0.0, "tokens (CJK-aware)"),
    Feature("sentences", "length", "number", 0.0, "sentences"),
    Feature("paragraphs", "length", "number", 0.0, "paragraphs"),
    Feature(
        "bullet_list",
        "structure",
        "flag",
        0.9,
        "bullet list",
        "bullet list — {k} of {n} similar answers use one",
        "no bullet list — {k} of {n} similar answers use one",
    ),
    Feature(
        "numbered_list",
        "structure",
        "flag",
        0.9,
        "numbered list",
        "numbered list — {k} of {n} similar answers use one",
        "no numbered list — {k} of {n} similar answers use one",
    ),
    Feature(
        "heading",
        "structure",
        "flag",
        0.9,
        "heading",
        "headings — {k} of {n} similar answers use them",
        "no headings — {k} of {n} similar answers use them",
    ),
    Feature(
        "table",
        "structure",
        "flag",
        0.9,
        "table",
        "table — {k} of {n} similar answers use one",
        "no table — {k} of {n} similar answers use one",
    ),
    Feature(
        "code_block",
        "structure",
        "flag",
        0.9,
        "code block",
        "code block — {k} of {n} similar answers have one",
        "no code block — {k} of {n} similar answers have one",
    ),
    Feature(
        "bold",
        "structure",
        "flag",
        0.0,
        "bold",
        "bold text — {k} of {n} similar answers use it",
        "no bold text — {k} of {n} similar answers use it",
    ),
    Feature(
        "preamble",
        "opening",
        "flag",
        0.8,
        "preamble",
        "opens with a preamble ({evidence}) — {k} of {n} do",
        "no preamble — {k} of {n} open with one",
    ),
    Feature(
        "apology",
        "opening",
        "flag",
        0.8,
        "apology",
        "opens with an apology ({evidence}) — {k} of {n} do",
        "no apology — {k} of {n} open with one",
    ),
    Feature(
        "empathy",
        "opening",
        "flag",
        0.6,
        "empathy",
        "opens with empathy ({evidence}) — {k} of {n} do",
        "no empathy — {k} of {n} open with it",
    ),
    Feature("answer_first", "opening", "flag", 0.0, "answers first"),
    Feature(
        "offer_help",
        "closing",
        "flag",
        0.7,
        "offer of more help",
        "ends with an offer of more help — {k} of {n} do",
        "no offer of more help at the end — {k} of {n} similar answers end with one",
    ),
    Feature(
        "sign_off",
        "closing",
        "flag",
        0.9,
        "sign-off",
        "signs off with {evidence} — {k} of {n} do",
        "no sign-off — {k} of {n} similar answers sign off",
    ),
    Feature(
        "follow_up_question",
        "closing",
        "flag",
        0.0,
        "follow-up question",
        "ends with a follow-up question — {k} of {n} do",
        "no follow-up question — {k} of {n} similar answers end with one",
    ),
    Feature("you_zh", "register", "category", 1.0, "您 / 你"),
    Feature(
        "emoji",
        "register",
        "flag",
        0.8,
        "emoji",
        "emoji ({evidence}) — {k} of {n} similar answers use any",
        "no emoji — {k} of {n} similar answers use them",
    ),
    Feature(
        "exclamation",
        "register",
        "flag",
        0.6,
        "exclamation marks",
        "exclamation marks (×{evidence}) — {k} of {n} similar answers use any",
        "no exclamation marks — {k} of {n} similar answers use them",
    ),
    Feature(
        "hedging",
        "register",
        "flag",
        0.0,
        "hedging",
        "hedges ({evidence}) — {k} of {n} similar answers do",
        "no hedging — {k} of {n} similar answers hedge",
    ),
    Feature(
        "first_person",
        "register",
        "flag",
        0.0,
        "first person",
        "speaks in the first person — {k} of {n} do",
        "no first person — {k} of {n} similar answers use it",
    ),
    Feature(
        "second_person",
        "register",
        "flag",
        0.0,
        "second person",
        "addresses the reader — {k} of {n} do",
        "never addresses the reader — {k} of {n} similar answers do",
    ),
    Feature("script", "script", "category", 1.0, "script"),
    Feature("punct_width", "script", "category", 0.75, "punctuation width"),
    Feature("move", "move", "category", 0.0, "answer move"),
)
FEATURE_BY_NAME = {f.name: f for f in FEATURES}
FLAG_FEATURES = tuple(f.name for f in FEATURES if f.kind == "flag")
CATEGORY_TEMPLATES = {
    "you_zh": "uses {value} — {k} similar answers use {mode}",
    "script": "answers in {value} — {k} similar answers answer in {mode}",
    "punct_width": "{value}-width punctuation — {k} similar answers use {mode}-width",
}
SCRIPT_NAMES = {
    "zh": "Chinese",
    "en": "English",
    "mixed": "mixed scripts",
    "ja": "Japanese",
    "ko": "Korean",
    "other": "another script",
    "none": "no letters",
}

# ---------------------------------------------------------------------------------------------
# Noise triggers (`noise.py`). Each names what set it off; the reason is the drop reason it suggests.

NOISE_REASONS = {
    "no_user_turn": "incomplete",
    "empty_answer": "incomplete",
    "empty_turn": "incomplete",
    "truncated": "incomplete",
    "ends_on_user": "incomplete",
    "placeholder": "incomplete",
    "template_field": "incomplete",
    "repetition": "noisy",
    "boilerplate": "noisy",
    "language_mismatch": "noisy",
    "extreme_length": "noisy",
    "self_contradiction": "contradictory",
    "emotional": "noisy",
    "informal": "noisy",
}
NO_USER_MAX_SHARE = 0.5  # above this share of records without a user message, that is the dataset's shape
PLACEHOLDER_TAG = re.compile(r"<\s*no[\s_-]?(?:input|output|answer|response)\s*>", re.I)
PLACEHOLDER_WHOLE = re.compile(
    # "No output required": Alpaca's stand-in where a task (a design, a poster) has no text answer
    r"\s*(?:n/?a|none|null|nil|todo|tbd|xxx+|\.\.\.|…|lorem ipsum\b.*|无|暂无|空|"
    r"no (?:output|answer|response)(?: (?:is )?(?:required|needed|necessary|provided))?[.!]?)\s*",
    re.I,
)
TEMPLATE_FIELD = re.compile(
    r"\{\{\s*[\w.\- ]{1,40}\s*\}\}|\{%[^%]{0,60}%\}|\$\{[\w.]{1,40}\}|"
    r"\[(?:your|insert|recipient|company|customer|user)(?:['’]s)? ?[\w ]{0,30}\]|【(?:姓名|名字|用户名|客户名)】",
    re.I,
)
# Truncation: the answer stops without closing punctuation and its last line is prose.
TERMINAL = re.compile(r"[.!?。！？…)\]）」』\"'”’:;：；~～>*`|%\d]\s*$|[\U0001f300-\U0001faff\u2600-\u27bf]\s*$")
DANGLING = re.compile(
    r"(?:[,，、:：;；(（\-–—]|\b(?:and|or|but|the|a|an|to|of|for|with|which|that|is|are|was|were|can|will|"
    r"your|my|in|on|at|by|from|as|if|then|so|because|takes|also)|然后|以及|和|的|并|并且|或者|如果|因为|所以|就|可以|需要|是|在|将|把|被|从|向|给)"
    r"\s*$",
    re.I,
)
NON_PROSE_LAST_LINE = re.compile(
    r"^\s*(?:[-*•|#>]|\d+[.)]|[A-Z][.)]\s|[IVX]+\.\s|```|https?://|\S+\.\w{2,4}$)"  # list, outline, code, URL
    r"|[\"”]\s*[-–—]\s*[\w.' ]+$"  # a quotation's attribution: "..." - Winston Churchill
    r"|^\s*(?:[A-Z][\w.'’-]*\s*){1,5}$"  # a short line of capitalised words: a name, a title, a signature
    r"|https?://|#\w|^\s*[\w ]{1,24}:\s"  # a URL or hashtag anywhere on it, a "Label: value" line
)
# The weak truncation rule (ends on a letter) needs prose: a last word in lower case (or a CJK character).
PROSE_END = re.compile(rf"(?:\b[a-z]+|[{CJK_CLASS}])$")
TRUNCATED_MIN_TOKENS = 10  # shorter answers (CJK-aware tokens) often stop without punctuation
PUNCTUATED_SHARE = 0.9  # where this share of answers end punctuated, ending on a letter is a cut
EMOTIONAL_WORDS = re.compile(
    r"\b(?:ugh|argh|wtf|damn|damned|hate|furious|ridiculous|terrible|horrible|awful|worst|useless|stupid|"
    r"annoying|pathetic|unacceptable|disgusting|outrageous|scam)\b|"
    r"破(?:软件|网站|平台|app|东西|系统|玩意)|垃圾|气死|烦死|太离谱|离谱|什么鬼|坑人|骗子|崩溃|受不了|无语|恶心|[😤😡🤬😭😠💢]",
    re.I,
)
EXCLAMATION_RUN = re.compile(r"[!！]{2,}")
# Shouting: common words in capitals ("YOU CHARGED ME TWICE"), so that acronyms (API, HTTP) never count.
SHOUTING_WORD = re.compile(
    r"\b(?:YOU|YOUR|THE|AND|NOT|THIS|THAT|WHY|WHAT|NOW|FIX|ME|MY|IT|IS|ARE|CAN|WILL|NO|STOP|NEVER|ALWAYS|"
    r"EVERY|HELP|PLEASE|NOBODY|ANYONE|TWICE|AGAIN|WORST|HATE|I'M|DON'T|CAN'T|WON'T)\b"
)
SHOUTING_MIN_WORDS = 2  # distinct common words in one capitalised run ("CREATE TABLE ... NOT NULL" is not)
EMOTIONAL_MIN = 2  # cues needed (an exclamation run of 3+ or shouting counts as two)...
# ...one of which must be intensity (an exclamation run, shouting, an angry emoji): words such as
# "terrible" alone are usually the subject ("classify: the film was awful"), not the writer's mood.
ANGRY_EMOJI = re.compile("[😤😡🤬😭😠💢]")
SHOUTING_RUN = re.compile(r"\b[A-Z][A-Z']+(?:[\s,.!?;:]+[A-Z][A-Z']+){3,}")  # 4+ capitalised words in a row
INFORMAL_WORDS = re.compile(
    r"\b(?:lol|lmao|rofl|idk|imo|imho|btw|tbh|omg|gonna|wanna|gotta|kinda|sorta|dunno|yep|nope|yeah|ugh|"
    r"thx|pls|plz|cuz|coz)\b|哈哈|呵呵|嘿嘿|嘻嘻|hhh+|呗|天哪|我也不太清楚|666",  # "~", 啦, 嘛: friendly, not slang
    re.I,
)
LOWERCASE_SENTENCE = re.compile(r"(?:^|[.!?]\s+)[a-z][a-z']+\s")
INFORMAL_MIN = 1.0  # a slang word counts 1, typos (see TYPO_*) 1, a lower-case sentence start 0.5
TYPO_MIN = 3  # at least this many distinct typos...
TYPO_SHARE = 0.05  # ...making up at least this share of the answer's words...
TYPO_OF_RARE = 0.5  # ...and of its rare words (text in another language is all rare words, few of them slips)
TYPO_RARE_MAX = 2  # a typo occurs at most this often in the project...
TYPO_COMMON_MIN = 4  # ...and is one edit from a word that occurs at least this often
NEGATIVE_CLAIM = re.compile(
    r"\b(?:isn'?t|is not|aren'?t|are not|not) (?:available|included|possible|supported|offered|allowed)\b|"
    r"^unfortunately\b|无法使用|不支持|仅对|仅限|不提供|不能使用|不包含",
    re.I,
)
SELF_CONTRADICTION_OVERLAP = 0.3  # share of topic terms two opposite assistant turns must have in common
ENDS_ON_USER_MAX_SHARE = 0.5  # above this share, ending on the user is the dataset's shape, not noise

# ---------------------------------------------------------------------------------------------
# Contradictions (`conflicts.py`)

# Stance: how an answer opens. Chinese one-word answers count only when punctuation follows them
# ("可以。" is yes; "会员…" is not).
YES = re.compile(
    r"^(?:(?:yes|yeah|yep|yup|sure|of course|absolutely|certainly|definitely|correct|that'?s right)\b|"
    r"(?:可以|能|是的|是|会|需要|有的|有|支持|对|没错|当然|看得到|能看到)[，,。.!！]|是的)",
    re.I,
)
NO = re.compile(
    r"^(?:(?:no|nope|unfortunately|i'?m afraid|sorry,? (?:but )?(?:no|we|it|that))\b|"
    r"(?:不可以|不能|不会|不需要|不支持|不是|不用|没有|不行|看不到|不提供|不应该|不一定|不|并非如此)[，,。.!！]|抱歉[，,]|无法)",
    re.I,
)
NUMBER_WITH_UNIT = re.compile(
    r"(?P<cur>[$€£¥￥])\s?(?P<cv>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)|"
    r"(?P<phone>(?:\+?\d{1,3}[ -]?)?\d{3}[ -]\d{3,4}[ -]\d{4})|"
    r"(?P<v>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s?(?P<u>%|％|[ap]\.?m\.?\b|[a-zA-Z]{1,12}\b|个月|个工作日|工作日|小时|分钟|[天元月年次台人个岁周秒块])",
)
UNIT_ALIASES = {
    "day": "days",
    "days": "days",
    "天": "days",
    "month": "months",
    "months": "months",
    "个月": "months",
    "year": "years",
    "years": "years",
    "年": "years",
    "hour": "hours",
    "hours": "hours",
    "hrs": "hours",
    "小时": "hours",
    "minute": "minutes",
    "minutes": "minutes",
    "mins": "minutes",
    "分钟": "minutes",
    "元": "¥",
    "块": "¥",
    "¥": "¥",
    "￥": "¥",
    "$": "$",
    "dollars": "$",
    "usd": "$",
    "€": "€",
    "eur": "€",
    "£": "£",
    "gb": "GB",
    "tb": "TB",
    "mb": "MB",
    "%": "%",
    "％": "%",
    "percent": "%",
    "times": "times",
    "次": "times",
    "devices": "devices",
    "device": "devices",
    "台": "devices",
    "weeks": "weeks",
    "week": "weeks",
    "周": "weeks",
    "seconds": "seconds",
    "second": "seconds",
    "秒": "seconds",
    "users": "users",
    "user": "users",
    "people": "users",
    "人": "users",
    "business": "business days",
    "工作日": "business days",
    "个工作日": "business days",
    "am": "time",
    "pm": "time",
    "a.m.": "time",
    "p.m.": "time",
    "phone": "phone",
}
# Question types: two reworded prompts ask the same question only if they ask the same kind of
# thing (a price and a duration are different questions however many words they share). The
# first pattern that matches the last user turn names its type.
QUESTION_TYPES: tuple[tuple[str, re.Pattern], ...] = (
    ("amount", re.compile(r"\bhow much\b|\bcost\b|\bprice\b|多少钱|价格|费用|月费|年费|收费|几块|多少元", re.I)),
    ("duration", re.compile(r"\bhow long\b|多久|多长时间|多少天|几天|多少小时", re.I)),
    ("count", re.compile(r"\bhow many\b|几个|多少个|几台|多少台", re.I)),
    ("method", re.compile(r"\bhow (?:do|can|should|would|to)\b|怎么|如何|怎样|方法", re.I)),
    ("place", re.compile(r"\bwhere\b|哪里|在哪|哪儿", re.I)),
    ("time", re.compile(r"\bwhen\b|什么时候|何时", re.I)),
    ("reason", re.compile(r"\bwhy\b|为什么|为何", re.I)),
    ("identity", re.compile(r"\bwho\b|\bwhat(?:'s| is| are)\b|谁|是什么|叫什么", re.I)),
    ("quantity", re.compile(r"多少|几")),
    (
        "yesno",
        re.compile(
            r"^\s*(?:can|could|is|are|do|does|did|will|would|should|may|am|have|has)\b|吗[？?]?\s*$|"
            r"能不能|可不可以|是否|有没有|会不会|是不是|要不要|该不该|一定(?:会|要|能|是|有)",
            re.I,
        ),
    ),
)
CONFLICT_MIN_LEXICAL = 0.40  # prompt char n-gram cosine for "the same question, reworded"
CONFLICT_MIN_SEMANTIC = 0.80  # prompt embedding cosine for the same (all-MiniLM-L6-v2 and unnamed models)
# Per model: score bands differ. multilingual-e5 puts unrelated Chinese prompts at ~0.84 and the
# COIG-CQIA minimal pairs (女性/男性, 买/卖) at 0.95–0.995, so its bar is higher; no bar alone tells
# a rewording from another question there (the subject and minimal-pair checks do that).
CONFLICT_MIN_SEMANTIC_BY_MODEL = (("e5", 0.93),)
SUBJECT_MIN_COVERAGE = 0.5  # a reworded question shares at least this share of its subject terms
# ... and neither side has this much subject of its own that the other lacks (conflicts.subject_swap):
# measured on COIG-CQIA, pairs at n-gram cosine 0.43-0.44 that swap the subject (性格敏感 / 有钱有闲,
# 语言能力 / 认知能力) while sharing the predicate were flagged as one question
SUBJECT_MAX_SWAP = 2.0


def conflict_min_semantic(model_id: str) -> float:
    low = (model_id or "").lower()
    return next((v for hint, v in CONFLICT_MIN_SEMANTIC_BY_MODEL if hint in low), CONFLICT_MIN_SEMANTIC)


MUTUAL_RANK = 2  # a reworded question: each prompt is among the other's this-many closest prompts
MINIMAL_PAIR_MAX = 4  # prompts equal but for one swap of at most this many characters each side: different questions
NAME_MAX_TOKENS = 40  # names are compared only between answers this short
EVIDENCE_WEIGHTS = {"stance": 0.9, "numbers": 0.85, "ratio": 0.85, "claim": 0.85, "refusal": 0.8, "names": 0.7}
# A ratio ("男女比例为4:1", "a ratio of 3:1") counts only where 比例/比率/ratio says it is one (a bare
# "10:30" is a time); two answers to the same question that give ratios with none in common disagree
# (COIG-CQIA 自闭症男孩比女孩多得多吗: 4:1 vs 3:1), whatever kind of question it is.
RATIO = re.compile(
    r"(?:比例|比率|之比|ratio)[^。；;.!?！？\n]{0,12}?"
    r"(?P<x>\d+(?:\.\d+)?)\s*(?:[:：]|比)\s*(?P<y>\d+(?:\.\d+)?)",
    re.I,
)
# Opposite claims: (name, what the claim says, its opposite) read in each answer's first sentence, the
# direct answer. An answer whose first sentence says both (合法的渠道 … 非法) says neither. Measured on
# COIG-CQIA 哪里可以买象牙 (是非法的 / 它是合法的野生动物制品) and 雾霾是天灾，人类无能为力
# (人类也有责任和能力 / 人类无力改变环境).
OPPOSITE_CLAIMS: tuple[tuple[str, re.Pattern, re.Pattern], ...] = (
    ("合法 vs 非法", re.compile(r"(?<![非不])合法"), re.compile(r"非法|违法|不合法|犯法")),
    (
        "legal vs illegal",
        re.compile(r"\b(?<!il)legal\b(?! (?:advice|action|requirements?|system))", re.I),
        re.compile(r"\billegal\b|\bnot legal\b|\bagainst the law\b", re.I),
    ),
    (
        "有能力 vs 无能为力",
        re.compile(r"(?<!没)有[^，。,.]{0,4}能力|能够解决|可以解决"),
        re.compile(r"无能为力|无力|没有能力|无法解决"),
    ),
    ("安全 vs 不安全", re.compile(r"(?<![不])安全的|是安全"), re.compile(r"不安全|有危险|是危险")),
    ("有效 vs 无效", re.compile(r"(?<![无没])有效"), re.compile(r"无效|没有效果|没有用")),
)
# Which evidence counts for which kind of question. A reworded question must ask for a fact
# (a number, a yes or no); numbers count only from each answer's first sentence (the direct
# answer), names only between answers to the very same factoid question.
NUMBER_QUESTIONS = ("amount", "duration", "count", "quantity", "time", "identity")
STANCE_QUESTIONS = ("yesno",)
NAME_QUESTIONS = ("identity", "place")
LOW_ANSWER_SIMILARITY = 0.35  # shown as a detail: "answers share little (0.21)"
CONFLICT_FLAG = 0.5
GROUP_PAIR_CAP = 40  # distinct answers compared pairwise within one same-question group

# ---------------------------------------------------------------------------------------------
# Boundaries (`boundaries.py`)

BOUNDARY_MIN_KEPT = 10  # below this, no warnings: too few to judge
DOMINANT_SHARE = 0.7  # one kind (move, group value, question) at or above this share dominates
QUESTION_DOMINANT_SHARE = 0.2  # one question asked this often in the kept set dominates it
STABLE_FEATURES = (
    "bullet_list",
    "numbered_list",
    "heading",
    "bold",
    "preamble",
    "apology",
    "empathy",
    "offer_help",
    "sign_off",
    "follow_up_question",
    "you_zh",
    "emoji",
    "exclamation",
    "hedging",
    "script",
    "punct_width",
)


# The words a noise flag's label names each trigger by ("noisy · empty answer, truncated"): unique
# and comma-free, since the label lists them with ", " and the per-kind queues ("noise_kind") find
# a trigger's samples by its word in the label.
NOISE_PREFIX = "noisy · "  # every noise flag's label starts so
NOISE_WORDS = {
    "no_user_turn": "no user message",
    "empty_answer": "empty answer",
    "empty_turn": "empty turns",
    "truncated": "truncated",
    "ends_on_user": "ends on the user",
    "placeholder": "placeholder",
    "template_field": "template field",
    "repetition": "repetition",
    "boilerplate": "boilerplate",
    "language_mismatch": "other language",
    "extreme_length": "extreme length",
    "self_contradiction": "contradicts itself",
    "emotional": "emotional",
    "informal": "informal",
}
