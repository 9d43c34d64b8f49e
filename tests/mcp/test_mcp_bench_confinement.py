"""performance_run_benchmark runs only code inside the benchmark directory, even under races."""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from codomyrmex.performance.mcp.tools import performance_run_benchmark
from harness.mcp import QUICK, make_bench_tree

_INSIDE = """
from codomyrmex.performance import BenchmarkSuite

suite = BenchmarkSuite("inside")
suite.add(lambda: None, name="noop")
"""


def test_a_hard_link_to_a_file_outside_is_refused(tmp_path: Path) -> None:
    bench = make_bench_tree(tmp_path)
    os.link(tmp_path / "outside" / "bench_evil.py", bench / "bench_hard.py")
    with pytest.raises(PermissionError, match="hard link"):
        performance_run_benchmark("bench_hard.py", bench_dir=bench, **QUICK)  # type: ignore[arg-type]
    assert not (tmp_path / "outside" / "EXECUTED").exists()


@contextlib.contextmanager
def _flipping(entry: Path, inside: Path, outside: Path) -> Iterator[None]:
    """Make ``entry`` alternately the real ``inside`` file or directory and a symlink outside."""
    stop = threading.Event()
    symlink = entry.with_name("link-copy")

    def flip() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                if inside.is_dir():  # a directory cannot replace a symlink in one rename
                    entry.unlink()
                    inside.rename(entry)
                else:
                    shutil.copyfile(inside, symlink)
                    os.replace(symlink, entry)
            stop.wait(0.002)  # some calls find it stable and run
            with contextlib.suppress(OSError):
                if inside.is_dir() or not entry.is_symlink():
                    if entry.is_dir() and not entry.is_symlink():
                        entry.rename(inside)
                    os.symlink(outside, symlink)
                    os.replace(symlink, entry)

    thread = threading.Thread(target=flip, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


@pytest.mark.parametrize("flipped", ["file", "directory"])
def test_a_file_or_directory_flipped_during_the_check_never_runs_outside_code(
    tmp_path: Path, flipped: str
) -> None:
    bench = make_bench_tree(tmp_path)
    outside = tmp_path / "outside"
    if flipped == "file":
        inside = tmp_path / "inside_copy.py"  # the entry is a link to it or to outside
        inside.write_text(_INSIDE)
        (bench / "race").mkdir()
        entry, other, requested = bench / "race" / "bench_race.py", outside / "bench_evil.py", (
            "race/bench_race.py"
        )
    else:
        inside = bench / "stash"  # renamed to bench/race and back
        inside.mkdir()
        (inside / "bench_evil.py").write_text(_INSIDE)
        entry, other, requested = bench / "race", outside, "race/bench_evil.py"
    ran = refused = 0
    with _flipping(entry, inside, other):
        for _ in range(30):
            try:
                report = performance_run_benchmark(
                    requested, bench_dir=bench, rounds=2, min_time=0.0001
                )
            except (PermissionError, FileNotFoundError, ValueError):
                refused += 1
            else:
                ran += 1
                assert [s["suite"] for s in report["suites"]] == ["inside"]
            assert not (outside / "EXECUTED").exists()
    assert ran + refused == 30 and ran > 0


def test_bench_files_never_take_a_standard_library_name_nor_stay_on_sys_path(
    tmp_path: Path,
) -> None:
    bench = tmp_path / "bench"
    bench.mkdir()
    (bench / "json.py").write_text(_INSIDE)
    (bench / "helper_beside.py").write_text("VALUE = 3\n")
    (bench / "bench_imports.py").write_text(
        "import helper_beside\n" + _INSIDE.replace('"inside"', '"imports"')
    )
    import json

    report = performance_run_benchmark("json.py", bench_dir=bench, **QUICK)  # type: ignore[arg-type]
    assert report["passed"] is True
    import sys

    assert sys.modules["json"] is json and json.dumps([1]) == "[1]"
    report = performance_run_benchmark("bench_imports.py", bench_dir=bench, **QUICK)  # type: ignore[arg-type]
    assert report["passed"] is True  # a module beside the file imports while it loads
    assert str(bench) not in sys.path


def test_save_baseline_never_overwrites_python_files(tmp_path: Path) -> None:
    bench = make_bench_tree(tmp_path)
    before = (bench / "bench_demo.py").read_bytes()
    for target in ("bench_demo.py", "new_module.py", "compiled.pyc"):
        with pytest.raises(ValueError, match="Python"):
            performance_run_benchmark(
                "bench_demo.py",
                save_baseline=target,
                bench_dir=bench,
                **QUICK,  # type: ignore[arg-type]
            )
    assert (bench / "bench_demo.py").read_bytes() == before
    assert not (bench / "new_module.py").exists()
