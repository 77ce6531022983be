"""Inputs the fuzz-import reliability scenario found escaping as tracebacks or accepted when
broken. Each is now refused with path:line, what is wrong and what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from review.importers import InputError, open_source
from review.store import Store

GOOD = '{"instruction": "i", "output": "o"}'


def refusal(path: Path) -> InputError:
    with pytest.raises(InputError) as info:
        list(open_source(path))
    return info.value


@pytest.mark.parametrize("container", ["jsonl", "json"])
def test_a_5000_digit_integer_is_refused_not_a_value_error(tmp_path: Path, container: str) -> None:
    bad = '{"instruction": "i", "output": "o", "n": ' + "7" * 5000 + "}"
    path = tmp_path / f"d.{container}"
    path.write_text(f"{GOOD}\n{bad}\n" if container == "jsonl" else f"[\n{GOOD},\n{bad}\n]\n")
    err = refusal(path)
    line = 2 if container == "jsonl" else 3
    assert (err.line, str(err).startswith(f"{path}:{line}: ")) == (line, True), str(err)
    assert "too long" in err.what and "string" in err.todo


@pytest.mark.parametrize("container", ["jsonl", "json"])
@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "a\\udbffb"])
def test_a_lone_surrogate_escape_is_refused(tmp_path: Path, container: str, escape: str) -> None:
    bad = f'{{"instruction": "i", "output": "{escape}"}}'
    path = tmp_path / f"d.{container}"
    path.write_text(f"{GOOD}\n{bad}\n" if container == "jsonl" else f"[\n{GOOD},\n{bad}\n]\n")
    err = refusal(path)
    assert err.line == (2 if container == "jsonl" else 3) and "surrogate" in err.what, str(err)
    # and the store, which used to crash hashing the text, is left as it was
    db = tmp_path / "p.db"
    with Store(db) as store:
        with pytest.raises(InputError):
            store.import_file(path)
        assert store.total_samples() == 0


def test_a_surrogate_pair_escape_is_a_character(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"instruction": "\\ud83d\\ude00", "output": "o"}\n')
    [rec] = open_source(path)
    assert rec.conversation.turns[0].content == "😀"


@pytest.mark.parametrize(
    ("tail", "line", "what"),
    [
        (', "meta": {"n"', 3, "ends before the top-level object is closed"),
        ("", 3, "ends before the top-level object is closed"),
        ("}\ngarbage", 4, "unexpected data after the closing '}'"),
        (',\n "x": [1,, 2]}', 4, "malformed JSON after the records"),
    ],
)
def test_a_wrapper_cut_or_damaged_after_its_records_is_refused(tmp_path: Path, tail: str, line: int, what: str) -> None:
    path = tmp_path / "d.json"
    path.write_text('{"data": [\n' + GOOD + "\n]" + tail)
    err = refusal(path)
    assert (err.line, what in err.what) == (line, True), str(err)


def test_a_whole_wrapper_still_reads_its_records(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text('{"data": [\n' + GOOD + '\n], "meta": {"n": 1, "big": ' + "9" * 5000 + "}}\n")
    assert len(list(open_source(path))) == 1


def test_a_quote_that_runs_on_is_blamed_on_the_row_it_opened_in(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text('prompt,completion\na,"never closed\nb,c\nd,"e"x\n')
    err = refusal(path)
    assert err.line == 2, str(err)
    assert "on line 4" in err.what
