"""collector-config/ holds together: pipelines, ports, mounts, data sources and dashboard queries.

Docker is not needed: the files are checked structurally. Every component a pipeline
names is defined (and every defined one is used), the OTLP ports agree with the docs and
examples, each service's config file is mounted from a file that exists, each address
one service uses for another names a real service and the port that service listens on,
and each dashboard query names only the Prometheus spelling of metrics and attributes
that SPEC pins and the package's source really uses.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from harness.rotel_debug_log import prometheus_base_name

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "collector-config"
DASHBOARD = CONFIG / "grafana" / "dashboards" / "codomyrmex-performance.json"

#: The metrics SPEC pins: name, instrument kind, unit, attributes.
SPEC_METRICS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "codomyrmex.function.duration": ("histogram", "s", ("code.function.name", "error.type")),
    "codomyrmex.cache.requests": (
        "counter",
        "{request}",
        ("codomyrmex.cache.name", "codomyrmex.cache.result"),
    ),
    "codomyrmex.cache.evictions": (
        "counter",
        "{entry}",
        ("codomyrmex.cache.name", "codomyrmex.cache.reason"),
    ),
    "codomyrmex.cache.entries": ("gauge", "{entry}", ("codomyrmex.cache.name",)),
    "codomyrmex.import.duration": ("histogram", "s", ("codomyrmex.module.name", "error.type")),
    "codomyrmex.benchmark.duration": (
        "histogram",
        "s",
        ("codomyrmex.benchmark.name", "codomyrmex.benchmark.suite"),
    ),
}


def prometheus_series(name: str) -> set[str]:
    kind, unit, _ = SPEC_METRICS[name]
    base = prometheus_base_name(name, unit, counter=kind == "counter")
    if kind == "histogram":
        return {f"{base}_bucket", f"{base}_sum", f"{base}_count"}
    return {base}


def load_yaml(relative: str) -> Any:
    return yaml.safe_load((CONFIG / relative).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def collector() -> dict[str, Any]:
    return load_yaml("otelcol.yaml")  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_yaml("compose.yaml")  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def port_of(address: str) -> int:
    """The port of ``host:port`` or of a URL."""
    if "://" in address:
        port = urlsplit(address).port
        assert port is not None, address
        return port
    return int(address.rsplit(":", 1)[1])


def host_of(address: str) -> str:
    if "://" in address:
        return urlsplit(address).hostname or ""
    return address.rsplit(":", 1)[0]


def service_named(compose: dict[str, Any], image_prefix: str) -> tuple[str, dict[str, Any]]:
    found = [
        (name, service)
        for name, service in compose["services"].items()
        if service.get("image", "").startswith(image_prefix) and "entrypoint" not in service
    ]
    assert len(found) == 1, f"exactly one service runs {image_prefix}: {found}"
    return found[0]


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path -> host path of the service's bind mounts (relative to CONFIG)."""
    found: dict[str, str] = {}
    for volume in service.get("volumes", []):
        source, target, *_ = volume.split(":")
        found[target] = source
    return found


# --------------------------------------------------------------------------- collector


def test_every_pipeline_component_is_defined_and_every_defined_one_is_used(
    collector: dict[str, Any],
) -> None:
    used: dict[str, set[str]] = {"receivers": set(), "processors": set(), "exporters": set()}
    pipelines = collector["service"]["pipelines"]
    assert set(pipelines) == {"traces", "metrics"}
    for pipeline in pipelines.values():
        for section in used:
            names = pipeline.get(section, [])
            assert len(names) == len(set(names))
            used[section].update(names)
    for section, names in used.items():
        assert names == set(collector[section]), section
    assert set(collector["service"].get("extensions", [])) == set(collector.get("extensions", {}))


def test_pipelines_limit_memory_first_batch_and_send_where_the_docs_say(
    collector: dict[str, Any],
) -> None:
    for pipeline in collector["service"]["pipelines"].values():
        assert pipeline["receivers"] == ["otlp"]
        assert pipeline["processors"][0] == "memory_limiter"
        assert pipeline["processors"][-1] == "batch"
        assert "debug" in pipeline["exporters"]
    exporters = collector["exporters"]
    trace_hosts = {
        host_of(exporters[name]["endpoint"])
        for name in collector["service"]["pipelines"]["traces"]["exporters"]
        if name.split("/")[0] == "otlp"
    }
    assert trace_hosts == {"jaeger", "tempo"}
    assert "prometheus" in collector["service"]["pipelines"]["metrics"]["exporters"]
    limiter = collector["processors"]["memory_limiter"]
    assert limiter["check_interval"] and 0 < limiter["limit_percentage"] <= 90


def test_otlp_receiver_listens_on_4317_grpc_and_4318_http(
    collector: dict[str, Any], compose: dict[str, Any]
) -> None:
    protocols = collector["receivers"]["otlp"]["protocols"]
    assert port_of(protocols["grpc"]["endpoint"]) == 4317
    assert port_of(protocols["http"]["endpoint"]) == 4318
    assert host_of(protocols["grpc"]["endpoint"]) == "0.0.0.0"  # reachable from the host
    _, service = service_named(compose, "otel/opentelemetry-collector-contrib:")
    assert {"4317:4317", "4318:4318"} <= {str(port).split()[0] for port in service["ports"]}


def test_docs_and_examples_use_the_collector_ports() -> None:
    """Every ``localhost:43xx`` in the READMEs and examples is 4317 (gRPC) or 4318 (HTTP)."""
    texts = [CONFIG / "README.md", *sorted((ROOT / "examples").glob("**/*.py"))]
    if (ROOT / "README.md").exists():
        texts.append(ROOT / "README.md")
    seen: set[str] = set()
    for path in texts:
        for port in re.findall(r"(?:localhost|127\.0\.0\.1):(43\d\d)\b", path.read_text()):
            assert port in ("4317", "4318"), f"{path.name} uses port {port}"
            seen.add(port)
    assert seen == {"4317", "4318"}


# --------------------------------------------------------------------------- compose


def test_compose_runs_the_standard_images_pinned(compose: dict[str, Any]) -> None:
    images = {service["image"] for service in compose["services"].values()}
    for prefix in (
        "otel/opentelemetry-collector-contrib:",
        "jaegertracing/jaeger:2.",
        "grafana/tempo:",
        "prom/prometheus:",
        "grafana/grafana:",
    ):
        assert any(image.startswith(prefix) for image in images), prefix
    for image in images:
        tag = image.rsplit(":", 1)[1]
        assert tag != "latest" and re.match(r"v?\d+\.\d+\.\d+$", tag), image


def test_compose_mounts_files_that_exist_and_services_load_them(compose: dict[str, Any]) -> None:
    named_volumes = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        for target, source in mounts(service).items():
            if source.startswith("."):
                assert (CONFIG / source).exists(), f"{name}: {source} does not exist"
            else:
                assert source in named_volumes, f"{name}: volume {source} is not declared"
            assert target.startswith("/")
        for dependency in service.get("depends_on", []):
            assert dependency in compose["services"], f"{name} depends on {dependency}"
    for image_prefix, flag, config in (
        ("otel/opentelemetry-collector-contrib:", "--config=", "otelcol.yaml"),
        ("grafana/tempo:", "-config.file=", "tempo.yaml"),
        ("prom/prometheus:", "--config.file=", "prometheus.yaml"),
    ):
        _, service = service_named(compose, image_prefix)
        (argument,) = [arg for arg in service["command"] if arg.startswith(flag)]
        container_path = argument.removeprefix(flag)
        assert mounts(service)[container_path] == f"./{config}"


def test_services_reach_each_other_by_name_and_port(
    collector: dict[str, Any], compose: dict[str, Any]
) -> None:
    services = compose["services"]
    collector_name, _ = service_named(compose, "otel/opentelemetry-collector-contrib:")
    tempo_name, _ = service_named(compose, "grafana/tempo:")
    jaeger_name, _ = service_named(compose, "jaegertracing/jaeger:")
    prometheus_name, _ = service_named(compose, "prom/prometheus:")
    tempo = load_yaml("tempo.yaml")
    exporters = collector["exporters"]

    tempo_grpc = tempo["distributor"]["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"]
    assert exporters["otlp/tempo"]["endpoint"] == f"{tempo_name}:{port_of(tempo_grpc)}"
    assert exporters["otlp/jaeger"]["endpoint"] == f"{jaeger_name}:4317"  # Jaeger v2 default

    scrape = load_yaml("prometheus.yaml")["scrape_configs"]
    targets = [
        target for job in scrape for config in job["static_configs"] for target in config["targets"]
    ]
    prometheus_port = port_of(exporters["prometheus"]["endpoint"])
    assert targets == [f"{collector_name}:{prometheus_port}"]

    sources = load_yaml("grafana/provisioning/datasources/datasources.yaml")["datasources"]
    by_type = {source["type"]: source for source in sources}
    assert set(by_type) == {"prometheus", "tempo", "jaeger"}
    expected = {
        "prometheus": (prometheus_name, 9090),
        "tempo": (tempo_name, tempo["server"]["http_listen_port"]),
        "jaeger": (jaeger_name, 16686),
    }
    for kind, (host, port) in expected.items():
        url = by_type[kind]["url"]
        assert (host_of(url), port_of(url)) == (host, port), kind
        assert host in services
    uids = {source["uid"] for source in sources}
    for destination in by_type["prometheus"]["jsonData"]["exemplarTraceIdDestinations"]:
        assert destination["datasourceUid"] in uids


def test_grafana_provisions_the_dashboard_file(compose: dict[str, Any]) -> None:
    _, grafana = service_named(compose, "grafana/grafana:")
    grafana_mounts = mounts(grafana)
    assert (
        grafana_mounts["/etc/grafana/provisioning/datasources"]
        == "./grafana/provisioning/datasources"
    )
    assert (
        grafana_mounts["/etc/grafana/provisioning/dashboards"]
        == "./grafana/provisioning/dashboards"
    )
    (provider,) = load_yaml("grafana/provisioning/dashboards/dashboards.yaml")["providers"]
    dashboards_dir = grafana_mounts[provider["options"]["path"]]
    assert (CONFIG / dashboards_dir / DASHBOARD.name).is_file()


# --------------------------------------------------------------------------- dashboard


def queries(dashboard: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            if "expr" in target:
                found.append(target["expr"])
    return found


_PROMQL_WORDS = {
    "sum", "by", "rate", "increase", "histogram_quantile", "topk", "le", "job", "without",
}  # fmt: skip


def test_dashboard_queries_name_only_metrics_and_labels_the_package_emits(
    dashboard: dict[str, Any],
) -> None:
    series = set().union(*(prometheus_series(name) for name in SPEC_METRICS))
    labels = {
        attribute.replace(".", "_")
        for _, _, attributes in SPEC_METRICS.values()
        for attribute in attributes
    } | {"le", "job"}
    exprs = queries(dashboard)
    assert exprs
    for expr in exprs:
        without_strings = re.sub(r'"[^"]*"', '""', expr)
        without_variables = re.sub(r"\$\w+", "", without_strings)
        names = set(re.findall(r"\b[a-z_][a-z0-9_]*\b", without_variables)) - _PROMQL_WORDS
        metrics = names - labels
        assert metrics & series, expr
        assert metrics <= series, f"unknown metric in {expr}: {metrics - series}"
        assert names - metrics <= labels, f"unknown label in {expr}: {names - metrics - labels}"


def test_dashboard_covers_every_metric_and_the_asked_for_views(dashboard: dict[str, Any]) -> None:
    text = "\n".join(queries(dashboard))
    for name in SPEC_METRICS:
        assert any(series in text for series in prometheus_series(name)), name
    assert "histogram_quantile(0.95, sum by (le, code_function_name)" in text
    assert 'codomyrmex_cache_result="hit"' in text
    datasources = {
        panel["datasource"]["uid"] for panel in dashboard["panels"] if "datasource" in panel
    }
    sources = load_yaml("grafana/provisioning/datasources/datasources.yaml")["datasources"]
    provisioned = {source["uid"] for source in sources}
    assert datasources <= provisioned
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])


def test_spec_metric_names_are_the_ones_the_source_uses() -> None:
    """The dashboard is written against SPEC's names; the package must really use them."""
    source = "\n".join(
        path.read_text(encoding="utf-8")
        for path in (ROOT / "src" / "codomyrmex" / "performance").rglob("*.py")
    )
    missing = [name for name in SPEC_METRICS if f'"{name}"' not in source]
    assert not missing, f"metric names of SPEC not found in src: {missing}"
