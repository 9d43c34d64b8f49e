"""The package's architecture: no import cycle in ``src/``, and the layer contracts kept.

The import graph is grimp's (what ``lint-imports`` reads), with imports under
``if TYPE_CHECKING:`` left out as the contracts in ``pyproject.toml`` leave them out:
they never run. Imports inside functions count: a lazy import is still an arrow.
"""

from __future__ import annotations

import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "codomyrmex.performance"


def test_no_import_cycle() -> None:
    graph = grimp.build_graph("codomyrmex", cache_dir=None, exclude_type_checking_imports=True)
    modules = sorted(graph.modules)
    assert f"{PACKAGE}.cli" in modules, modules  # the whole package was found
    cycles: list[str] = []
    seen: set[str] = set()
    for module in modules:
        if module in seen:
            continue
        # Modules that ``module`` reaches and that reach it: its strongly connected component.
        component = graph.find_upstream_modules(module) & graph.find_downstream_modules(module)
        seen |= component
        if component:
            cycles.append(_describe_cycle(graph, module, component))
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def _describe_cycle(graph: grimp.ImportGraph, start: str, component: set[str]) -> str:
    """The component's modules and its shortest cycle through ``start``, import by import."""
    chains = [
        (start, *chain)
        for imported in graph.find_modules_directly_imported_by(start) & component
        if (chain := graph.find_shortest_chain(importer=imported, imported=start)) is not None
    ]
    cycle = min(chains, key=lambda chain: (len(chain), chain))
    steps = []
    for importer, imported in pairwise(cycle):
        (first, *_) = graph.get_import_details(importer=importer, imported=imported)
        steps.append(f"    {importer}:{first['line_number']}  {first['line_contents']}")
    members = ", ".join(sorted({start, *component}))
    return f"  {{{members}}}\n" + "\n".join(steps)


def test_lint_imports_keeps_every_contract() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    assert lint_imports.is_file(), f"import-linter is not installed next to {sys.executable}"
    finished = subprocess.run(
        [str(lint_imports), "--no-cache", "--no-logo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = finished.stdout + finished.stderr
    assert finished.returncode == 0, report
    assert "0 broken" in report, report
