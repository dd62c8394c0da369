"""AutoModems with simulated modems: lines found by SIM, unknown SIMs listed for the admin,
modems lost and found again on unplug/replug, a reloaded line list."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

from structlog.testing import capture_logs

from gateway.config_sections import LineConfig
from gateway.discovery import AutoModems, modem_config_for
from gateway.sim import SimRunner, apply_fault, open_pty


class Lines:
    """What the daemon would do: remember which line runs on which device."""

    def __init__(self) -> None:
        self.up: dict[str, str] = {}
        self.history: list[tuple[str, str]] = []
        self._changed = asyncio.Condition()

    async def match(self, line: LineConfig, device: str) -> None:
        async with self._changed:
            self.up[line.name] = device
            self.history.append(("match", f"{line.name}@{device}"))
            self._changed.notify_all()

    async def lost(self, device: str) -> None:
        async with self._changed:
            self.up = {name: dev for name, dev in self.up.items() if dev != device}
            self.history.append(("lost", device))
            self._changed.notify_all()

    async def wait(self, predicate: Callable[[], bool], timeout_s: float = 5.0) -> None:
        async with asyncio.timeout(timeout_s), self._changed:
            await self._changed.wait_for(predicate)


def _auto(sim: SimRunner, lines: list[LineConfig], target: Lines) -> AutoModems:
    assert sim.directory is not None
    return AutoModems(
        lines,
        watch_dirs=[sim.directory],
        candidates=[f"{sim.directory}/*"],
        on_match=target.match,
        on_lost=target.lost,
        settle_s=0.05,
        probe_timeout_s=3.0,
        reprobe_attempts=1,
    )


async def test_line_matched_by_iccid_and_unknown_sim_listed(sim: SimRunner) -> None:
    support = LineConfig(name="support", number="+15550100", iccid=sim.modem("modem1").iccid)
    target = Lines()
    auto = _auto(sim, [support], target)
    with capture_logs() as logs:
        await auto.start()
        try:
            await auto.wait_idle()
            assert target.up == {"support": sim.device("modem1")}
            assert auto.matched[sim.device("modem1")].line == support

            unknown = auto.unknown_devices
            assert sorted(unknown) == [sim.device("modem2"), sim.device("modem3")]
            huawei = unknown[sim.device("modem2")]
            assert huawei.reason == "no_matching_line"
            assert huawei.probe.identity.iccid == sim.modem("modem2").iccid
            assert huawei.probe.identity.model == "E3372"

            # Seen again (e.g. a re-scan after a reload): not logged a second time.
            await auto.update_lines([support])
        finally:
            await auto.stop()
    warnings = [entry for entry in logs if entry["log_level"] == "warning"]
    assert sorted(w["device"] for w in warnings) == [sim.device("modem2"), sim.device("modem3")]
    assert all(w["event"] == "discovery.unknown_modem" for w in warnings)
    assert sim.modem("modem2").iccid in next(
        w["found"] for w in warnings if w["device"] == sim.device("modem2")
    )


async def test_unplugged_modem_is_lost_and_found_again(sim: SimRunner) -> None:
    modem = sim.modem("modem3")
    sales = LineConfig(name="sales", number="+15550101", imsi=modem.imsi)
    target = Lines()
    auto = _auto(sim, [sales], target)
    await auto.start()
    try:
        await auto.wait_idle()
        device = sim.device("modem3")
        assert target.up == {"sales": device}

        apply_fault(modem, "unplug", {})
        await target.wait(lambda: ("lost", device) in target.history)
        assert target.up == {}
        assert device not in auto.matched

        apply_fault(modem, "replug", {"boot_ms": 100})
        await target.wait(lambda: target.up == {"sales": device})
        await auto.wait_idle()
        assert target.history == [
            ("match", f"sales@{device}"),
            ("lost", device),
            ("match", f"sales@{device}"),
        ]
    finally:
        await auto.stop()


async def test_line_matched_by_own_number_and_second_name_of_a_port_ignored(
    sim: SimRunner,
) -> None:
    assert sim.directory is not None
    alias = sim.directory / "zz-by-id-modem1"
    alias.symlink_to(sim.device("modem1"))
    line = LineConfig(name="main", number="+15551230001")
    target = Lines()
    auto = _auto(sim, [line], target)
    await auto.start()
    try:
        await auto.wait_idle()
        assert target.up == {"main": sim.device("modem1")}
        assert str(alias) not in auto.unknown_devices
        assert target.history == [("match", f"main@{sim.device('modem1')}")]
    finally:
        await auto.stop()


async def test_reload_brings_up_a_line_added_for_an_unknown_sim(sim: SimRunner) -> None:
    target = Lines()
    auto = _auto(sim, [], target)
    await auto.start()
    try:
        await auto.wait_idle()
        assert target.up == {}
        assert len(auto.unknown_devices) == 3

        new = LineConfig(name="new", number="+15550199", iccid=sim.modem("modem2").iccid)
        await auto.update_lines([new])
        assert target.up == {"new": sim.device("modem2")}
        assert sim.device("modem2") not in auto.unknown_devices

        await auto.update_lines([])
        assert target.up == {}
        assert auto.unknown_devices[sim.device("modem2")].reason == "no_matching_line"
    finally:
        await auto.stop()


async def test_one_line_is_brought_up_once_even_if_two_modems_match(sim: SimRunner) -> None:
    shared = sim.modem("modem1").iccid
    sim.modem("modem2").iccid = shared
    line = LineConfig(name="dup", number="+15550100", iccid=shared)
    target = Lines()
    auto = _auto(sim, [line], target)
    await auto.start()
    try:
        await auto.wait_idle()
        assert len(target.history) == 1
        (holder,) = target.up.values()
        others = [d for d, u in auto.unknown_devices.items() if u.reason == "line_in_use"]
        assert len(others) == 1
        assert others[0] != holder
    finally:
        await auto.stop()


def test_matched_line_runs_as_a_modem_on_the_found_device() -> None:
    line = LineConfig(name="support", number="+15550100", iccid="8944000000000000001", pin="1234")
    modem = modem_config_for(line, "/dev/gsm/huawei-1-at")
    assert str(modem.device) == "/dev/gsm/huawei-1-at"
    assert modem.simulator is False
    assert (modem.name, modem.number, modem.iccid, modem.pin) == (
        "support",
        "+15550100",
        "8944000000000000001",
        "1234",
    )


async def test_second_at_port_of_a_modem_in_use_is_listed_as_such(sim: SimRunner) -> None:
    assert sim.directory is not None
    modem = sim.modem("modem2")
    line = LineConfig(name="support", number="+15550100", iccid=modem.iccid)
    target = Lines()
    auto = _auto(sim, [line], target)
    await auto.start()
    second = None
    try:
        await auto.wait_idle()
        assert target.up == {"support": sim.device("modem2")}
        # The same modem shows a second AT port (as Huawei sticks do with their PCUI port).
        second = await open_pty(modem, sim.directory, name="modem2-if02")
        await auto.watcher.rescan()  # instead of waiting for the settle time
        await auto.wait_idle()
        unknown = auto.unknown_devices[str(second.path)]
        assert unknown.reason == "other_port"
        assert unknown.detail == f"another port of the modem on {sim.device('modem2')}"
        assert target.history == [("match", f"support@{sim.device('modem2')}")]
    finally:
        await auto.stop()
        if second is not None:
            second.close()


async def test_stop_during_probes_leaves_no_port_open(tmp_path: Path) -> None:
    ptys = [os.openpty() for _ in range(3)]
    for name, (_master, slave) in zip("abc", ptys, strict=True):
        (tmp_path / name).symlink_to(os.ttyname(slave))
    target = Lines()
    auto = AutoModems(
        [],
        watch_dirs=[tmp_path],
        candidates=[],
        on_match=target.match,
        on_lost=target.lost,
        settle_s=0.05,
        probe_timeout_s=5.0,
    )
    try:
        await auto.start()
        await asyncio.sleep(0.2)  # the probes are waiting for an answer to AT
        started = asyncio.get_running_loop().time()
        await auto.stop()
        assert asyncio.get_running_loop().time() - started < 2.0
        assert target.history == []
    finally:
        for master, slave in ptys:
            os.close(master)
            os.close(slave)
