"""Search of past conversations: agents find their own cases, supervisors every case."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.service import access
from gateway.service.access import Principal
from gateway.service.errors import InvalidInputError
from gateway.store.search import CaseHit
from gateway.store.store import Store

MIN_QUERY_CHARS = 2
MAX_QUERY_CHARS = 100
MAX_RESULTS = 50


@dataclass(frozen=True, slots=True)
class SearchResult:
    hit: CaseHit
    agent: str | None  # username


class SearchService:
    def __init__(self, *, store: Store) -> None:
        self._store = store

    async def search(self, principal: Principal, query: str) -> list[SearchResult]:
        access.require_scope(principal, "cases:read")
        text = " ".join(query.split())
        if "\x00" in text or not MIN_QUERY_CHARS <= len(text) <= MAX_QUERY_CHARS:
            raise InvalidInputError(
                f"search for {MIN_QUERY_CHARS} to {MAX_QUERY_CHARS} characters")
        hits = await self._store.search.cases(
            text, user_id=None if principal.sees_all_cases else principal.user_id,
            limit=MAX_RESULTS,
        )
        names = {user.id: user.username for user in await self._store.accounts.list_users()}
        return [SearchResult(hit, names.get(hit.agent_id) if hit.agent_id else None)
                for hit in hits]
