"""Checks of benchmark options: a wrong type is a ``TypeError``, a bad value an ``OptionError``.

Both name the option, so ``run_benchmark(rounds=2.5)`` fails at once with ``rounds must be
an integer ...`` rather than running for minutes or failing deep inside a round.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["OptionError", "flag", "integer", "number"]


class OptionError(ValueError):
    """A benchmark option has a value out of its range; ``option`` is its keyword name."""

    def __init__(self, option: str, reason: str) -> None:
        self.option = option
        self.reason = reason
        super().__init__(f"{option} {reason}")


def integer(value: Any, option: str, low: int, high: int) -> int:
    """``value`` if it is an int within ``low``-``high`` (bool is not an int here)."""
    if isinstance(value, float):
        raise OptionError(option, f"must be an integer, got {value!r}")
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{option} must be an integer, not {type(value).__name__}")
    if not low <= value <= high:
        raise OptionError(option, f"must be between {low} and {high}, got {value}")
    return value


def number(value: Any, option: str, low: float, high: float, *, above_low: bool = False) -> float:
    """``value`` as a float if it is finite and within ``low``-``high`` (``> low`` if
    ``above_low``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{option} must be a number, not {type(value).__name__}")
    as_float = float(value) if abs(value) < 1e300 else math.inf
    low_ok = as_float > low if above_low else as_float >= low
    if not (math.isfinite(as_float) and low_ok and as_float <= high):
        bound = ">" if above_low else ">="
        raise OptionError(option, f"must be {bound} {low:g} and <= {high:g}, got {value!r}")
    return as_float


def flag(value: Any, option: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{option} must be True or False, not {type(value).__name__}")
    return value
