"""DeviceWatcher on real directories: links appearing and disappearing, a watch directory that
comes and goes, debouncing, and the simulator's unplug/replug."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

from gateway.discovery import DeviceWatcher
from gateway.sim import SimRunner, apply_fault
from tests.discovery.conftest import Recorder

SETTLE_S = 0.05


def _watcher(dirs: list[Path], patterns: list[str], recorder: Recorder) -> DeviceWatcher:
    return DeviceWatcher(dirs, patterns, recorder.added, recorder.removed, settle_s=SETTLE_S)


async def test_link_created_and_removed_is_reported(
    tmp_path: Path, silent_tty: str, recorder: Recorder
) -> None:
    watcher = _watcher([tmp_path], [f"{tmp_path}/*"], recorder)
    await watcher.start()
    try:
        link = tmp_path / "modem-at"
        link.symlink_to(silent_tty)
        assert await recorder.wait_for(1) == [("added", str(link))]
        assert watcher.devices == (str(link),)

        link.unlink()
        assert await recorder.wait_for(2) == [("added", str(link)), ("removed", str(link))]
        assert not watcher.devices
    finally:
        await watcher.stop()


async def test_devices_present_at_start_are_reported_and_others_ignored(
    tmp_path: Path, silent_tty: str, recorder: Recorder
) -> None:
    (tmp_path / "gsm-at").symlink_to(silent_tty)
    (tmp_path / "readme").write_text("not a device")
    (tmp_path / "other").symlink_to(silent_tty)
    watcher = _watcher([tmp_path], [f"{tmp_path}/gsm-*"], recorder)
    await watcher.start()
    try:
        assert recorder.events == [("added", str(tmp_path / "gsm-at"))]
        (tmp_path / "another").symlink_to(silent_tty)
        await asyncio.sleep(SETTLE_S * 6)
        assert recorder.events == [("added", str(tmp_path / "gsm-at"))]
    finally:
        await watcher.stop()


async def test_every_entry_counts_in_a_directory_no_pattern_is_about(
    tmp_path: Path, silent_tty: str, recorder: Recorder
) -> None:
    by_id = tmp_path / "by-id"
    by_id.mkdir()
    watcher = _watcher([by_id], ["/dev/ttyUSB*"], recorder)
    await watcher.start()
    try:
        (by_id / "usb-Quectel_EG25-if02-port0").symlink_to(silent_tty)
        assert await recorder.wait_for(1) == [
            ("added", str(by_id / "usb-Quectel_EG25-if02-port0"))
        ]
    finally:
        await watcher.stop()


async def test_watch_directory_that_appears_later_and_goes_away(
    tmp_path: Path, silent_tty: str, recorder: Recorder
) -> None:
    gsm = tmp_path / "dev" / "gsm"
    watcher = _watcher([gsm], [f"{gsm}/*"], recorder)
    await watcher.start()
    try:
        gsm.mkdir(parents=True)
        (gsm / "a-at").symlink_to(silent_tty)
        assert await recorder.wait_for(1) == [("added", str(gsm / "a-at"))]

        shutil.rmtree(tmp_path / "dev")
        assert (await recorder.wait_for(2))[1] == ("removed", str(gsm / "a-at"))

        gsm.mkdir(parents=True)
        (gsm / "b-at").symlink_to(silent_tty)
        assert (await recorder.wait_for(3))[2] == ("added", str(gsm / "b-at"))
    finally:
        await watcher.stop()


async def test_burst_within_settle_time_is_one_change(
    tmp_path: Path, silent_tty: str, recorder: Recorder
) -> None:
    watcher = DeviceWatcher(
        [tmp_path], [f"{tmp_path}/*"], recorder.added, recorder.removed, settle_s=0.3
    )
    await watcher.start()
    try:
        # udev's way: a temporary name renamed into place; and a link that flickers.
        (tmp_path / "x.tmp").symlink_to(silent_tty)
        os.replace(tmp_path / "x.tmp", tmp_path / "x-at")
        (tmp_path / "flicker").symlink_to(silent_tty)
        (tmp_path / "flicker").unlink()
        assert await recorder.wait_for(1) == [("added", str(tmp_path / "x-at"))]
        await asyncio.sleep(0.5)
        assert recorder.events == [("added", str(tmp_path / "x-at"))]
    finally:
        await watcher.stop()


async def test_link_pointed_at_another_device_is_removed_then_added(
    tmp_path: Path, silent_tty: str, recorder: Recorder
) -> None:
    link = tmp_path / "modem-at"
    link.symlink_to(silent_tty)
    watcher = _watcher([tmp_path], [f"{tmp_path}/*"], recorder)
    await watcher.start()
    master, slave = os.openpty()
    try:
        (tmp_path / "new").symlink_to(os.ttyname(slave))
        os.replace(tmp_path / "new", link)
        assert await recorder.wait_for(3) == [
            ("added", str(link)),
            ("removed", str(link)),
            ("added", str(link)),
        ]
    finally:
        await watcher.stop()
        os.close(master)
        os.close(slave)


async def test_simulated_unplug_and_replug(tmp_path: Path, recorder: Recorder) -> None:
    async with SimRunner(modems=2, directory=tmp_path / "sim") as sim:
        watcher = _watcher([tmp_path / "sim"], [f"{tmp_path}/sim/*"], recorder)
        await watcher.start()
        try:
            first, second = sim.device("modem1"), sim.device("modem2")
            assert recorder.events == [("added", first), ("added", second)]

            apply_fault(sim.modem("modem2"), "unplug", {})
            assert (await recorder.wait_for(3))[2] == ("removed", second)
            apply_fault(sim.modem("modem2"), "replug", {"boot_ms": 10})
            assert (await recorder.wait_for(4))[3] == ("added", second)
            assert watcher.devices == (first, second)
        finally:
            await watcher.stop()


async def test_failing_callback_does_not_stop_the_watcher(
    tmp_path: Path, silent_tty: str, recorder: Recorder
) -> None:
    async def broken(path: str) -> None:
        await recorder.added(path)
        raise RuntimeError("callback bug")

    watcher = DeviceWatcher(
        [tmp_path], [f"{tmp_path}/*"], broken, recorder.removed, settle_s=SETTLE_S
    )
    await watcher.start()
    try:
        (tmp_path / "a").symlink_to(silent_tty)
        (tmp_path / "b").symlink_to(silent_tty)
        await recorder.wait_for(2)
        (tmp_path / "a").unlink()
        assert (await recorder.wait_for(3))[2] == ("removed", str(tmp_path / "a"))
    finally:
        await watcher.stop()
        await watcher.stop()  # twice is harmless


async def test_directory_of_a_pattern_is_watched_for_matching_names_only(
    tmp_path: Path, silent_tty: str, recorder: Recorder
) -> None:
    (tmp_path / "ttyUSB0").symlink_to(silent_tty)
    watcher = _watcher([], [f"{tmp_path}/ttyUSB*", f"{tmp_path}/ttyACM*"], recorder)
    await watcher.start()
    try:
        assert recorder.events == [("added", str(tmp_path / "ttyUSB0"))]
        (tmp_path / "ttyS0").symlink_to(silent_tty)
        (tmp_path / "ttyACM1").symlink_to(silent_tty)
        assert await recorder.wait_for(2) == [
            ("added", str(tmp_path / "ttyUSB0")),
            ("added", str(tmp_path / "ttyACM1")),
        ]
        await asyncio.sleep(SETTLE_S * 4)
        assert watcher.devices == (str(tmp_path / "ttyACM1"), str(tmp_path / "ttyUSB0"))
    finally:
        await watcher.stop()


async def test_stable_links_are_reported_before_the_kernel_name(
    tmp_path: Path, recorder: Recorder
) -> None:
    by_id = tmp_path / "by-id"
    by_id.mkdir()
    master, slave = os.openpty()
    node = os.ttyname(slave)
    watcher = _watcher([by_id], [f"{os.path.dirname(node)}/*"], recorder)
    try:
        (by_id / "usb-modem-if00").symlink_to(node)
        await watcher.start()
        added = [path for kind, path in recorder.events if kind == "added"]
        assert added[0] == str(by_id / "usb-modem-if00")
        assert node in added
    finally:
        await watcher.stop()
        os.close(master)
        os.close(slave)
