"""Verification options (kept in :mod:`checker.options`, which imports nothing heavy)."""

from checker.options import DEFAULT_OPTIONS, ENGINES, Options

__all__ = ["DEFAULT_OPTIONS", "ENGINES", "Options"]
