"""A trace as a waterfall tree in the terminal (``codomyrmex-perf view --tree``).

One line per span, depth-first: the span name under tree guides, a bar on the trace's
time axis and the duration; error spans in red and marked ``✗``. The module most span
names start with (``pkg.mod.`` of ``pkg.mod.func``) is written once in the header and left
out of the names. Every line fits the console width (longer names are shortened from the
left, where a qualified name is least informative; deep indentation is folded), so it
reads at 60 columns as at 140.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from codomyrmex.performance._shared.units import format_seconds
from codomyrmex.performance.view._summary import TraceLayout

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

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


def _shared_module(names: list[str]) -> str:
    """The dotted prefix (``pkg.mod.``) that most names start with; empty unless two do."""
    counts = Counter(name.rsplit(".", 1)[0] + "." for name in names if "." in name.strip("."))
    if not counts:
        return ""
    prefix, count = counts.most_common(1)[0]
    return prefix if count > 1 else ""


def _header(layout: TraceLayout, prefix: str, width: int) -> list[Text]:
    """The trace's summary, its parts joined by `` · `` on as many lines as ``width`` needs."""
    from rich.text import Text

    parts = [
        (f"trace {layout.trace_id}", "bold"),
        (format_seconds(layout.duration / 1e9), ""),
        (f"{len(layout.rows)} spans", ""),
    ]
    if layout.errors:
        parts.append((f"{layout.errors} with errors", "red"))
    parts.append((", ".join(layout.services), ""))
    if prefix:
        parts.append((f"names without {prefix}", "dim"))
    lines = [Text()]
    for text, style in parts:
        if lines[-1].plain and len(lines[-1].plain) + 3 + len(text) > width:
            lines.append(Text())
        elif lines[-1].plain:
            lines[-1].append(" · ")
        lines[-1].append(text, style=style)
    return lines


def print_tree(layout: TraceLayout, console: Console, *, limit: int = 200) -> None:
    """Print ``layout`` as a waterfall, at most ``limit`` spans (then a line saying so)."""
    from rich.text import Text

    width = max(40, console.width)
    bar_width = max(10, (width - _DURATION) * 2 // 5)
    name_width = width - bar_width - _DURATION - 2
    total = layout.duration or 1
    prefix = _shared_module([span.name for span, _ in layout.rows])
    for line in _header(layout, prefix, width):
        console.print(line, highlight=False)
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
        name = span.name.removeprefix(prefix)
        line.append(_fit(name, name_width - len(guide) - len(mark)), style=style)
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
