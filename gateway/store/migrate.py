"""Schema migrations, run programmatically: the package ships them, so no alembic.ini is needed."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, exc, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.store.database import StoreSettings, create_engine, normalise_url, unavailable

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Taken for the whole upgrade on PostgreSQL so two daemons starting at once do not race.
MIGRATION_LOCK_KEY = 0x5E9E_0DB


def alembic_config(url: str | URL | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        rendered = normalise_url(url).render_as_string(hide_password=False)
        config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations shipped"
    return head


def _run(connection: Connection, action: str, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    config = alembic_config()
    config.attributes["connection"] = connection
    if action == "upgrade":
        command.upgrade(config, revision)
    else:
        command.downgrade(config, revision)


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def upgrade_engine(engine: AsyncEngine, revision: str = "head") -> None:
    try:
        async with engine.execution_options(gateway_write=True).begin() as connection:
            await connection.run_sync(_run, "upgrade", revision)
    except (exc.OperationalError, exc.InterfaceError, OSError, TimeoutError) as error:
        raise unavailable(error) from error


async def downgrade_engine(engine: AsyncEngine, revision: str = "base") -> None:
    async with engine.execution_options(gateway_write=True).begin() as connection:
        await connection.run_sync(_run, "downgrade", revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(_current)


async def upgrade_database(url: str | URL, revision: str = "head") -> str | None:
    """Bring the database at `url` to `revision`; returns the revision it is at afterwards."""
    engine = create_engine(url, StoreSettings())
    try:
        await upgrade_engine(engine, revision)
        return await current_revision(engine)
    finally:
        await engine.dispose()
