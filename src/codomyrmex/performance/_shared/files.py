"""Replace a file's content atomically: the one way this package writes result files.

:func:`write_text_atomically` (and :func:`write_bytes_atomically`) writes a temporary file
beside the target, fsyncs it and renames it over the target, so a reader sees the old
content or the new, never a part:

- a missing or regular file is replaced; an existing one keeps its permission bits;
- a symlink is written through: the file it points to is replaced, the link stays;
- the process's standard output (``/dev/stdout``, or a path that is the very file
  standard output goes to) is written directly, unbuffered, in order with ``print``;
- any other non-regular file (directory, FIFO, socket, device node) is refused with an
  ``OSError``: nothing is opened, written or replaced.

Every ``OSError`` names the path as the caller gave it, never the temporary file.
:func:`check_replaceable` applies the same rule without writing, so a command can refuse
an output path before it does any work.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys

__all__ = ["check_replaceable", "write_bytes_atomically", "write_text_atomically"]

_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def write_text_atomically(path: str | os.PathLike[str], text: str) -> None:
    """Replace the content of ``path`` with ``text`` (UTF-8), atomically; see the module doc."""
    write_bytes_atomically(path, text.encode("utf-8"))


def check_replaceable(path: str | os.PathLike[str]) -> os.stat_result | None:
    """The status of ``path`` (None when it does not exist yet) if the atomic writers may
    write it; an ``OSError`` naming ``path`` for a directory, FIFO, socket or device."""
    shown = os.fspath(path)
    try:
        status = os.stat(shown)
    except FileNotFoundError:
        return None  # a new file, or a symlink to one
    if _is_standard_output(status) or stat.S_ISREG(status.st_mode):
        return status
    if stat.S_ISDIR(status.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is a directory", shown)
    kind = next((name for test, name in _KINDS if test(status.st_mode)), "special")
    raise OSError(errno.EINVAL, f"is {kind}, not a regular file: not replaced", shown)


def write_bytes_atomically(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace the content of ``path`` with ``data``, atomically; see the module doc."""
    shown = os.fspath(path)
    try:
        status = check_replaceable(shown)
        if status is not None and _is_standard_output(status):
            _write_standard_output(data)
        else:
            mode = None if status is None else stat.S_IMODE(status.st_mode)
            _replace(os.path.realpath(shown), data, mode)
    except OSError as exc:
        if exc.errno is None or (exc.filename == shown and exc.filename2 is None):
            raise
        raise type(exc)(exc.errno, exc.strerror, shown) from None


def _is_standard_output(status: os.stat_result) -> bool:
    try:
        output = os.fstat(1)
    except OSError:
        return False
    return (status.st_dev, status.st_ino) == (output.st_dev, output.st_ino)


def _write_standard_output(data: bytes) -> None:
    if sys.stdout is not None:
        sys.stdout.flush()
    while data:
        data = data[os.write(1, data) :]


def _replace(target: str, data: bytes, mode: int | None) -> None:
    directory, name = os.path.split(target)
    temporary = os.path.join(directory, f".{name}.{os.getpid()}.{os.urandom(6).hex()}.tmp")
    try:
        with open(temporary, "xb") as handle:
            if mode is not None:
                os.chmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable where possible
        descriptor = os.open(directory or ".", os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
