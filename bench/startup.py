"""`make bench-startup`: how long the `sms-gateway` command line takes to answer.

Runs each command as an admin would (the installed `sms-gateway` script beside this Python, else
`python -m gateway`) a number of times and prints, per command, the wall-clock time (minimum and
median) and the CPU time (user + system) of the process, which varies less when other work
shares the machine. `send` and `status` run against a throw-away config whose daemon is not
running: `send` commits its message to a fresh SQLite store (migrated by a first, uncounted run)
and `status` answers that the daemon is not running, so both measure the command's own cost. The
first row is the interpreter alone (`python -c pass`), the floor under every command.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

CONFIG = """\
data_dir: ./data
modems:
  - name: bench
    number: "+15550100"
    device: /dev/null
"""


def commands(script: list[str]) -> list[tuple[str, list[str]]]:
    return [
        ("python -c pass", [sys.executable, "-c", "pass"]),
        ("sms-gateway --help", [*script, "--help"]),
        ("sms-gateway pdu encode", [*script, "pdu", "encode", "--to", "+15551234567", "hello"]),
        ("sms-gateway pdu decode", [*script, "pdu", "decode",
                                    "07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07"]),
        ("sms-gateway send --help", [*script, "send", "--help"]),
        ("sms-gateway status (no daemon)", [*script, "status", "--config", "config.yaml"]),
        ("sms-gateway send (no daemon)", [*script, "send", "--config", "config.yaml",
                                          "--to", "+15551234567", "hello"]),
        ("sms-gateway check-config", [*script, "check-config", "--config", "config.yaml"]),
    ]


def script_command() -> list[str]:
    script = Path(sys.executable).parent / "sms-gateway"
    return [str(script)] if script.exists() else [sys.executable, "-m", "gateway"]


def measure(argv: list[str], runs: int, cwd: Path) -> tuple[list[float], list[float]]:
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=False)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="runs per command (default 10)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sms-gateway-startup-"))
    try:
        (work / "config.yaml").write_text(CONFIG)
        script = script_command()
        # Create and migrate the store once, outside the measurement.
        subprocess.run([*script, "send", "--config", "config.yaml", "--to", "+15551234567", "x"],
                       cwd=work, capture_output=True, check=False)
        load_before = os.getloadavg()
        rows = []
        for label, argv in commands(script):
            walls, cpus = measure(argv, args.runs, work)
            rows.append((label, min(walls), statistics.median(walls), statistics.median(cpus)))
        load_after = os.getloadavg()
    finally:
        shutil.rmtree(work)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"{stamp} — {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; {args.runs} runs each; load average before"
          f" {' / '.join(f'{x:.1f}' for x in load_before)}, after"
          f" {' / '.join(f'{x:.1f}' for x in load_after)}")
    print()
    print("| command | wall min (ms) | wall median (ms) | CPU median (ms) |")
    print("|---|---|---|---|")
    for label, low, mid, cpu in rows:
        print(f"| `{label}` | {low * 1000:.0f} | {mid * 1000:.0f} | {cpu * 1000:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
