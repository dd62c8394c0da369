"""Alembic environment: runs on the connection gateway.store.migrate hands over, or on its own
async engine when Alembic is driven from its command line with a sqlalchemy.url."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection

from gateway.store.database import StoreSettings, create_engine
from gateway.store.models import Base

target_metadata = Base.metadata


def _run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine(url: str) -> None:
    engine = create_engine(url, StoreSettings())
    try:
        async with engine.execution_options(gateway_write=True).begin() as connection:
            await connection.run_sync(_run_on)
    finally:
        await engine.dispose()


def _main() -> None:
    config = context.config
    if context.is_offline_mode():
        context.configure(
            url=config.get_main_option("sqlalchemy.url"),
            target_metadata=target_metadata,
            literal_binds=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection and no sqlalchemy.url given to the migrations")
    asyncio.run(_run_with_own_engine(url))


_main()
