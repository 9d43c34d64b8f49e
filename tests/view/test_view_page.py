"""The page of a demo run in a real headless Chromium, opened from ``file://`` offline."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from harness.browser import OfflinePage
from harness.images import png_size, png_variety
from harness.perf_command import perf

DEMO = "codomyrmex.performance.cli._workload"
DEMO_FUNCTIONS = {
    f"{DEMO}.{name}"
    for name in (
        "parse_order", "load_batch", "fetch_exchange_rate", "price_orders", "charge_card",
        "receipt_lines", "build_sales_index", "lookup_price", "save_receipts", "checkout",
    )
} | {"demo.workload"}  # fmt: skip


@pytest.fixture(scope="module")
def demo_page(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("page") / "view.html"
    # A relative directory, so that the page (and its screenshot) names no machine path.
    result = perf("view", demo_dir.name, "-o", str(output), cwd=demo_dir.parent)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith(f"wrote {output} (1 trace, ")
    return output


def raw_spans(directory: Path) -> list[dict[str, Any]]:
    spans = []
    for line in (directory / "traces.jsonl").read_text(encoding="utf-8").splitlines():
        for resource in json.loads(line)["resourceSpans"]:
            for scope in resource["scopeSpans"]:
                spans.extend(scope["spans"])
    return spans


def expected_order(spans: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """(span id, depth) depth-first, children by start time: how a waterfall nests."""
    children: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for span in spans:
        children[span.get("parentSpanId", "")].append(span)
    order: list[tuple[str, int]] = []

    def visit(parent: str, depth: int) -> None:
        for child in sorted(children[parent], key=lambda s: int(s["startTimeUnixNano"])):
            order.append((child["spanId"], depth))
            visit(child["spanId"], depth + 1)

    visit("", 0)
    return order


def assert_offline(view: OfflinePage, path: Path) -> None:
    assert view.requests == [path.resolve().as_uri()]
    assert view.blocked == []
    assert view.errors == []


def test_the_index_loads_offline_and_lists_the_demo_functions(
    demo_page: Path, offline_page: OfflinePage, tmp_path: Path
) -> None:
    offline_page.open(demo_page)
    page = offline_page.page
    listed = page.locator("#function-table tbody tr td:first-child").all_inner_texts()
    assert set(listed) == DEMO_FUNCTIONS
    charge = page.locator("#function-table tbody tr", has_text=f"{DEMO}.charge_card")
    assert charge.locator("td").nth(1).inner_text() == "80"
    assert charge.locator("td").nth(2).inner_text() == "1"
    assert page.locator("#slowest-traces tbody tr").count() == 1
    assert page.locator("#error-traces tbody tr").count() == 1
    assert page.locator("#all-traces-body tr").count() == 1
    caches = page.locator("#cache-table tbody td.mono").all_inner_texts()
    assert caches == ["demo.catalog", "demo.exchange_rates"]
    assert page.locator("#import-table tbody td.mono").all_inner_texts() == ["sqlite3", "difflib"]
    image = offline_page.screenshot("view-index.png", tmp_path)
    assert png_size(image) == (1280, 860)
    assert png_variety(image) > 100
    assert_offline(offline_page, demo_page)


def test_a_trace_opens_as_a_waterfall_nested_in_order(
    demo_page: Path, demo_dir: Path, offline_page: OfflinePage, tmp_path: Path
) -> None:
    offline_page.open(demo_page)
    page = offline_page.page
    page.locator("#slowest-traces a", has_text="demo.workload").click()
    rows = page.locator("#waterfall-rows .wf-row")
    rows.first.wait_for()
    assert page.locator("#index").is_hidden()
    shown = page.eval_on_selector_all(
        "#waterfall-rows .wf-row", "rows => rows.map(r => [r.dataset.span, +r.dataset.depth])"
    )
    assert [tuple(row) for row in shown] == expected_order(raw_spans(demo_dir))
    assert rows.first.inner_text().startswith("demo.workload")
    failed = page.locator("#waterfall-rows .wf-row.error")
    assert failed.count() == 1
    assert failed.inner_text().startswith(f"{DEMO}.charge_card")
    failed.click()
    details = page.locator("#span-details")
    assert "ERROR" in details.inner_text()
    assert "card declined for order 13" in details.inner_text()
    # Without the details pane: its attributes show where the demo's files are installed.
    pane = page.locator("#span-details").bounding_box()
    assert pane is not None
    image = offline_page.screenshot("view-waterfall.png", tmp_path, width=pane["x"] - 8)
    assert png_variety(image) > 100
    details.locator("a", has_text=f"{DEMO}.charge_card").click()
    page.locator("#index").wait_for(state="visible")  # the page routes on hashchange
    assert_offline(offline_page, demo_page)


def test_an_exemplar_opens_its_trace_at_its_span(
    demo_page: Path, offline_page: OfflinePage
) -> None:
    offline_page.open(demo_page)
    page = offline_page.page
    card = page.locator(".card", has_text=f"{DEMO}.parse_order").first
    link = card.locator("a.exemplar-link").first
    href = link.get_attribute("href")
    assert href is not None
    span_id = href.rsplit("span=", 1)[1]
    link.click()
    selected = page.locator("#waterfall-rows .wf-row.selected")
    selected.wait_for()
    assert selected.get_attribute("data-span") == span_id
    assert selected.inner_text().startswith(f"{DEMO}.parse_order")
    assert span_id in page.locator("#span-details").inner_text()
    page.go_back()
    page.locator("#index").wait_for(state="visible")  # the page routes on hashchange
    assert page.locator("#trace-view").is_hidden()
    assert_offline(offline_page, demo_page)
