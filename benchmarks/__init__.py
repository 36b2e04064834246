"""Reproducible performance measurements: ``python -m benchmarks --size small|large``.

See docs/performance.md for what is measured, how, and the figures of the last run.
"""
