"""Search: past cases by number, contact name and message text, with a snippet; agents find
only their own cases."""

from __future__ import annotations

from urllib.parse import quote

from .conftest import CUSTOMER, Env
from .desk import answered_case

OTHER = "+15557654321"


async def test_search_finds_cases_by_text_number_and_name(env: Env) -> None:
    alice = await env.login("alice")
    case = await answered_case(env, alice, "The heating in flat 3 is broken since Monday")
    await alice.post(f"/api/cases/{case['id']}/close")
    response = await alice.client.put(f"/api/contacts/{quote(CUSTOMER)}",
                                      json={"name": "Ada Lovelace"},
                                      headers={"X-CSRF-Token": alice.csrf})
    assert response.status == 200
    status, body = await alice.get("/api/search", params={"q": "HEATING"})
    assert status == 200
    [hit] = body["results"]
    assert (hit["case_id"], hit["matched"], hit["status"], hit["agent"]) == (
        case["id"], "text", "closed", "alice")
    assert "heating in flat 3" in hit["snippet"]
    assert [h["matched"] for h in (await alice.get("/api/search", params={"q": "lovelace"}))[1][
        "results"]] == ["name"]
    assert [h["matched"] for h in (await alice.get("/api/search", params={"q": "123-4567"}))[1][
        "results"]] == ["phone"]
    assert (await alice.get("/api/search", params={"q": "nothing like it"}))[1]["results"] == []


async def test_agents_find_only_their_own_cases_supervisors_all(env: Env) -> None:
    alice = await env.login("alice")
    bob = await env.login("bob")
    sam = await env.login("sam", "supervisor")
    await answered_case(env, alice, "parcel lost")
    await answered_case(env, bob, "parcel damaged", sender=OTHER)
    def phones(body: dict[str, list[dict[str, str]]]) -> set[str]:
        return {h["phone"] for h in body["results"]}
    assert phones((await alice.get("/api/search", params={"q": "parcel"}))[1]) == {CUSTOMER}
    assert phones((await bob.get("/api/search", params={"q": "parcel"}))[1]) == {OTHER}
    assert phones((await sam.get("/api/search", params={"q": "parcel"}))[1]) == {CUSTOMER, OTHER}


async def test_wildcards_are_literal_and_short_queries_refused(env: Env) -> None:
    alice = await env.login("alice")
    await answered_case(env, alice, "100% sure")
    assert len((await alice.get("/api/search", params={"q": "0%"}))[1]["results"]) == 1
    assert (await alice.get("/api/search", params={"q": "%_"}))[1]["results"] == []
    assert (await alice.get("/api/search", params={"q": "x"}))[0] == 400
