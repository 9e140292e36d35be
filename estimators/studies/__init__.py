"""Simulation and benchmark scripts for the estimators (run as modules)."""
