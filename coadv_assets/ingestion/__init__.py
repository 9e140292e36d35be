"""Ingestion of landed source files into the warehouse's ``raw`` schema under contract."""

from coadv_assets.ingestion.contracts import (
    ColumnContract,
    TableContract,
    load_contracts,
    parse_contracts,
)
from coadv_assets.ingestion.loader import (
    LEDGER,
    IngestReport,
    LoadedFile,
    RejectedFile,
    SkippedFile,
    ensure_raw_tables,
    ingest_into,
    ingest_landing,
)
from coadv_assets.ingestion.validation import Violation

__all__ = [
    "LEDGER",
    "ColumnContract",
    "IngestReport",
    "LoadedFile",
    "RejectedFile",
    "SkippedFile",
    "TableContract",
    "Violation",
    "ensure_raw_tables",
    "ingest_into",
    "ingest_landing",
    "load_contracts",
    "parse_contracts",
]
