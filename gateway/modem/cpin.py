"""Asking the SIM for its state (AT+CPIN?): the one loop the init sequence and the read-only
probe share, with the quirks of real modems (a SIM still starting, a busy modem, Wavecom's
+CPIN: without a final OK)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from gateway.modem.driver import ModemDriver
from gateway.modem.errors import (
    CmeError,
    CmsError,
    CommandError,
    CommandTimeoutError,
    PinError,
    SimError,
)
from gateway.modem.responses import parse_cpin

BUSY_CME = frozenset({14, 515})  # SIM busy, please wait
BUSY_CMS = frozenset({314, 515})
CME_SIM_NOT_INSERTED = 10
CME_PUK_REQUIRED = 12
CME_SIM_FAILURE = 13


def is_busy(error: CommandError) -> bool:
    """Whether `error` says the modem or its SIM is busy (try again in a moment)."""
    return (isinstance(error, CmeError) and error.code in BUSY_CME) or (
        isinstance(error, CmsError) and error.code in BUSY_CMS
    )


async def read_sim_state(
    driver: ModemDriver,
    *,
    retry_interval_s: float,
    retry_until: float | None,
    on_busy: Callable[[CommandError], None] | None = None,
) -> str | None:
    """The +CPIN code (`READY`, `SIM PIN`, `SIM PUK`...), None if the answer had none.

    While the modem says busy or the SIM `NOT READY`, ask again every `retry_interval_s` until
    loop time `retry_until` (None: until the caller's own timeout). Raises SimError (.cme_code
    says which: not inserted, failure), PinError for a PUK-locked SIM, the CommandError of any
    other refusal, and CommandTimeoutError when no +CPIN came at all.
    """
    loop = asyncio.get_running_loop()

    def may_wait() -> bool:
        return retry_until is None or loop.time() < retry_until

    while True:
        try:
            lines = await driver.command("AT+CPIN?")
        except CommandTimeoutError as error:
            lines = error.lines  # Wavecom answers +CPIN: without a final OK
            if parse_cpin(lines) is None:
                raise
        except CommandError as error:
            if isinstance(error, CmeError):
                if error.code == CME_SIM_NOT_INSERTED:
                    raise SimError("SIM not inserted", cme_code=error.code) from error
                if error.code == CME_SIM_FAILURE:
                    raise SimError("SIM failure", cme_code=error.code) from error
                if error.code == CME_PUK_REQUIRED:
                    raise PinError("the SIM is PUK-locked", puk_required=True) from error
            if not (is_busy(error) and may_wait()):
                raise
            if on_busy is not None:
                on_busy(error)
            await asyncio.sleep(retry_interval_s)
            continue
        code = parse_cpin(lines)
        if code == "NOT READY" and may_wait():
            await asyncio.sleep(retry_interval_s)  # the SIM is still starting
            continue
        return code
