"""Errors of the modem layer: one root, one subclass per failure kind, each carrying its data."""

from __future__ import annotations

# TS 27.005 3.2.5 / TS 24.011 RP-cause values after which the same part may succeed later:
# the network or the modem was temporarily unable, the PDU itself was fine.
RETRYABLE_CMS_CODES: frozenset[int] = frozenset(
    {
        17,  # network failure
        22,  # memory capacity exceeded (congestion at the SMSC side)
        38,  # network out of order
        41,  # temporary failure
        42,  # congestion
        47,  # resources unavailable, unspecified
        111,  # protocol error, unspecified
        127,  # interworking, unspecified
        300,  # ME failure
        314,  # SIM busy
        331,  # no network service
        332,  # network timeout
        500,  # unknown error
        515,  # busy (manufacturer specific, widely used)
    }
)


def cms_is_retryable(code: int) -> bool:
    """Whether sending the same part again can succeed (the rest, e.g. 304 or 21, are final)."""
    return code in RETRYABLE_CMS_CODES


class ModemError(Exception):
    """Root of every error raised by gateway.modem.

    `recent_traffic` holds the last raw AT lines seen on the port when the error was raised, so a
    failure in the field can be diagnosed without debug logging on.
    """

    def __init__(self, message: str, *, recent_traffic: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.recent_traffic = recent_traffic


class CommandError(ModemError):
    """The modem answered ERROR (or a vendor's equivalent, e.g. COMMAND NOT SUPPORT)."""

    def __init__(
        self,
        command: str,
        result: str,
        lines: tuple[str, ...] = (),
        *,
        recent_traffic: tuple[str, ...] = (),
    ) -> None:
        super().__init__(f"{command!r} failed: {result}", recent_traffic=recent_traffic)
        self.command = command
        self.result = result
        self.lines = lines


class CmeError(CommandError):
    """+CME ERROR: <code> (TS 27.007 9.2): an equipment or SIM error."""

    def __init__(
        self,
        code: int | None,
        command: str,
        result: str,
        lines: tuple[str, ...] = (),
        *,
        recent_traffic: tuple[str, ...] = (),
    ) -> None:
        super().__init__(command, result, lines, recent_traffic=recent_traffic)
        self.code = code


class CmsError(CommandError):
    """+CMS ERROR: <code> (TS 27.005 3.2.5): a message service error.

    `retryable` says whether the same part may succeed if sent again later.
    """

    def __init__(
        self,
        code: int | None,
        command: str,
        result: str,
        lines: tuple[str, ...] = (),
        *,
        recent_traffic: tuple[str, ...] = (),
    ) -> None:
        super().__init__(command, result, lines, recent_traffic=recent_traffic)
        self.code = code
        self.retryable = code is None or cms_is_retryable(code)


class CommandTimeoutError(ModemError, TimeoutError):
    """No final result code within the command's timeout; `lines` is the partial response."""

    def __init__(
        self,
        command: str,
        timeout_s: float,
        lines: tuple[str, ...] = (),
        *,
        recent_traffic: tuple[str, ...] = (),
    ) -> None:
        super().__init__(
            f"{command!r} got no final result within {timeout_s:g} s",
            recent_traffic=recent_traffic,
        )
        self.command = command
        self.timeout_s = timeout_s
        self.lines = lines


class ConnectionLostError(ModemError):
    """The serial port went away (unplugged, closed, or the driver was closed)."""


class SubmitUnconfirmedError(ModemError):
    """The PDU of an AT+CMGS was written but no +CMGS: <mr> came back.

    The network may or may not have accepted the part; sending it again may duplicate it.
    """


class SubmitTimeoutError(SubmitUnconfirmedError, CommandTimeoutError):
    """The PDU was written, then the modem stayed silent past the send timeout."""


class SubmitConnectionLostError(SubmitUnconfirmedError, ConnectionLostError):
    """The PDU was written, then the port went away before the modem confirmed it."""


class ModemSilentError(ModemError):
    """Nothing came from the modem for silence_timeout_s: it is reset (the port reopened)."""


class LineUnavailableError(ModemError):
    """The line cannot send now (not connected, not initialised, not registered, or stopping)."""

    def __init__(self, line: str, status: str, reason: str) -> None:
        super().__init__(f"line {line!r} unavailable ({status}): {reason}")
        self.line = line
        self.status = status
        self.reason = reason


class PinError(ModemError):
    """The SIM needs a PIN or PUK that the configuration cannot (or must not) give."""

    def __init__(self, message: str, *, puk_required: bool = False) -> None:
        super().__init__(message)
        self.puk_required = puk_required


class SimError(ModemError):
    """The SIM is missing, failed or otherwise unusable; `cme_code` is the +CME ERROR that
    said so, when one did (10: not inserted, 13: failure)."""

    def __init__(self, message: str, *, cme_code: int | None = None) -> None:
        super().__init__(message)
        self.cme_code = cme_code
