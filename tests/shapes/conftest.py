"""Fixtures of the decorator-shape battery."""

from __future__ import annotations

import pytest


@pytest.fixture
def cache_name(request: pytest.FixtureRequest) -> str:
    """A cache name of this test's own, so that its metric series holds only its lookups.

    The default name, ``module.Qualname``, is shared by every build of a shape, and the
    series of caches sharing a name is their sum: a cache of an earlier test collected
    meanwhile would take its counts out of this test's readings.
    """
    return f"shapes:{request.node.nodeid}"
