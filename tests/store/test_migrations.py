"""The schema comes from the shipped migrations, on both backends, and matches the models."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect

from gateway.store import Store, upgrade_database
from gateway.store.database import StoreSettings, create_engine
from gateway.store.migrate import (
    MIGRATIONS_DIR,
    current_revision,
    downgrade_engine,
    head_revision,
    shipped_head,
    upgrade_engine,
)
from gateway.store.models import Base


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_upgrade_from_empty_reaches_head_with_every_table(fresh_url: str) -> None:
    assert await upgrade_database(fresh_url) == head_revision()
    engine = create_engine(fresh_url, StoreSettings())
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_tables) == set(Base.metadata.tables)
            assert await connection.run_sync(_diff) == []
    finally:
        await engine.dispose()


async def test_open_upgrades_and_a_second_open_is_a_no_op(fresh_url: str) -> None:
    async with await Store.open(fresh_url) as store:
        assert await current_revision(store.db.engine) == head_revision()
    async with await Store.open(fresh_url) as store:
        assert await current_revision(store.db.engine) == head_revision()
        assert await store.events.last_seq() == 0


async def test_downgrade_to_base_removes_every_table_and_upgrade_restores_them(
    fresh_url: str,
) -> None:
    engine = create_engine(fresh_url, StoreSettings())
    try:
        await upgrade_engine(engine)
        await downgrade_engine(engine, "base")
        async with engine.connect() as connection:
            assert await connection.run_sync(_tables) == set()
        assert await current_revision(engine) is None
        await upgrade_engine(engine)
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()


def test_migrations_ship_inside_the_package() -> None:
    # Found through the package path, so they run from an installed wheel with no alembic.ini.
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert any(Path(MIGRATIONS_DIR / "versions").glob("0001_*.py"))
    assert MIGRATIONS_DIR.parent.name == "store"


def test_the_shipped_head_read_from_the_files_is_the_one_alembic_reads() -> None:
    assert shipped_head() == head_revision()


def test_a_store_already_at_head_opens_without_loading_alembic(tmp_path: Path) -> None:
    # A process of its own: this one has imported alembic already.
    url = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    script = (
        "import asyncio, sys\n"
        "from gateway.store import Store\n"
        "async def main():\n"
        "    async with await Store.open(sys.argv[1]) as store:\n"
        "        await store.lines.ensure('line-1')\n"
        "asyncio.run(main())\n"
        "print('alembic' in sys.modules)\n"
    )

    def opened() -> str:
        done = subprocess.run(
            [sys.executable, "-c", script, url], capture_output=True, text=True, check=True,
            timeout=60,
        )
        return done.stdout.strip()

    assert opened() == "True"  # an empty file is migrated with alembic
    assert opened() == "False"  # at head: alembic is not even imported


async def test_contacts_from_before_0005_get_the_reply_address_their_key_implies(
    fresh_url: str,
) -> None:
    from sqlalchemy import text

    engine = create_engine(fresh_url, StoreSettings())
    try:
        await upgrade_engine(engine, "0004")
        async with engine.begin() as connection:
            for n, number in enumerate(("+15551234567", "12345", "ACME"), start=1):
                await connection.execute(text(
                    "INSERT INTO contacts (id, number, opted_out, created_at)"
                    " VALUES (:id, :number, false, CURRENT_TIMESTAMP)"
                ), {"id": n, "number": number})
        await upgrade_engine(engine)
        async with engine.connect() as connection:
            rows = (await connection.execute(text(
                "SELECT number, address, address_ton, address_npi FROM contacts ORDER BY id"
            ))).all()
        assert [tuple(row) for row in rows] == [
            ("+15551234567", "+15551234567", 1, 1), ("12345", "12345", 0, 1), ("ACME", "ACME", 5, 0)
        ]
    finally:
        await engine.dispose()
