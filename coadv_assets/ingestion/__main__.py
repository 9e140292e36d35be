"""Command line: ``python -m coadv_assets.ingestion [--landing DIR] [--db PATH]``.

Loads every new landed file into the warehouse and prints one line per rejected file.
Exits 1 when a file was rejected, 0 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from coadv_assets import paths
from coadv_assets.ingestion.loader import ingest_landing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coadv_assets.ingestion")
    parser.add_argument("--landing", type=Path, default=None, help="default $COADV_HOME/landing")
    parser.add_argument("--db", type=Path, default=None, help="default the warehouse")
    args = parser.parse_args(argv)
    landing = args.landing or paths.landing_dir()
    report = ingest_landing(landing, db_path=args.db)
    print(
        f"{len(report.loaded)} files loaded ({report.rows_loaded:,} rows), "
        f"{len(report.skipped)} already loaded, {len(report.rejected)} rejected"
    )
    for message in report.messages:
        print(f"  rejected {message}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
