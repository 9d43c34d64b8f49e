"""The test harness: a real collector, a real Redis server, OTLP parsers, probes, helpers."""
