"""Hostile or odd input files (issue 12, items 7-10): a decompression bomb, records larger than the
limit in every container, what is not a regular file (a FIFO, /dev/zero, /dev/urandom), SIGTERM
during an import into a new project, a file that changes while it is read, and a file that mixes
formats. Every refusal is one `path[:line]: what — what to do` and leaves the project unchanged.

The subprocess tests run `winnow` from this checkout (PYTHONPATH) with a timeout, so a hang fails
the test instead of hanging it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
import tracemalloc
import zlib
from pathlib import Path

import pytest

from review.importers import InputError, open_source
from review.store import Store

ROOT = Path(__file__).resolve().parents[1]
MB = 1 << 20
ALPACA = '{{"instruction": "q{0}", "input": "", "output": "a{0}"}}'
SHAREGPT = '{{"conversations": [{{"from": "human", "value": "h{0}"}}, {{"from": "gpt", "value": "g{0}"}}]}}'


def winnow(*args: object, timeout: float = 60, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", "from tui.cli import main; main()", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env,
        **kw,
    )


def project_files(db: Path) -> list[str]:
    return sorted(p.name for p in db.parent.iterdir() if p.name.startswith(db.name))


def gzip_one_line(path: Path, size: int, *, level: int = 1) -> Path:
    """A .gz of one JSON line of about `size` bytes, written streaming (never held in memory)."""
    c = zlib.compressobj(level, zlib.DEFLATED, 31)  # wbits 31: the gzip container
    block = b"x" * MB
    with open(path, "wb") as f:
        f.write(c.compress(b'{"instruction": "q", "output": "'))
        for _ in range(size // MB):
            f.write(c.compress(block))
        f.write(c.compress(b'"}\n'))
        f.write(c.flush())
    return path


def peak_rss_mb_of(*args: object, timeout: float = 120) -> tuple[subprocess.CompletedProcess, float]:
    """Run `winnow ARGS` under a fresh parent whose only child it is, so RUSAGE_CHILDREN's
    ru_maxrss is winnow's own peak (Linux reports KiB)."""
    code = (
        "import json, resource, subprocess, sys\n"
        "r = subprocess.run([sys.executable, '-c', 'from tui.cli import main; main()', *sys.argv[1:]],"
        " capture_output=True, text=True)\n"
        "print(json.dumps([r.returncode, r.stderr, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env
    )
    rc, stderr, kib = json.loads(out.stdout)
    return subprocess.CompletedProcess(args, rc, "", stderr), kib / 1024


def refused(path: Path, **kw) -> InputError:
    with pytest.raises(InputError) as info:
        with open_source(path, **kw) as reader:
            list(reader)
    return info.value


def peak_alloc(fn) -> int:
    """Peak bytes Python allocated while fn() ran (tracemalloc counts bytes and str buffers)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --- item 7: one record may take at most the limit ------------------------------------------------


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB on Linux only")
def test_gzip_bomb_is_refused_with_bounded_memory(tmp_path: Path) -> None:
    """A 300 MB line in a ~1 MB gzip (the issue's 4 GB bomb, smaller to keep the test quick; the
    4 GB one measured 168 MiB peak). Bound: 500 MB, the issue's figure, against ~170 MB measured."""
    bomb = gzip_one_line(tmp_path / "bomb.jsonl.gz", 300 * MB)
    assert bomb.stat().st_size < 4 * MB
    db = tmp_path / "new.db"
    r, peak = peak_rss_mb_of("import", bomb, "--db", db)
    assert r.returncode == 2, r.stderr
    first = r.stderr.splitlines()[0]
    assert first.startswith(f"winnow: {bomb}:1: record larger than 64 MB — "), r.stderr
    assert "--max-record-mb" in first
    assert "Traceback" not in r.stderr and "MemoryError" not in r.stderr
    assert "nothing was imported" in r.stderr
    assert project_files(db) == []  # the new project is not left behind
    assert peak <= 500, f"peak RSS {peak:.0f} MB"


def test_the_limit_can_be_raised_from_the_cli(tmp_path: Path) -> None:
    src = tmp_path / "big.jsonl"
    src.write_text(ALPACA.format(0) + "\n" + json.dumps({"instruction": "q", "output": "y" * (2 * MB)}) + "\n")
    db = tmp_path / "p.db"
    r = winnow("import", src, "--db", db, "--max-record-mb", 1)
    assert r.returncode == 2
    assert r.stderr.startswith(f"winnow: {src}:2: record larger than 1 MB — "), r.stderr
    assert project_files(db) == []
    r = winnow("import", src, "--db", db, "--max-record-mb", 3)
    assert r.returncode == 0, r.stderr
    assert "imported 2 samples" in r.stdout
    assert winnow("import", src, "--db", db, "--max-record-mb", 0).returncode == 2  # click's range check


def test_a_record_just_under_the_limit_is_imported(tmp_path: Path) -> None:
    limit = 1 * MB
    head = '{"instruction": "q", "output": "'
    line = head + "y" * (limit - len(head) - 2) + '"}'
    assert len(line.encode()) == limit
    src = tmp_path / "edge.jsonl"
    src.write_text(line + "\r\n")
    with open_source(src, max_record_bytes=limit) as reader:
        assert [r.line for r in reader] == [1]
    src.write_text(line[:-2] + 'y"}\n')  # one byte more
    err = refused(src, max_record_bytes=limit)
    assert (err.line, err.what) == (1, "record larger than 1 MB")


def test_too_large_is_refused_even_with_skip_invalid(tmp_path: Path) -> None:
    src = tmp_path / "d.jsonl"
    src.write_text(ALPACA.format(0) + "\n" + json.dumps({"instruction": "q", "output": "y" * (2 * MB)}) + "\n")
    err = refused(src, max_record_bytes=MB, skip_invalid=True)
    assert (err.line, err.what) == (2, "record larger than 1 MB")


def _huge_json_array(path: Path, size: int, *, wrapper: bool = False, line: int = 3) -> Path:
    with open(path, "w") as f:
        f.write('{"data": [\n' if wrapper else "[\n")
        f.write("".join(ALPACA.format(i) + ",\n" for i in range(line - 2)))
        f.write('{"instruction": "q", "output": "')
        for _ in range(size // MB):
            f.write("y" * MB)
        f.write('"}\n]' + ("}" if wrapper else "") + "\n")
    return path


@pytest.mark.parametrize("wrapper", [False, True], ids=["array", "wrapper"])
def test_huge_element_of_a_json_array(tmp_path: Path, wrapper: bool) -> None:
    """The array reader grows its buffer for a long record; it stops at the limit. Memory bound:
    the buffer and the new chunk it is joined with, ~3x the limit of 1 MB, allowed 8 MB."""
    src = _huge_json_array(tmp_path / "d.json", 40 * MB, wrapper=wrapper, line=4)
    errors: list[InputError] = []

    def run() -> None:
        errors.append(refused(src, max_record_bytes=MB))

    peak = peak_alloc(run)
    assert (errors[0].line, errors[0].what) == (4, "record larger than 1 MB"), str(errors[0])
    assert peak < 8 * MB, f"peak {peak / MB:.1f} MB"


def test_huge_string_after_the_records_of_a_wrapper(tmp_path: Path) -> None:
    src = tmp_path / "w.json"
    with open(src, "w") as f:
        f.write('{"data": [\n' + ALPACA.format(0) + "\n],\n")
        f.write('"notes": "')
        for _ in range(20):
            f.write("n" * MB)
        f.write('"}\n')
    errors: list[InputError] = []
    peak = peak_alloc(lambda: errors.append(refused(src, max_record_bytes=MB)))
    err = errors[0]
    assert err.line == 3 and err.what == "the rest of the top-level object after the records is larger than 1 MB"
    assert peak < 8 * MB, f"peak {peak / MB:.1f} MB"


def test_huge_csv_field_and_row(tmp_path: Path) -> None:
    one_line = tmp_path / "a.csv"
    with open(one_line, "w") as f:
        f.write("instruction,output\nq,a\nq,")
        for _ in range(20):
            f.write("y" * MB)
        f.write("\n")
    errors: list[InputError] = []
    peak = peak_alloc(lambda: errors.append(refused(one_line, max_record_bytes=MB)))
    assert (errors[0].line, errors[0].what) == (3, "CSV row larger than 1 MB"), str(errors[0])
    assert peak < 8 * MB, f"peak {peak / MB:.1f} MB"

    many_lines = tmp_path / "b.csv"  # one quoted field of many short lines: the row is what counts
    with open(many_lines, "w") as f:
        f.write('instruction,output\nq,a\nq,"')
        for _ in range(20 * 1024):
            f.write("z" * 1023 + "\n")
        f.write('"\n')
    err = refused(many_lines, max_record_bytes=MB)
    assert (err.line, err.what) == (3, "CSV row larger than 1 MB"), str(err)


def test_huge_line_in_plain_jsonl_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    src = tmp_path / "d.jsonl"
    with open(src, "w") as f:
        f.write(ALPACA.format(0) + "\n" + '{"instruction": "q", "output": "')
        for _ in range(40):
            f.write("y" * MB)
        f.write('"}\n')
    errors: list[InputError] = []
    peak = peak_alloc(lambda: errors.append(refused(src, max_record_bytes=MB)))
    assert (errors[0].line, errors[0].what) == (2, "record larger than 1 MB")
    assert peak < 8 * MB, f"peak {peak / MB:.1f} MB"


def test_store_import_with_a_lower_limit_changes_nothing(tmp_path: Path) -> None:
    src = tmp_path / "d.jsonl"
    src.write_text(
        "\n".join([ALPACA.format(0), json.dumps({"instruction": "q", "output": "y" * (2 * MB)}), ALPACA.format(2)])
        + "\n"
    )
    with Store(tmp_path / "p.db") as store:
        with pytest.raises(InputError, match="record larger than 1 MB"):
            store.import_file(src, max_record_bytes=MB)
        assert store.sources() == [] and store.total_samples() == 0
        assert store.import_file(src).added == 3


# --- item 8: only regular files; SIGTERM leaves no project ------------------------------------------


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_devices_are_refused_at_once(tmp_path: Path, device: str) -> None:
    if not os.path.exists(device):
        pytest.skip(f"{device} does not exist here")
    db = tmp_path / "p.db"
    started = time.monotonic()
    r = winnow("import", device, "--db", db, timeout=60)
    assert r.returncode == 2
    assert r.stderr.splitlines()[0] == (
        f"winnow: {device}: not a regular file (a character device) — import from a regular dataset file; "
        "save a stream to one first, e.g. cat STREAM > data.jsonl"
    )
    assert time.monotonic() - started < 30
    assert project_files(db) == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "data.jsonl"
    os.mkfifo(fifo)
    db = tmp_path / "p.db"
    r = winnow("import", fifo, "--db", db, timeout=60)
    assert r.returncode == 2
    assert r.stderr.startswith(f"winnow: {fifo}: not a regular file (a named pipe, FIFO) — import from a regular")
    assert project_files(db) == []
    r = winnow(fifo, timeout=60)  # `winnow FILE` reads the head to tell a project from data
    assert r.returncode == 2 and "not a regular file (a named pipe, FIFO)" in r.stderr
    with pytest.raises(InputError, match="not a regular file"):
        open_source(fifo)


@pytest.mark.skipif(not Path("/dev/stdin").exists(), reason="no /dev/stdin on this platform")
def test_a_piped_dev_stdin_is_refused_under_the_name_typed(tmp_path: Path) -> None:
    # /dev/stdin fed by a pipe resolves to /proc/PID/fd/pipe:[N]: refused as "no such file" under
    # that name before; the refusal must name the path the user typed and say what it is.
    db = tmp_path / "p.db"
    r = winnow("import", "/dev/stdin", "--db", db, input=ALPACA.format(1) + "\n", timeout=60)
    assert r.returncode == 2
    assert r.stderr.startswith("winnow: /dev/stdin: not a regular file (a named pipe, FIFO) — ")
    assert project_files(db) == []


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"not a regular file \(a directory\)"):
        open_source(tmp_path)


def _big_jsonl(path: Path, n: int) -> Path:
    with open(path, "w") as f:
        for i in range(n):
            f.write(json.dumps({"instruction": f"question {i} " + "q" * 80, "output": f"answer {i} " + "a" * 80}))
            f.write("\n")
    return path


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and ptys")
def test_sigterm_during_an_import_into_a_new_project_leaves_no_file(tmp_path: Path) -> None:
    src = _big_jsonl(tmp_path / "big.jsonl", 300_000)
    db = tmp_path / "new.db"
    master, slave = pty.openpty()  # stderr on a terminal: the progress bar says when the import runs
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100", "TERM": "xterm"}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from tui.cli import main; main()", "import", str(src), "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=slave,
        cwd=ROOT,
        env=env,
    )
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 60
    try:
        while b"importing" not in seen and time.monotonic() < deadline and proc.poll() is None:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    seen += os.read(master, 4096)
                except OSError:
                    break
        assert b"importing" in seen, seen
        assert proc.poll() is None, "the import finished before it could be interrupted: use a bigger file"
        assert db.exists()  # the project was created and the import is under way
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        while True:  # what it said before exiting
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                break
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert proc.returncode == 128 + signal.SIGTERM, seen.decode(errors="replace")[-3000:]
    assert b"interrupted (SIGTERM)" in seen and b"no project file was created" in seen
    assert b"Traceback" not in seen
    assert project_files(db) == []


def test_sigterm_keeps_an_existing_project_as_it_was(tmp_path: Path) -> None:
    small = tmp_path / "small.jsonl"
    small.write_text(ALPACA.format(0) + "\n")
    db = tmp_path / "p.db"
    assert winnow("import", small, "--db", db).returncode == 0
    src = _big_jsonl(tmp_path / "big.jsonl", 300_000)
    proc = subprocess.Popen(
        [sys.executable, "-c", "from tui.cli import main; main()", "import", str(src), "--db", str(db)],
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    wal = Path(str(db) + "-wal")
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline and not (wal.exists() and wal.stat().st_size > MB):
        time.sleep(0.05)  # polling for the condition (rows being written), not a sleep as the check
    assert proc.poll() is None, "the import finished before it could be interrupted"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err.decode(errors="replace")[-3000:]
    assert b"interrupted (SIGTERM)" in err and b"the project is unchanged" in err
    with Store(db) as store:
        assert [s.name for s in store.sources()] == ["small.jsonl"] and store.total_samples() == 1


# --- item 9: the sha256 is of exactly the bytes imported; a changing file is refused ----------------


def test_sha256_recorded_is_of_the_file_imported(tmp_path: Path) -> None:
    src = _big_jsonl(tmp_path / "d.jsonl", 2000)
    with Store(tmp_path / "p.db") as store:
        report = store.import_file(src)
        assert report.source is not None
        assert report.source.sha256 == hashlib.sha256(src.read_bytes()).hexdigest()
    gz = tmp_path / "d.jsonl.gz"
    gz.write_bytes(gzip.compress(src.read_bytes()))
    with open_source(gz) as reader:
        assert reader.sha256 is None  # not before the whole file was read
        assert len(list(reader)) == 2000
        assert reader.sha256 == hashlib.sha256(gz.read_bytes()).hexdigest()


def test_a_file_appended_to_during_the_import_is_refused(tmp_path: Path) -> None:
    src = _big_jsonl(tmp_path / "d.jsonl", 20_000)
    extra = "".join(ALPACA.format(f"x{i}") + "\n" for i in range(500))
    calls = []

    def append_once(done: int, total: int, rows: int) -> None:  # runs between batches, mid-read
        if not calls:
            with open(src, "a") as f:
                f.write(extra)
        calls.append(rows)

    db = tmp_path / "p.db"
    with Store(db) as store:
        with pytest.raises(InputError) as info:
            store.import_file(src, progress=append_once, batch_size=100)
        assert str(info.value) == (
            f"{src}: the file changed while it was read; nothing was imported — wait until whatever is writing it "
            "has finished (or import a copy), then import it again"
        )
        assert calls and calls[0] < 20_000  # the append really happened during the read
        assert store.sources() == [] and store.total_samples() == 0
        # The stable file imports whole, with its own sha256, and only once.
        report = store.import_file(src)
        assert report.added == 20_500
        assert report.source is not None
        assert report.source.sha256 == hashlib.sha256(src.read_bytes()).hexdigest()
        again = store.import_file(src)
        assert again.already_imported and again.added == 0
        assert store.total_samples() == 20_500


def test_a_file_replaced_during_the_import_is_refused(tmp_path: Path) -> None:
    src = _big_jsonl(tmp_path / "d.jsonl", 5000)
    other = _big_jsonl(tmp_path / "other.jsonl", 10)

    def replace_once(done: int, total: int, rows: int) -> None:
        if other.exists():
            os.replace(other, src)

    with Store(tmp_path / "p.db") as store:
        with pytest.raises(InputError, match="the file changed while it was read; nothing was imported"):
            store.import_file(src, progress=replace_once, batch_size=100)
        assert store.sources() == []


def test_same_content_under_another_name_is_already_imported(tmp_path: Path) -> None:
    a = _big_jsonl(tmp_path / "a.jsonl", 50)
    b = tmp_path / "b.jsonl"
    b.write_bytes(a.read_bytes())
    with Store(tmp_path / "p.db") as store:
        assert store.import_file(a).added == 50
        report = store.import_file(b)
        assert report.already_imported and report.source is not None and report.source.name == "a.jsonl"
        assert store.total_samples() == 50 and len(store.sources()) == 1
        rows = store.conn.execute("SELECT count(*) FROM samples").fetchone()[0]
        assert rows == 50


# --- item 10: a file mixing formats says so ---------------------------------------------------------


def _mixed(path: Path, n: int, sharegpt_lines: set[int]) -> Path:
    path.write_text("".join((SHAREGPT if i in sharegpt_lines else ALPACA).format(i) + "\n" for i in range(1, n + 1)))
    return path


def test_mixed_formats_name_the_lines_where_the_other_format_starts(tmp_path: Path) -> None:
    src = _mixed(tmp_path / "mix.jsonl", 400, {120, 121, 340})
    with pytest.raises(InputError) as info:
        with Store(tmp_path / "p.db") as store:
            store.import_file(src)
    assert str(info.value) == (
        f"{src}:120: this record is ShareGPT but lines 1–119 are Alpaca: the file mixes formats "
        "(ShareGPT records start at lines 120, 340) — split it into one file per format and import each, "
        "or import with --skip-invalid to leave the ShareGPT records out"
    )
    with Store(tmp_path / "p.db") as store:
        assert store.total_samples() == 0


def test_mixed_formats_within_the_sampled_records_and_many_runs(tmp_path: Path) -> None:
    src = _mixed(tmp_path / "mix.jsonl", 100, {5, 20, 30, 40, 50, 60, 70})
    err = refused(src)
    assert err.line == 5
    assert err.what == (
        "this record is ShareGPT but lines 1–4 are Alpaca: the file mixes formats "
        "(ShareGPT records start at lines 5, 20, 30, 40, 50, …)"
    )


def test_mixed_formats_when_the_first_record_is_the_odd_one(tmp_path: Path) -> None:
    src = _mixed(tmp_path / "mix.jsonl", 10, {1})
    err = refused(src)
    assert err.line == 1
    assert err.what.startswith("this record is ShareGPT but the file is read as Alpaca: the file mixes formats")
    err = refused(_mixed(tmp_path / "m2.jsonl", 3, {2}), fmt="alpaca")
    assert err.what.startswith("this record is ShareGPT but line 1 is Alpaca")


def test_mixed_formats_with_skip_invalid_say_why_each_is_skipped(tmp_path: Path) -> None:
    src = _mixed(tmp_path / "mix.jsonl", 200, {150, 160})
    with open_source(src, skip_invalid=True) as reader:
        assert len(list(reader)) == 198
    assert reader.skipped == [
        f"{src}:{n}: this record is ShareGPT but lines {run} are Alpaca: the file mixes formats — split it into "
        "one file per format and import each, or import with --skip-invalid to leave the ShareGPT records out"
        for n, run in ((150, "1–149"), (160, "151–159"))
    ]


def test_mixed_formats_from_the_cli_is_one_clear_error(tmp_path: Path) -> None:
    src = _mixed(tmp_path / "mix.jsonl", 130, {120})
    db = tmp_path / "p.db"
    r = winnow("import", src, "--db", db)
    assert r.returncode == 2
    assert r.stderr.splitlines() == [
        f"winnow: {src}:120: this record is ShareGPT but lines 1–119 are Alpaca: the file mixes formats "
        "(ShareGPT records start at line 120) — split it into one file per format and import each, "
        "or import with --skip-invalid to leave the ShareGPT records out",
        "(nothing was imported; the project is unchanged)",
    ]
    assert project_files(db) == []


def test_a_record_with_100k_unknown_fields_is_refused_promptly(tmp_path: Path) -> None:
    """The hint listing the fields of an unknown record scanned a list per field (n^2: 30k fields
    took 12 s, 80k over 100 s; found by the red team). With sets it is linear: the 20 s bound is
    generous for a loaded machine and far below what the quadratic scan needs for 100k fields."""
    from review.importers.schemas import unknown_schema_hint

    record = {f"c{i}": "x" for i in range(100_000)}
    t = time.monotonic()
    what, todo = unknown_schema_hint([record, record])
    assert time.monotonic() - t < 20
    assert "'c0'" in what and "..." in what  # the first fields are named, the rest elided


def test_skip_invalid_lists_the_first_thousand_and_counts_the_rest(tmp_path: Path) -> None:
    """With --skip-invalid every skipped record used to be kept with its message: 2M bad lines in
    a 6 MB file took 834 MB (found by the red team). The first 1,000 are listed, all are counted,
    and the import's memory does not grow with them (600k bad lines: 41 MB measured, 269 MB with
    the old code; bound 150 MB)."""
    from review.importers import SKIPPED_LISTED

    src = tmp_path / "many.jsonl"
    with open(src, "w") as fh:
        fh.write(json.dumps({"instruction": "q", "input": "", "output": "a"}) + "\n")
        fh.write('{"instruction": 5}\n' * 600_000)
    db = tmp_path / "p.db"
    r, peak = peak_rss_mb_of("import", src, "--db", db, "--skip-invalid")
    assert r.returncode == 0, r.stderr
    with Store(db) as s:
        assert s.total_samples() == 1
    r2 = subprocess.run(
        [sys.executable, "-c", "from tui.cli import main; main()", "import", str(src), "--db", str(tmp_path / "q.db")]
        + ["--skip-invalid"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert f"skipped 600,000 invalid records (the first {SKIPPED_LISTED:,} listed):" in r2.stdout
    assert r2.stdout.count("many.jsonl:") == SKIPPED_LISTED + 1  # and the "imported 1 sample" line
    assert peak <= 150, f"peak RSS {peak:.0f} MB"


def test_an_absurd_max_record_mb_is_a_usage_error(tmp_path: Path) -> None:
    """--max-record-mb 2**43 overflowed a read size deep in the reader (a traceback; red team)."""
    from click.testing import CliRunner

    from tui.cli import cli

    src = tmp_path / "a.jsonl"
    src.write_text(json.dumps({"instruction": "q", "input": "", "output": "a"}) + "\n")
    r = CliRunner().invoke(cli, ["import", str(src), "--db", str(tmp_path / "p.db"), "--max-record-mb", str(2**43)])
    assert r.exit_code == 2 and "--max-record-mb" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "p.db").exists()
    r = CliRunner().invoke(cli, ["import", str(src), "--db", str(tmp_path / "p.db"), "--max-record-mb", str(1 << 20)])
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("body", ["{not json\n", json.dumps({"instruction": "q", "input": "", "output": "a"}) + "\n"])
def test_a_newline_in_a_file_name_cannot_forge_a_line_of_output(tmp_path: Path, body: str) -> None:
    """A file name is untrusted text: its newline is shown as ⏎, so it cannot print a line that
    looks like winnow's own (red team), in an error or in the success message."""
    from click.testing import CliRunner

    from tui.cli import cli

    forged = "winnow: imported 1000 samples as openai (jsonl) into p.db"
    src = tmp_path / f"x\n{forged}\ny.jsonl"
    src.write_text(body)
    r = CliRunner().invoke(cli, ["import", str(src), "--db", str(tmp_path / "p.db")])
    assert forged not in r.output.splitlines()
    assert "x⏎winnow: imported 1000" in r.output


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_signal_while_the_progress_bar_draws_is_raised_after_the_drawing() -> None:
    """An exception raised inside Rich's Live display can leave it unable to stop; the import's
    handler holds a signal that lands there until the drawing ends (the CI failure of stop 18:
    exit 1 instead of 143, once in many runs)."""
    from tui.cli_common import Interrupted, interrupt, shielded

    previous = signal.signal(signal.SIGTERM, interrupt)
    after_kill = []
    try:
        with pytest.raises(Interrupted) as raised:
            with shielded():
                with shielded():  # nested: held until the outermost block ends
                    os.kill(os.getpid(), signal.SIGTERM)
                    time.sleep(0)  # a bytecode boundary: the handler has run by now
                    after_kill.append("inner")
                after_kill.append("outer")
        assert raised.value.signum == signal.SIGTERM
        assert after_kill == ["inner", "outer"]
        with pytest.raises(Interrupted):  # outside a shield the signal is raised where it lands
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)
    finally:
        signal.signal(signal.SIGTERM, previous)
