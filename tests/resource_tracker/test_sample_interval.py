"""``sample_interval`` bounds, and a shared sampler thread that no interval or wait can kill."""

from __future__ import annotations

import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codomyrmex.performance.resource_tracker import (
    MAX_SAMPLE_INTERVAL,
    MIN_SAMPLE_INTERVAL,
    ResourceTracker,
)
from codomyrmex.performance.resource_tracker._sampler import sampler

SAMPLER_THREAD = "codomyrmex-resource-sampler"


def sampled_while_sleeping(seconds: float = 0.1) -> int:
    with ResourceTracker(sample_interval=0.01) as tracker:
        time.sleep(seconds)
    assert tracker.usage is not None
    return tracker.usage.samples


@given(st.floats(min_value=MIN_SAMPLE_INTERVAL, max_value=MAX_SAMPLE_INTERVAL))
def test_every_interval_in_bounds_is_accepted(interval: float) -> None:
    assert ResourceTracker(sample_interval=interval).sample_interval == interval


@given(
    st.one_of(
        st.floats(max_value=MIN_SAMPLE_INTERVAL, exclude_max=True),
        st.floats(min_value=MAX_SAMPLE_INTERVAL, exclude_min=True),
        st.just(float("nan")),
        st.integers(min_value=3601),
        st.integers(max_value=0),
    )
)
def test_intervals_out_of_bounds_are_a_value_error(interval: float) -> None:
    with pytest.raises(ValueError, match=r"sample_interval must be between 0\.001 and 3600"):
        ResourceTracker(sample_interval=interval)


@pytest.mark.parametrize("interval", [1e10, 1e-300, 10**400])
def test_the_intervals_that_killed_or_spun_the_sampler_are_refused(interval: float) -> None:
    with pytest.raises(ValueError, match="sample_interval"):
        ResourceTracker(sample_interval=interval)
    assert sampled_while_sleeping() >= 4


def test_the_sampler_survives_a_failing_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    real_wait = sampler._cond.wait
    failures = []

    def wait_failing_once_in_the_sampler(timeout: float | None = None) -> bool:
        if threading.current_thread().name == SAMPLER_THREAD and not failures:
            failures.append(timeout)
            raise OverflowError("timeout value is too large")
        return real_wait(timeout)

    monkeypatch.setattr(sampler._cond, "wait", wait_failing_once_in_the_sampler)
    assert sampled_while_sleeping(0.3) >= 4
    assert len(failures) == 1
    monkeypatch.undo()
    assert sampled_while_sleeping() >= 4


def test_a_sampler_thread_that_ends_early_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(type(sampler), "_round", lambda self: False)
    with ResourceTracker(sample_interval=0.01):
        time.sleep(0.05)
    monkeypatch.undo()
    assert sampled_while_sleeping() >= 4
