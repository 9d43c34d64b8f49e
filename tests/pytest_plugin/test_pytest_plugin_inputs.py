"""Any marker argument or option text: a clear error or a usable value, never anything else."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codomyrmex.performance.pytest_plugin import _settings

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=8),
    st.lists(st.integers(), max_size=2),
)
KEYS = st.sampled_from(["group", "min_rounds", "min_time", "max_time", "warmup", "timer",
                        "disable_gc", "calibration_precision", "rounds"])  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(KEYS, VALUES, max_size=4), st.lists(VALUES, max_size=1))
def test_marker_arguments(kwargs: dict[str, Any], args: list[Any]) -> None:
    mark = pytest.mark.benchmark(*args, **kwargs).mark
    try:
        tuning, group, ignored = _settings.tuning_from_marker(_settings.Tuning(), mark)
    except (TypeError, ValueError) as exc:
        assert str(exc)
        return
    assert not args and "rounds" not in kwargs
    for seconds in (tuning.min_time, tuning.max_time):
        assert seconds is None or (math.isfinite(seconds) and 0 < seconds <= 3600)
    assert tuning.min_rounds is None or 1 <= tuning.min_rounds <= 10_000
    assert tuning.timer in ("wall", "cpu") and isinstance(group, (str, type(None)))
    assert set(ignored) <= {"calibration_precision", "timer"}


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=12))
def test_option_text(text: str) -> None:
    for parse in (
        lambda: _settings._seconds(text, "--benchmark-min-time"),
        lambda: _settings._count(text, "--benchmark-min-rounds", low=1),
        lambda: _settings._compare_fail([text]),
        lambda: _settings._warmup(text, None),
    ):
        try:
            parsed = parse()
        except pytest.UsageError as exc:
            assert str(exc).startswith("--benchmark-")
            continue
        assert parsed is not None
