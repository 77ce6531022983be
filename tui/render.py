"""From review's dataclasses to Rich renderables. The only place sample text becomes screen text.

Every string from the data, the user or the file system passes through `safe()`, which runs the
one sanitiser (`review.sanitize.sanitize`) and builds a `rich.text.Text` with the constructor,
never from markup: "[/]" and "[@click=app.quit]" are characters, not instructions.

Long content is cut to a bounded preview (per turn and per sample) so that rendering, and so
deciding, costs the same on a 1 MB sample as on a short one; the full text is one key away
(the full-text screen).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text

from review.model import ASSISTANT, SYSTEM, TOOL, TOOL_CALL, USER, Decision, Sample
from review.sanitize import sanitize
from review.textdiff import DELETE, INSERT, diff

from .wrap import CJKWrapped, has_cjk

PREVIEW_CHARS = 4_000  # per turn
PREVIEW_LINES = 120  # per turn
PREVIEW_TOTAL = 16_000  # per sample, all turns together
PREVIEW_TURNS = 60

ROLE_LABELS = {
    SYSTEM: "SYSTEM",
    USER: "USER",
    ASSISTANT: "ASSISTANT",
    TOOL_CALL: "TOOL CALL",
    TOOL: "TOOL RESULT",
}
# Named ANSI colours so the roles stay distinct on 16- and 256-colour terminals.
ROLE_STYLES = {
    SYSTEM: "bold magenta",
    USER: "bold cyan",
    ASSISTANT: "bold green",
    TOOL_CALL: "bold yellow",
    TOOL: "bold blue",
}
BODY_STYLES = {SYSTEM: "italic", TOOL_CALL: "yellow", TOOL: ""}
DIFF_STYLES = {DELETE: "bold white on red", INSERT: "bold black on green"}
MORE_STYLE = "italic reverse"


def safe(text: str, style: str = "", *, oneline: bool = False) -> Text:
    """Untrusted text as a Text: sanitised, never parsed as markup."""
    return Text(sanitize(text, oneline=oneline), style=style)


CJK_WRAP_MAX = PREVIEW_CHARS + 96  # characters: the CJK line breaker's cost grows faster than the text


def wrapped(text: Text) -> RenderableType:
    """A body Text as it is wrapped on screen: by the CJK rules (tui.wrap) when it holds Chinese
    or Japanese, else as Rich wraps it (at spaces). A text longer than CJK_WRAP_MAX (an unclipped
    100k-character system prompt) is wrapped by Rich: the CJK breaker took 27 s on it, a frozen
    screen, where Rich takes 0.16 s (4,000 characters: about 0.05 s)."""
    return CJKWrapped(text) if len(text) <= CJK_WRAP_MAX and has_cjk(text.plain) else text


def plain(parts: Iterable[tuple[str, str] | str]) -> Text:
    """Join (text, style) pieces into one Text; plain strings are program text, still sanitised."""
    out = Text()
    for p in parts:
        text, style = (p, "") if isinstance(p, str) else p
        out.append(sanitize(text), style=style)
    return out


@dataclass(frozen=True)
class Section:
    role: str
    name: str | None
    content: str


def sections(sample: Sample) -> list[Section]:
    conv = sample.conversation
    out = [Section(SYSTEM, None, conv.system)] if conv.system else []
    out += [Section(t.role, t.name, _pretty(t) if t.role == TOOL_CALL else t.content) for t in conv.turns]
    return out


def _rejected_sections(sample: Sample) -> list[Section]:
    """A pair's rejected answer as sections after the chosen one (the compare pane pairs them in
    order, so two pairs are compared chosen with chosen, rejected with rejected)."""
    return [
        Section(
            f"rejected {ROLE_LABELS.get(t.role, t.role).lower()}",
            t.name,
            _pretty(t) if t.role == TOOL_CALL else t.content,
        )
        for t in sample.conversation.rejected
    ]


def _pretty(turn) -> str:
    """A tool call's JSON as indented JSON (arguments too, when they are JSON in a string).

    JSON nested deeper than Python's recursion limit stays as it is (json raises RecursionError).
    """
    try:
        data = json.loads(turn.content)
    except (ValueError, TypeError, RecursionError):
        return turn.content
    if isinstance(data, dict) and isinstance(data.get("arguments"), str):
        try:
            data = {**data, "arguments": json.loads(data["arguments"])}
        except (ValueError, RecursionError):
            pass
    return json.dumps(data, ensure_ascii=False, indent=2)


def clip(text: str, max_chars: int, max_lines: int = PREVIEW_LINES) -> tuple[str, int]:
    """(preview, characters left out). Cuts at max_chars or after max_lines lines."""
    cut = min(len(text), max_chars)
    nl = -1
    for _ in range(max_lines):
        nl = text.find("\n", nl + 1, cut)
        if nl < 0:
            break
    else:
        cut = nl
    return text[:cut], len(text) - cut


def header(sec: Section) -> Text:
    label = ROLE_LABELS.get(sec.role, sec.role.upper())
    t = Text.assemble((f"▌{label}", ROLE_STYLES.get(sec.role, "bold")))
    if sec.name:
        t.append(" · ")
        t.append(sanitize(sec.name, oneline=True), style="bold")
    return t


class AnswerMark:
    """Where the sample's answer starts, inside the Group `conversation()` and `compared()` return.
    It renders as nothing; the review pane (widgets.conversation) notes the line it falls on, so a
    decision key can wait until that line has been on the terminal (a 20x5 terminal shows none)."""

    def __rich_console__(self, console, options):
        yield from ()

    def __rich_measure__(self, console, options):
        from rich.measure import Measurement

        return Measurement(0, 0)


def answer_start(sample: Sample) -> int:
    """Index in sections(sample) of the answer's first section (len(sections) when it has none)."""
    conv = sample.conversation
    prompt, _ = conv.split()
    return (1 if conv.system else 0) + len(prompt)


def _more(hidden: int, what: str = "characters") -> Text:
    return Text(f" … {hidden:,} more {what} — press v to read it all ", style=MORE_STYLE)


SIDE_BY_SIDE = 70  # pane columns from which a pair's two answers stand side by side (80x24 included)
PAIR_STYLES = {"chosen": "bold reverse green", "rejected": "bold reverse red"}
# A pair's differing spans in its own side's colour (a plain diff's red-for-deleted would paint the
# chosen answer red), and only where the answers share enough for a mark to point at something:
# two answers that differ throughout are shown plain.
PAIR_DIFF_STYLES = {DELETE: "underline green", INSERT: "underline red"}
PAIR_DIFF_MIN_SHARED = 0.3  # share of the shorter answer that must be common text


class PairAnswers:
    """A preference pair's chosen and rejected answers under a "CHOSEN" / "REJECTED" header each,
    their differing spans marked: side by side from SIDE_BY_SIDE columns, stacked below that (the
    width is the pane's, known only when it renders)."""

    def __init__(self, chosen: list[RenderableType], rejected: list[RenderableType]) -> None:
        self.chosen = chosen
        self.rejected = rejected

    def __rich_console__(self, console, options):
        if options.max_width >= SIDE_BY_SIDE:
            from rich.table import Table

            grid = Table.grid(expand=True, padding=(0, 1))
            # fold, not the grid's default ellipsis: a Chinese paragraph has no spaces to wrap at
            # and would show as its first line only
            grid.add_column(ratio=1, overflow="fold")
            grid.add_column(ratio=1, overflow="fold")
            grid.add_row(Group(*self.chosen), Group(*self.rejected))
            yield grid
        else:
            yield from self.chosen
            yield from self.rejected

    def __rich_measure__(self, console, options):
        from rich.measure import Measurement

        return Measurement(1, options.max_width)


def _answer_body(turns: Iterable) -> str:
    return "\n".join(_pretty(t) if t.role == TOOL_CALL else t.content for t in turns)


def pair_answers(sample: Sample, budget: int = PREVIEW_CHARS) -> PairAnswers:
    """The pair block of `conversation()`: both answers clipped to `budget`, diffed, sanitised."""
    conv = sample.conversation
    chosen_turns, rejected_turns = conv.pair_answers()
    tc, hc = clip(_answer_body(chosen_turns), budget)
    tr, hr = clip(_answer_body(rejected_turns), budget)
    spans_c, spans_r = diff(tc, tr)
    shared = sum(len(sp.text) for sp in spans_c if sp.op not in PAIR_DIFF_STYLES)
    marks = PAIR_DIFF_STYLES if shared >= PAIR_DIFF_MIN_SHARED * max(1, min(len(tc), len(tr))) else {}
    sides: list[list[RenderableType]] = []
    for which, turns, spans, hidden in (
        ("chosen", chosen_turns, spans_c, hc),
        ("rejected", rejected_turns, spans_r, hr),
    ):
        head = Text.assemble((f" {which.upper()} ", PAIR_STYLES[which]))
        roles = sorted({ROLE_LABELS.get(t.role, t.role.upper()) for t in turns})
        head.append(" " + " + ".join(roles), style="bold")
        body = Text()
        for span in spans:
            body.append(sanitize(span.text), style=marks.get(span.op, ""))
        if not turns:
            body = Text("(no answer)", style="dim italic")
        side: list[RenderableType] = [head, Padding(wrapped(body), (0, 0, 0 if hidden else 1, 1))]
        if hidden:
            side.append(Padding(_more(hidden), (0, 0, 1, 1)))
        sides.append(side)
    if tc == tr:
        sides[1].append(Text("= same as chosen: no signal", style="bold yellow"))
    return PairAnswers(sides[0], sides[1])


def kto_label(label: bool) -> Text:
    if label:
        return Text.assemble(("▌KTO LABEL", "bold"), " ", ("✔ desirable", "bold green"), (" (label: true)", "dim"))
    return Text.assemble(("▌KTO LABEL", "bold"), " ", ("✘ undesirable", "bold red"), (" (label: false)", "dim"))


def media_lines(media: Iterable[str]) -> Text:
    t = Text("▌MEDIA (references, not loaded)", style="bold")
    for m in media:
        t.append("\n  ")
        t.append(sanitize(m, oneline=True), style="italic")
    return t


MATCH_STYLE = "bold black on yellow"


def mark_matches(body: Text, term: str | None) -> Text:
    """`body` with every case-insensitive occurrence of the search `term` styled (a style on the
    sanitised text: the term is never markup or a pattern)."""
    if term:
        body.highlight_regex(re.compile(re.escape(sanitize(term, oneline=True)), re.IGNORECASE), MATCH_STYLE)
    return body


def system_line(content: str, shared: int, key: str = "p") -> Text:
    """A system prompt that `shared` samples carry (this one included), as one line: what it is,
    how many others carry it, the key that shows it whole, and as much of its start as fits."""
    others = shared - 1
    t = Text.assemble((f"▌{ROLE_LABELS[SYSTEM]}", ROLE_STYLES[SYSTEM]), no_wrap=True, overflow="ellipsis")
    t.append(f" · same as {others:,} other sample{'s' if others != 1 else ''} · {key} shows it", style="dim")
    t.append(" — ")
    t.append(sanitize(content[:400], oneline=True), style="dim italic")
    return t


def conversation(
    sample: Sample,
    *,
    markdown: bool = False,
    highlight: str | None = None,
    system_shared: int = 0,
    system_key: str = "p",
) -> RenderableType:
    """The sample as a readable conversation, bounded in size whatever the sample's size.

    A preference pair shows its prompt, then both answers (PairAnswers); a KTO record its label
    above the answer; media references after the system prompt. A system prompt that
    `system_shared` >= 2 samples carry is one line (`system_line`), unless a search term is in
    it; pass 0 to show it whole."""
    secs = sections(sample)
    parts: list[RenderableType] = []
    budget = PREVIEW_TOTAL
    answer = answer_start(sample)
    conv = sample.conversation
    if conv.media:
        parts.append(Padding(media_lines(conv.media), (0, 0, 1, 0)))
    if conv.rejected:
        secs = secs[:answer]  # the answers are the pair block's
    for i, sec in enumerate(secs):
        if i >= PREVIEW_TURNS or budget <= 0:
            if answer >= i:  # the answer is past the preview: its start is this "more" line
                parts.append(AnswerMark())
            parts.append(_more(len(secs) - i, "turns"))
            break
        if (
            i == 0
            and sec.role == SYSTEM
            and system_shared >= 2
            and not (highlight and sanitize(highlight, oneline=True).lower() in sanitize(sec.content).lower())
        ):
            parts.append(Padding(system_line(sec.content, system_shared, system_key), (0, 0, 1, 0)))
            continue
        text, hidden = clip(sec.content, min(PREVIEW_CHARS, budget))
        budget -= len(text)
        if i == answer and conv.label is not None:
            parts.append(kto_label(conv.label))
        parts.append(header(sec))
        if i == answer:
            parts.append(AnswerMark())
        if markdown and sec.role in (ASSISTANT, USER, SYSTEM):
            from rich.markdown import Markdown  # ~40 ms of imports (markdown-it, pygments): only when on

            # hyperlinks=False: a link's target is shown as text and never becomes a terminal link.
            body: RenderableType = Markdown(sanitize(text), code_theme="ansi_dark", hyperlinks=False)
        else:
            body = wrapped(mark_matches(safe(text, BODY_STYLES.get(sec.role, "")), highlight))
        parts.append(Padding(body, (0, 0, 0 if hidden else 1, 2)))
        if hidden:
            parts.append(Padding(_more(hidden), (0, 0, 1, 2)))
    if conv.rejected and not any(isinstance(p, AnswerMark) for p in parts):
        parts.append(AnswerMark())
        parts.append(pair_answers(sample, max(min(PREVIEW_CHARS, budget), 200)))
    if not secs and not conv.rejected:
        parts.append(Text("(empty sample)", style="dim italic"))
    if not any(isinstance(p, AnswerMark) for p in parts):
        parts.append(AnswerMark())  # no answer: its "start" is the end of the sample
    return Group(*parts)


def compared(a: Sample, b: Sample) -> tuple[RenderableType, RenderableType]:
    """Both samples with their differing spans marked (word level; character level for CJK).

    Sections are paired in order (system with system, first turn with first turn...); a section
    one side lacks is all "different". Texts are clipped first, so the diff cost is bounded too.
    """
    sa, sb = sections(a) + _rejected_sections(a), sections(b) + _rejected_sections(b)
    out_a: list[RenderableType] = []
    out_b: list[RenderableType] = []
    budget = PREVIEW_TOTAL
    answer = answer_start(a)
    for i in range(max(len(sa), len(sb))):
        if i >= PREVIEW_TURNS or budget <= 0:
            if answer >= i:
                out_a.append(AnswerMark())
            out_a.append(_more(max(len(sa) - i, 0), "turns"))
            out_b.append(_more(max(len(sb) - i, 0), "turns"))
            break
        x = sa[i] if i < len(sa) else None
        y = sb[i] if i < len(sb) else None
        tx, hx = clip(x.content, min(PREVIEW_CHARS, budget)) if x else ("", 0)
        ty, hy = clip(y.content, min(PREVIEW_CHARS, budget)) if y else ("", 0)
        budget -= max(len(tx), len(ty))
        if x and y and x.role == y.role and x.content == y.content:
            # Identical on both sides (the shared prompt, usually): one dim line, so the pane
            # spends its few rows on what differs.
            for out in (out_a, out_b):
                out.append(header(x))
                if out is out_a and i == answer:
                    out.append(AnswerMark())
                line = Text("  = same on both sides: ", style="dim")
                line.append(sanitize(tx[:200], oneline=True), style="dim italic")
                line.no_wrap = True
                line.overflow = "ellipsis"
                out.append(line)
            continue
        spans_a, spans_b = diff(tx, ty)
        for sec, spans, hidden, out in ((x, spans_a, hx, out_a), (y, spans_b, hy, out_b)):
            if sec is None:
                out.append(Text("▌(no such turn)", style="dim"))
                out.append(Text(""))
                continue
            body = Text(style=BODY_STYLES.get(sec.role, ""))
            for span in spans:
                body.append(sanitize(span.text), style=DIFF_STYLES.get(span.op, ""))
            out.append(header(sec))
            if out is out_a and i == answer:
                out.append(AnswerMark())
            out.append(Padding(wrapped(body), (0, 0, 0 if hidden else 1, 2)))
            if hidden:
                out.append(Padding(_more(hidden), (0, 0, 1, 2)))
    if not any(isinstance(p, AnswerMark) for p in out_a):
        out_a.append(AnswerMark())
    return Group(*out_a), Group(*out_b)


def full_text(sample: Sample) -> str:
    """Everything in the sample, unclipped and sanitised, for the full-text screen."""
    chunks = []
    for sec in sections(sample):
        label = ROLE_LABELS.get(sec.role, sec.role.upper())
        name = f" · {sec.name}" if sec.name else ""
        chunks.append(f"▌{label}{name}\n{sec.content}\n")
    conv = sample.conversation
    for t in conv.rejected:
        chunks.append(f"▌REJECTED {ROLE_LABELS.get(t.role, t.role.upper())}\n{t.content}\n")
    if conv.label is not None:
        chunks.append(f"▌KTO LABEL\n{'desirable (true)' if conv.label else 'undesirable (false)'}\n")
    if conv.media:
        chunks.append("▌MEDIA\n" + "\n".join(conv.media) + "\n")
    if conv.tools:
        chunks.append(f"▌TOOLS\n{conv.tools}\n")
    chunks.append(f"▌RAW RECORD ({sample.source_name} line {sample.line})\n{sample.raw}\n")
    return sanitize("\n".join(chunks))


PREF_SHOWN = {"swapped": "swapped", "flipped": "label flipped", "both-bad": "both bad"}  # Decision.pref


def verdict(decision: Decision) -> Text:
    if decision.verdict == "keep":
        t = Text.assemble(("✔ KEPT", "bold green"))
        if decision.pref in PREF_SHOWN:
            t.append(f" · {PREF_SHOWN[decision.pref]}", style="green")
        return t
    if decision.verdict == "drop":
        t = Text.assemble(("✘ DROPPED", "bold red"))
        t.append(f" · {PREF_SHOWN.get(decision.pref) or decision.reason}", style="red")
        return t
    return Text.assemble(("○ undecided", "dim"))


def decision_details(decision: Decision) -> Text:
    t = Text()
    if decision.tags:
        t.append("  tags: ", style="dim")
        t.append(sanitize(", ".join(decision.tags), oneline=True), style="bold cyan")
    if decision.note:
        t.append("  note: ", style="dim")
        t.append(sanitize(decision.note, oneline=True), style="italic")
    return t


def bar(fraction: float, width: int = 10, style: str = "green") -> Text:
    fraction = min(max(fraction, 0.0), 1.0)
    full = math.ceil(fraction * width) if fraction < 0.5 else round(fraction * width)
    return Text.assemble(("█" * full, style), ("░" * (width - full), "dim"))
