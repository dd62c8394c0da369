"""`sms-gateway check-config`: every problem printed with its key path, exit status 1; else 0."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gateway.cli import main

REPO = Path(__file__).resolve().parents[2]

BAD = """\
http:
  listen: localhost
modems:
  - {name: a, number: "+15550100", simulator: true, baud: 1200}
  - {name: b, number: "+15550101", device: /dev/ttyUSB0, colour: blue}
"""


def test_bad_file_lists_every_problem_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(BAD, encoding="utf-8")
    assert main(["check-config", "--config", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        f"{path}: 3 problems",
        "  line 2: http.listen: must be host:port, e.g. 127.0.0.1:8080 (got 'localhost')",
        "  line 4: modems[0].baud: must be one of"
        " 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600",
        "  line 5: modems[1].colour: unknown key",
    ]


def test_good_file_prints_a_summary_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "database: postgresql://gw:hunter2@db/sms\n"
        "modems:\n"
        f"  - {{name: a, number: '+15550100', device: {tmp_path / 'missing-tty'}}}\n"
        "  - {name: b, number: '+15550101', simulator: true}\n",
        encoding="utf-8",
    )
    assert main(["check-config", "--config", str(path)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.splitlines()[0] == f"{path}: OK"
    assert "hunter2" not in out
    assert f"a: +15550100 on {tmp_path / 'missing-tty'} (not present now" in out
    assert "b: +15550101 on simulator" in out


def test_missing_file_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", "--config", str(tmp_path / "none.yaml")]) == 2
    assert "file not found" in capsys.readouterr().err


def test_installed_command_checks_the_repository_demo_config() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "check-config", "--config", str(REPO / "config.yaml")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "demo: +15550100 on simulator" in result.stdout


@pytest.mark.parametrize(
    "secret", ["a long random string shared with the receiver", "changeme-changeme-changeme",
               "xxxxxxxxxxxxxxxxxxxx", "passwordpassword"],
)
def test_a_placeholder_webhook_secret_in_a_world_readable_file_is_warned_about(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], secret: str
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "modems:\n  - {name: a, number: '+15550100', simulator: true}\n"
        f"webhooks:\n  - {{url: 'https://crm.example.org/hook', secret: '{secret}'}}\n",
        encoding="utf-8",
    )
    path.chmod(0o644)
    assert main(["check-config", "--config", str(path)]) == 0
    out, _ = capsys.readouterr()
    warnings = [line for line in out.splitlines() if line.startswith("WARNING: ")]
    assert len(warnings) == 2, out
    assert "webhooks[0].secret looks like a placeholder" in warnings[0]
    assert "every user of this machine can read it (mode 0644)" in warnings[1]
    assert secret not in out


def test_a_random_secret_in_a_private_file_is_not_warned_about(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "modems:\n  - {name: a, number: '+15550100', simulator: true}\n"
        "webhooks:\n  - {url: 'https://crm.example.org/hook',"
        " secret: '9f2c1e7a8b3d4f60a1c2e3d4b5a69788'}\n",
        encoding="utf-8",
    )
    path.chmod(0o640)
    assert main(["check-config", "--config", str(path)]) == 0
    out, _ = capsys.readouterr()
    assert "WARNING" not in out
