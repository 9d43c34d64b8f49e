"""Benchmarking: ``BenchmarkSuite``, ``BenchmarkResult``, ``run_benchmark``."""
