"""Fixtures of the view tests: a demo run's telemetry and a headless Chromium page.

``browser`` launches Debian's chromium once per session (``harness.browser``);
``offline_page`` is a fresh page that records every request it attempts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.browser import CHROMIUM, CHROMIUM_ARGS, OfflinePage, open_offline_page
from harness.perf_command import perf


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The telemetry directory of one ``codomyrmex-perf demo`` run."""
    directory = tmp_path_factory.mktemp("demo") / "telemetry"
    result = perf("demo", env={"CODOMYRMEX_PERF_TELEMETRY_DIR": str(directory)})
    assert result.returncode == 0, result.stderr
    return directory


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"the browser tests drive Debian's chromium at {CHROMIUM}; install it (README, Quick "
            "start): SUDO=$(command -v sudo); $SUDO apt-get update && "
            "$SUDO apt-get install -y redis-server chromium",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def offline_page(browser: Any) -> Iterator[OfflinePage]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    yield open_offline_page(context)
    context.close()
