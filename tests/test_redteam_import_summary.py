"""Red team: the import summary's 'fields not shown as turns' (schemas.unread_keys over
Store.source_raws) on records built to make it expensive: many distinct keys, or huge records.
The import itself streams in bounded memory; the summary read the first 1,000 records whole
(64 MiB each allowed) and kept every distinct key name of them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from review.importers import schemas
from review.importers.schemas import unread_keys
from review.store import Store

ALPACA = {"instruction": "instruction", "input": "input", "output": "output"}


def wide(i: int, keys: int) -> str:
    rec = {"instruction": f"q{i}?", "output": f"a{i}."}
    rec.update({f"k{i}_{j}": 1 for j in range(keys)})
    return json.dumps(rec)


def counted(n: int, keys: int, allowed: int) -> tuple[Iterator[str], list[int]]:
    """n records of `keys` distinct keys each, from a generator that counts what was taken and
    refuses to go past `allowed`: code without a bound fails fast instead of filling memory."""
    taken = [0]

    def records() -> Iterator[str]:
        for i in range(n):
            taken[0] += 1
            assert taken[0] <= allowed, f"unread_keys read {taken[0]} records: no bound"
            yield wide(i, keys)

    return records(), taken


def test_unread_keys_reads_a_bounded_amount_by_default() -> None:
    """1,000 records of 20,000 distinct keys each (about 300 KB a record): 2e7 names were kept."""
    records, taken = counted(1000, 20_000, allowed=(16 << 20) // len(wide(0, 20_000)))
    keys = unread_keys(records, ALPACA)
    assert keys[:2] == ["k0_0", "k0_1"]  # the keys in the order first seen
    assert len(keys) == 20_000 * taken[0]


def test_unread_keys_stops_at_the_record_that_crosses_its_bound() -> None:
    chars, crossing = 0, 0
    while chars < schemas.UNREAD_CHARS:
        chars += len(wide(crossing, 20_000))
        crossing += 1
    records, taken = counted(1000, 20_000, allowed=crossing)
    assert len(unread_keys(records, ALPACA)) == 20_000 * crossing
    assert taken[0] == crossing  # and never takes the next one (the caller may be reading a file)


def test_unread_keys_reads_at_least_one_record_and_every_small_one() -> None:
    assert unread_keys([wide(0, 3)], ALPACA, max_chars=1) == ["k0_0", "k0_1", "k0_2"]
    small = [json.dumps({"instruction": "q", "output": "a", f"f{i}": "x"}) for i in range(1000)]
    assert len(unread_keys(small, ALPACA)) == 1000


def test_source_raws_reads_no_more_than_its_bound(tmp_path: Path) -> None:
    """A source of 40 records of 256 KiB each: the summary read all of them (up to 1,000 of
    64 MiB each) into one list."""
    src = tmp_path / "big.jsonl"
    pad = "x" * (256 << 10)
    src.write_text(
        "".join(json.dumps({"instruction": f"q{i}?", "output": "a.", "pad": pad}) + "\n" for i in range(40)),
        encoding="utf-8",
    )
    with Store(tmp_path / "p.db") as store:
        report = store.import_file(src)
        raws = store.source_raws(report.source.id, max_chars=1 << 20)
        assert 1 <= len(raws) <= 5  # the record that crosses 1 MiB is the last one read
        assert sum(map(len, raws)) < (1 << 20) + len(raws[0])
        assert [json.loads(r)["instruction"] for r in raws] == [f"q{i}?" for i in range(len(raws))]
        assert len(store.source_raws(report.source.id, max_chars=1)) == 1
        assert len(store.source_raws(report.source.id, limit=3, max_chars=1 << 30)) == 3
        # And the project stays writable: no half-read statement holds a snapshot open.
        goal, _ = store.add_goal("Teach the model to answer.")
        assert goal.id == 1
