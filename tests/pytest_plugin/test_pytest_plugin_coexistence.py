"""With pytest-benchmark installed, the two plugins coexist: it keeps ``benchmark``.

pytest-benchmark is simulated by a distribution on ``PYTHONPATH``: the same ``pytest11``
entry point name (``benchmark``) and module (``pytest_benchmark.plugin``), registering
pytest-benchmark 5.x's options and its own ``benchmark`` fixture, so pytest loads it the
way it loads the real one, in a subprocess.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(120)

#: pytest-benchmark 5.3's command line.
PYTEST_BENCHMARK_OPTIONS = """
--benchmark-min-time --benchmark-max-time --benchmark-min-rounds --benchmark-precision
--benchmark-confidence --benchmark-timer --benchmark-calibration-precision --benchmark-warmup
--benchmark-warmup-iterations --benchmark-disable-gc* --benchmark-skip* --benchmark-disable*
--benchmark-enable* --benchmark-only* --benchmark-save --benchmark-autosave*
--benchmark-save-data* --benchmark-json --benchmark-compare --benchmark-compare-fail
--benchmark-cprofile --benchmark-cprofile-loops --benchmark-cprofile-top
--benchmark-cprofile-dump --benchmark-storage --benchmark-netrc --benchmark-verbose*
--benchmark-quiet* --benchmark-sort --benchmark-group-by --benchmark-columns --benchmark-name
--benchmark-time-unit --benchmark-histogram
"""

FAKE_PLUGIN = f"""
import pytest

class TheirFixture:
    def __call__(self, function, *args, **kwargs):
        return function(*args, **kwargs)

def pytest_addoption(parser):
    group = parser.getgroup("benchmark")
    for flag in {PYTEST_BENCHMARK_OPTIONS!r}.split():
        if flag.endswith("*"):
            group.addoption(flag[:-1], action="store_true")
        else:
            group.addoption(flag, nargs="?", const=True)

def pytest_configure(config):
    config.addinivalue_line("markers", "benchmark: pytest-benchmark's marker")

@pytest.fixture
def benchmark():
    return TheirFixture()
"""

TESTS = """
def test_owner(benchmark, pytestconfig):
    owner = type(benchmark).__module__
    print("OWNER", owner, pytestconfig.getoption("benchmark_disable"))
    assert benchmark(len, "abc") == 3
"""


@pytest.fixture
def with_pytest_benchmark(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = pytester.path / "site"
    (site / "pytest_benchmark").mkdir(parents=True)
    (site / "pytest_benchmark" / "__init__.py").write_text("", encoding="utf-8")
    (site / "pytest_benchmark" / "plugin.py").write_text(FAKE_PLUGIN, encoding="utf-8")
    info = site / "pytest_benchmark-5.3.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: pytest-benchmark\nVersion: 5.3.1\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        "[pytest11]\nbenchmark = pytest_benchmark.plugin\n", encoding="utf-8"
    )
    monkeypatch.setenv("PYTHONPATH", str(site))
    pytester.makepyfile(test_owner=textwrap.dedent(TESTS))
    return site


def test_pytest_benchmark_keeps_its_fixture_and_options(
    pytester: pytest.Pytester, with_pytest_benchmark: Path
) -> None:
    result = pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider", "--benchmark-disable")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["plugins: *", "*OWNER pytest_benchmark.plugin True"])
    header = next(line for line in result.stdout.lines if line.startswith("plugins:"))
    assert "benchmark-5.3.1" in header and "codomyrmex-performance" in header


def test_our_options_say_who_owns_the_fixture(
    pytester: pytest.Pytester, with_pytest_benchmark: Path
) -> None:
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--perf-save", "b.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert [line for line in result.stderr.lines if line.strip()] == [
        "ERROR: --perf-save: pytest-benchmark provides the benchmark fixture in this session; "
        "-p no:benchmark gives it to codomyrmex-performance"
    ]


def test_no_benchmark_gives_the_fixture_and_the_options_to_codomyrmex(
    pytester: pytest.Pytester, with_pytest_benchmark: Path
) -> None:
    result = pytester.runpytest_subprocess(
        "-s", "-p", "no:cacheprovider", "-p", "no:benchmark", "--benchmark-disable"
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["*OWNER codomyrmex.performance.pytest_plugin._fixture True"]
    )
