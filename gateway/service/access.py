"""Who is asking and what they may do: roles, API token scopes, and the rules that tie them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from gateway.service.errors import PermissionDeniedError

if TYPE_CHECKING:  # `sms-gateway token --help` lists the scopes without loading the store
    from gateway.store.domain import Case, Role

ROLES: tuple[Role, ...] = ("agent", "supervisor", "admin")
# Each role can do everything the roles before it can.
_RANK: dict[str, int] = {role: rank for rank, role in enumerate(ROLES)}

Scope = Literal[
    "requests:read", "requests:answer", "cases:read", "cases:write", "messages:send",
    "lines:read", "events:read", "supervise", "admin",
]
SCOPES: tuple[Scope, ...] = (
    "requests:read", "requests:answer", "cases:read", "cases:write", "messages:send",
    "lines:read", "events:read", "supervise", "admin",
)


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: a logged-in user, or an API token acting for its user."""

    user_id: int
    username: str
    role: Role
    via: Literal["session", "token"]
    scopes: frozenset[str] = frozenset(SCOPES)
    session_id: int | None = None
    token_id: int | None = None
    token_name: str | None = None

    def has_role(self, role: Role) -> bool:
        return _RANK[self.role] >= _RANK[role]

    def has_scope(self, scope: str) -> bool:
        return self.via == "session" or scope in self.scopes

    @property
    def sees_all_cases(self) -> bool:
        return self.has_role("supervisor") and self.has_scope("supervise")


def require_role(principal: Principal, role: Role) -> None:
    if not principal.has_role(role):
        raise PermissionDeniedError(f"this needs the {role} role")


def require_scope(principal: Principal, scope: str) -> None:
    if not principal.has_scope(scope):
        raise PermissionDeniedError(f"this API token lacks the {scope} scope")


def can_view_case(principal: Principal, case: Case) -> bool:
    return principal.sees_all_cases or case.agent_id == principal.user_id


def require_case_access(principal: Principal, case: Case) -> None:
    """Agents work their own cases only; supervisors and admins see every case."""
    if not can_view_case(principal, case):
        raise PermissionDeniedError(f"Case #{case.id} is with another agent.")


def require_case_owner(principal: Principal, case: Case) -> None:
    """Sending and closing: the assigned agent, or a supervisor stepping in."""
    require_case_access(principal, case)
