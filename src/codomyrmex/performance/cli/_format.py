"""How every report of the command line fits its output: one console width, one table layout.

On a terminal a report is as wide as the terminal; written to a pipe or a file (CI logs,
captured output) it is :data:`LOG_WIDTH` wide whatever ``$COLUMNS`` says, so no cell is
ever cut. A table (:func:`print_table`) has the name of each row in its first column and
is printed in the layout that takes the fewest lines among those that fit with that
column at least :data:`NAME_MIN_WIDTH` wide: one line per row, or layouts that stack
related cells in one column (each table lists its own). A name longer than its column
folds onto the next line; it is never truncated. Durations are written by
:func:`~codomyrmex.performance._shared.units.format_seconds`.

Only this module's functions need rich (the ``cli`` extra); they import it when called.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

__all__ = ["LOG_WIDTH", "NAME_MIN_WIDTH", "Column", "console", "print_table"]

#: Width of output that is not a terminal: wide enough that nothing is ever folded.
LOG_WIDTH = 1 << 16

#: Narrowest the name column of a table gets before a narrower layout is chosen.
NAME_MIN_WIDTH = 16


def console(*, stderr: bool = False) -> Console:
    """A rich console on stdout (or stderr): the terminal's width, else :data:`LOG_WIDTH`."""
    from rich.console import Console

    found = Console(stderr=stderr)
    if not found.is_terminal:
        return Console(stderr=stderr, width=LOG_WIDTH)
    return found


@dataclass(frozen=True)
class Column:
    """One column of a table: its header and how its cells align."""

    header: str
    justify: Literal["left", "right"] = "right"


#: A layout: groups of column indexes, each group stacked into one printed column.
Layout = Sequence[Sequence[int]]


def print_table(
    out: Console,
    title: str,
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    stacked: Sequence[Layout] = (),
) -> None:
    """Print ``rows`` (cells in rich markup, one per column) in the layout that reads best.

    The first column holds the row's name. The layouts are one column per column, then
    each of ``stacked`` (narrowest last): of those that fit with the names at least
    :data:`NAME_MIN_WIDTH` wide, the one that takes the fewest lines (the first on a
    tie); the narrowest when none fits.
    """
    from rich.markup import escape

    layouts: list[Layout] = [[(index,) for index in range(len(columns))], *stacked]
    fitting = [layout for layout in layouts if _width(out, columns, rows, layout) <= out.width]
    tables = [_table(columns, rows, layout) for layout in fitting or layouts[-1:]]
    out.print(f"[bold]{escape(title)}[/bold]", highlight=False)
    out.print(min(tables, key=lambda table: len(out.render_lines(table, pad=False))))


def _width(
    out: Console, columns: Sequence[Column], rows: Sequence[Sequence[str]], layout: Layout
) -> int:
    """The width ``layout`` needs with every name cut to :data:`NAME_MIN_WIDTH`."""
    from rich.measure import Measurement
    from rich.text import Text

    def short(cell: str) -> str:
        longest = max((len(line) for line in Text.from_markup(cell).plain.split("\n")), default=0)
        return "x" * min(longest, NAME_MIN_WIDTH)

    probe = [[short(row[0]), *row[1:]] for row in rows]
    table = _table(columns, probe, layout)
    return Measurement.get(out, out.options.update_width(LOG_WIDTH), table).maximum


def _table(columns: Sequence[Column], rows: Sequence[Sequence[str]], layout: Layout) -> Table:
    from rich import box
    from rich.table import Table

    stacked = any(len(group) > 1 for group in layout)
    table = Table(
        box=box.MINIMAL,
        show_edge=False,
        pad_edge=False,
        show_lines=stacked,
    )
    for position, group in enumerate(layout):
        header = "\n".join(columns[index].header for index in group)
        if position == 0:
            table.add_column(header, overflow="fold", min_width=NAME_MIN_WIDTH)
        else:
            table.add_column(header, justify=columns[group[0]].justify, no_wrap=True)
    for row in rows:
        table.add_row(*("\n".join(row[index] for index in group) for group in layout))
    return table
