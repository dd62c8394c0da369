"""scripts/install.sh and uninstall.sh, run for real into a throw-away root (DESTDIR)."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run_script(
    name: str, root: Path, *args: str, prefix: str | None = None, timeout_s: float = 60
) -> str:
    env = {**os.environ, "DESTDIR": str(root)}
    if prefix is not None:
        env["PREFIX"] = prefix
    result = subprocess.run(
        ["bash", str(REPO / "scripts" / name), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout_s,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_install_puts_every_file_in_place_with_its_mode(tmp_path: Path) -> None:
    root = tmp_path / "root"
    out = run_script("install.sh", root, "--no-venv")
    unit = root / "etc/systemd/system/sms-gateway.service"
    rules = root / "etc/udev/rules.d/99-sms-gateway.rules"
    modules = root / "etc/modules-load.d/sms-gateway.conf"
    config = root / "etc/sms-gateway/config.yaml"
    expected = {
        unit: (REPO / "systemd/sms-gateway.service", 0o644),
        rules: (REPO / "udev/99-sms-gateway.rules", 0o644),
        modules: (REPO / "systemd/sms-gateway-modules.conf", 0o644),
        config: (REPO / "examples/config.sample.yaml", 0o640),
        root / "opt/sms-gateway/docs/ADMIN.md": (REPO / "docs/ADMIN.md", 0o644),
        root / "opt/sms-gateway/share/config.sample.yaml": (
            REPO / "examples/config.sample.yaml",
            0o644,
        ),
    }
    for installed, (source, file_mode) in expected.items():
        assert installed.read_bytes() == source.read_bytes(), installed
        assert mode(installed) == file_mode, installed
    assert mode(root / "etc/sms-gateway") == 0o750
    assert "installed sample" in out
    # A staging root gets no user and no reload: nothing outside DESTDIR was touched.
    assert "creating system user" not in out


def test_existing_config_is_never_overwritten(tmp_path: Path) -> None:
    root = tmp_path / "root"
    config = root / "etc/sms-gateway/config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text("modems: auto\n", encoding="utf-8")
    out = run_script("install.sh", root, "--no-venv")
    assert config.read_text(encoding="utf-8") == "modems: auto\n"
    assert "keeping existing" in out
    run_script("install.sh", root, "--no-venv")  # running it again is harmless
    assert config.read_text(encoding="utf-8") == "modems: auto\n"


def test_prefix_moves_the_program_and_the_unit_follows(tmp_path: Path) -> None:
    root = tmp_path / "root"
    run_script("install.sh", root, "--no-venv", prefix="/srv/gw")
    unit = (root / "etc/systemd/system/sms-gateway.service").read_text(encoding="utf-8")
    exec_start = "ExecStart=/srv/gw/venv/bin/sms-gateway run --config /etc/sms-gateway/config.yaml"
    assert exec_start in unit
    assert "/opt/sms-gateway" not in unit
    assert (root / "srv/gw/docs/ADMIN.md").is_file()


def test_uninstall_keeps_config_and_data_unless_purged(tmp_path: Path) -> None:
    root = tmp_path / "root"
    run_script("install.sh", root, "--no-venv")
    data = root / "var/lib/sms-gateway/gateway.db"
    data.parent.mkdir(parents=True)
    data.write_bytes(b"SQLite format 3\x00")
    out = run_script("uninstall.sh", root)
    assert "kept /etc/sms-gateway" in out
    assert not (root / "etc/systemd/system/sms-gateway.service").exists()
    assert not (root / "etc/udev/rules.d/99-sms-gateway.rules").exists()
    assert not (root / "etc/modules-load.d/sms-gateway.conf").exists()
    assert not (root / "opt/sms-gateway").exists()
    assert (root / "etc/sms-gateway/config.yaml").is_file()
    assert data.is_file()

    run_script("uninstall.sh", root, "--purge")
    assert not (root / "etc/sms-gateway").exists()
    assert not (root / "var/lib/sms-gateway").exists()


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    for args, env in ((["--bogus"], {}), (["--no-venv"], {"PREFIX": "relative"})):
        result = subprocess.run(
            ["bash", str(REPO / "scripts/install.sh"), *args],
            capture_output=True,
            text=True,
            env={**os.environ, "DESTDIR": str(tmp_path), **env},
            timeout=30,
            check=False,
        )
        assert result.returncode == 2, result.stderr
    assert not (tmp_path / "etc").exists()


def locked_versions(lock: Path) -> dict[str, str]:
    """name -> version of each `name==version` line of a lock file (names normalised)."""
    pins = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", lock.read_text(), re.MULTILINE)
    return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in pins}


def test_the_test_lock_pins_the_runtime_lock_versions() -> None:
    runtime = locked_versions(REPO / "requirements.lock")
    test = locked_versions(REPO / "requirements-test.lock")
    assert runtime
    assert {name: test.get(name) for name in runtime} == runtime


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.skipif(
    os.environ.get("SMS_GATEWAY_TEST_VENV_INSTALL") != "1",
    reason="creates a virtual environment and installs with pip (minutes on a busy machine); "
    "set SMS_GATEWAY_TEST_VENV_INSTALL=1 (CI does)",
)
def test_install_with_virtual_environment(tmp_path: Path) -> None:
    root = tmp_path / "root"
    run_script("install.sh", root, timeout_s=840)
    venv = root / "opt/sms-gateway/venv"
    freeze = subprocess.run(
        [str(venv / "bin/python"), "-m", "pip", "list", "--format=freeze",
         "--disable-pip-version-check", "--exclude", "pip", "--exclude", "setuptools"],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout
    installed = dict(line.split("==", 1) for line in freeze.split())
    installed = {re.sub(r"[-_.]+", "-", name).lower(): v for name, v in installed.items()}
    assert installed.pop("sms-gateway") == "0.1.0"
    # Exactly the locked set (less what only another platform needs), at the locked versions.
    locked = locked_versions(REPO / "requirements.lock")
    assert {name: locked.get(name) for name in installed} == installed
    binary = venv / "bin/sms-gateway"
    result = subprocess.run(
        [str(binary), "check-config", "--config", str(REPO / "config.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
