"""Failed logins, counted in the database so that every node of a cluster sees the same counts
and a restart forgets none (the rules that read them are gateway.service.ratelimit's).

A counter is (kind, username, address) with its failures and the time of the last one; it is
forgotten `window_s` after that. `attempt` reads the counters of one login attempt and, unless
they ask it to wait, counts the attempt as a failure, in one transaction that holds their rows:
parallel attempts, on one node or several, cannot all pass a limit none of them has recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, case, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from gateway.store.database import Database
from gateway.store.models import LoginFailureRow

_T = cast(Table, LoginFailureRow.__table__)
MAX_USERNAME_CHARS = 200
MAX_ADDRESS_CHARS = 64

Key = tuple[str, str | None, str | None]  # (kind, username, address)


@dataclass(frozen=True, slots=True)
class LoginFailure:
    kind: str
    username: str | None
    address: str | None
    failures: int
    last_at: datetime


def _stored(key: Key) -> tuple[str, str, str]:
    kind, username, address = key
    return kind, (username or "")[:MAX_USERNAME_CHARS], (address or "")[:MAX_ADDRESS_CHARS]


def _failure(row: Any) -> LoginFailure:
    return LoginFailure(row.kind, row.username or None, row.address or None, row.failures,
                        row.last_at)


def _of(keys: Sequence[Key]) -> Any:
    return or_(*(and_(_T.c.kind == k, _T.c.username == u, _T.c.address == a)
                 for k, u, a in map(_stored, keys)))


def _ensure(dialect: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(_T).on_conflict_do_nothing(index_elements=["kind", "username", "address"])


class LoginFailureRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def attempt(
        self, keys: Sequence[Key], *, now: datetime, window_s: float,
        wait_s: Callable[[Sequence[LoginFailure]], float],
    ) -> float:
        """`wait_s` of the live counters of `keys`; when it is 0, one more failure on each of
        them (the attempt is counted before its password is checked). Returns the wait."""
        cutoff = now - timedelta(seconds=window_s)

        def write(connection: Connection) -> float:
            # Every row this attempt counts on exists and is locked, always in one order: two
            # attempts sharing a counter (on this node or another) take turns, even at the
            # first failure, and never deadlock.
            stored = sorted(set(map(_stored, keys)))
            ensure = _ensure(connection.dialect.name)
            for kind, username, address in stored:
                connection.execute(ensure.values(
                    kind=kind, username=username, address=address, failures=0, last_at=now))
            rows = connection.execute(
                select(_T).where(_of(keys))
                .order_by(_T.c.kind, _T.c.username, _T.c.address).with_for_update()
            ).all()
            wait = wait_s([_failure(row) for row in rows
                           if row.failures > 0 and row.last_at > cutoff])
            if wait > 0:
                return wait
            for kind, username, address in stored:
                connection.execute(
                    _T.update().where(and_(_T.c.kind == kind, _T.c.username == username,
                                           _T.c.address == address))
                    .values(failures=case((_T.c.last_at <= cutoff, 1),
                                          else_=_T.c.failures + 1), last_at=now))
            return 0.0

        return await self._db.run_write(write)

    async def succeeded(self, forget: Key, take_back: Sequence[Key]) -> None:
        """A right password: forget one counter and take the attempt back from the others."""

        def write(connection: Connection) -> None:
            connection.execute(delete(_T).where(_of([forget])))
            if take_back:
                connection.execute(
                    _T.update().where(_of(take_back)).values(failures=_T.c.failures - 1))
                connection.execute(delete(_T).where(and_(_of(take_back), _T.c.failures <= 0)))

        await self._db.run_write(write)

    async def live(self, *, now: datetime, window_s: float) -> list[LoginFailure]:
        """Every counter with a failure in the last `window_s`."""
        cutoff = now - timedelta(seconds=window_s)
        query = select(_T).where(_T.c.last_at > cutoff, _T.c.failures > 0)
        return await self._db.run_read(
            lambda c: [_failure(row) for row in c.execute(query)])

    async def clear(self, *, username: str | None, address: str | None) -> int:
        """Forget the counters of `username` and/or `address` (both None: all); how many."""
        conditions = []
        if username is not None:
            conditions.append(_T.c.username == username[:MAX_USERNAME_CHARS])
        if address is not None:
            conditions.append(_T.c.address == address[:MAX_ADDRESS_CHARS])
        statement = delete(_T).where(and_(*conditions)) if conditions else delete(_T)
        return await self._db.run_write(lambda c: c.execute(statement).rowcount)

    async def forget_idle(self, *, now: datetime, window_s: float) -> int:
        """Drop the counters idle for `window_s` (they count as nothing already)."""
        statement = delete(_T).where(_T.c.last_at <= now - timedelta(seconds=window_s))
        return await self._db.run_write(lambda c: c.execute(statement).rowcount)
