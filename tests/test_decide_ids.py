"""`winnow decide --ids`: sample numbers are ASCII digits within SQLite's integers, a piece count
is bounded, and a huge or repeated range neither crashes nor reads the project once per piece
(red team, 2026-12-04: 99999999999999999999 raised OverflowError; 11,000 copies of 1-99999999
on 20 samples took 28.5 s and 4.27 GB). Real project files, the real CLI."""

from __future__ import annotations

import json

import pytest
from builders import chat, write_jsonl
from click.testing import CliRunner

from review.session import MAX_ID_PIECES, parse_ids, select_ids
from review.store import Store
from tui.cli import cli


@pytest.fixture
def db(tmp_path):
    src = write_jsonl(tmp_path / "t.jsonl", [chat(f"question {i}", f"answer {i}") for i in range(20)])
    path = tmp_path / "p.db"
    with Store(path) as s:
        s.import_file(src)
        s.add_goal("Short helpful answers.")
    return path


@pytest.mark.parametrize("spec", ["99999999999999999999", "0", "1-0", "²", "٣", "1-²", "9223372036854775808"])
def test_numbers_outside_sample_ids_or_not_ascii_are_refused_in_one_line(db, spec):
    r = CliRunner().invoke(cli, ["decide", "--db", str(db), "--ids", spec, "keep", "--dry-run"])
    assert r.exit_code == 2 and isinstance(r.exception, SystemExit), (r.exit_code, r.output)
    assert "--ids" in r.output and "write e.g. 1,5-9" in r.output, r.output


def test_the_largest_sqlite_integer_is_a_number_that_is_simply_missing(db):
    with Store(db) as s:
        with pytest.raises(ValueError, match="no sample #9223372036854775807"):
            select_ids(s, "9223372036854775807")


def test_repeated_huge_ranges_are_read_once_and_name_the_first_missing(db):
    with Store(db) as s:
        with pytest.raises(ValueError) as e:
            select_ids(s, ",".join(["1-99999999"] * 5000))
        assert "no sample #21, #22, #23, #24, #25" in str(e.value)
        assert f"({99999999 - 20:,} of 99,999,999 missing)" in str(e.value)
        assert select_ids(s, ",".join(["1-20"] * 5000 + ["#3-#5"])).ids == tuple(range(1, 21))


def test_too_many_pieces_are_refused_with_what_to_do_instead():
    with pytest.raises(ValueError, match="join neighbours into ranges"):
        parse_ids(",".join(["1"] * (MAX_ID_PIECES + 1)))
    assert len(parse_ids(",".join(["1"] * MAX_ID_PIECES))) == MAX_ID_PIECES


def test_a_valid_selection_still_decides(db):
    out = CliRunner().invoke(cli, ["decide", "--db", str(db), "--ids", "#2,5-6", "drop", "--json"]).output
    assert json.loads(out)["matched"] == 3, out
