"""Governance rules checked on every run: no PII past staging, PHI only aggregated and
suppressed, no tenant's rows in another tenant's features."""
