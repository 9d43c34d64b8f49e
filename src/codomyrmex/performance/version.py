"""The package version, read without importing OpenTelemetry (or anything else)."""

__version__ = "0.1.0"
