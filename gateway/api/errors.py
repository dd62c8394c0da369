"""Every failure leaves the API as JSON `{"error": {"code", "message"}}`, never a stack trace."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import ValidationError

from gateway.log import get_logger
from gateway.service import errors as service_errors
from gateway.store.errors import StoreUnavailableError

log = get_logger(__name__)

_STATUS: tuple[tuple[type[service_errors.ServiceError], int], ...] = (
    (service_errors.RateLimitedError, 429),
    (service_errors.AuthenticationError, 401),
    (service_errors.PermissionDeniedError, 403),
    (service_errors.NotFoundError, 404),
    (service_errors.ConflictError, 409),
    (service_errors.InvalidInputError, 400),
)

HTTP_CODES = {
    400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 406: "not_acceptable", 408: "request_timeout", 409: "conflict",
    413: "body_too_large", 415: "unsupported_media_type", 429: "rate_limited",
    500: "internal_error", 503: "unavailable",
}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    return web.json_response(body, status=status, headers=headers)


class ApiError(Exception):
    """Raised by handlers for failures the API itself detects (bad JSON, missing CSRF...)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def validation_message(error: ValidationError) -> str:
    problems = []
    for item in error.errors(include_url=False):
        where = ".".join(str(part) for part in item["loc"]) or "body"
        if item["type"] == "extra_forbidden":
            problems.append(f"{where}: unknown field")
        else:
            problems.append(f"{where}: {item['msg']}")
    return "; ".join(problems)


@web.middleware
async def error_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except ApiError as error:
        return error_response(error.status, error.code, error.message)
    except service_errors.ServiceError as error:
        headers = None
        if isinstance(error, service_errors.RateLimitedError):
            headers = {"Retry-After": str(int(error.retry_after_s + 0.999))}
        for kind, status in _STATUS:
            if isinstance(error, kind):
                return error_response(status, error.code, error.message, headers)
        return error_response(400, error.code, error.message)
    except ValidationError as error:
        return error_response(400, "invalid_input", validation_message(error))
    except StoreUnavailableError as error:
        log.warning("request failed: database unavailable", path=request.path, error=str(error))
        return error_response(503, "unavailable", "the database is unavailable; try again")
    except web.HTTPException as error:
        if error.status < 400:
            raise
        code = HTTP_CODES.get(error.status, "http_error")
        message = error.reason
        if error.status == 413:
            message = "request body is too large"
        response = error_response(error.status, code, message)
        for name in ("Allow", "Retry-After"):
            if name in error.headers:
                response.headers[name] = error.headers[name]
        return response
    except Exception:
        log.exception("unhandled error in API request", method=request.method, path=request.path)
        return error_response(500, "internal_error", "internal error; it has been logged")
