"""The store's errors: one root, and one subclass per failure kind a caller acts on differently."""

from __future__ import annotations


class StoreError(Exception):
    """Root of every error the store raises."""


class StoreUnavailableError(StoreError):
    """The database cannot be written or reached right now (locked, disk full, connection lost).

    Nothing was committed; the caller keeps its data (e.g. messages stay on the modem) and retries.
    """


class NotFoundError(StoreError):
    """The row named by the caller does not exist."""

    def __init__(self, kind: str, key: object) -> None:
        super().__init__(f"{kind} {key!r} not found")
        self.kind = kind
        self.key = key


class ConflictError(StoreError):
    """The change lost against the current state (already answered, already open, wrong status)."""


class RequestAlreadyHandledError(ConflictError):
    """Another agent answered (or the request was cancelled) first."""

    def __init__(self, request_id: int, status: str) -> None:
        super().__init__(f"request {request_id} is already {status}")
        self.request_id = request_id
        self.status = status


class CaseAlreadyOpenError(ConflictError):
    """The contact already has an open case; there is never a second one."""

    def __init__(self, contact_id: int, case_id: int) -> None:
        super().__init__(f"contact {contact_id} already has open case {case_id}")
        self.contact_id = contact_id
        self.case_id = case_id


class InvalidTransitionError(ConflictError):
    """A status change that the current status does not allow (e.g. a delivered part sent again)."""

    def __init__(self, kind: str, key: int, current: str, wanted: str) -> None:
        super().__init__(f"{kind} {key} is {current}; cannot become {wanted}")
        self.kind = kind
        self.key = key
        self.current = current
        self.wanted = wanted


class DuplicateError(ConflictError):
    """A unique value (username, token) is already taken."""


class InvalidPhoneNumberError(StoreError, ValueError):
    """A phone number that phonenumbers cannot read as a valid number; `reason` says why."""

    def __init__(self, number: str, reason: str) -> None:
        super().__init__(f"invalid phone number {number!r}: {reason}")
        self.number = number
        self.reason = reason
