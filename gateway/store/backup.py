"""Online backup of a SQLite store: consistent even while the daemon writes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from gateway.store.errors import StoreError, StoreUnavailableError
from gateway.store.files import private_file, private_folder

BACKUP_PAGES_PER_STEP = 1024  # copy in steps so a running daemon's writes are not held off long


def backup_sqlite(source: Path, destination: Path, busy_timeout_ms: int = 5000) -> None:
    """Copy the database at `source` to `destination` with SQLite's backup API. The copy is one
    consistent snapshot; an existing destination file is replaced (the command asks for --force
    first)."""
    if not source.is_file():
        raise StoreError(f"no SQLite database at {source}")
    if destination.resolve() == source.resolve():
        raise StoreError("the backup must not overwrite the database itself")
    private_folder(destination.parent)
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    private_file(partial)  # 0600 before a byte is copied
    try:
        src = sqlite3.connect(source, timeout=busy_timeout_ms / 1000)
        try:
            dst = sqlite3.connect(partial)
            try:
                src.backup(dst, pages=BACKUP_PAGES_PER_STEP)
                dst.execute("PRAGMA journal_mode = DELETE")  # a single self-contained file
            finally:
                dst.close()
        finally:
            src.close()
        partial.replace(destination)
    except sqlite3.OperationalError as error:
        partial.unlink(missing_ok=True)
        raise StoreUnavailableError(f"backup failed: {error}") from error
