"""Argument checks shared by the MCP tools: clear ``TypeError``/``ValueError`` messages."""

from __future__ import annotations

import math

__all__ = ["check_finite", "check_int", "check_number", "check_text"]


def check_text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string, not {type(value).__name__}")
    if not value.strip():
        raise ValueError(f"{what} must not be empty")
    return value


def check_number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be a number, not {type(value).__name__}")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond any float: no 4300-digit repr in the message
        raise ValueError(
            f"{what} must be a finite number, got a {int(value).bit_length()}-bit integer"
        ) from None
    if not math.isfinite(number):
        raise ValueError(f"{what} must be a finite number, got {value}")
    return number


def check_finite(**results: float | None) -> None:
    """A ``ValueError`` when a figure computed from finite arguments overflowed."""
    for what, value in results.items():
        if value is not None and not math.isfinite(value):
            raise ValueError(f"the arguments are too far apart: {what} overflows a float")


def check_int(value: object, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an integer, not {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{what} must be between {low} and {high}, got {value}")
    return value
