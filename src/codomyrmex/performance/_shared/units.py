"""The one way this package writes durations and counts for people: terminals and pages."""

from __future__ import annotations

__all__ = ["count_of", "format_seconds"]


def format_seconds(seconds: float) -> str:
    """A duration in the unit that reads best: ``840 ns``, ``12.3 µs``, ``4.56 ms``, ``1.23 s``.

    Three significant digits (at most seven characters under 1000 s), so columns of them
    stay narrow.
    """
    magnitude = abs(seconds)
    if magnitude < 5e-10:
        return "0"
    unit, scale = "ns", 1e-9
    for name, size in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if magnitude >= size * 0.9995:  # what rounds up to 1.00 is written in the larger unit
            unit, scale = name, size
            break
    value = seconds / scale
    if abs(value) >= 999.5:
        return f"{value:.0f} {unit}"
    return f"{value:#.3g}".removesuffix(".") + f" {unit}"


def count_of(number: int, noun: str, plural: str | None = None) -> str:
    """``1 trace``, ``3 traces``: a count with its noun in the right number."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"
