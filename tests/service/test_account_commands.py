"""`sms-gateway user` and `sms-gateway token`, run in-process through the real command line
against a configuration file and the SQLite database it names."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import load_config
from gateway.service.accounts import AccountService
from gateway.service.errors import InvalidCredentialsError, InvalidInputError
from gateway.service.secrets import Passwords
from gateway.store.database import utc_now
from gateway.store.domain import ApiToken, AuditEntry, User
from gateway.store.store import Store

PASSWORD = "a long enough passphrase"

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(f"data_dir: {tmp_path}\ndefault_region: US\n", encoding="utf-8")
    return path


@pytest.fixture
def cli(
    config_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Cli:
    """Runs `sms-gateway ARGS... --config PATH` with `stdin` piped in; (status, out, err)."""

    def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        before = set(threading.enumerate())
        status = main([*args, "--config", str(config_path)])
        # The database's worker threads end just after it closes.
        for thread in set(threading.enumerate()) - before:
            thread.join(timeout=5)
        out, err = capsys.readouterr()
        return status, out, err

    return run


def _with_accounts(config_path: Path, use: Callable[[AccountService], object]) -> object:
    """Run `use` against the command's database, outside the command."""

    async def go() -> object:
        store = await Store.open(load_config(config_path).database_url, migrate=False)
        try:
            accounts = AccountService(
                store.accounts, login_failures=store.login_failures, clock=utc_now,
                session_ttl_s=60, passwords=Passwords())
            result = use(accounts)
            return await result if asyncio.iscoroutine(result) else result
        finally:
            await store.close()

    before = set(threading.enumerate())
    try:
        return asyncio.run(go())
    finally:
        for thread in set(threading.enumerate()) - before:
            thread.join(timeout=5)


def _can_log_in(config_path: Path, username: str, password: str) -> bool:
    async def attempt(accounts: AccountService) -> bool:
        try:
            await accounts.login(username, password, "test")
        except InvalidCredentialsError:
            return False
        return True

    return bool(_with_accounts(config_path, attempt))


def _user(config_path: Path, username: str) -> User:
    async def get(accounts: AccountService) -> User | None:
        return next((u for u in await accounts.list_users() if u.username == username), None)

    user = _with_accounts(config_path, get)
    assert isinstance(user, User)
    return user


def test_user_add_takes_the_password_from_stdin(cli: Cli, config_path: Path) -> None:
    status, out, err = cli("user", "add", "alice", "--role", "supervisor", stdin=PASSWORD + "\n")
    assert (status, err) == (0, "")
    assert "created supervisor alice" in out
    assert PASSWORD not in out
    user = _user(config_path, "alice")
    assert user.role == "supervisor"
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert _can_log_in(config_path, "alice", PASSWORD)
    assert not _can_log_in(config_path, "alice", PASSWORD + "!")


def test_user_add_writes_exactly_one_audit_row(cli: Cli, config_path: Path) -> None:
    assert cli("user", "add", "alice", stdin=PASSWORD)[0] == 0
    user = _user(config_path, "alice")

    async def log(accounts: AccountService) -> list[AuditEntry]:
        return await accounts.audit_log(100)

    entries = _with_accounts(config_path, log)
    assert isinstance(entries, list)
    assert [(e.action, e.user_id, e.target) for e in entries] == [
        ("user.create", None, f"user:{user.id}"),
    ]


def test_a_role_that_does_not_exist_is_refused(cli: Cli, config_path: Path) -> None:
    assert cli("user", "list")[0] == 0  # the database exists

    async def add(accounts: AccountService) -> None:
        await accounts.add_user("eve", "root", PASSWORD)

    with pytest.raises(InvalidInputError, match="role must be one of"):
        _with_accounts(config_path, add)


def test_user_add_without_a_password_generates_one_and_prints_it_once(
    cli: Cli, config_path: Path
) -> None:
    status, out, _ = cli("user", "add", "bob", stdin="")
    assert status == 0
    [line] = [line for line in out.splitlines() if line.startswith("password: ")]
    generated = line.removeprefix("password: ")
    assert len(generated) >= 16
    assert _can_log_in(config_path, "bob", generated)
    assert _user(config_path, "bob").role == "agent"


def test_user_commands_refuse_bad_input_with_a_message(cli: Cli) -> None:
    assert cli("user", "add", "alice", stdin=PASSWORD)[0] == 0
    status, _, err = cli("user", "add", "alice", stdin=PASSWORD)
    assert status == 1
    assert "already exists" in err
    status, _, err = cli("user", "add", "carol", stdin="short")
    assert status == 1
    assert "8 to 1024 characters" in err
    status, _, err = cli("user", "passwd", "nobody", stdin=PASSWORD)
    assert status == 1
    assert "no user named 'nobody'" in err


def _session(config_path: Path, username: str, password: str) -> str:
    async def login(accounts: AccountService) -> str:
        return (await accounts.login(username, password, "test")).session_secret

    secret = _with_accounts(config_path, login)
    assert isinstance(secret, str)
    return secret


def _session_valid(config_path: Path, secret: str) -> bool:
    async def check(accounts: AccountService) -> bool:
        return await accounts.authenticate_session(secret) is not None

    return bool(_with_accounts(config_path, check))


def test_passwd_disable_enable_and_list(cli: Cli, config_path: Path) -> None:
    cli("user", "add", "alice", stdin=PASSWORD)
    logged_in = _session(config_path, "alice", PASSWORD)
    assert _session_valid(config_path, logged_in)
    new_password = "another long passphrase"
    status, out, _ = cli("user", "passwd", "alice", stdin=new_password + "\n")
    assert status == 0
    assert "password changed for alice" in out
    assert not _session_valid(config_path, logged_in)
    assert not _can_log_in(config_path, "alice", PASSWORD)
    assert _can_log_in(config_path, "alice", new_password)
    status, out, _ = cli("user", "disable", "alice")
    assert (status, out.strip()) == (0, "alice is disabled")
    assert not _can_log_in(config_path, "alice", new_password)
    status, out, _ = cli("user", "list")
    assert status == 0
    [row] = [line.split("\t") for line in out.splitlines()]
    assert row[1:] == ["alice", "agent", "disabled"]
    assert cli("user", "enable", "alice")[0] == 0
    assert _can_log_in(config_path, "alice", new_password)


def _token_user(config_path: Path, secret: str) -> tuple[str, frozenset[str]] | None:
    async def check(accounts: AccountService) -> tuple[str, frozenset[str]] | None:
        found = await accounts.authenticate_token(secret)
        return (found.username, found.scopes) if found is not None else None

    result = _with_accounts(config_path, check)
    assert result is None or isinstance(result, tuple)
    return result


def test_token_create_list_and_revoke(cli: Cli, config_path: Path) -> None:
    cli("user", "add", "crm-bot", stdin=PASSWORD)
    status, out, _ = cli("token", "create", "crm-desktop", "--user", "crm-bot",
                         "--scope", "cases:read", "--scope", "messages:send")
    assert status == 0
    [line] = [line for line in out.splitlines() if line.startswith("token: ")]
    secret = line.removeprefix("token: ")
    assert _token_user(config_path, secret) == ("crm-bot",
                                                 frozenset({"cases:read", "messages:send"}))

    async def stored(accounts: AccountService) -> list[ApiToken]:
        return await accounts.list_tokens()

    tokens = _with_accounts(config_path, stored)
    assert isinstance(tokens, list)
    assert secret not in repr(tokens)  # only its digest is stored
    status, out, _ = cli("token", "list")
    [row] = [line.split("\t") for line in out.splitlines()]
    token_id = row[0]
    assert row[1] == "crm-desktop"
    assert row[3] == "active"
    status, out, _ = cli("token", "revoke", token_id)
    assert (status, out.strip()) == (0, f"revoked token {token_id} (crm-desktop)")
    assert _token_user(config_path, secret) is None
    assert "revoked" in cli("token", "list")[1]


def test_token_create_default_scopes_and_refusals(cli: Cli, config_path: Path) -> None:
    cli("user", "add", "desk", stdin=PASSWORD)
    status, out, _ = cli("token", "create", "desk-app", "--user", "desk")
    assert status == 0
    secret = out.split("token: ")[1].split()[0]
    found = _token_user(config_path, secret)
    assert found is not None
    assert "messages:send" in found[1]
    assert "admin" not in found[1]  # an admin scope is only ever given on purpose
    status, _, err = cli("token", "create", "x", "--user", "nobody")
    assert status == 1
    assert "no user named 'nobody'" in err
    status, _, err = cli("token", "revoke", "999")
    assert status == 1
    assert "no token 999" in err


def test_user_add_on_a_fresh_install_creates_the_data_directory(
    tmp_path: Path, config_path: Path, cli: Cli
) -> None:
    fresh = tmp_path / "not-yet-created"
    config_path.write_text(f"data_dir: {fresh}\ndefault_region: US\n", encoding="utf-8")
    status, out, err = cli("user", "add", "carol", "--role", "agent", stdin=PASSWORD + "\n")
    assert status == 0, err
    assert "carol" in out
    assert (fresh / "gateway.db").exists()
