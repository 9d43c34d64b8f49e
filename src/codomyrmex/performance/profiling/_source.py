"""The loader of bench files: runs the source read once at discovery, never the file again."""

from __future__ import annotations

import importlib.abc
import importlib.util
from pathlib import Path
from types import CodeType

__all__ = ["CheckedSource"]


class CheckedSource(importlib.abc.InspectLoader):
    """Loads a module from source already read (and checked); ``text`` is that source.

    Worker processes receive ``text`` too, so they run the code that was checked even if
    the file changes afterwards.
    """

    def __init__(self, file: Path, source: bytes) -> None:
        self.file = file
        self.text = importlib.util.decode_source(source)

    def get_source(self, fullname: str) -> str:
        return self.text

    def get_code(self, fullname: str) -> CodeType:
        return compile(self.text, str(self.file), "exec", dont_inherit=True)
