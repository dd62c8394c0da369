"""The command line answers at once: `--help`, `pdu` and every command's `--help` (but the
simulator's, a developer's tool) import neither aiohttp, SQLAlchemy, the configuration's
pydantic models nor the daemon, and `status` none of the daemon's web or database parts.
Checked on the modules a real process has loaded, not on time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.cli import COMMANDS, build_parser, chosen_command, main
from gateway.commands.check_config import CONFIG_HELP
from gateway.config import DEFAULT_CONFIG_PATHS

COMMANDS_DIR = Path(__file__).resolve().parent.parent / "gateway" / "commands"

# What a command that needs neither the store, the web nor the configuration must not load.
HEAVY = ("aiohttp", "sqlalchemy", "alembic", "pydantic", "structlog", "yaml", "asyncpg",
         "aiosqlite", "gateway.daemon", "gateway.store", "gateway.config", "gateway.api",
         "gateway.service", "gateway.modem", "gateway.pipeline", "gateway.sim")
# What no command's --help may load (but `sim`'s: the simulator is a developer's tool).
HELP_HEAVY = tuple(h for h in HEAVY if h not in ("yaml", "gateway.service"))
# `status` reads the configuration, then asks the daemon over its socket with the standard library.
STATUS_HEAVY = ("aiohttp", "sqlalchemy", "alembic", "structlog", "gateway.daemon",
                "gateway.store", "gateway.api", "gateway.service", "gateway.modem")

DELIVER_PDU = "07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07"

# Runs the command as `sms-gateway` does, then lists every module the process holds.
PROBE = """
import json, sys
from gateway.cli import main
try:
    main(sys.argv[2:])
except SystemExit:
    pass
with open(sys.argv[1], "w") as out:
    json.dump(sorted(sys.modules), out)
"""


def loaded_modules(tmp_path: Path, *argv: str) -> set[str]:
    listing = tmp_path / "modules.json"
    subprocess.run(
        [sys.executable, "-c", PROBE, str(listing), *argv],
        cwd=tmp_path, capture_output=True, check=True, timeout=60,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    return set(json.loads(listing.read_text()))


def heavy_in(modules: set[str], heavy: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in heavy))


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["pdu", "encode", "--to", "+15551234567", "hello"],
        ["pdu", "decode", DELIVER_PDU],
        ["send", "--help"],
        ["status", "--help"],
        ["run", "--help"],
    ],
    ids=" ".join,
)
def test_light_commands_import_nothing_heavy(tmp_path: Path, argv: list[str]) -> None:
    assert heavy_in(loaded_modules(tmp_path, *argv), HEAVY) == []


@pytest.mark.parametrize(
    "argv",
    [*([name, "--help"] for name in COMMANDS if name != "sim"),
     ["user", "add", "--help"], ["token", "create", "--help"], ["contact", "forget", "--help"]],
    ids=" ".join,
)
def test_every_commands_help_loads_neither_the_store_nor_the_web(
    tmp_path: Path, argv: list[str]
) -> None:
    # What they list may come from light modules (the scopes, the baud rates); never from the
    # store, pydantic, aiohttp or the daemon.
    assert heavy_in(loaded_modules(tmp_path, *argv), HELP_HEAVY) == []


def test_status_asks_the_daemon_without_aiohttp_or_the_store(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(
        'data_dir: ./data\nmodems:\n  - name: a\n    number: "+15550100"\n    device: /dev/null\n'
    )
    modules = loaded_modules(tmp_path, "status", "--config", "config.yaml")
    assert "gateway.control" in modules  # it did get as far as asking
    assert heavy_in(modules, STATUS_HEAVY) == []


def test_the_help_listing_names_every_command_module(capsys: pytest.CaptureFixture[str]) -> None:
    modules = {path.stem for path in COMMANDS_DIR.glob("*.py")} - {"__init__"}
    assert {module for module, _help in COMMANDS.values()} == modules
    with pytest.raises(SystemExit):
        main(["--help"])
    listing = capsys.readouterr().out
    for name, (_module, help_line) in COMMANDS.items():
        assert name in listing
        assert help_line in " ".join(listing.split())


def test_each_command_module_registers_the_name_and_help_the_listing_shows() -> None:
    parser = build_parser()
    subparsers = next(
        action for action in parser._actions if isinstance(action, argparse._SubParsersAction)
    )
    registered = {choice.dest: choice.help for choice in subparsers._choices_actions}
    assert registered == {name: help_line for name, (_module, help_line) in COMMANDS.items()}


def test_the_config_option_names_the_files_the_loader_looks_for() -> None:
    looked = ", then ".join(
        str(path) if path.is_absolute() else f"./{path}" for path in DEFAULT_CONFIG_PATHS
    )
    assert f"(default: {looked})" in CONFIG_HELP


@pytest.mark.parametrize(
    ("argv", "command"),
    [(["--help"], None), (["send", "--to", "x", "hi"], "send"), (["-h", "pdu"], "pdu"), ([], None)],
)
def test_the_command_is_the_first_word_that_is_not_an_option(
    argv: list[str], command: str | None
) -> None:
    assert chosen_command(argv) == command


def test_an_unknown_command_is_refused_with_the_list(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["frobnicate"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'frobnicate'" in err
    assert "send" in err
