"""run_benchmark's options are checked before anything runs: a ValueError naming the option."""

from __future__ import annotations

import math
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codomyrmex.performance import run_benchmark


def _never_called() -> None:
    raise AssertionError("a benchmark ran although its options were rejected")


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("min_time", math.nan),
        ("min_time", math.inf),
        ("min_time", -1.0),
        ("min_time", 1e9),
        ("rounds", 2.5),
        ("rounds", 10**12),
        ("alpha", 5),
        ("alpha", 0),
        ("alpha", math.nan),
        ("resamples", -5),
        ("resamples", 10**12),
        ("loops", 10**18),
        ("loops", 0),
        ("warmup", 10**12),
        ("warmup", -1),
        ("processes", 10**18),
        ("noise_floor", math.inf),
        ("noise_floor", 0.5),
        ("min_effect_abs", math.inf),
        ("min_effect", math.nan),
        ("seed", 1.5),
        ("timer", "gpu"),
    ],
)
def test_bad_values_are_a_value_error_naming_the_option(option: str, value: Any) -> None:
    started = time.perf_counter()
    with pytest.raises(ValueError, match=option):
        run_benchmark(_never_called, **{option: value})
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("rounds", "10"),
        ("rounds", True),
        ("min_time", "0.01"),
        ("alpha", None),
        ("disable_gc", "yes"),
        ("memory", 1),
        ("progress", 3),
        ("loops", [1]),
    ],
)
def test_wrong_types_are_a_type_error_naming_the_option(option: str, value: Any) -> None:
    with pytest.raises(TypeError, match=option):
        run_benchmark(_never_called, **{option: value})


_INTEGER_OPTIONS = ("rounds", "warmup", "resamples")  # loops, processes: long when valid
_NUMBER_OPTIONS = ("min_time", "alpha", "noise_floor", "min_effect", "min_effect_abs")
_ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
)


@settings(max_examples=150, deadline=None)
@given(option=st.sampled_from(_INTEGER_OPTIONS + _NUMBER_OPTIONS), value=_ANYTHING)
def test_any_value_is_accepted_quickly_or_refused_naming_the_option(
    option: str, value: Any
) -> None:
    calls = 0

    def cheap() -> None:
        nonlocal calls
        calls += 1

    quick: dict[str, Any] = {"rounds": 2, "warmup": 0, "loops": 1, "resamples": 100}
    quick[option] = value
    try:
        run_benchmark(cheap, **quick)
    except (TypeError, ValueError) as exc:
        assert option in str(exc)
        assert calls == 0
