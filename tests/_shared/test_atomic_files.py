"""write_text_atomically: regular files replaced whole; symlinks, special files, errors.

Every path written lives in tmp_path. Device nodes are never created or opened: the
character device case fakes the ``os.stat`` result of a path inside tmp_path, and standard
output is reached through a symlink in tmp_path to ``/proc/self/fd/1``.
"""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from codomyrmex.performance._shared import files
from codomyrmex.performance._shared.files import write_text_atomically


def leftovers(directory: Path) -> list[str]:
    return sorted(name for name in os.listdir(directory) if name.endswith(".tmp"))


def test_new_and_existing_regular_files_are_replaced_whole(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    write_text_atomically(target, "first\n")
    write_text_atomically(target, "second\n")
    assert target.read_text() == "second\n"
    assert leftovers(tmp_path) == []


def test_an_existing_file_keeps_its_permission_bits(tmp_path: Path) -> None:
    target = tmp_path / "shared.csv"
    target.write_text("old")
    target.chmod(0o640)
    write_text_atomically(target, "new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert target.read_text() == "new"


def test_a_symlink_is_written_through_to_its_target(tmp_path: Path) -> None:
    real = tmp_path / "data" / "baseline.json"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "baseline.json"
    link.symlink_to(real)
    chain = tmp_path / "latest.json"
    chain.symlink_to(link)
    write_text_atomically(chain, "new")
    assert chain.is_symlink() and link.is_symlink()
    assert os.readlink(link) == str(real)
    assert real.read_text() == "new"
    assert leftovers(tmp_path) == [] and leftovers(real.parent) == []


def test_a_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "result.json"
    link.symlink_to(tmp_path / "missing.json")
    write_text_atomically(link, "created")
    assert link.is_symlink()
    assert (tmp_path / "missing.json").read_text() == "created"


def test_a_fifo_is_refused_naming_it_and_left_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "metrics.fifo"
    os.mkfifo(fifo)
    link = tmp_path / "metrics.json"
    link.symlink_to(fifo)
    for given in (fifo, link):
        with pytest.raises(OSError) as caught:
            write_text_atomically(given, "x")
        assert caught.value.filename == str(given)
        assert "FIFO" in str(caught.value) and ".tmp" not in str(caught.value)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert leftovers(tmp_path) == []


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError) as caught:
        write_text_atomically(tmp_path, "x")
    assert caught.value.filename == str(tmp_path)


def test_a_character_device_is_refused_and_never_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    device = tmp_path / "null"
    device.write_text("")
    real_stat = os.stat

    def fake_stat(path: object, *args: object, **kwargs: object) -> os.stat_result:
        result = real_stat(path, *args, **kwargs)  # type: ignore[arg-type]
        if os.fspath(path) != str(device):  # type: ignore[arg-type]
            return result
        fields = list(result)
        fields[stat.ST_MODE] = stat.S_IFCHR | 0o666
        return os.stat_result(fields)

    monkeypatch.setattr(files.os, "stat", fake_stat)
    with pytest.raises(OSError) as caught:
        write_text_atomically(device, "x")
    assert caught.value.filename == str(device)
    assert "character device" in str(caught.value)
    assert device.read_text() == "" and leftovers(tmp_path) == []


STDOUT_SCRIPT = """
import sys
from codomyrmex.performance._shared.files import write_text_atomically
print("before", flush=True)
write_text_atomically(sys.argv[1], "report\\n")
print("after")
"""


def stdout_link(tmp_path: Path) -> Path:
    """A link in tmp_path to the writing process's own standard output, like /dev/stdout."""
    link = tmp_path / "stdout"
    link.symlink_to("/proc/self/fd/1")
    return link


def test_the_standard_output_device_is_written_directly(tmp_path: Path) -> None:
    link = stdout_link(tmp_path)
    completed = subprocess.run(
        [sys.executable, "-c", STDOUT_SCRIPT, str(link)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "before\nreport\nafter\n"
    assert link.is_symlink()


def test_standard_output_redirected_to_a_file_is_appended_not_replaced(tmp_path: Path) -> None:
    link = stdout_link(tmp_path)
    log = tmp_path / "stdout.log"
    with log.open("w") as stdout:
        completed = subprocess.run(
            [sys.executable, "-c", STDOUT_SCRIPT, str(link)], stdout=stdout, timeout=60, check=False
        )
    assert completed.returncode == 0
    assert log.read_text() == "before\nreport\nafter\n"
    assert link.is_symlink()


def test_errors_name_the_users_path_never_the_temporary_file(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    target = blocker / "out.json"
    with pytest.raises(OSError) as caught:
        write_text_atomically(target, "x")
    assert caught.value.filename == str(target)
    assert caught.value.filename2 is None
    assert ".tmp" not in str(caught.value)


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_failed_write_keeps_the_old_content_and_names_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    target = tmp_path / "baseline.json"
    target.write_text("old")

    def full_disk(*args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(args[0]))

    monkeypatch.setattr(files.os, failing, full_disk)
    with pytest.raises(OSError) as caught:
        write_text_atomically(target, "new")
    assert caught.value.errno == errno.ENOSPC
    assert caught.value.filename == str(target) and caught.value.filename2 is None
    assert target.read_text() == "old"
    assert leftovers(tmp_path) == []
