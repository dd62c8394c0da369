"""Logging in and out, checking sessions and API tokens, and managing users and tokens.

Whatever ends or changes a user's access (logout, disabling, a new password, a new role) is
announced to `on_access_ended` listeners at once, so open websockets of that user close.
"""

from __future__ import annotations

import asyncio
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

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
from gateway.store.login_failures import LoginFailureRepository

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
# zxcvbn's score from 0 to 4; 3 is "safely unguessable" against online and throttled guessing.
MIN_PASSWORD_SCORE = 3
# zxcvbn's work grows with length; a password this long is judged on its first characters.
_SCORED_PASSWORD_CHARS = 100
# A token's last use is written at most this often, so API traffic does not mean a write per call.
TOKEN_TOUCH_INTERVAL_S = 60.0


@dataclass(frozen=True, slots=True)
class LoginResult:
    user: User
    session_secret: str  # goes into the cookie; only its digest is stored
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class AccessEnded:
    """A user's sessions ended or their rights changed: `session_id` None means all of them."""

    user_id: int
    session_id: int | None = None


AccessListener = Callable[[AccessEnded], None]


@dataclass(frozen=True, slots=True)
class CreatedToken:
    token: ApiToken
    secret: str  # shown once; only its digest is stored


def check_username(username: str) -> str:
    name = username.strip()
    if (
        not name or len(name) > 100 or any(ch.isspace() for ch in name)
        or any(unicodedata.category(ch).startswith("C") for ch in name)
    ):
        raise InvalidInputError(
            "a username is 1-100 characters without spaces or control characters"
        )
    return name


def username_skeleton(username: str) -> str:
    """What two usernames that look alike have in common (`Agent`, `AGENT`, `ａｇｅｎｔ`)."""
    return unicodedata.normalize("NFKC", username).casefold()


def check_password(password: str, username: str | None = None) -> str:
    """Length, then strength: common passwords, keyboard walks, dates and anything built on
    the username are refused (zxcvbn)."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidInputError(
            f"a password is {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters"
        )
    if username and len(username) >= 3 and username_skeleton(username) in username_skeleton(
        password
    ):
        raise InvalidInputError("a password must not contain the username")
    from zxcvbn import zxcvbn  # 0.2 s to load its word lists: only when a password is set

    scored = password[:_SCORED_PASSWORD_CHARS]
    result = zxcvbn(scored, user_inputs=[username] if username else [],
                    max_length=_SCORED_PASSWORD_CHARS)
    if int(result["score"]) < MIN_PASSWORD_SCORE:
        feedback = result.get("feedback") or {}
        hint = " ".join(filter(None, [feedback.get("warning"), *feedback.get("suggestions", [])]))
        raise InvalidInputError(
            "this password is too easy to guess" + (f": {hint}" if hint else "")
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
        login_failures: LoginFailureRepository,
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
        self.limiter = LoginRateLimiter(login_limits or LoginLimits(), login_failures, clock)
        self._token_touched: dict[int, float] = {}
        self._monotonic = monotonic
        self._access_listeners: list[AccessListener] = []
        # Role and disable changes one at a time, so two cannot both remove the "last" admin.
        self._admin_changes = asyncio.Lock()

    def on_access_ended(self, listener: AccessListener) -> Callable[[], None]:
        """Call `listener` whenever sessions end or a user's rights change; returns the
        unsubscribe callable."""
        self._access_listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._access_listeners:
                self._access_listeners.remove(listener)

        return unsubscribe

    def _access_ended(self, user_id: int, session_id: int | None = None) -> None:
        ended = AccessEnded(user_id, session_id)
        for listener in tuple(self._access_listeners):
            listener(ended)

    # -- sessions

    async def login(self, username: str, password: str, address: str) -> LoginResult:
        # Counted before the password is checked, in one transaction holding the counters:
        # parallel guesses cannot all pass a limit that none of them has reached yet.
        await self.limiter.begin(username, address)
        user = await self._repo.get_user_by_name(username)
        ok = self._passwords.verify(user.password_hash if user else None, password)
        if user is None or not ok or user.disabled:
            await self._repo.audit(
                user_id=user.id if user else None, action="login.failed",
                target=f"user:{user.id}" if user else None,
                details={"username": username[:100], "address": address}, now=self._clock(),
            )
            raise InvalidCredentialsError("wrong username or password")
        await self.limiter.succeeded(username, address)
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
        digest = secret_digest(session_secret)
        found = await self._repo.find_session(digest, self._clock())
        await self._repo.delete_session(digest, self._clock())
        if found is not None:
            self._access_ended(found[1].id, found[0].id)

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
        """Drop expired sessions (and login failure counters past their window)."""
        await self.limiter.forget_idle()
        return await self._repo.delete_expired_sessions(self._clock())

    # -- users

    async def add_user(
        self, username: str, role: str, password: str | None = None, by: int | None = None,
        *, check_strength: bool = True,
    ) -> tuple[User, str | None]:
        """Creates a user (one audit row, naming `by`, the admin, when there is one); returns the
        generated password when none was given (shown once). A username that looks like an
        existing one (case, width) is refused, so failures for one never pass for the other's.
        `check_strength=False` only for the demo's published accounts."""
        generated = None
        if password is None:
            password = generated = generate_password()
        name = check_username(username)
        skeleton = username_skeleton(name)
        for existing in await self._repo.list_users():
            if existing.username != name and username_skeleton(existing.username) == skeleton:
                raise ConflictError(
                    f"username {name!r} looks like the existing {existing.username!r}",
                    code="user_exists",
                )
        if check_strength:
            check_password(password, name)
        elif not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
            check_password(password)
        try:
            user = await self._repo.create_user(
                name, check_role(role), self._passwords.hash(password), self._clock(), by=by,
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
        changed = await self._repo.update_user(
            user.id, now=self._clock(), by=by,
            password_hash=self._passwords.hash(check_password(password, user.username)),
        )
        self._access_ended(user.id)
        return changed

    async def set_disabled(self, username: str, disabled: bool, by: int | None = None) -> User:
        async with self._admin_changes:
            user = await self._user(username)
            if disabled:
                await self._keep_an_admin(user)
            changed = await self._repo.update_user(
                user.id, now=self._clock(), by=by, disabled=disabled
            )
        if disabled:
            self._access_ended(user.id)
        return changed

    async def set_role(self, username: str, role: str, by: int | None = None) -> User:
        new_role = check_role(role)
        async with self._admin_changes:
            user = await self._user(username)
            if new_role != "admin":
                await self._keep_an_admin(user)
            changed = await self._repo.update_user(user.id, now=self._clock(), by=by,
                                                   role=new_role)
        if new_role != user.role:
            self._access_ended(user.id)
        return changed

    async def _keep_an_admin(self, user: User) -> None:
        """Refuse to take the admin role (or the account) from the last enabled admin."""
        if user.role != "admin" or user.disabled:
            return
        admins = [u for u in await self._repo.list_users() if u.role == "admin" and not u.disabled]
        if [u.id for u in admins] == [user.id]:
            raise ConflictError(
                f"{user.username} is the last enabled admin; make another admin first",
                code="last_admin",
            )

    async def list_users(self) -> list[User]:
        return await self._repo.list_users()

    async def users_with_passwords(self, pairs: Sequence[tuple[str, str]]) -> list[str]:
        """Which of these enabled users still have that password (the demo's published ones)."""
        found = []
        for username, password in pairs:
            user = await self._repo.get_user_by_name(username)
            if user is not None and not user.disabled and self._passwords.verify(
                user.password_hash, password
            ):
                found.append(username)
        return found

    async def login_throttles(self) -> list[dict[str, Any]]:
        """The login failure counters that currently slow attempts down, as plain data."""
        return [
            {"kind": t.kind, "username": t.username, "address": t.address,
             "failures": t.failures, "retry_after_s": round(t.retry_after_s, 1)}
            for t in await self.limiter.throttles()
        ]

    async def clear_login_limits(
        self, *, username: str | None, address: str | None, by: int | None
    ) -> int:
        """Forget login failure counters (see LoginRateLimiter.clear); audited."""
        cleared = await self.limiter.clear(username=username, address=address)
        await self._repo.audit(
            user_id=by, action="login_limits.clear", target=None,
            details={"username": username, "address": address, "cleared": cleared},
            now=self._clock(),
        )
        return cleared

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
        self, limit: int, before_id: int | None = None, target: str | None = None,
        username: str | None = None, action: str | None = None,
    ) -> list[AuditEntry]:
        """Newest first; `before_id` pages back; `target` (such as "case:12"), the acting
        user and the action narrow it (an unknown username finds nothing)."""
        user_id = None
        if username is not None:
            user = await self._repo.get_user_by_name(username)
            if user is None:
                return []
            user_id = user.id
        return await self._repo.audit_log(limit=limit, before_id=before_id, target=target,
                                          user_id=user_id, action=action)
