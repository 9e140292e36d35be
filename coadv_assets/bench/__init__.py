"""Benchmark of the pipeline's cost as the simulated PEO grows.

``python -m coadv_assets.bench`` runs each stage as its own process at each size and prints
wall time, peak memory of the process tree, and the ratio of each size to the one below.
"""
