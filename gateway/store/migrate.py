"""Schema migrations, run programmatically: the package ships them, so no alembic.ini is needed.

Alembic is imported only when there is something to do: a store already at the shipped head
(every start but the first after an upgrade) is recognised from the migration files and the
alembic_version table alone, which spares the daemon some 10 MB of resident memory.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, exc, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.store.database import StoreSettings, create_engine, normalise_url, unavailable

if TYPE_CHECKING:
    from alembic.config import Config

# Standard logging: silent in the command line tools, routed to the daemon's log when it runs.
log = logging.getLogger("gateway.store.migrate")

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Taken for the whole upgrade on PostgreSQL so two daemons starting at once do not race.
MIGRATION_LOCK_KEY = 0x5E9E_0DB
_REVISION = re.compile(r"""^revision\b[^=\n]*=\s*["']([^"']+)["']""", re.MULTILINE)
_DOWN_REVISION = re.compile(
    r"""^down_revision\b[^=\n]*=\s*(?:["']([^"']+)["']|None)\s*$""", re.MULTILINE
)


def shipped_head() -> str | None:
    """The head revision of the shipped migrations read from their files (alembic's own
    reading, head_revision(), agrees: a test says so); None when the files do not show one
    head in the simple form alembic writes, and alembic has to decide."""
    revisions: set[str] = set()
    replaced: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision = _REVISION.search(source)
        down = _DOWN_REVISION.search(source)
        if revision is None and down is None:
            continue  # not a migration (the package's __init__)
        if revision is None or down is None:
            return None
        revisions.add(revision.group(1))
        if down.group(1) is not None:
            replaced.add(down.group(1))
    heads = revisions - replaced
    return heads.pop() if len(heads) == 1 else None


async def _stored_revision(engine: AsyncEngine) -> str | None:
    """The revision in the alembic_version table; None when there is none (or no table)."""
    try:
        async with engine.connect() as connection:
            value = (await connection.execute(text("SELECT version_num FROM alembic_version")))
            return value.scalar()
    except exc.DBAPIError:
        return None


def alembic_config(url: str | URL | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        rendered = normalise_url(url).render_as_string(hide_password=False)
        config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations shipped"
    return head


def _run(connection: Connection, action: str, revision: str) -> None:
    from alembic import command

    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    config = alembic_config()
    config.attributes["connection"] = connection
    before = _current(connection)
    if action == "upgrade":
        command.upgrade(config, revision)
    else:
        command.downgrade(config, revision)
    after = _current(connection)
    if after != before:
        # (Several nodes starting together: one of them logs this, the others found it done.)
        log.info("store.migrated", extra={"from_revision": before, "to_revision": after})


def _current(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


async def upgrade_engine(engine: AsyncEngine, revision: str = "head") -> None:
    try:
        if revision == "head":
            head = shipped_head()
            if head is not None and await _stored_revision(engine) == head:
                return
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
