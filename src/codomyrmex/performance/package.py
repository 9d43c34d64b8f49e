"""The libraries :class:`PerformanceInstrumentor` instruments, in the contrib layout.

opentelemetry-python-contrib instrumentations list them in ``_instruments`` and declare
the same requirements as their ``instruments`` extra, which the agent checks before it
loads an instrumentor. This one instruments code named at run time, not a library, so
both are empty: no installed library version can keep it from loading.
"""

from __future__ import annotations

_instruments: tuple[str, ...] = ()
