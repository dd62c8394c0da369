"""Logging in and out, checking sessions and API tokens, and managing users and tokens."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway.service.access import ROLES, SCOPES, Principal
from gateway.service.errors import (
    ConflictError,
    InvalidCredentialsError,
    InvalidInputError,
    NotFoundError,
)
from gateway.service.ratelimit import LoginLimits, LoginRateLimiter
from gateway.service.secrets import (
    Passwords,
    generate_password,
    new_api_token,
    new_secret,
    secret_digest,
)
from gateway.store import errors as store_errors
from gateway.store.accounts import AccountsRepository
from gateway.store.domain import ApiToken, AuditEntry, Role, User

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
# A token's last use is written at most this often, so API traffic does not mean a write per call.
TOKEN_TOUCH_INTERVAL_S = 60.0


@dataclass(frozen=True, slots=True)
class LoginResult:
    user: User
    session_secret: str  # goes into the cookie; only its digest is stored
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class CreatedToken:
    token: ApiToken
    secret: str  # shown once; only its digest is stored


def check_username(username: str) -> str:
    name = username.strip()
    if not name or len(name) > 100 or any(ch.isspace() for ch in name):
        raise InvalidInputError("a username is 1-100 characters without spaces")
    return name


def check_password(password: str) -> str:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidInputError(
            f"a password is {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters"
        )
    return password


def check_role(role: str) -> Role:
    for known in ROLES:
        if role == known:
            return known
    raise InvalidInputError(f"role must be one of {', '.join(ROLES)}")


def check_scopes(scopes: Sequence[str]) -> tuple[str, ...]:
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise InvalidInputError(
            f"unknown scope(s) {', '.join(unknown)}; known: {', '.join(SCOPES)}"
        )
    return tuple(dict.fromkeys(scopes))


class AccountService:
    def __init__(
        self,
        repo: AccountsRepository,
        *,
        clock: Callable[[], datetime],
        session_ttl_s: float,
        passwords: Passwords | None = None,
        login_limits: LoginLimits | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._repo = repo
        self._clock = clock
        self._session_ttl = timedelta(seconds=session_ttl_s)
        self._passwords = passwords or Passwords()
        self._limiter = LoginRateLimiter(login_limits or LoginLimits(), monotonic)
        self._token_touched: dict[int, float] = {}
        self._monotonic = monotonic

    # -- sessions

    async def login(self, username: str, password: str, address: str) -> LoginResult:
        self._limiter.check(username, address)
        user = await self._repo.get_user_by_name(username)
        ok = self._passwords.verify(user.password_hash if user else None, password)
        if user is None or not ok or user.disabled:
            self._limiter.record_failure(username, address)
            await self._repo.audit(
                user_id=user.id if user else None, action="login.failed",
                target=f"user:{user.id}" if user else None,
                details={"username": username[:100], "address": address}, now=self._clock(),
            )
            raise InvalidCredentialsError("wrong username or password")
        self._limiter.record_success(username)
        if self._passwords.needs_rehash(user.password_hash):
            user = await self._repo.update_user(
                user.id, now=self._clock(), by=user.id,
                password_hash=self._passwords.hash(password),
            )
        secret = new_secret()
        csrf = new_secret()
        now = self._clock()
        stored = await self._repo.create_session(
            user.id, secret_digest(secret), csrf, now, now + self._session_ttl
        )
        return LoginResult(user, secret, csrf, stored.expires_at)

    async def logout(self, session_secret: str) -> None:
        await self._repo.delete_session(secret_digest(session_secret), self._clock())

    async def authenticate_session(
        self, session_secret: str
    ) -> tuple[Principal, str] | None:
        """The principal and its CSRF token for a cookie's secret, or None when not valid."""
        found = await self._repo.find_session(secret_digest(session_secret), self._clock())
        if found is None:
            return None
        stored, user = found
        principal = Principal(
            user_id=user.id, username=user.username, role=user.role, via="session",
            session_id=stored.id,
        )
        return principal, stored.csrf_token

    async def authenticate_token(self, secret: str) -> Principal | None:
        found = await self._repo.find_token(secret_digest(secret))
        if found is None:
            return None
        token, user = found
        now_mono = self._monotonic()
        if now_mono - self._token_touched.get(token.id, -1e18) >= TOKEN_TOUCH_INTERVAL_S:
            self._token_touched[token.id] = now_mono
            await self._repo.touch_token(token.id, self._clock())
        return Principal(
            user_id=user.id, username=user.username, role=user.role, via="token",
            scopes=frozenset(token.scopes), token_id=token.id, token_name=token.name,
        )

    async def expire_sessions(self) -> int:
        return await self._repo.delete_expired_sessions(self._clock())

    # -- users

    async def add_user(
        self, username: str, role: str, password: str | None = None, by: int | None = None
    ) -> tuple[User, str | None]:
        """Creates a user (one audit row, naming `by`, the admin, when there is one); returns the
        generated password when none was given (shown once)."""
        generated = None
        if password is None:
            password = generated = generate_password()
        name = check_username(username)
        try:
            user = await self._repo.create_user(
                name, check_role(role), self._passwords.hash(check_password(password)),
                self._clock(), by=by,
            )
        except store_errors.DuplicateError as error:
            raise ConflictError(str(error), code="user_exists") from error
        return user, generated

    async def _user(self, username: str) -> User:
        user = await self._repo.get_user_by_name(username)
        if user is None:
            raise NotFoundError(f"no user named {username!r}")
        return user

    async def get_user(self, user_id: int) -> User:
        user = await self._repo.get_user(user_id)
        if user is None:
            raise NotFoundError("no such user")
        return user

    async def set_password(
        self, username: str, password: str, by: int | None = None
    ) -> User:
        user = await self._user(username)
        return await self._repo.update_user(
            user.id, now=self._clock(), by=by,
            password_hash=self._passwords.hash(check_password(password)),
        )

    async def set_disabled(self, username: str, disabled: bool, by: int | None = None) -> User:
        user = await self._user(username)
        return await self._repo.update_user(user.id, now=self._clock(), by=by, disabled=disabled)

    async def set_role(self, username: str, role: str, by: int | None = None) -> User:
        user = await self._user(username)
        return await self._repo.update_user(user.id, now=self._clock(), by=by,
                                           role=check_role(role))

    async def list_users(self) -> list[User]:
        return await self._repo.list_users()

    # -- API tokens

    async def create_token(
        self, name: str, username: str, scopes: Sequence[str], by: int | None = None
    ) -> CreatedToken:
        """A token acting for `username`, limited to `scopes` and to that user's role."""
        if not name.strip() or len(name) > 100:
            raise InvalidInputError("a token name is 1-100 characters")
        user = await self._user(username)
        if user.disabled:
            raise ConflictError(f"user {username!r} is disabled", code="user_disabled")
        secret = new_api_token()
        token = await self._repo.create_token(
            name.strip(), secret_digest(secret), check_scopes(scopes), user.id, self._clock()
        )
        if by is not None and by != user.id:
            await self._repo.audit(user_id=by, action="token.issue", target=f"token:{token.id}",
                                  details={"for": username}, now=self._clock())
        return CreatedToken(token, secret)

    async def list_tokens(self) -> list[ApiToken]:
        return await self._repo.list_tokens()

    async def revoke_token(self, token_id: int, by: int | None = None) -> ApiToken:
        try:
            return await self._repo.revoke_token(token_id, by, self._clock())
        except store_errors.NotFoundError as error:
            raise NotFoundError(f"no token {token_id}") from error

    # -- audit log

    async def audit_log(
        self, limit: int, before_id: int | None = None, target: str | None = None
    ) -> list[AuditEntry]:
        """Newest first; `before_id` pages back, `target` (such as "case:12") narrows."""
        return await self._repo.audit_log(limit=limit, before_id=before_id, target=target)
