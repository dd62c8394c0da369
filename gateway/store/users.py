"""Accounts: users (argon2 hashes made by the caller), login sessions and API tokens.

The store keeps only hashes of session and API tokens; making and checking them is the API's job.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from gateway.store import convert
from gateway.store.database import Database, utc_now
from gateway.store.domain import ApiToken, Role, Session, User
from gateway.store.errors import DuplicateError, NotFoundError
from gateway.store.models import ApiTokenRow, SessionRow, UserRow

ROLES: tuple[Role, ...] = ("agent", "supervisor", "admin")


class UserRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self, username: str, role: Role, password_hash: str, now: datetime | None = None
    ) -> User:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
        try:
            async with self._db.write() as session:
                row = UserRow(
                    username=username, role=role, password_hash=password_hash, disabled=False,
                    created_at=now or utc_now(),
                )
                session.add(row)
                await session.flush()
                return convert.user(row)
        except IntegrityError as error:
            raise DuplicateError(f"user {username!r} already exists") from error

    async def get(self, user_id: int) -> User:
        async with self._db.read() as session:
            row = await session.get(UserRow, user_id)
            if row is None:
                raise NotFoundError("user", user_id)
            return convert.user(row)

    async def find_by_username(self, username: str) -> User | None:
        async with self._db.read() as session:
            row = await session.scalar(select(UserRow).where(UserRow.username == username))
            return convert.user(row) if row is not None else None

    async def list_all(self) -> list[User]:
        async with self._db.read() as session:
            return [convert.user(r) for r in await session.scalars(
                select(UserRow).order_by(UserRow.username))]

    async def set_password_hash(self, user_id: int, password_hash: str) -> User:
        return await self._set(user_id, password_hash=password_hash)

    async def set_disabled(self, user_id: int, disabled: bool) -> User:
        """Disabling also ends the user's sessions."""
        user = await self._set(user_id, disabled=disabled)
        if disabled:
            async with self._db.write() as session:
                await session.execute(delete(SessionRow).where(SessionRow.user_id == user_id))
        return user

    async def set_role(self, user_id: int, role: Role) -> User:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
        return await self._set(user_id, role=role)

    async def touch_last_seen(self, user_id: int, now: datetime | None = None) -> None:
        await self._set(user_id, last_seen=now or utc_now())

    async def _set(self, user_id: int, **values: object) -> User:
        async with self._db.write() as session:
            result = await session.execute(
                update(UserRow).where(UserRow.id == user_id).values(**values)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise NotFoundError("user", user_id)
            row = await session.get(UserRow, user_id, populate_existing=True)
            assert row is not None
            return convert.user(row)


class SessionRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        user_id: int,
        token_hash: str,
        csrf_token: str,
        expires_at: datetime,
        now: datetime | None = None,
    ) -> Session:
        async with self._db.write() as session:
            row = SessionRow(
                user_id=user_id, token_hash=token_hash, csrf_token=csrf_token,
                created_at=now or utc_now(), expires_at=expires_at,
            )
            session.add(row)
            await session.flush()
            return convert.session(row)

    async def find_valid(
        self, token_hash: str, now: datetime | None = None
    ) -> tuple[Session, User] | None:
        """The unexpired session with this token hash and its enabled user, else None."""
        now = now or utc_now()
        async with self._db.read() as session:
            row = (
                await session.execute(
                    select(SessionRow, UserRow)
                    .join(UserRow, UserRow.id == SessionRow.user_id)
                    .where(
                        SessionRow.token_hash == token_hash,
                        SessionRow.expires_at > now,
                        UserRow.disabled.is_(False),
                    )
                )
            ).first()
            return (convert.session(row[0]), convert.user(row[1])) if row is not None else None

    async def extend(self, session_id: int, expires_at: datetime) -> None:
        async with self._db.write() as session:
            await session.execute(
                update(SessionRow).where(SessionRow.id == session_id).values(expires_at=expires_at)
            )

    async def delete(self, token_hash: str) -> bool:
        async with self._db.write() as session:
            result = await session.execute(
                delete(SessionRow).where(SessionRow.token_hash == token_hash)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def purge_expired(self, now: datetime | None = None) -> int:
        async with self._db.write() as session:
            result = await session.execute(
                delete(SessionRow).where(SessionRow.expires_at <= (now or utc_now()))
            )
            return int(result.rowcount)  # type: ignore[attr-defined]


class TokenRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        name: str,
        token_hash: str,
        scopes: Sequence[str],
        created_by: int | None,
        now: datetime | None = None,
    ) -> ApiToken:
        try:
            async with self._db.write() as session:
                row = ApiTokenRow(
                    name=name, token_hash=token_hash, scopes=list(scopes), created_by=created_by,
                    created_at=now or utc_now(), revoked=False,
                )
                session.add(row)
                await session.flush()
                return convert.api_token(row)
        except IntegrityError as error:
            raise DuplicateError("a token with this hash already exists") from error

    async def find_active(
        self, token_hash: str, now: datetime | None = None
    ) -> ApiToken | None:
        """The unrevoked token with this hash; records its use."""
        async with self._db.write() as session:
            row = await session.scalar(
                select(ApiTokenRow).where(
                    ApiTokenRow.token_hash == token_hash, ApiTokenRow.revoked.is_(False)
                )
            )
            if row is None:
                return None
            row.last_used_at = now or utc_now()
            await session.flush()
            return convert.api_token(row)

    async def revoke(self, token_id: int, now: datetime | None = None) -> ApiToken:
        async with self._db.write() as session:
            row = await session.get(ApiTokenRow, token_id)
            if row is None:
                raise NotFoundError("api token", token_id)
            if not row.revoked:
                row.revoked = True
                row.revoked_at = now or utc_now()
            await session.flush()
            return convert.api_token(row)

    async def list_all(self) -> list[ApiToken]:
        async with self._db.read() as session:
            return [convert.api_token(r) for r in await session.scalars(
                select(ApiTokenRow).order_by(ApiTokenRow.id))]
