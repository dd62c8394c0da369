"""Store fixtures: every store test runs on SQLite, and on PostgreSQL when GATEWAY_TEST_PG_URL is
set. PostgreSQL runs use a database of their own, created with a random name and dropped at the
end, because several test runs share the server."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from gateway.store import Store, upgrade_database
from gateway.store.database import StoreSettings, create_engine
from gateway.store.migrate import downgrade_engine
from gateway.store.models import Base

PG_URL = os.environ.get("GATEWAY_TEST_PG_URL")
T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def _admin(url: str, sql: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


class PgDatabases:
    """Creates uniquely named databases on the test server and drops them all at the end."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.prefix = f"gw_test_{secrets.token_hex(4)}"
        self.created: list[str] = []

    async def create(self) -> str:
        name = f"{self.prefix}_{len(self.created)}"
        await _admin(self.url, f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)

    async def drop_all(self) -> None:
        for name in self.created:
            await _admin(self.url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PgDatabases | None]:
    if not PG_URL:
        yield None
        return
    databases = PgDatabases(PG_URL)
    yield databases
    asyncio.run(databases.drop_all())


@pytest.fixture(scope="session")
def pg_shared_url(pg_databases: PgDatabases | None) -> str | None:
    """One migrated database for the session; tests empty its tables after themselves."""
    if pg_databases is None:
        return None
    return asyncio.run(pg_databases.create())


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name == "postgresql" and not PG_URL:
        pytest.skip("PostgreSQL store tests need GATEWAY_TEST_PG_URL")
    return name


@pytest.fixture
async def fresh_url(backend: str, tmp_path: Path, pg_shared_url: str | None) -> str:
    """An empty database of the backend for this test. On PostgreSQL it is the session's
    database taken down to no tables (tests run one at a time; the next open migrates it back),
    which is much cheaper than creating and dropping a database."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    assert pg_shared_url is not None
    engine = create_engine(pg_shared_url, StoreSettings())
    try:
        await downgrade_engine(engine, "base")
    finally:
        await engine.dispose()
    return pg_shared_url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test instead of migrating each time."""
    path = tmp_path_factory.mktemp("template") / "store.db"
    asyncio.run(upgrade_database(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture
async def store_url(
    backend: str, tmp_path: Path, sqlite_template: Path, pg_shared_url: str | None
) -> AsyncIterator[str]:
    if backend == "sqlite":
        shutil.copyfile(sqlite_template, tmp_path / "store.db")
        yield f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
        return
    assert pg_shared_url is not None
    yield pg_shared_url
    # DELETE, not TRUNCATE: on small tables it is many times faster.
    statements = "; ".join(
        f'DELETE FROM "{t.name}"' for t in reversed(Base.metadata.sorted_tables)
    )
    connection = await asyncpg.connect(_asyncpg_dsn(pg_shared_url))
    try:
        await connection.execute(f"BEGIN; {statements}; COMMIT")
    finally:
        await connection.close()


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    opened = await Store.open(store_url, default_region="US")
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def line_id(store: Store) -> int:
    return (await store.lines.ensure("line-1", "+15550000001", now=T0)).id
