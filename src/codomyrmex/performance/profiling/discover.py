"""Find benchmark suites: every module-level ``BenchmarkSuite`` in a file or under a directory.

``discover(path)`` loads ``path`` (a Python file, or every ``bench_*.py`` below a directory)
and returns its suites, raising :class:`DiscoveryError` (a ``ValueError``) with one line
saying what is wrong: a missing path, no benchmark files, a file that fails to import, no
suites, duplicate suite names. ``codomyrmex-perf bench`` and the MCP benchmark tool both
use it.

Each file is read once, through one open descriptor, and its code runs from what was read
(worker processes get that same source). ``within=DIR`` confines loading to files whose real
location is inside ``DIR``: a file that resolves outside, is hard-linked (its other names
may lie anywhere), is not a regular file, or changes between the check and the open raises
``PermissionError``. While a file runs, its directory is first on ``sys.path`` (so modules
beside it import); it is removed afterwards. The module is named after the file
(``bench_x``) and registered in ``sys.modules`` under that name only when no other module
has it: a bench file called ``json.py`` never replaces the standard library's.
"""

from __future__ import annotations

import importlib.util
import os
import stat
import sys
from pathlib import Path
from types import ModuleType

from codomyrmex.performance.profiling._source import CheckedSource
from codomyrmex.performance.profiling.suite import BenchmarkSuite

__all__ = ["DiscoveryError", "discover"]


class DiscoveryError(ValueError):
    """No usable benchmark suites at a path; the message says why."""


def discover(path: Path, *, within: Path | None = None) -> list[BenchmarkSuite]:
    """Load ``path`` (a file, or ``bench_*.py`` under a directory) and return its suites."""
    if not path.exists():
        raise DiscoveryError(f"no such file or directory: {path}")
    files = [path] if path.is_file() else sorted(path.rglob("bench_*.py"))
    if not files:
        raise DiscoveryError(f"no bench_*.py files under {path}")
    suites: list[BenchmarkSuite] = []
    for file in files:
        real, source = _read(file, within)
        suites.extend(_load_suites(real, source))
    if not suites:
        raise DiscoveryError(f"no BenchmarkSuite found in {path}")
    names = [s.name for s in suites]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise DiscoveryError(f"duplicate suite names: {', '.join(duplicates)}")
    return suites


def _read(file: Path, within: Path | None) -> tuple[Path, bytes]:
    """The real path of ``file`` and its content, read through one descriptor."""
    real = _resolved(file)
    _check_inside(real, within, file)
    try:
        descriptor = os.open(real, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        if within is not None:
            raise PermissionError(f"{file} changed while being opened: refused") from None
        raise DiscoveryError(f"cannot load {file}: {exc.strerror}") from None
    with os.fdopen(descriptor, "rb") as handle:
        opened = os.fstat(handle.fileno())
        if not stat.S_ISREG(opened.st_mode):
            raise DiscoveryError(f"cannot load {file}: not a regular file")
        if within is not None:
            if opened.st_nlink > 1:
                raise PermissionError(
                    f"{file} is a hard link ({opened.st_nlink} names, possibly outside "
                    f"{within}): refused"
                )
            again = _resolved(file)
            _check_inside(again, within, file)
            try:
                now = os.stat(again, follow_symlinks=False)
            except OSError:
                now = None
            if now is None or (now.st_dev, now.st_ino) != (opened.st_dev, opened.st_ino):
                raise PermissionError(f"{file} changed while being opened: refused")
        return real, handle.read()


def _resolved(file: Path) -> Path:
    try:
        return Path(os.path.realpath(file))
    except OSError:  # a link that changes while it is resolved
        raise PermissionError(f"{file} changed while being checked: refused") from None


def _check_inside(real: Path, within: Path | None, shown: Path) -> None:
    if within is not None and not real.is_relative_to(within):
        raise PermissionError(
            f"{shown} resolves to {real}, outside the benchmark directory {within}: refused"
        )


def _free_name(name: str, file: Path) -> bool:
    """Whether ``name`` may be registered for ``file``: no other module is or would be it."""
    if not name.isidentifier():
        return False
    present = sys.modules.get(name)
    if present is not None:
        return getattr(present, "__file__", None) == str(file)
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return False
    return spec is None or spec.origin == str(file)


def _load_suites(file: Path, source: bytes) -> list[BenchmarkSuite]:
    module_name = file.stem
    spec = importlib.util.spec_from_loader(
        module_name, CheckedSource(file, source), origin=str(file)
    )
    if spec is None or spec.loader is None:
        raise DiscoveryError(f"cannot load {file}: not a Python file")
    spec.has_location = True
    module = importlib.util.module_from_spec(spec)
    registered = _free_name(module_name, file)
    if registered:
        sys.modules[module_name] = module
    directory = str(file.parent)
    added = directory not in sys.path
    if added:
        sys.path.insert(0, directory)
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:  # sys.exit() at import: a broken file, not ours
        if registered:
            sys.modules.pop(module_name, None)
        if isinstance(exc, SystemExit):
            raise DiscoveryError(f"cannot load {file}: it called sys.exit({exc.code!r})") from exc
        raise DiscoveryError(f"cannot load {file}: {type(exc).__name__}: {exc}") from exc
    finally:
        if added and directory in sys.path:
            sys.path.remove(directory)
    return _suites_of(module)


def _suites_of(module: ModuleType) -> list[BenchmarkSuite]:
    found: dict[int, BenchmarkSuite] = {}
    for value in vars(module).values():
        if isinstance(value, BenchmarkSuite):
            found.setdefault(id(value), value)
    return list(found.values())
