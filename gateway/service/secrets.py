"""Password hashing (argon2) and the opaque secrets behind sessions and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

TOKEN_PREFIX = "smsgw_"


@dataclass(frozen=True, slots=True)
class HashingCost:
    """argon2id parameters: OWASP's minimum (19 MiB, 2 passes, 1 lane).

    Hashing runs on the event loop (a login is rare and rate-limited); this cost keeps one
    verification near 30 ms so routing is never held up noticeably.
    """

    time_cost: int = 2
    memory_cost_kib: int = 19456
    parallelism: int = 1


# Cheap enough for test suites that log in hundreds of times; never used by the daemon.
TEST_HASHING_COST = HashingCost(time_cost=1, memory_cost_kib=8, parallelism=1)


class Passwords:
    def __init__(self, cost: HashingCost | None = None) -> None:
        cost = cost or HashingCost()
        self._hasher = PasswordHasher(
            time_cost=cost.time_cost,
            memory_cost=cost.memory_cost_kib,
            parallelism=cost.parallelism,
        )
        # Verified against when the user does not exist, so both paths take similar time.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash or self._dummy_hash, password) and (
                password_hash is not None
            )
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)


def generate_password() -> str:
    return secrets.token_urlsafe(15)


def new_secret() -> str:
    """An opaque bearer secret for a session cookie or CSRF token."""
    return secrets.token_urlsafe(32)


def new_api_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def secret_digest(secret: str) -> str:
    """What is stored for a session or API token: the secret itself never reaches the database."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
