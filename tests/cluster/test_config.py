"""The `node:` section: a cluster needs PostgreSQL, node names follow the line-name rules, and a
lease outlasts a late heartbeat."""

from __future__ import annotations

import pytest

from gateway.config import ConfigError, parse_config

PG = "postgresql://gateway@db.example:5432/gateway"


def _problems(data: dict[str, object]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    return str(caught.value)


def test_a_node_on_postgresql_is_accepted() -> None:
    config = parse_config({"database": PG, "node": {"name": "site-a_1"}})
    assert config.node is not None
    assert config.node.name == "site-a_1"


def test_a_cluster_node_on_sqlite_is_refused_with_the_reason() -> None:
    text = _problems({"node": {"name": "site-a"}})
    assert "node" in text
    assert "PostgreSQL" in text
    assert "SQLite serves one host only" in text


@pytest.mark.parametrize("name", ["Site-A", "site a", "", "x" * 64, "site.a"])
def test_node_names_are_lower_case_letters_digits_dash_underscore(name: str) -> None:
    assert "node.name" in _problems({"database": PG, "node": {"name": name}})


def test_a_lease_shorter_than_three_heartbeats_is_refused() -> None:
    text = _problems({"database": PG, "node": {"name": "a", "heartbeat_interval_s": 5,
                                               "lease_ttl_s": 10}})
    assert "node.lease_ttl_s" in text
    assert "three heartbeats" in text
