"""Benchmarks of taskcenter (run as scripts; `benchmarks.loadmix` is also imported by the tests)."""
