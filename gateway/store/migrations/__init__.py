"""Alembic migrations of the store's schema (run through gateway.store.migrate)."""
