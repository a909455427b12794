"""Benchmarks: run as modules (``python -m benchmarks.bench_scan``); they print, they do not assert."""
