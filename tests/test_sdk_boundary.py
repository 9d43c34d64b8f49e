"""Library code uses only the OpenTelemetry API: only telemetry/, the CLI and the pytest plugin
touch the SDK and its exporters.

Imports are grimp's (what ``lint-imports`` reads), external packages included, imports under
``if TYPE_CHECKING:`` left out (they never run); imports inside functions count. Modules
imported by name (``importlib.import_module``, ``__import__``) are read from the source.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import grimp

PACKAGE = "codomyrmex.performance"
SOURCE = Path(__file__).resolve().parents[1] / "src" / "codomyrmex" / "performance"
#: The folders allowed to import the SDK and the exporters built on it.
SDK_USERS = ("telemetry", "cli", "pytest_plugin")
SDK_PREFIXES = ("opentelemetry.sdk", "opentelemetry.exporter")
_IMPORTED = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import|import\s+([\w.,\s]+))")


def _uses_sdk(module_name: str) -> bool:
    return module_name.startswith(SDK_PREFIXES)


def _is_sdk_user(module: str) -> bool:
    return any(
        module == f"{PACKAGE}.{user}" or module.startswith(f"{PACKAGE}.{user}.")
        for user in SDK_USERS
    )


def _static_sdk_imports() -> dict[str, list[str]]:
    """Each package module's imports of the SDK, as ``line: source``."""
    graph = grimp.build_graph(
        "codomyrmex",
        include_external_packages=True,
        exclude_type_checking_imports=True,
        cache_dir=None,
    )
    found: dict[str, list[str]] = {}
    for module in sorted(graph.find_modules_that_directly_import("opentelemetry")):
        for detail in graph.get_import_details(importer=module, imported="opentelemetry"):
            match = _IMPORTED.match(detail["line_contents"])
            assert match is not None, detail
            names = [name.split(" as ")[0].strip() for name in (match[1] or match[2]).split(",")]
            if any(_uses_sdk(name) for name in names):
                found.setdefault(module, []).append(
                    f"{detail['line_number']}: {detail['line_contents']}"
                )
    return found


def _imports_by_name() -> dict[str, list[str]]:
    """``import_module("...")`` / ``__import__("...")`` of the SDK, per source file."""
    found: dict[str, list[str]] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        relative = path.relative_to(SOURCE)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            called = node.func
            name = called.attr if isinstance(called, ast.Attribute) else getattr(called, "id", "")
            first = node.args[0]
            if (
                name in ("import_module", "__import__")
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and _uses_sdk(first.value)
            ):
                found.setdefault(relative.as_posix(), []).append(f"{node.lineno}: {first.value}")
    return found


def test_only_telemetry_cli_and_plugin_import_the_sdk() -> None:
    imports = _static_sdk_imports()
    assert any(module.startswith(f"{PACKAGE}.telemetry") for module in imports), imports
    outside = {module: lines for module, lines in imports.items() if not _is_sdk_user(module)}
    assert not outside, f"library modules importing the OpenTelemetry SDK: {outside}"


def test_no_library_module_imports_the_sdk_by_name() -> None:
    outside = {
        path: lines
        for path, lines in _imports_by_name().items()
        if path.split("/")[0] not in SDK_USERS
    }
    assert not outside, f"library modules importing the OpenTelemetry SDK by name: {outside}"
