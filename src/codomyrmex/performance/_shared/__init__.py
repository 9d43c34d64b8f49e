"""Helpers every layer may use: atomic file writes, quantiles, console formatting."""
