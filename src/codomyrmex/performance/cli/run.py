"""``codomyrmex-perf run``: run a Python program with the instrumentation on, then report.

::

    codomyrmex-perf run [--otlp URL] [--instrument TARGETS] [--service-name NAME] \\
        script.py [args...]

The program runs in this interpreter as ``__main__`` (like ``python script.py args...``:
same ``sys.argv``, its directory first on ``sys.path``) with OpenTelemetry configured
(``--otlp`` or the ``OTEL_*`` variables; else OTLP-JSON files in the telemetry directory),
so its ``@monitor``, ``@cached_function``, ``lazy_import`` and benchmark calls are
exported. Functions named in ``--instrument`` (default ``$CODOMYRMEX_PERF_INSTRUMENT``,
same syntax: ``pkg.mod:func,pkg.mod:Class.method,pkg.mod:*``) are monitored without
touching their code, by the machinery ``opentelemetry-instrument`` uses
(:class:`~codomyrmex.performance.instrumentation.PerformanceInstrumentor`). At exit,
the report of ``codomyrmex-perf demo`` goes to stderr: slowest functions, peak memory,
cache hit rates, import durations, and dropped telemetry if any.

The exit code is the program's (an uncaught exception prints its traceback and exits 1,
as ``python`` does). A missing script or an unreachable endpoint is one line on stderr
and exit code 2 before the program starts.
"""

from __future__ import annotations

import argparse
import runpy
import sys
import traceback
from pathlib import Path
from typing import Any

from codomyrmex.performance.cli._session import CliError, add_otlp_argument, start_telemetry

__all__ = ["register", "run_program"]


def register(subparsers: Any) -> None:
    """Add the ``run`` subcommand."""
    parser = subparsers.add_parser(
        "run",
        help="run a Python program with the instrumentation on and print a report at exit",
        description="Run script.py with OpenTelemetry configured and the codomyrmex "
        "instrumentation on, then print the performance report (slowest functions, peak "
        "memory, cache hit rates, import durations, dropped telemetry) to stderr.",
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
    parser.add_argument("script", help="the Python program to run")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")
    parser.set_defaults(handler=run_program)


def run_program(args: argparse.Namespace) -> int:
    """Run the script instrumented; return its exit code after printing the report."""
    script = Path(args.script)
    if not script.is_file():
        raise CliError(f"no such script: {args.script}", exit_code=2)
    import rich  # noqa: F401 - fail before the program runs when the cli extra is missing

    from codomyrmex.performance.cache_manager import live_caches
    from codomyrmex.performance.cli import report
    from codomyrmex.performance.instrumentation import PerformanceInstrumentor
    from codomyrmex.performance.lazy_loader import import_timings
    from codomyrmex.performance.performance_monitor import default_monitor
    from codomyrmex.performance.resource_tracker import ResourceTracker

    handle = start_telemetry(args.service_name or script.stem, args.otlp)
    saved_argv, saved_path = sys.argv[:], sys.path[:]
    sys.argv = [str(script), *args.args]
    sys.path.insert(0, str(script.resolve().parent))  # before instrumenting: its modules
    instrumentor = PerformanceInstrumentor()
    instrumentor.instrument(**({"targets": args.instrument} if args.instrument else {}))
    tracker = ResourceTracker()
    tracker.start()
    try:
        exit_code = _run_as_main(script)
    finally:
        usage = tracker.stop()
        instrumentor.uninstrument()
        sys.argv, sys.path[:] = saved_argv, saved_path
        flushed = handle.shutdown()
    result = report.build_report(
        f"codomyrmex-perf run {script.name}",
        monitor=default_monitor(),
        usage=usage,
        caches=live_caches(),
        import_timings=import_timings(),
        handle=handle,
    )
    report.render(result, report.report_console(stderr=True))
    if not flushed:
        print("codomyrmex-perf: warning: telemetry did not flush in time", file=sys.stderr)
    return exit_code


def _run_as_main(script: Path) -> int:
    """Run ``script`` as ``__main__`` the way ``python script args`` would; its exit code."""
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as exc:
        return _exit_code(exc.code)
    except KeyboardInterrupt:
        print("KeyboardInterrupt", file=sys.stderr)
        return 130
    except BaseException as exc:  # the program's own failure: show it as python would
        frames = exc.__traceback__
        while frames is not None and frames.tb_frame.f_code.co_filename != str(script):
            frames = frames.tb_next  # drop runpy's and our frames, as python shows none
        traceback.print_exception(type(exc), exc, frames or exc.__traceback__)
        return 1
    return 0


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1
