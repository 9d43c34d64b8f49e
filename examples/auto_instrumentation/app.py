"""Auto-instrumentation: monitor functions without touching their code.

    pip install 'codomyrmex-performance[instrument]'
    cd examples/auto_instrumentation
    CODOMYRMEX_PERF_INSTRUMENT="shop:add_item,shop:Cart.total" OTEL_SERVICE_NAME=shop \\
        OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 \\
        OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf opentelemetry-instrument python app.py

(port 4318 is OTLP over HTTP, hence ``http/protobuf``: the distro's default protocol is
gRPC, port 4317), or on the console, no collector needed:

    CODOMYRMEX_PERF_INSTRUMENT="shop:add_item,shop:Cart.total" opentelemetry-instrument \\
        --traces_exporter console --metrics_exporter console python app.py

or, with the report at exit:

    codomyrmex-perf run --otlp http://localhost:4318 \\
        --instrument "shop:add_item,shop:Cart.total" app.py
"""

from __future__ import annotations

from shop import Cart, add_item

cart = Cart()
for item in ("apple", "pear", "plum"):
    add_item(cart.items, item)
print("total:", cart.total())
