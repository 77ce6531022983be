"""Every key of the review screen, each with an id so a keymap can move it.

A keymap is `{binding id: "key[,key...]"}`, e.g. `{"keep": "y", "drop": "n"}`, read from the
user's config file ($WINNOW_CONFIG, see tui/app.py load_config); the help screen, the footer and
the command palette are all generated from these bindings, so they always show the keys actually
in force. `keymap_problems` says, at start, where a keymap makes two bindings share a key (the
key then does only one of them) or names a binding that does not exist.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path

from textual.binding import Binding

from review.model import DEFAULT_REASON, REASONS

# (keys, action, description, binding id, shown in the footer, longer help)
_REVIEW = [
    ("a,space", "keep", "Keep", "keep", True, "keep this sample and go to the next"),
    ("x,d", "drop", "Drop", "drop", True, "drop this sample (then a reason key) and go to the next"),
    ("u", "undo", "Undo", "undo", True, "undo the last decision, tag or note (goes back to that sample)"),
    ("U,ctrl+r", "redo", "Redo", "redo", False, "redo what was undone"),
    ("t", "tag", "Tag", "tag", True, "add a tag (→ completes a known tag; -name removes one)"),
    ("n", "note", "Note", "note", True, "write or edit this sample's note"),
    ("j,down", "next", "Next", "next", False, "next sample in the queue"),
    ("k,up", "previous", "Previous", "previous", False, "previous sample in the queue"),
    ("g,home", "first_undecided", "First undecided", "first_undecided", False, "jump to the first undecided sample"),
    ("colon", "jump", "Jump to #", "jump", False, "jump to a sample number"),
    ("slash", "search", "Search", "search", False, "show only samples containing a text"),
    (
        "full_stop",
        "match(1)",
        "Next match",
        "match_next",
        False,
        "search: the next match in this sample (a long answer scrolls to it), then the next matching sample",
    ),
    (
        "comma",
        "match(-1)",
        "Previous match",
        "match_previous",
        False,
        "search: the previous match in this sample, then the previous matching sample (at its last match)",
    ),
    ("f", "filter", "Queue", "filter", True, "choose the queue: undecided, kept, dropped, by reason, by tag, flagged"),
    (
        "asterisk",
        "bulk",
        "Decide all",
        "bulk",
        False,
        "keep or drop every sample of this queue or search in one step (a preview first; u undoes it all)",
    ),
    (
        "S",
        "prefer('swap')",
        "Pair: swap",
        "pref_swap",
        False,
        "preference pair: chosen and rejected are the wrong way round — keep it swapped (S again: as imported)",
    ),
    (
        "Z",
        "prefer('both-bad')",
        "Pair: both bad",
        "pref_both_bad",
        False,
        "preference pair: neither answer is good — drop it",
    ),
    (
        "L",
        "prefer('flip')",
        "Flip label",
        "pref_flip",
        False,
        "KTO record: its desirable/undesirable label is wrong — keep it flipped (L again: as imported)",
    ),
    ("c", "compare", "Compare", "compare", True, "show/hide the related sample beside this one, differences marked"),
    ("w", "swap_compare", "Swap sizes", "swap_compare", False, "compare: swap which side is large"),
    ("right_square_bracket", "cycle(1)", "Next related", "cycle_next", False, "compare with the next related sample"),
    (
        "left_square_bracket",
        "cycle(-1)",
        "Previous related",
        "cycle_previous",
        False,
        "compare with the previous related sample",
    ),
    ("K", "decide_partner('keep')", "Keep related", "keep_partner", False, "keep the sample in the compare pane"),
    (
        "X",
        "decide_partner('drop')",
        "Drop related",
        "drop_partner",
        False,
        "drop the sample in the compare pane (with the reason its flag suggests)",
    ),
    (
        "R",
        "keep_drop_cluster",
        "Keep, drop cluster",
        "keep_drop_cluster",
        False,
        "keep this sample and drop the rest of its near-duplicate cluster as duplicate (one undo step)",
    ),
    (
        "less_than_sign",
        "resolve_pair('left')",
        "Pair: keep this",
        "pair_keep_left",
        False,
        "contradiction or drift pair in the compare pane: keep this sample, drop the other",
    ),
    (
        "greater_than_sign",
        "resolve_pair('right')",
        "Pair: keep other",
        "pair_keep_right",
        False,
        "contradiction or drift pair in the compare pane: keep the other sample, drop this one",
    ),
    ("D", "resolve_pair('both')", "Pair: drop both", "pair_drop_both", False, "contradiction or drift pair: drop both"),
    (
        "b",
        "resolve_pair('boundary')",
        "Pair: boundary",
        "pair_boundary",
        False,
        "contradiction or drift pair: keep both and tag them boundary-pair",
    ),
    (
        "A",
        "analyze",
        "Analyze",
        "analyze",
        False,
        "find duplicates, style drift, contradictions and noise in a background run (A or Esc again stops it)",
    ),
    ("G", "goals", "Goals", "goals", False, "goals: switch, new, edit, archive, fork, compare two"),
    ("B", "batch", "Batch", "batch", False, "propose a small first batch under this goal and review it"),
    ("E", "export", "Export", "export", False, "export the kept samples, with a manifest that traces them"),
    ("m", "markdown", "Markdown", "markdown", False, "render markdown (code highlighted) on/off"),
    (
        "p",
        "system_prompt",
        "System prompt",
        "system_prompt",
        False,
        "a system prompt other samples repeat: shown whole / as one line (same as N other samples)",
    ),
    ("v", "full_text", "Full text", "full_text", False, "read the whole sample and its raw record"),
    ("pagedown,ctrl+d", "scroll(1)", "Scroll down", "scroll_down", False, "scroll the sample down a page"),
    ("pageup,ctrl+u", "scroll(-1)", "Scroll up", "scroll_up", False, "scroll the sample up a page"),
    ("escape", "cancel", "Stop", "cancel", False, "stop a search or an analysis that is still running"),
    ("s", "stats", "Stats", "stats", False, "counts, keep rate, pace and answer lengths under this goal"),
    ("question_mark", "help", "Help", "help", True, "all keys"),
    ("q", "quit", "Quit", "quit", True, "quit (every decision is already saved)"),
]

REVIEW_BINDINGS = [
    Binding(keys, action, desc, show=show, id=bid, tooltip=tip) for keys, action, desc, bid, show, tip in _REVIEW
]

# The goals screen (G): the highlighted goal is the one each key acts on.
_GOALS = [
    ("enter", "switch", "Switch", "goals.switch", True, "review against the highlighted goal"),
    ("n", "new", "New", "goals.new", True, "declare a new goal (its sentence, then an optional hypothesis)"),
    (
        "e",
        "edit",
        "Edit",
        "goals.edit",
        True,
        "reword the goal or its hypothesis: the old wording is kept and"
        " samples decided under it go to the re-review queue",
    ),
    ("a", "archive", "Archive", "goals.archive", True, "archive the goal (again: restore it)"),
    ("f", "fork", "Fork", "goals.fork", True, "start a new goal from this goal's decisions, as a draft to re-review"),
    ("d", "diff", "Diff", "goals.diff", True, "compare with another goal: kept sets, disagreements, figures"),
    ("j", "cursor(1)", "Down", "goals.down", False, "next goal"),
    ("k", "cursor(-1)", "Up", "goals.up", False, "previous goal"),
    ("question_mark", "help", "Help", "goals.help", False, "all keys of this screen"),
    ("escape,q,G", "back", "Back", "goals.back", True, "back to reviewing"),
]

GOALS_BINDINGS = [
    Binding(keys, action, desc, show=show, id=bid, tooltip=tip) for keys, action, desc, bid, show, tip in _GOALS
]

# The drop dialog: a number or an initial per reason; Enter = the reason the sample's flag suggests
# (else the default), the drop key again = the default reason, Escape = do not drop.
REASON_KEYS: dict[str, tuple[str, str]] = {}
_INITIALS = {
    "off-goal": "o",
    "duplicate": "d",
    "style-drift": "s",
    "noisy": "n",
    "incomplete": "i",
    "contradictory": "c",
    "unsafe": "u",
}
for _i, _r in enumerate(REASONS, 1):
    REASON_KEYS[_r] = (str(_i), _INITIALS.get(_r, ""))


def config_path() -> Path:
    """The config file winnow reads (tui/app.py load_config): $WINNOW_CONFIG, else config.json in
    winnow's config folder."""
    env = os.environ.get("WINNOW_CONFIG")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_config_dir("winnow")) / "config.json"


def _key_name(key: str) -> str:
    """A key as Textual names it: "?" is question_mark, "*" asterisk (as App.set_keymap does)."""
    key = key.strip()
    if len(key) == 1 and not key.isalnum():
        try:
            return unicodedata.name(key).lower().replace("-", "_").replace(" ", "_")
        except ValueError:
            return key
    return key


def keymap_problems(keymap: Mapping[str, str], tables: Mapping[str, Sequence[Binding]]) -> list[str]:
    """One line per problem the keymap makes in the named binding tables: a key now bound to two
    binding ids of one table (naming both, and which one the keymap moved there), or a keymap id
    no table has. Empty when the keymap is fine."""
    out: list[str] = []
    known: set[str] = set()
    for where, bindings in tables.items():
        owners: dict[str, list[str]] = {}
        for b in bindings:
            if not b.id:
                continue
            known.add(b.id)
            keys = keymap[b.id] if b.id in keymap else b.key
            for k in dict.fromkeys(_key_name(k) for k in keys.split(",") if k.strip()):
                if b.id not in owners.setdefault(k, []):
                    owners[k].append(b.id)
        for key, ids in owners.items():
            if len(ids) > 1 and any(i in keymap for i in ids):
                moved = [i for i in ids if i in keymap]
                out.append(
                    f"keymap: {key} is bound to {' and '.join(ids)} on the {where} "
                    f"(the keymap moved {', '.join(moved)} there) — only one of them works; "
                    f"give {' or '.join(i for i in ids if i not in moved) or ids[-1]} another key in the keymap"
                )
    for bid in keymap:
        if bid not in known:
            out.append(f"keymap: no binding with id {bid!r} — the ids are listed on the help screen (?)")
    return out


BULK_BINDINGS = [
    Binding("escape", "dismiss(None)", "Cancel", id="bulk.cancel"),
    Binding("a,space", "choose('keep')", "Keep all", id="bulk.keep"),
    Binding("x,d", "choose('drop')", "Drop all", id="bulk.drop"),
    Binding("enter,y", "confirm", "Confirm", id="bulk.confirm"),
    *(
        Binding(num, f"reason('{reason}')", reason, id=f"bulk.reason.{reason}", show=False)
        for reason, (num, _) in REASON_KEYS.items()
    ),
]

# The tables keymap_problems checks, by the screen they belong to.
KEY_TABLES: dict[str, list[Binding]] = {
    "review screen": REVIEW_BINDINGS,
    "goals screen": GOALS_BINDINGS,
    "decide-all dialog": BULK_BINDINGS,
}

__all__ = [
    "BULK_BINDINGS",
    "DEFAULT_REASON",
    "GOALS_BINDINGS",
    "KEY_TABLES",
    "REASON_KEYS",
    "REVIEW_BINDINGS",
    "config_path",
    "keymap_problems",
]
