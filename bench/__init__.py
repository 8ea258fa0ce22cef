"""Benchmarks: scripts that print figures (never tests). Run one with `python -m bench.NAME`, or all
with `make bench`. Results are recorded in bench/RESULTS.md with the machine and the date."""
