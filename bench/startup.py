"""`make bench-startup`: how long the `sms-gateway` command line takes to answer.

Runs each command as an admin would (the installed `sms-gateway` script beside this Python, else
`python -m gateway`) a number of times and prints, per command, the wall-clock time (minimum and
median) and the CPU time (user + system) of the process, which varies less when other work
shares the machine. `send` and `status` run twice over: against a daemon running on a throw-away
config with a simulated modem (the way an admin uses them: the daemon queues the message and
gives its status over the control socket), and with that daemon stopped (`send` then commits its
message to the SQLite store itself, `status` validates the whole file to say what is wrong). The
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
http:
  listen: 127.0.0.1:0
simulator:
  control: 127.0.0.1:0
modems:
  - name: bench
    number: "+15550100"
    simulator: true
logging:
  level: warning
"""
TO = "+15551234567"


def with_daemon(script: list[str]) -> list[tuple[str, list[str]]]:
    return [
        ("sms-gateway status (daemon running)", [*script, "status", "--config", "config.yaml"]),
        ("sms-gateway send (daemon running)", [*script, "send", "--config", "config.yaml",
                                               "--to", TO, "hello"]),
    ]


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
                                          "--to", TO, "hello"]),
        ("sms-gateway check-config", [*script, "check-config", "--config", "config.yaml"]),
    ]


def start_daemon(script: list[str], work: Path) -> subprocess.Popen[bytes]:
    """`sms-gateway run` on the bench config, once `status` answers (it has created and migrated
    the store and opened its control socket)."""
    daemon = subprocess.Popen([*script, "run", "--config", "config.yaml"], cwd=work,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if daemon.poll() is not None:
            raise SystemExit(f"the daemon exited with {daemon.returncode}")
        probe = subprocess.run([*script, "status", "--config", "config.yaml"], cwd=work,
                               capture_output=True, check=False)
        if probe.returncode == 0:
            return daemon
        time.sleep(0.5)
    daemon.kill()
    raise SystemExit("the daemon did not answer on its control socket within 120 s")


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
        load_before = os.getloadavg()
        rows = []
        daemon = start_daemon(script, work)
        try:
            for label, argv in with_daemon(script):
                walls, cpus = measure(argv, args.runs, work)
                rows.append((label, min(walls), statistics.median(walls), statistics.median(cpus)))
        finally:
            daemon.terminate()
            daemon.wait(timeout=60)
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
