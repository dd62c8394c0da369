"""SMPP lines in the pipeline: one SmppLine (the session) and one LineSender per configured
account, wired exactly like a modem line: its state goes to the line board, its deliveries to
the inbound handler (committed before deliver_sm_resp), and its sender moves queued parts
through submit_sm."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from gateway.bus import Publisher
from gateway.config_sections import DriverConfig, SendingConfig, SmppLineConfig
from gateway.pipeline.inbound import InboundHandler
from gateway.pipeline.lines import LineBoard
from gateway.pipeline.outbound import LineSender
from gateway.smpp import SmppLine, SmppSettings
from gateway.store import Store


def smpp_settings(line: SmppLineConfig, driver: DriverConfig) -> SmppSettings:
    return SmppSettings(
        name=line.name, host=line.host, port=line.port, system_id=line.system_id,
        password=line.password, number=line.number, system_type=line.system_type,
        bind=line.bind, number_ton=line.ton, number_npi=line.npi,
        throughput_per_s=line.throughput_per_s, window=line.window,
        enquire_link_s=line.enquire_link_s, response_timeout_s=line.response_timeout_s,
        registered_delivery=line.registered_delivery, tls=line.tls,
        default_alphabet=line.default_alphabet, long_messages=line.long_messages,
        reconnect_initial_s=driver.reconnect_backoff_initial_s,
        reconnect_max_s=driver.reconnect_backoff_max_s,
    )


class SmppLines:
    def __init__(
        self,
        *,
        store: Store,
        publisher: Publisher,
        board: LineBoard,
        inbound: InboundHandler,
        line_ids: dict[str, int],
        sending: SendingConfig,
        driver: DriverConfig,
        store_retry_initial_s: float,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._board = board
        self._inbound = inbound
        self._line_ids = line_ids
        self._sending = sending
        self._driver = driver
        self._store_retry_initial_s = store_retry_initial_s
        self._clock = clock
        self.lines: dict[str, SmppLine] = {}

    def build(self, config: SmppLineConfig) -> tuple[SmppLine, LineSender]:
        """The session and the sender of one account (started by `start` and the caller)."""
        line = SmppLine(
            smpp_settings(config, self._driver),
            on_state=self._board.on_state,
            inbound_sink=self._inbound.smpp_sink,
            receipt_sink=self._inbound.receipt_sink,
            clock=self._clock,
        )
        sending = self._sending
        sender = LineSender(
            line_id=self._line_ids[config.name],
            line_name=config.name,
            store=self._store,
            publisher=self._publisher,
            send_part=line.send_part,
            can_send=line.can_send,
            retry_limit=sending.retry_limit,
            retry_backoff_s=sending.retry_backoff_s,
            retry_backoff_max_s=sending.retry_backoff_max_s,
            store_retry_initial_s=self._store_retry_initial_s,
            clock=self._clock,
        )
        self.lines[config.name] = line
        return line, sender

    async def stop(self) -> None:
        """After the senders stopped: unbind every account."""
        await asyncio.gather(*(line.stop() for line in self.lines.values()))
        self.lines.clear()
