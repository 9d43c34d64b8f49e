"""Debian's headless Chromium driven by Playwright for Python, with every request recorded.

No browser is downloaded: Playwright launches ``/usr/bin/chromium`` (``.ci/run`` installs
it). :class:`OfflinePage` records each request a page attempts (``file://`` ones are
served, any other is aborted) and each fetch its Content-Security-Policy refused, so a
test can assert that a page opened from disk tried to reach nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "OfflinePage", "open_offline_page"]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: A directory to keep the screenshots in: the README's come from
#: ``UPDATE_SCREENSHOTS=docs python -m pytest tests/view``.
SCREENSHOTS = os.environ.get("UPDATE_SCREENSHOTS")

_RECORD_VIOLATIONS = (
    "window.__violations = [];"
    "document.addEventListener('securitypolicyviolation',"
    " (event) => window.__violations.push(event.blockedURI));"
)


@dataclass
class OfflinePage:
    """A browser page, the requests it attempted and the script errors it raised."""

    page: Any
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def open(self, path: Path, fragment: str = "") -> None:
        self.page.goto(path.resolve().as_uri() + fragment)
        self.page.wait_for_load_state("load")

    @property
    def blocked(self) -> list[str]:
        """What the page's Content-Security-Policy refused to fetch."""
        found: list[str] = self.page.evaluate("window.__violations")
        return found

    def screenshot(self, name: str, directory: Path, *, width: float | None = None) -> bytes:
        """A PNG of the viewport (its left ``width`` pixels if given) in ``directory``, and
        in ``$UPDATE_SCREENSHOTS`` when that is set."""
        viewport = self.page.viewport_size
        clip = None
        if width is not None:
            clip = {"x": 0, "y": 0, "width": width, "height": viewport["height"]}
        image: bytes = self.page.screenshot(clip=clip)
        (directory / name).write_bytes(image)
        if SCREENSHOTS:
            Path(SCREENSHOTS).mkdir(exist_ok=True)
            (Path(SCREENSHOTS) / name).write_bytes(image)
        return image


def open_offline_page(context: Any) -> OfflinePage:
    """A new page of ``context`` recording requests; non-``file://`` ones are aborted."""

    def route(route: Any) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    recorder = OfflinePage(page)
    page.on("request", lambda request: recorder.requests.append(request.url))
    page.on("pageerror", lambda error: recorder.errors.append(str(error)))
    page.add_init_script(_RECORD_VIOLATIONS)
    return recorder
