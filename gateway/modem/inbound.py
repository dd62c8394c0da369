"""The modem side of the inbound pipeline for one line.

Stored messages (+CMTI, and everything found at start) and status reports (+CDSI) are read, handed
to a sink, and deleted only after the sink returned; routed ones (+CMT, +CDS) are acknowledged
with +CNMA only after the sink returned. A sink that raises gets the same messages again later.

A URC's storage name is data from the modem and may be garbage: a name the modem did not offer
in AT+CPMS=? is ignored with a warning (the main memory is swept anyway), and an extra memory
that cannot be selected is dropped, so no sweep ever depends on a URC's name being valid.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import structlog

from gateway.backoff import Backoff, Retries
from gateway.modem.driver import ModemDriver
from gateway.modem.errors import CommandError
from gateway.modem.framer import Urc
from gateway.modem.initialise import ModemSetup
from gateway.modem.model import (
    STAT_ALL,
    STAT_REC_READ,
    STAT_REC_UNREAD,
    InboundItem,
    InboundSink,
    RawDelivery,
    ReportSink,
)
from gateway.modem.responses import parse_memory_index, parse_pdu_length
from gateway.modem.settings import ModemSettings

CMS_INVALID_INDEX = 321
# Deletes after a sweep go several to a command line ("AT+CMGD=1;+CMGD=2", V.250 5.4): one
# round trip instead of one per message. Kept well under the shortest line buffers in the field.
MAX_CHAINED_LINE_CHARS = 120


class SinkFailed(Exception):
    """A sink raised: nothing was deleted or acknowledged; retried later."""


class Inbound:
    def __init__(
        self,
        settings: ModemSettings,
        *,
        inbound_sink: InboundSink,
        report_sink: ReportSink,
        on_sink_error: Callable[[str | None], None],
        log: structlog.typing.FilteringBoundLogger,
    ) -> None:
        self.settings = settings
        self._inbound_sink = inbound_sink
        self._report_sink = report_sink
        self._on_sink_error = on_sink_error
        self._log = log
        self._setup = ModemSetup()
        self.sweep_wanted = asyncio.Event()
        self._pending_reports: list[tuple[str, int]] = []
        self._cmti_memories: set[str] = set()
        self._chain_deletes = True
        self._unknown_memories_seen: set[str] = set()

    # indications, from the URC loop

    def message_stored(self, urc: Urc) -> None:
        """+CMTI: sweep (the memory it names too, if it is a known one other than ours)."""
        located = parse_memory_index(urc.value)
        if (
            located is not None
            and located[0] != self._setup.storage[0]
            and self._known_memory(located[0], urc)
        ):
            self._cmti_memories.add(located[0])
        self.sweep_wanted.set()

    def report_stored(self, urc: Urc) -> None:
        """+CDSI: read that report on the next sweep."""
        located = parse_memory_index(urc.value)
        if located is not None and self._known_memory(located[0], urc):
            self._pending_reports.append(located)
            self.sweep_wanted.set()

    def _known_memory(self, memory: str, urc: Urc) -> bool:
        if memory in self._setup.readable_memories:
            return True
        # Warned once per name: a modem repeating garbage must not flood the journal.
        log = self._log.debug if memory in self._unknown_memories_seen else self._log.warning
        if len(self._unknown_memories_seen) < 100:
            self._unknown_memories_seen.add(memory)
        log("urc_unknown_storage_ignored", urc=urc.prefix, storage=memory[:40],
            known=list(self._setup.readable_memories))
        return False

    async def routed_message(self, driver: ModemDriver, urc: Urc) -> None:
        await self._routed(driver, urc, self._inbound_sink)

    async def routed_report(self, driver: ModemDriver, urc: Urc) -> None:
        await self._routed(driver, urc, self._report_sink)

    # the sweeping task of a session

    async def run(self, driver: ModemDriver, setup: ModemSetup) -> None:
        """Sweep now (everything stored while we were away) and whenever asked."""
        self._setup = setup
        self._chain_deletes = True
        settings = self.settings
        retries = Retries(Backoff(settings.sink_retry_initial_s, settings.sink_retry_max_s))
        first_sweep = True
        failing = False
        self.sweep_wanted.set()
        while True:
            await self.sweep_wanted.wait()
            self.sweep_wanted.clear()
            try:
                await self._sweep_reports(driver)
                await self._sweep_messages(driver, every_memory=first_sweep)
            except SinkFailed as error:
                delay = retries.next_delay_s()
                self._log.warning("sink_failed_nothing_deleted", error=str(error), retry_in_s=delay)
                self._on_sink_error(f"sink failed: {error}")
                failing = True
                await asyncio.sleep(delay)
                self.sweep_wanted.set()
                continue
            first_sweep = False
            retries.reset()
            if failing:
                failing = False
                self._on_sink_error(None)

    async def _routed(self, driver: ModemDriver, urc: Urc, sink: InboundSink) -> None:
        """+CMT / +CDS: into the sink first, then +CNMA. A failed sink gets a negative
        acknowledgement, so the network keeps the message and delivers it again later."""
        assert urc.pdu is not None
        item = RawDelivery(urc.pdu, parse_pdu_length(urc.value))
        positive = True
        try:
            await self._deliver(sink, [item])
        except SinkFailed as error:
            self._log.error("routed_delivery_refused", urc=urc.prefix, error=str(error))
            self._on_sink_error(f"sink failed: {error}")
            positive = False
        if self._setup.acknowledge:
            try:
                await driver.acknowledge(positive=positive)
            except CommandError as error:
                self._log.warning("acknowledge_failed", result=error.result)

    async def _sweep_messages(self, driver: ModemDriver, *, every_memory: bool) -> None:
        storage = self._setup.storage
        memories = [storage[0]]
        extra = set(self._setup.other_memories) if every_memory else set()
        extra |= self._cmti_memories
        memories += sorted(extra - {storage[0]})
        try:
            for memory in memories:
                if driver.memory != memory and not await self._select_extra(
                    driver, memory, storage
                ):
                    self._cmti_memories.discard(memory)
                    continue
                listed = await driver.list_messages(STAT_ALL)
                received = [m for m in listed if m.stat in (STAT_REC_UNREAD, STAT_REC_READ)]
                if not received:
                    continue
                await self._deliver(self._inbound_sink, received)
                await self._delete_all(driver, [message.index for message in received])
                self._cmti_memories.discard(memory)
        finally:
            if driver.memory != storage[0] and driver.is_connected:
                await driver.select_storage(*storage)

    async def _sweep_reports(self, driver: ModemDriver) -> None:
        storage = self._setup.storage
        try:
            while self._pending_reports:
                memory, index = self._pending_reports[0]
                if driver.memory != memory and not await self._select_extra(
                    driver, memory, storage
                ):
                    self._pending_reports.pop(0)
                    continue
                try:
                    report = await driver.read_message(index)
                except CommandError as error:
                    self._log.warning("status_report_unreadable", index=index, result=error.result)
                    report = None
                if report is not None:
                    await self._deliver(self._report_sink, [report])
                    await self._delete(driver, index)
                self._pending_reports.pop(0)
        finally:
            if driver.memory != storage[0] and driver.is_connected:
                await driver.select_storage(*storage)

    async def _select_extra(
        self, driver: ModemDriver, memory: str, storage: tuple[str, ...]
    ) -> bool:
        """Select `memory` for reading; False (and a warning) when the modem refuses it, unless
        it is our own memory, whose failure ends the session as any command's would."""
        try:
            await driver.select_storage(memory, *storage[1:])
        except CommandError as error:
            if memory == storage[0]:
                raise
            self._log.warning("storage_unselectable_skipped", storage=memory,
                              result=error.result)
            return False
        return True

    async def _delete_all(self, driver: ModemDriver, indexes: list[int]) -> None:
        """Delete committed messages, several per command line while the modem takes that.
        A chain that fails (one index already gone, or a modem that refuses chains) is done
        again one index at a time, which tells those cases apart."""
        chunk: list[int] = []
        for index in indexes:
            if self._chain_deletes and _chained_length([*chunk, index]) <= MAX_CHAINED_LINE_CHARS:
                chunk.append(index)
                continue
            await self._delete_chunk(driver, chunk)
            chunk = [index]
        await self._delete_chunk(driver, chunk)

    async def _delete_chunk(self, driver: ModemDriver, indexes: list[int]) -> None:
        if len(indexes) > 1 and self._chain_deletes:
            command = "AT" + ";".join(f"+CMGD={index}" for index in indexes)
            try:
                await driver.command(command)
                return
            except CommandError as error:
                if getattr(error, "code", None) != CMS_INVALID_INDEX:
                    self._log.info("chained_delete_refused", result=error.result)
                    self._chain_deletes = False
        for index in indexes:
            await self._delete(driver, index)

    async def _delete(self, driver: ModemDriver, index: int) -> None:
        try:
            await driver.delete_message(index)
        except CommandError as error:
            if getattr(error, "code", None) != CMS_INVALID_INDEX:
                raise  # already gone is fine; anything else ends the session

    async def _deliver(self, sink: InboundSink, items: Sequence[InboundItem]) -> None:
        try:
            await sink(self.settings.name, items)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            raise SinkFailed(f"{type(error).__name__}: {error}") from error


def _chained_length(indexes: list[int]) -> int:
    return len("AT" + ";".join(f"+CMGD={index}" for index in indexes))
