"""The README's commands and code work as written, in a fresh virtual environment.

A fenced block preceded by ``<!-- readme-test: run -->`` runs; one preceded by
``<!-- readme-test: file NAME -->`` is written to ``NAME`` for the blocks after it. They
run in README order, in one copy of this checkout (``src/``, ``pyproject.toml``,
``README.md``, ``examples/``: nothing is written into the checkout itself), each from its
root: ``sh`` blocks with ``bash -e``, ``python`` blocks with the virtual environment's
interpreter. The first block is the quick start: it creates ``.venv`` there with
``python3 -m venv`` and ``pip install '.[cli]'`` and runs the demo, verbatim; the other
blocks use that environment, with the extras the Tour names (``instrument``, ``redis``)
added by one more ``pip install``. No collector and no Redis server are needed: telemetry
goes to the embedded default (a directory inside the copy).

One environment for all blocks keeps the test to about a minute; the packages come from
the index pip is configured with, as for ``.ci/run``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
MARKER = re.compile(r"<!-- readme-test: (run|file (\S+)) -->\n```(\w+)\n(.*?)```", re.DOTALL)
#: What the copy of the checkout holds: enough to install the package and run the examples.
COPIED = ("src", "examples", "pyproject.toml", "README.md", "LICENSE")


@dataclass(frozen=True)
class Snippet:
    language: str
    code: str
    file: str | None  # written to this file instead of run
    line: int

    def __str__(self) -> str:
        return f"README.md line {self.line} ({self.language})"


def snippets(text: str) -> list[Snippet]:
    return [
        Snippet(match[3], match[4], match[2], text.count("\n", 0, match.start()) + 1)
        for match in MARKER.finditer(text)
    ]


#: What some snippets must print (a fragment of the snippet -> a fragment of its output).
EXPECTED = {
    # the console exporter prints the spans of the functions named, without any code change
    "opentelemetry-instrument --traces_exporter console": '"name": "shop.Cart.total"',
    "codomyrmex-perf run --instrument": "shop.add_item",  # the report at exit
    "--save-baseline baseline.json": "baseline saved to baseline.json",
}


def test_the_markers_cover_the_quick_start_and_the_tour() -> None:
    text = README.read_text(encoding="utf-8")
    found = snippets(text)
    assert found[0].code.startswith("python3 -m venv .venv && . .venv/bin/activate")
    assert {snippet.language for snippet in found} == {"sh", "python"}
    assert len(found) >= 10
    assert "<!-- readme-test:" not in MARKER.sub("", text)  # every marker is followed by a block
    for fragment in EXPECTED:
        assert any(fragment in snippet.code for snippet in found), fragment


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("readme") / "checkout"
    copy.mkdir()
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(
                source, copy / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
            )
        elif source.exists():
            shutil.copy2(source, copy / name)
    return copy


def environment(checkout: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OTEL_", "CODOMYRMEX_", "VIRTUAL_ENV", "PYTHON"))
    }
    env["PATH"] = os.pathsep.join(
        [str(checkout / ".venv" / "bin"), *(p for p in env.get("PATH", "").split(os.pathsep) if p)]
    )
    env["CODOMYRMEX_PERF_TELEMETRY_DIR"] = str(checkout / "telemetry")
    env["COLUMNS"] = "100"
    return env


def run(snippet: Snippet, checkout: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    if snippet.language == "sh":
        command = ["bash", "-e", "-c", snippet.code]
    else:
        command = [str(checkout / ".venv" / "bin" / "python"), "-c", snippet.code]
    return subprocess.run(
        command, cwd=checkout, env=env, capture_output=True, text=True, timeout=600
    )


def test_every_marked_snippet_runs_as_written(checkout: Path) -> None:
    if shutil.which("python3") is None:
        pytest.fail("python3 is not on PATH: the quick start starts with python3 -m venv")
    env = environment(checkout)
    quick_start, *tour = snippets((checkout / "README.md").read_text(encoding="utf-8"))
    result = run(quick_start, checkout, env)
    assert result.returncode == 0, f"{quick_start}:\n{result.stdout}\n{result.stderr}"
    assert "Slowest functions" in result.stdout and "Tracked blocks" in result.stdout
    extras = subprocess.run(
        [str(checkout / ".venv" / "bin" / "python"), "-m", "pip", "install", "--quiet",
         ".[cli,instrument,redis]"],
        cwd=checkout, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert extras.returncode == 0, extras.stderr
    for snippet in tour:
        if snippet.file is not None:
            (checkout / snippet.file).write_text(snippet.code, encoding="utf-8")
            continue
        result = run(snippet, checkout, env)
        assert result.returncode == 0, f"{snippet}:\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr, f"{snippet}:\n{result.stderr}"
        if snippet.language == "python":  # no warning either (a failed benchmark warns)
            assert result.stderr == "", f"{snippet}:\n{result.stderr}"
        for fragment, output in EXPECTED.items():
            if fragment in snippet.code:
                assert output in result.stdout + result.stderr, f"{snippet}:\n{result.stdout}"
    assert not (ROOT / "bench_parsing.py").exists()  # everything happened in the copy
