"""``codomyrmex-perf run``: run a Python program with the instrumentation on, then report.

::

    codomyrmex-perf run [--otlp URL] [--instrument TARGETS] \\
        [--service-name NAME] script.py [args...]

The program runs in this interpreter as ``__main__`` (like ``python script.py args...``:
same ``sys.argv``, its directory first on ``sys.path``; a directory runs its
``__main__.py``, as ``python DIR`` does) with OpenTelemetry configured
(``--otlp`` or the ``OTEL_*`` variables; else OTLP-JSON files in the telemetry directory),
so its ``@monitor``, ``@cached_function``, ``lazy_import`` and benchmark calls are
exported. Functions named in ``--instrument`` (default ``$CODOMYRMEX_PERF_INSTRUMENT``,
same syntax: ``pkg.mod:func,pkg.mod:Class.method,pkg.mod:*``) are monitored without
touching their code, by the machinery ``opentelemetry-instrument`` uses
(:class:`~codomyrmex.performance.instrumentation.PerformanceInstrumentor`). At exit,
the report of ``codomyrmex-perf demo`` goes to stderr: slowest functions, peak memory,
cache hit rates, import durations, and dropped telemetry if any. Needs the ``cli`` and
``instrument`` extras: ``pip install 'codomyrmex-performance[cli,instrument]'``.

The exit code is the program's: an uncaught exception (a syntax error too) prints its
traceback as ``python`` would, without this runner's frames, and exits 1. A missing
script or an unreachable endpoint is one line on stderr and exit code 2 before the
program starts.
"""

from __future__ import annotations

import argparse
import runpy
import sys
import traceback
from pathlib import Path
from typing import Any

from codomyrmex.performance.cli._session import (
    PROG,
    CliError,
    add_otlp_argument,
    start_telemetry,
    stop_telemetry,
)

__all__ = ["register", "run_program"]


def register(subparsers: Any) -> None:
    """Add the ``run`` subcommand."""
    parser = subparsers.add_parser(
        "run",
        help="run a Python program with the instrumentation on and print a report at exit",
        description=__doc__,
    )
    add_otlp_argument(parser)
    parser.add_argument(
        "--instrument",
        metavar="TARGETS",
        help="functions to monitor without touching their code: pkg.mod:func, "
        "pkg.mod:Class.method, pkg.mod:* (comma-separated; default "
        "$CODOMYRMEX_PERF_INSTRUMENT)",
    )
    parser.add_argument(
        "--service-name", metavar="NAME", help="service.name (default: the script's name)"
    )
    parser.add_argument(
        "program",
        nargs=argparse.REMAINDER,
        metavar="script.py [args ...]",
        help="the program to run (a file, or a directory with a __main__.py) and its arguments",
    )
    parser.set_defaults(handler=run_program)


def run_program(args: argparse.Namespace) -> int:
    """Run the script instrumented; return its exit code after printing the report."""
    if not args.program:
        raise CliError(f"run needs a program: {PROG} run [options] script.py [args ...]", 2)
    script = Path(args.program[0])
    if script.is_dir():
        if not (script / "__main__.py").is_file():
            raise CliError(f"cannot run {script}: a directory without a __main__.py", 2)
        home = script.resolve()
    elif script.is_file():
        home = script.resolve().parent
    else:
        raise CliError(f"no such script: {script}", exit_code=2)
    import rich  # noqa: F401 - fail before the program runs when the cli extra is missing

    from codomyrmex.performance.cache_manager import live_caches
    from codomyrmex.performance.cli import _format, report
    from codomyrmex.performance.instrumentation import PerformanceInstrumentor
    from codomyrmex.performance.lazy_loader import import_timings
    from codomyrmex.performance.performance_monitor import default_monitor
    from codomyrmex.performance.resource_tracker import ResourceTracker

    handle = start_telemetry(args.service_name or script.stem, args.otlp)
    saved_argv, saved_path = sys.argv[:], sys.path[:]
    sys.argv = [str(script), *args.program[1:]]
    sys.path.insert(0, str(home))  # before instrumenting: its modules
    instrumentor = PerformanceInstrumentor()
    given = {"targets": args.instrument, "source": "--instrument"} if args.instrument else {}
    instrumentor.instrument(**given)
    tracker = ResourceTracker()
    tracker.start()
    try:
        exit_code, program = _run_as_main(script)
    finally:
        usage = tracker.stop()
        instrumentor.uninstrument()
        sys.argv, sys.path[:] = saved_argv, saved_path
        outcome = stop_telemetry(handle)
    monitor = default_monitor()
    result = report.build_report(
        f"codomyrmex-perf run {script.name}",
        monitor=monitor,
        blocks=monitor.tracked_blocks(),
        usage=usage,
        caches=live_caches(),
        import_timings=import_timings(),
        handle=handle,
        outcome=outcome,
    )
    report.render(result, _format.console(stderr=True))
    del program
    return exit_code


def _run_as_main(script: Path) -> tuple[int, object]:
    """Run ``script`` as ``__main__`` the way ``python script args`` would.

    Returns its exit code and what keeps the program's objects alive (its globals, or its
    exception and the frames in it) until the report has read them: ``__main__``
    outlives a program run by ``python`` too, and its caches are only weakly listed.
    """
    try:
        return 0, runpy.run_path(str(script.resolve()), run_name="__main__")  # __file__ absolute
    except SystemExit as exc:
        return _exit_code(exc.code), exc
    except KeyboardInterrupt as exc:
        print("KeyboardInterrupt", file=sys.stderr)
        return 130, exc
    except BaseException as exc:  # the program's own failure: show it as python would
        frames = exc.__traceback__
        while frames is not None and frames.tb_frame.f_globals.get("__name__") in _RUNNERS:
            frames = frames.tb_next  # drop our and runpy's frames, as python shows none
        traceback.print_exception(type(exc), exc, frames)
        return 1, exc


#: Modules whose frames start every traceback of the program (a syntax error has no other).
_RUNNERS = (__name__, "runpy")


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1
