"""Benchmarks of the front desk against the local fake platforms: `make bench`."""
