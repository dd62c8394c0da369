"""Without cases.require_wrap_up a case closes with no body at all, as before."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import ConfigError, parse_config

from .conftest import Env
from .desk import answered_case


async def test_close_needs_no_code_when_none_is_required(env: Env) -> None:
    alice = await env.login("alice")
    case = await answered_case(env, alice)
    response = await alice.client.post(f"/api/cases/{case['id']}/close",
                                       headers={"X-CSRF-Token": alice.csrf})
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["case"]["wrap_up"] is None
    assert await alice.get("/api/wrap-up-codes") == (200, {"codes": [], "required": False})


def test_require_wrap_up_without_codes_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"require_wrap_up needs cases\.wrap_up_codes"):
        parse_config({"cases": {"require_wrap_up": True}}, base_dir=tmp_path)
