"""The workflow's failure kinds; the API turns each into an HTTP answer at its edge."""

from __future__ import annotations


class ServiceError(Exception):
    """Root of every error the service raises on purpose; `code` is stable for clients."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidInputError(ServiceError):
    code = "invalid_input"


class InvalidPhoneError(InvalidInputError):
    code = "invalid_phone"


class TextTooLongError(InvalidInputError):
    code = "text_too_long"


class NotFoundError(ServiceError):
    code = "not_found"


class ConflictError(ServiceError):
    code = "conflict"


class AlreadyAnsweredError(ConflictError):
    code = "already_answered"


class CaseClosedError(ConflictError):
    code = "case_closed"


class PermissionDeniedError(ServiceError):
    code = "forbidden"


class AuthenticationError(ServiceError):
    code = "unauthenticated"


class InvalidCredentialsError(AuthenticationError):
    code = "invalid_credentials"


class RateLimitedError(ServiceError):
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
