"""Accounts: users (argon2 hashes made by the caller), login sessions, API tokens and the audit
log. Only digests of session and token secrets are stored; making and checking them is the
service's job (gateway.service.accounts)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.store import convert
from gateway.store.database import Database
from gateway.store.domain import ApiToken, AuditEntry, Role, Session, User
from gateway.store.errors import DuplicateError, NotFoundError
from gateway.store.models import ApiTokenRow, AuditRow, SessionRow, UserRow


def add_audit(
    session: AsyncSession,
    *,
    user_id: int | None,
    action: str,
    target: str | None,
    details: dict[str, Any],
    now: datetime,
) -> None:
    """Adds an audit row to the caller's transaction, so the entry commits with the action."""
    session.add(AuditRow(user_id=user_id, action=action, target=target, details=details, at=now))


class AccountsRepository:
    """Every change writes its audit row in the same transaction, so the row exists exactly when
    the change does."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- users

    async def create_user(
        self, username: str, role: Role, password_hash: str, now: datetime,
        by: int | None = None,
    ) -> User:
        """`by` is the admin who created the user (None from the command line)."""
        try:
            async with self._db.write() as session:
                row = UserRow(
                    username=username, role=role, password_hash=password_hash, disabled=False,
                    created_at=now,
                )
                session.add(row)
                await session.flush()
                add_audit(session, user_id=by, action="user.create",
                          target=f"user:{row.id}", details={"username": username, "role": role},
                          now=now)
                return convert.user(row)
        except sa_exc.IntegrityError as error:
            raise DuplicateError(f"user {username!r} already exists") from error

    async def get_user(self, user_id: int) -> User | None:
        async with self._db.read() as session:
            row = await session.get(UserRow, user_id)
            return convert.user(row) if row is not None else None

    async def get_user_by_name(self, username: str) -> User | None:
        async with self._db.read() as session:
            row = (
                await session.execute(select(UserRow).where(UserRow.username == username))
            ).scalar_one_or_none()
            return convert.user(row) if row is not None else None

    async def list_users(self) -> list[User]:
        async with self._db.read() as session:
            rows = (await session.execute(select(UserRow).order_by(UserRow.id))).scalars()
            return [convert.user(row) for row in rows]

    async def update_user(
        self,
        user_id: int,
        *,
        now: datetime,
        by: int | None,
        password_hash: str | None = None,
        disabled: bool | None = None,
        role: Role | None = None,
    ) -> User:
        """Changes a user; a new password or disabling ends every session of that user."""
        async with self._db.write() as session:
            row = await session.get(UserRow, user_id)
            if row is None:
                raise NotFoundError("user", user_id)
            details: dict[str, Any] = {}
            if password_hash is not None:
                row.password_hash = password_hash
                details["password"] = "changed"
            if disabled is not None:
                row.disabled = disabled
                details["disabled"] = disabled
            if role is not None:
                row.role = role
                details["role"] = role
            if password_hash is not None or disabled:
                await session.execute(delete(SessionRow).where(SessionRow.user_id == user_id))
            add_audit(session, user_id=by, action="user.update", target=f"user:{user_id}",
                      details=details, now=now)
            await session.flush()
            return convert.user(row)

    # -- sessions

    async def create_session(
        self, user_id: int, token_hash: str, csrf_token: str, now: datetime, expires_at: datetime
    ) -> Session:
        async with self._db.write() as session:
            row = SessionRow(
                user_id=user_id, token_hash=token_hash, csrf_token=csrf_token, created_at=now,
                expires_at=expires_at,
            )
            session.add(row)
            await session.execute(
                update(UserRow).where(UserRow.id == user_id).values(last_seen=now)
            )
            add_audit(session, user_id=user_id, action="login", target=f"user:{user_id}",
                      details={}, now=now)
            await session.flush()
            return convert.session(row)

    async def find_session(self, token_hash: str, now: datetime) -> tuple[Session, User] | None:
        """The live session with that secret and its enabled user, or None."""
        async with self._db.read() as session:
            found = (
                await session.execute(
                    select(SessionRow, UserRow)
                    .join(UserRow, UserRow.id == SessionRow.user_id)
                    .where(SessionRow.token_hash == token_hash, SessionRow.expires_at > now)
                )
            ).one_or_none()
            if found is None or found[1].disabled:
                return None
            return convert.session(found[0]), convert.user(found[1])

    async def delete_session(self, token_hash: str, now: datetime) -> None:
        async with self._db.write() as session:
            user_id = (
                await session.execute(
                    delete(SessionRow)
                    .where(SessionRow.token_hash == token_hash)
                    .returning(SessionRow.user_id)
                )
            ).scalar_one_or_none()
            if user_id is not None:
                add_audit(session, user_id=user_id, action="logout", target=f"user:{user_id}",
                          details={}, now=now)

    async def delete_expired_sessions(self, now: datetime) -> int:
        async with self._db.write() as session:
            result = await session.execute(delete(SessionRow).where(SessionRow.expires_at <= now))
            return int(getattr(result, "rowcount", 0) or 0)

    # -- API tokens

    async def create_token(
        self,
        name: str,
        token_hash: str,
        scopes: Sequence[str],
        created_by: int | None,
        now: datetime,
    ) -> ApiToken:
        async with self._db.write() as session:
            row = ApiTokenRow(
                name=name, token_hash=token_hash, scopes=list(scopes), created_by=created_by,
                created_at=now, revoked=False,
            )
            session.add(row)
            await session.flush()
            add_audit(session, user_id=created_by, action="token.create",
                      target=f"token:{row.id}", details={"name": name, "scopes": list(scopes)},
                      now=now)
            return convert.api_token(row)

    async def find_token(self, token_hash: str) -> tuple[ApiToken, User] | None:
        """The unrevoked token with that secret and the enabled user it acts for, or None."""
        async with self._db.read() as session:
            found = (
                await session.execute(
                    select(ApiTokenRow, UserRow)
                    .join(UserRow, UserRow.id == ApiTokenRow.created_by)
                    .where(ApiTokenRow.token_hash == token_hash, ApiTokenRow.revoked.is_(False))
                )
            ).one_or_none()
            if found is None or found[1].disabled:
                return None
            return convert.api_token(found[0]), convert.user(found[1])

    async def touch_token(self, token_id: int, now: datetime) -> None:
        async with self._db.write() as session:
            await session.execute(
                update(ApiTokenRow).where(ApiTokenRow.id == token_id).values(last_used_at=now)
            )

    async def list_tokens(self) -> list[ApiToken]:
        async with self._db.read() as session:
            rows = (await session.execute(select(ApiTokenRow).order_by(ApiTokenRow.id))).scalars()
            return [convert.api_token(row) for row in rows]

    async def revoke_token(self, token_id: int, by: int | None, now: datetime) -> ApiToken:
        async with self._db.write() as session:
            row = await session.get(ApiTokenRow, token_id)
            if row is None:
                raise NotFoundError("token", token_id)
            row.revoked = True
            row.revoked_at = now
            add_audit(session, user_id=by, action="token.revoke", target=f"token:{token_id}",
                      details={"name": row.name}, now=now)
            await session.flush()
            return convert.api_token(row)

    # -- audit

    async def audit(
        self,
        *,
        user_id: int | None,
        action: str,
        target: str | None,
        details: dict[str, Any],
        now: datetime,
    ) -> None:
        async with self._db.write() as session:
            add_audit(session, user_id=user_id, action=action, target=target, details=details,
                      now=now)

    async def audit_log(
        self, *, limit: int, before_id: int | None = None, target: str | None = None
    ) -> list[AuditEntry]:
        async with self._db.read() as session:
            query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
            if before_id is not None:
                query = query.where(AuditRow.id < before_id)
            if target is not None:
                query = query.where(AuditRow.target == target)
            rows = (await session.execute(query)).scalars()
            return [convert.audit(row) for row in rows]
