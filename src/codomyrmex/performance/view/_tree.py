"""A trace as a waterfall tree in the terminal (``codomyrmex-perf view --tree``).

One line per span, depth-first: the span name under tree guides, a bar on the trace's
time axis and the duration; error spans in red and marked ``✗``. Every line fits the
console width (names are shortened from the left, where a qualified name is least
informative; deep indentation is folded), so it reads at 60 columns as at 140.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from codomyrmex.performance._shared.units import format_seconds
from codomyrmex.performance.view._summary import TraceLayout

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["print_tree"]

_DURATION = 10


def _last_siblings(depths: list[int]) -> list[bool]:
    """Whether each row is its parent's last child (scanning from the end)."""
    result = [False] * len(depths)
    seen: set[int] = set()
    for index in range(len(depths) - 1, -1, -1):
        depth = depths[index]
        result[index] = depth not in seen
        seen = {d for d in seen if d <= depth}
        seen.add(depth)
    return result


def _guides(depths: list[int]) -> list[str]:
    last = _last_siblings(depths)
    open_levels: list[bool] = []
    guides = []
    for depth, is_last in zip(depths, last, strict=True):
        del open_levels[depth:]
        if depth == 0:
            guides.append("")
        else:
            trunk = "".join("│  " if still else "   " for still in open_levels[1:depth])
            guides.append(trunk + ("└─ " if is_last else "├─ "))
        open_levels.extend([False] * (depth + 1 - len(open_levels)))
        open_levels[depth] = not is_last
    return guides


def _fit(text: str, width: int) -> str:
    if len(text) <= width:
        return text.ljust(width)
    return "…" + text[len(text) - width + 1 :] if width > 1 else text[:width]


def print_tree(layout: TraceLayout, console: Console, *, limit: int = 200) -> None:
    """Print ``layout`` as a waterfall, at most ``limit`` spans (then a line saying so)."""
    from rich.text import Text

    width = max(40, console.width)
    bar_width = max(10, (width - _DURATION) * 2 // 5)
    name_width = width - bar_width - _DURATION - 2
    total = layout.duration or 1
    errors = f" · [red]{layout.errors} with errors[/]" if layout.errors else ""
    console.print(
        f"[bold]trace {layout.trace_id}[/] · {format_seconds(layout.duration / 1e9)} · "
        f"{len(layout.rows)} spans{errors} · {', '.join(layout.services)}",
        highlight=False,
    )
    rows = layout.rows[:limit]
    guides = _guides([depth for _, depth in layout.rows])[:limit]
    for (span, _), guide in zip(rows, guides, strict=True):
        mark = "✗ " if span.error else ""
        fold = name_width // 2
        if len(guide) > fold:
            guide = "…" + guide[len(guide) - fold + 1 :]
        line = Text(no_wrap=True, overflow="crop")
        line.append(guide, style="dim")
        style = "red" if span.error else ""
        line.append(mark, style=style)
        line.append(_fit(span.name, name_width - len(guide) - len(mark)), style=style)
        first = int((span.start - layout.start) / total * bar_width)
        cells = max(1, round(span.duration / total * bar_width))
        first = min(first, bar_width - 1)
        cells = min(cells, bar_width - first)
        line.append(" ")
        line.append(" " * first)
        line.append("█" * cells, style="red" if span.error else "blue")
        line.append(" " * (bar_width - first - cells))
        line.append(format_seconds(span.duration / 1e9).rjust(_DURATION + 1))
        console.print(line)
    if len(layout.rows) > limit:
        console.print(
            f"[dim]… {len(layout.rows) - limit} more spans: the HTML page "
            "(codomyrmex-perf view) shows them all[/]",
            highlight=False,
        )
