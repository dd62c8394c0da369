"""`sms-gateway quarantine` and `sms-gateway logins`: what an admin at the shell sees and clears."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from gateway.api.keys import WORKFLOW
from gateway.config import parse_config
from gateway.daemon import Daemon
from gateway.service.errors import InvalidCredentialsError, RateLimitedError
from gateway.store.store import Store
from tests.pipeline.conftest import daemon_config
from tests.service.test_account_commands import Cli, cli, config_path

__all__ = ["cli", "config_path"]  # the fixtures, shared with the account command tests


async def _quarantine_one(config_path: Path) -> None:
    from gateway.config import load_config

    store = await Store.open(load_config(config_path).database_url)
    try:
        line = await store.lines.ensure("line-1", "+15550000001")
        await store.quarantine.add(line.id, "0011POISON", "StoreError: refused", attempts=5,
                                   now=datetime.now(UTC))
    finally:
        await store.close()


def test_quarantine_lists_the_refused_messages_with_their_pdu(
    cli: Cli, config_path: Path
) -> None:
    # No daemon has run here yet: no empty database is made up to say "0 quarantined".
    status, out, err = cli("quarantine")
    assert (status, out) == (1, "")
    assert "no database at" in err
    asyncio.run(_quarantine_one(config_path))
    status, out, _ = cli("quarantine")
    assert status == 0
    assert out.splitlines()[0] == "1 quarantined message(s)"
    assert "after 5 attempts: 'StoreError: refused'" in out
    assert "pdu 0011POISON" in out


async def _logins(config_path: Path, *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "logins", "--config", str(config_path), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_logins_shows_and_clears_the_running_daemons_throttles(tmp_path: Path) -> None:
    raw = daemon_config(tmp_path)
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(raw))
    daemon = Daemon(parse_config(raw, base_dir=tmp_path))
    await daemon.start()
    try:
        assert daemon.app is not None
        accounts = daemon.app[WORKFLOW].accounts
        await accounts.add_user("alice", "agent", "a long enough passphrase")
        assert "no login is being slowed down" in await _logins(config_path)
        for _ in range(daemon.config.http.login_max_attempts):
            with pytest.raises(InvalidCredentialsError):
                await accounts.login("alice", "wrong guess", "203.0.113.5")
        with pytest.raises(RateLimitedError):
            await accounts.login("alice", "a long enough passphrase", "203.0.113.5")
        shown = await _logins(config_path)
        assert "user_address  alice from 203.0.113.5: 10 failures" in shown
        assert "cleared 2 counter(s)" in await _logins(config_path, "--clear-user", "alice")
        await accounts.login("alice", "a long enough passphrase", "203.0.113.5")
        for _ in range(daemon.config.http.login_max_attempts):
            with pytest.raises(InvalidCredentialsError):
                await accounts.login("alice", "wrong again", "203.0.113.9")
    finally:
        await daemon.stop()
    # The counters are in the database: with the daemon stopped they are shown and cleared
    # all the same.
    assert "user_address  alice from 203.0.113.9: 10 failures" in await _logins(config_path)
    assert "cleared 2 counter(s)" in await _logins(config_path, "--clear-user", "alice")
    assert "no login is being slowed down" in await _logins(config_path)
