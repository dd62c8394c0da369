"""The udev rules: valid syntax for udevadm, in step with the documented model table, and doing
what the admin is told (AT port linked under /dev/gsm, ModemManager kept off, dialout group)."""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import require_tool

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "udev" / "99-sms-gateway.rules"
TABLE = REPO / "udev" / "modems.tsv"
ADMIN = REPO / "docs" / "ADMIN.md"

Row = tuple[str, str, str, str]  # vendor id, product id, AT interface, link vendor name


def table_rows() -> list[Row]:
    lines = TABLE.read_text(encoding="utf-8").splitlines()
    assert lines[0].split("\t") == ["vendor_id", "product_id", "at_interface", "vendor", "model"]
    rows = []
    for line in lines[1:]:
        vendor_id, product_id, interface, vendor, model = line.split("\t")
        assert model.strip()
        rows.append((vendor_id, product_id, interface, vendor))
    return rows


def test_table_covers_the_modems_admins_use() -> None:
    ids = {(row[0], row[1]) for row in table_rows()}
    assert ("12d1", "1001") in ids  # Huawei E1752 in modem mode
    assert ("12d1", "1506") in ids  # Huawei E3372 stick mode
    assert any(row[0] == "19d2" for row in table_rows())  # ZTE MF
    assert ("2c7c", "0125") in ids  # Quectel EC25 / EG25
    assert ("1e0e", "9001") in ids  # SIMCom SIM7600
    assert ("1199", "68c0") in ids  # Sierra Wireless MC73xx
    assert {("0403", "6001"), ("10c4", "ea60"), ("1a86", "7523")} <= ids  # FTDI, CP210x, CH340
    assert len(ids) == len(table_rows()), "a vendor:product is listed twice"


def test_rules_match_the_table_exactly() -> None:
    text = RULES.read_text(encoding="utf-8")
    tty = re.findall(
        r'^ENV\{ID_VENDOR_ID\}=="(\w{4})", ENV\{ID_MODEL_ID\}=="(\w{4})", '
        r'ENV\{ID_USB_INTERFACE_NUM\}=="(\d\d)", ENV\{SMS_GATEWAY_VENDOR\}="([a-z0-9]+)"$',
        text,
        re.MULTILINE,
    )
    device = re.findall(
        r'^ATTR\{idVendor\}=="(\w{4})", ATTR\{idProduct\}=="(\w{4})", '
        r'ENV\{ID_MM_DEVICE_IGNORE\}="1"$',
        text,
        re.MULTILINE,
    )
    assert tty == table_rows()
    assert device == [(row[0], row[1]) for row in table_rows()]


def test_admin_guide_lists_the_same_models() -> None:
    documented = re.findall(
        r"^\| `([0-9a-f]{4}):([0-9a-f]{4})` \| (\d\d) \| ([a-z0-9]+) \| .+ \|$",
        ADMIN.read_text(encoding="utf-8"),
        re.MULTILINE,
    )
    assert documented == table_rows()


# A small interpreter for the subset of the udev rule language our file uses, so the test can
# show which properties, group, mode and links a given port gets.
_TOKEN = re.compile(r'([A-Z_]+)(?:\{([^}]*)\})?\s*(==|!=|\+=|:=|=)\s*"((?:[^"\\]|\\.)*)"')


@dataclass
class Device:
    subsystem: str
    kernel: str = ""
    action: str = "add"
    env: dict[str, str] = field(default_factory=dict)
    attr: dict[str, str] = field(default_factory=dict)
    symlinks: list[str] = field(default_factory=list)
    group: str | None = None
    mode: str | None = None


def _match(pattern: str, value: str) -> bool:
    return any(fnmatch.fnmatchcase(value, alt) for alt in pattern.split("|"))


def apply_rules(device: Device) -> Device:
    rules = []
    for raw in RULES.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            assert _TOKEN.sub("", line).replace(",", "").strip() == "", f"not understood: {line}"
            rules.append(_TOKEN.findall(line))
    index = 0
    while index < len(rules):
        tokens = rules[index]
        index += 1
        values: dict[str, Callable[[str], str]] = {
            "SUBSYSTEM": lambda _a: device.subsystem,
            "KERNEL": lambda _a: device.kernel,
            "ACTION": lambda _a: device.action,
            "ENV": lambda a: device.env.get(a, ""),
            "ATTR": lambda a: device.attr.get(a, ""),
        }
        matched = all(
            _match(value, values[key](attr)) == (op == "==")
            for key, attr, op, value in tokens
            if op in ("==", "!=")
        )
        if not matched:
            continue
        for key, attr, op, value in tokens:
            if op in ("==", "!="):
                continue
            value = re.sub(r"\$env\{(\w+)\}", lambda m: device.env.get(m.group(1), ""), value)
            if key == "ENV":
                device.env[attr] = value
            elif key == "GROUP":
                device.group = value
            elif key == "MODE":
                device.mode = value
            elif key == "SYMLINK":
                device.symlinks.append(value)
            elif key == "GOTO":
                index = next(i for i, r in enumerate(rules) if r == [("LABEL", "", "=", value)])
            elif key not in ("IMPORT", "LABEL"):
                raise AssertionError(f"rule key not understood by this test: {key}")
    return device


def tty(vendor: str, product: str, interface: str, serial: str | None = None) -> Device:
    env = {
        "ID_VENDOR_ID": vendor,
        "ID_MODEL_ID": product,
        "ID_USB_INTERFACE_NUM": interface,
        "ID_PATH": "pci-0000:00:14.0-usb-0:1.2:1.0",
    }
    if serial is not None:
        env["ID_SERIAL_SHORT"] = serial
    return Device("tty", kernel="ttyUSB2", env=env)


def test_at_port_gets_a_stable_link_group_and_modemmanager_ignore() -> None:
    port = apply_rules(tty("12d1", "1001", "02", serial="356938035643809"))
    assert port.symlinks == ["gsm/huawei-356938035643809-at"]
    assert (port.group, port.mode) == ("dialout", "0660")
    assert port.env["ID_MM_DEVICE_IGNORE"] == "1"


def test_adapter_without_serial_number_is_named_by_usb_path() -> None:
    port = apply_rules(tty("1a86", "7523", "00"))
    assert port.symlinks == ["gsm/ch340-pci-0000:00:14.0-usb-0:1.2:1.0-at"]


def test_other_ports_and_other_devices_are_left_alone() -> None:
    for device in (
        tty("12d1", "1001", "00", serial="1"),  # the Huawei's PPP port
        tty("2c7c", "0125", "01", serial="1"),  # the Quectel's GPS port
        tty("1234", "5678", "00", serial="1"),  # something else entirely
    ):
        result = apply_rules(device)
        assert result.symlinks == []
        assert result.group is None
        assert "ID_MM_DEVICE_IGNORE" not in result.env
    removed = tty("12d1", "1001", "02", serial="1")
    removed.action = "remove"
    assert apply_rules(removed).symlinks == []


def test_whole_usb_device_is_hidden_from_modemmanager() -> None:
    usb_ids = {"idVendor": "2c7c", "idProduct": "0125"}
    usb = Device("usb", env={"DEVTYPE": "usb_device"}, attr=usb_ids)
    assert apply_rules(usb).env["ID_MM_DEVICE_IGNORE"] == "1"
    other = Device("usb", env={"DEVTYPE": "usb_device"}, attr={"idVendor": "046d"})
    assert "ID_MM_DEVICE_IGNORE" not in apply_rules(other).env


def _udevadm_parse(rules_file: Path) -> str:
    """udev 252 has no `udevadm verify`: load the file with `udevadm test` in a private mount
    namespace, where it is the only local rule and nothing of the host's udev state changes.
    Fresh, empty /etc/udev and /run are mounted there, so the test needs nothing of the host's
    (a machine where udevd never ran has no /run/udev)."""
    script = (
        "set -e; mount -t tmpfs tmpfs /etc/udev; mount -t tmpfs tmpfs /run; "
        "mkdir /etc/udev/rules.d /run/udev; "
        f"cp '{rules_file}' /etc/udev/rules.d/; "
        "udevadm test --action=add /sys/class/tty/tty0 2>&1"
    )
    result = subprocess.run(
        ["unshare", "--mount", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return result.stdout + result.stderr


@pytest.fixture
def udev_checker() -> str:
    udevadm = shutil.which("udevadm")
    require_tool(udevadm is not None, "udevadm is not installed")
    assert udevadm is not None
    verify = subprocess.run(
        [udevadm, "verify", "--help"], capture_output=True, text=True, check=False, timeout=10
    )
    if verify.returncode == 0:
        return "verify"
    probe = subprocess.run(
        ["unshare", "--mount", "true"], capture_output=True, check=False, timeout=10
    )
    require_tool(
        probe.returncode == 0 and Path("/sys/class/tty/tty0").exists()
        and Path("/etc/udev").is_dir(),
        "neither `udevadm verify` nor a private mount namespace for `udevadm test`",
    )
    return "test"


def _check(checker: str, rules_file: Path) -> tuple[bool, str]:
    if checker == "verify":
        result = subprocess.run(
            ["udevadm", "verify", str(rules_file)],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        return result.returncode == 0, result.stdout + result.stderr
    output = _udevadm_parse(rules_file)
    loaded = f"Reading rules file: /etc/udev/rules.d/{rules_file.name}" in output
    prefix = f"/etc/udev/rules.d/{rules_file.name}:"
    complaints = [line for line in output.splitlines() if line.startswith(prefix)]
    return loaded and not complaints, output


def test_udevadm_accepts_the_rules(udev_checker: str) -> None:
    ok, output = _check(udev_checker, RULES)
    assert ok, output


def test_udevadm_check_catches_a_mistake(udev_checker: str, tmp_path: Path) -> None:
    broken = tmp_path / RULES.name
    broken.write_text(
        RULES.read_text(encoding="utf-8").replace('GROUP="dialout"', 'GRUOP="dialout"'),
        encoding="utf-8",
    )
    ok, _output = _check(udev_checker, broken)
    assert not ok
