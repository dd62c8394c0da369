"""The systemd unit: what the daemon relies on, `systemd-analyze verify` clean, exposure low."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_tool

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "systemd" / "sms-gateway.service"
INSTALLED_BINARY = "/opt/sms-gateway/venv/bin/sms-gateway"
MAX_EXPOSURE = 2.5


def unit_settings() -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for raw in UNIT.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        settings.setdefault(key, []).append(value)
    return settings


def test_unit_declares_notify_watchdog_reload_and_a_dedicated_user() -> None:
    unit = unit_settings()
    expected = {
        "Type": ["notify"],
        "NotifyAccess": ["main"],
        "ExecStart": [f"{INSTALLED_BINARY} run --config /etc/sms-gateway/config.yaml"],
        "ExecReload": ["/bin/kill -HUP $MAINPID"],
        "WatchdogSec": ["30"],
        "Restart": ["on-failure"],
        "User": ["sms-gateway"],
        "Group": ["sms-gateway"],
        "SupplementaryGroups": ["dialout"],
        "StateDirectory": ["sms-gateway"],
        "LogsDirectory": ["sms-gateway"],
        "ConfigurationDirectory": ["sms-gateway"],
        "DevicePolicy": ["closed"],
        "NoNewPrivileges": ["yes"],
        "ProtectSystem": ["strict"],
        "ProtectHome": ["yes"],
        "PrivateTmp": ["yes"],
        "CapabilityBoundingSet": [""],
        "RestrictAddressFamilies": ["AF_UNIX AF_INET AF_INET6 AF_NETLINK"],
        "MemoryDenyWriteExecute": ["yes"],
        "UMask": ["0027"],
    }
    for key, values in expected.items():
        assert unit.get(key) == values, key
    assert "char-ttyUSB rw" in unit["DeviceAllow"]
    assert "char-ttyACM rw" in unit["DeviceAllow"]
    assert unit["SystemCallFilter"][0] == "@system-service"
    # The data directory the sample config names is the one systemd creates.
    sample = (REPO / "examples" / "config.sample.yaml").read_text(encoding="utf-8")
    assert "data_dir: /var/lib/sms-gateway" in sample
    assert unit["WorkingDirectory"] == ["/var/lib/sms-gateway"]


def test_serial_driver_modules_are_loaded_before_the_service() -> None:
    modules = (REPO / "systemd" / "sms-gateway-modules.conf").read_text(encoding="utf-8")
    names = [line for line in modules.splitlines() if line and not line.startswith("#")]
    assert {"usbserial", "cdc_acm"} <= set(names)
    assert "systemd-modules-load.service" in unit_settings()["After"][0]


def _analyzable_copy(tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at a binary that exists here (verify checks it)."""
    copy = tmp_path / UNIT.name
    copy.write_text(
        UNIT.read_text(encoding="utf-8").replace(INSTALLED_BINARY, sys.executable),
        encoding="utf-8",
    )
    return copy


@pytest.fixture
def systemd_analyze() -> str:
    tool = shutil.which("systemd-analyze")
    require_tool(tool is not None, "systemd-analyze is not installed")
    assert tool is not None
    return tool


def test_systemd_analyze_verify_is_clean(systemd_analyze: str, tmp_path: Path) -> None:
    copy = _analyzable_copy(tmp_path)
    result = subprocess.run(
        [systemd_analyze, "verify", "--man=no", "--generators=no", str(copy)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr


def test_systemd_analyze_verify_catches_a_broken_unit(systemd_analyze: str, tmp_path: Path) -> None:
    # Proves the check above can fail: a misspelt directive is reported.
    copy = _analyzable_copy(tmp_path)
    copy.write_text(copy.read_text().replace("WatchdogSec=", "WatchDogSec="), encoding="utf-8")
    result = subprocess.run(
        [systemd_analyze, "verify", "--man=no", "--generators=no", str(copy)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        cwd=tmp_path,
    )
    assert "WatchDogSec" in result.stderr


def test_security_exposure_is_low(systemd_analyze: str, tmp_path: Path) -> None:
    copy = _analyzable_copy(tmp_path)
    result = subprocess.run(
        [systemd_analyze, "security", "--offline=true", "--no-pager", str(copy)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        cwd=tmp_path,
    )
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d)", result.stdout)
    assert found is not None, result.stdout + result.stderr
    assert float(found.group(1)) <= MAX_EXPOSURE, result.stdout
