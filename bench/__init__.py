"""Benchmarks of the generated package and the pipeline (``make bench`` → ``bench/results.json``)."""
