"""The OTLP-JSON reader: collector ``file`` exporter lines, ids, bad lines, streams, filters."""

from __future__ import annotations

import base64
import json
import math
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codomyrmex.performance import semconv
from codomyrmex.performance.view import find_trace, parse_since, read_telemetry, render_page
from codomyrmex.performance.view._summary import (
    bucket_quantile,
    cache_rows,
    function_rows,
    lay_out_traces,
)

TRACE = "5b8efff798038103d269b633813fc60c"
BOUNDS = [0.001, 0.01, 0.1]


def attr(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    return {"key": key, "value": {"stringValue": value}}


def span(span_id: str, name: str, start: int, end: int, parent: str = "", **extra: Any) -> dict:
    document = {
        "traceId": TRACE,
        "spanId": span_id,
        "parentSpanId": parent,
        "name": name,
        "kind": 1,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(end),
        "attributes": [],
        "status": {},
    }
    document.update(extra)
    return document


def traces_line(service: str, *spans: dict) -> str:
    return json.dumps(
        {
            "resourceSpans": [
                {
                    "resource": {"attributes": [attr("service.name", service)]},
                    "scopeSpans": [{"scope": {"name": "test"}, "spans": list(spans)}],
                }
            ]
        }
    )


def histogram_line(
    service: str,
    points: list[dict[str, Any]],
    *,
    name: str = semconv.FUNCTION_DURATION,
    temporality: int = 2,
    instance: str = "a",
) -> str:
    return json.dumps(
        {
            "resourceMetrics": [
                {
                    "resource": {
                        "attributes": [
                            attr("service.name", service),
                            attr("service.instance.id", instance),
                        ]
                    },
                    "scopeMetrics": [
                        {
                            "metrics": [
                                {
                                    "name": name,
                                    "histogram": {
                                        "dataPoints": points,
                                        "aggregationTemporality": temporality,
                                    },
                                }
                            ]
                        }
                    ],
                }
            ]
        }
    )


def point(function: str, counts: list[int], time: int, **extra: Any) -> dict[str, Any]:
    return {
        "attributes": [attr(semconv.CODE_FUNCTION_NAME, function)],
        "startTimeUnixNano": "1",
        "timeUnixNano": str(time),
        "count": str(sum(counts)),
        "sum": 0.5,
        "bucketCounts": [str(c) for c in counts],
        "explicitBounds": BOUNDS,
        **extra,
    }


def test_collector_file_exporter_lines_with_mixed_services(tmp_path: Path) -> None:
    error = {"code": 2, "message": "boom"}
    (tmp_path / "otel.json").write_text(
        traces_line(
            "checkout",
            span("00f067aa0ba902b7", "GET /cart", 1_000, 9_000, attributes=[attr("n", 3)]),
            span("b9c7c989f97918e1", "db", 2_000, 5_000, parent="00f067aa0ba902b7", status=error),
        )
        + "\n"
        + traces_line("billing", span("1111111111111111", "charge", 3_000, 4_000))
        + "\n",
        encoding="utf-8",
    )
    telemetry = read_telemetry(tmp_path)
    assert telemetry.problems == []
    assert telemetry.services == ["billing", "checkout"]
    root, child, other = telemetry.spans
    assert (root.trace_id, root.span_id, root.parent_id) == (TRACE, "00f067aa0ba902b7", "")
    assert (root.kind, root.duration, root.attributes) == ("INTERNAL", 8_000, {"n": 3})
    assert (child.parent_id, child.error, child.status_message) == (root.span_id, True, "boom")
    assert other.service == "billing"
    only = read_telemetry(tmp_path, service="billing")
    assert [s.name for s in only.spans] == ["charge"]
    recent = read_telemetry(tmp_path, since_ns=6_000)
    assert [s.name for s in recent.spans] == ["GET /cart"]


def test_base64_ids_of_protobufs_json_mapping_are_read_as_hex(tmp_path: Path) -> None:
    encoded = span(
        base64.b64encode(bytes.fromhex("00f067aa0ba902b7")).decode(), "x", 1, 2,
        traceId=base64.b64encode(bytes.fromhex(TRACE)).decode(),
    )  # fmt: skip
    (tmp_path / "traces.jsonl").write_text(traces_line("s", encoded) + "\n", encoding="utf-8")
    (found,) = read_telemetry(tmp_path).spans
    assert (found.trace_id, found.span_id) == (TRACE, "00f067aa0ba902b7")


def test_a_truncated_last_line_costs_only_that_line(tmp_path: Path) -> None:
    good = traces_line("s", span("00f067aa0ba902b7", "kept", 1, 2))
    cut = traces_line("s", span("1111111111111111", "lost", 1, 2))[:70]
    path = tmp_path / "traces.jsonl"
    path.write_text(good + "\n" + cut, encoding="utf-8")
    telemetry = read_telemetry(tmp_path)
    assert [s.name for s in telemetry.spans] == ["kept"]
    assert telemetry.problems == [
        f"{path}:2: the last line is cut short (the exporter stopped mid-write): skipped"
    ]


def test_files_that_are_not_otlp_json_are_named_and_the_rest_is_read(tmp_path: Path) -> None:
    (tmp_path / "traces.jsonl").write_text(
        traces_line("s", span("00f067aa0ba902b7", "kept", 1, 2)) + "\n", encoding="utf-8"
    )
    (tmp_path / "notes.json").write_text('{"name": "not telemetry"}\n', encoding="utf-8")
    (tmp_path / "binary.json").write_bytes(b"\x00\xff\xfe garbage\n")
    (tmp_path / "metrics.jsonl").write_text(
        "[1, 2]\n" + '{"resourceMetrics": [{"scopeMetrics": 5}]}\n', encoding="utf-8"
    )
    os.mkfifo(tmp_path / "pipe.jsonl")
    telemetry = read_telemetry(tmp_path)
    assert [s.name for s in telemetry.spans] == ["kept"]
    assert sorted(p.split(":")[0] for p in telemetry.problems) == sorted(
        str(tmp_path / name) for name in ("binary.json", "metrics.jsonl", "notes.json")
    )
    assert all("not OTLP-JSON, file skipped" in p for p in telemetry.problems)
    assert not any("pipe" in str(path) for path in telemetry.files)


def test_a_special_file_given_as_the_source_is_not_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    telemetry = read_telemetry(tmp_path / "pipe")
    assert telemetry.empty
    assert telemetry.problems == [f"{tmp_path / 'pipe'}: not a regular file, skipped"]
    with pytest.raises(FileNotFoundError):
        read_telemetry(tmp_path / "missing")


def test_rotated_backups_are_read_and_a_span_exported_twice_counts_once(tmp_path: Path) -> None:
    first = span("00f067aa0ba902b7", "root", 1, 10)
    second = span("1111111111111111", "child", 2, 3, parent="00f067aa0ba902b7")
    (tmp_path / "traces.jsonl.2").write_text(traces_line("s", first) + "\n", encoding="utf-8")
    (tmp_path / "traces.jsonl.1").write_text(traces_line("s", second) + "\n", encoding="utf-8")
    (tmp_path / "traces.jsonl").write_text(traces_line("s", second) + "\n", encoding="utf-8")
    (tmp_path / ".traces.jsonl.123.tmp").write_text("partial", encoding="utf-8")
    telemetry = read_telemetry(tmp_path)
    assert [p.name for p in telemetry.files] == ["traces.jsonl.2", "traces.jsonl.1", "traces.jsonl"]
    (layout,) = lay_out_traces(telemetry.spans)
    assert [(s.name, depth) for s, depth in layout.rows] == [("root", 0), ("child", 1)]


def test_orphans_and_parent_cycles_still_lay_out_every_span_once(tmp_path: Path) -> None:
    spans = [
        span("aaaaaaaaaaaaaaaa", "orphan", 5, 6, parent="ffffffffffffffff"),
        span("bbbbbbbbbbbbbbbb", "cycle-1", 1, 2, parent="cccccccccccccccc"),
        span("cccccccccccccccc", "cycle-2", 1, 2, parent="bbbbbbbbbbbbbbbb"),
        span("dddddddddddddddd", "self", 3, 4, parent="dddddddddddddddd"),
    ]
    (tmp_path / "t.json").write_text(traces_line("s", *spans) + "\n", encoding="utf-8")
    (layout,) = lay_out_traces(read_telemetry(tmp_path).spans)
    assert sorted(s.name for s, _ in layout.rows) == ["cycle-1", "cycle-2", "orphan", "self"]


def test_cumulative_streams_keep_their_latest_point_and_instances_add_up(tmp_path: Path) -> None:
    exemplar = {
        "asDouble": 0.05,
        "timeUnixNano": "5",
        "traceId": TRACE,
        "spanId": "00f067aa0ba902b7",
    }
    lines = [
        histogram_line("s", [point("f", [1, 0, 0, 0], 10)]),
        histogram_line("s", [point("f", [1, 2, 0, 0], 20, exemplars=[exemplar])]),
        histogram_line("s", [point("f", [0, 0, 4, 0], 15, min=0.02, max=0.09)], instance="b"),
        histogram_line(
            "s",
            [
                point(
                    "f",
                    [0, 0, 1, 0],
                    15,
                    attributes=[
                        attr(semconv.CODE_FUNCTION_NAME, "f"),
                        attr(semconv.ERROR_TYPE, "ValueError"),
                    ],
                )
            ],
        ),
    ]
    (tmp_path / "metrics.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (row,) = function_rows(read_telemetry(tmp_path).histograms)
    assert (row.name, row.count, row.errors, row.counts) == ("f", 8, 1, [1, 2, 5, 0])
    assert [(e.trace_id, e.value) for e in row.exemplars] == [(TRACE, 0.05)]


def test_delta_streams_add_up(tmp_path: Path) -> None:
    lines = [
        histogram_line("s", [point("f", [1, 0, 0, 0], 10)], temporality=1),
        histogram_line("s", [point("f", [0, 3, 0, 0], 20)], temporality=1),
    ]
    (tmp_path / "metrics.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (row,) = function_rows(read_telemetry(tmp_path).histograms)
    assert (row.count, row.counts) == (4, [1, 3, 0, 0])


def test_bucket_quantiles_interpolate_within_the_bucket_and_respect_min_max() -> None:
    assert bucket_quantile(BOUNDS, [0, 10, 0, 0], 0.5) == pytest.approx(0.0055)
    assert bucket_quantile(BOUNDS, [0, 10, 0, 0], 0.5, minimum=0.004, maximum=0.006) == (
        pytest.approx(0.005)
    )
    assert bucket_quantile(BOUNDS, [0, 0, 0, 2], 0.99, maximum=7.0) == pytest.approx(
        0.1 + 6.9 * 0.99
    )
    assert math.isnan(bucket_quantile(BOUNDS, [0, 0, 0, 0], 0.5))


def test_cache_hit_rates_over_time_from_cumulative_counters(tmp_path: Path) -> None:
    def requests(time: int, hits: int, misses: int) -> str:
        points = [
            {
                "attributes": [attr(semconv.CACHE_NAME, "c"), attr(semconv.CACHE_RESULT, result)],
                "startTimeUnixNano": "1",
                "timeUnixNano": str(time),
                "asInt": str(value),
            }
            for result, value in (("hit", hits), ("miss", misses))
        ]
        metric = {
            "name": semconv.CACHE_REQUESTS,
            "sum": {"dataPoints": points, "aggregationTemporality": 2, "isMonotonic": True},
        }
        return json.dumps({"resourceMetrics": [{"scopeMetrics": [{"metrics": [metric]}]}]})

    (tmp_path / "metrics.jsonl").write_text(
        requests(10, 1, 3) + "\n" + requests(20, 6, 4) + "\n", encoding="utf-8"
    )
    (row,) = cache_rows(read_telemetry(tmp_path).points)
    assert (row.name, row.hits, row.misses, row.hit_rate) == ("c", 6, 4, 0.6)
    assert row.times == [10, 20]
    assert row.hit_rates == [0.25, 0.6]


def test_text_from_the_telemetry_cannot_break_out_of_the_page(tmp_path: Path) -> None:
    evil = "</script><script>alert(1)</script><img src=x>"
    (tmp_path / "t.json").write_text(
        traces_line(evil, span("00f067aa0ba902b7", evil, 1, 2, attributes=[attr(evil, evil)]))
        + "\n",
        encoding="utf-8",
    )
    page = render_page(read_telemetry(tmp_path))
    assert evil not in page
    assert page.count("</script>") == 2  # the data block and the page script


def test_find_trace_by_id_prefix(tmp_path: Path) -> None:
    lines = [
        traces_line("s", span("00f067aa0ba902b7", "short", 1, 2, traceId="ab" + "0" * 30)),
        traces_line("s", span("1111111111111111", "long", 1, 9, traceId="ab" + "1" * 30)),
    ]
    (tmp_path / "t.json").write_text("\n".join(lines) + "\n", encoding="utf-8")
    telemetry = read_telemetry(tmp_path)
    assert find_trace(telemetry).root.name == "long"  # type: ignore[union-attr]
    assert find_trace(telemetry, "AB0").root.name == "short"  # type: ignore[union-attr]
    assert find_trace(telemetry, "cd") is None
    with pytest.raises(ValueError, match="2 traces start with 'ab'"):
        find_trace(telemetry, "ab")
    assert find_trace(read_telemetry(tmp_path / "t.json", service="other")) is None


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("90s", 90), ("15m", 900), ("2h", 7200), ("1.5d", 129600)]
)
def test_parse_since(text: str, seconds: float) -> None:
    assert parse_since(text) == seconds


@pytest.mark.parametrize("text", ["", "-5m", "5 minutes", "1e3s", "nan", "5w"])
def test_parse_since_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_since(text)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.one_of(st.text(), st.binary().map(lambda b: b.decode("latin-1"))), max_size=5))
def test_any_lines_are_read_or_reported_never_raised(tmp_path: Path, lines: list[str]) -> None:
    path = tmp_path / "fuzz.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
    telemetry = read_telemetry(path)
    assert telemetry.files == [path]
    render_page(telemetry)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
KEYS = st.sampled_from(["resourceSpans", "resourceMetrics", "scopeSpans", "spans", "traceId"])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.dictionaries(KEYS, JSON, max_size=3), max_size=4))
def test_any_json_documents_are_read_or_reported_never_raised(
    tmp_path: Path, documents: list[dict[str, Any]]
) -> None:
    path = tmp_path / "fuzz.json"
    path.write_text("\n".join(json.dumps(d) for d in documents), encoding="utf-8")
    render_page(read_telemetry(path))


def test_benchmark_runs_show_their_verdicts_and_link_their_spans(tmp_path: Path) -> None:
    prefix = semconv.BENCHMARK_PREFIX
    root = span(
        "aaaaaaaaaaaaaaaa", "benchmark parsing", 1, 100,
        attributes=[attr(semconv.BENCHMARK_SUITE, "parsing"), attr(prefix + "commit", "c0ffee")],
    )  # fmt: skip
    child = span(
        "bbbbbbbbbbbbbbbb", "benchmark parsing.small", 2, 50, parent="aaaaaaaaaaaaaaaa",
        attributes=[
            attr(semconv.BENCHMARK_NAME, "small"), attr(semconv.BENCHMARK_SUITE, "parsing"),
            attr(prefix + "median", 0.002), attr(prefix + "ratio", 1.25),
            attr(prefix + "ci_low", 1.1), attr(prefix + "ci_high", 1.4),
            attr(prefix + "verdict", "regression"),
        ],
    )  # fmt: skip
    (tmp_path / "t.json").write_text(traces_line("bench", root, child) + "\n", encoding="utf-8")
    page = render_page(read_telemetry(tmp_path))
    section = page.split('<section id="benchmarks">', 1)[1].split("</section>", 1)[0]
    assert f'href="#trace={TRACE}&amp;span=bbbbbbbbbbbbbbbb">small</a>' in section
    assert "1.250 [1.100, 1.400]" in section
    assert '<span class="verdict regression">regression</span>' in section
    assert "commit <code>c0ffee</code>" in section
    assert 'aria-label="ratios of parsing against its baseline"' in section
