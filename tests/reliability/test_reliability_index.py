"""The reliability index (README.md beside this file) names only tests that exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INDEX = Path(__file__).with_name("README.md")
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def defined_tests(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.name.startswith("test_")
    }


def test_every_listed_test_exists() -> None:
    references = REFERENCE.findall(INDEX.read_text(encoding="utf-8"))
    assert len(references) > 50
    missing = [
        f"{path}::{name}"
        for path, name in references
        if not (ROOT / path).is_file() or name not in defined_tests(ROOT / path)
    ]
    assert missing == []


def test_every_promise_of_the_readme_has_a_section() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Reliability promises and their limits\n", 1)[1].split("\n## ")[0]
    promises = re.findall(r"^- \*\*(.+?)\.\*\*", section, flags=re.MULTILINE)
    sections = re.findall(r"^## (.+)$", INDEX.read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert promises == sections
