"""Errors of an SMPP line, as the pipeline's senders know them from modem lines: a submit the
SMSC refused (retryable or final), one it never answered (unknown, never resent), and a line
that cannot send now."""

from __future__ import annotations

from gateway.modem.errors import CmsError, SubmitUnconfirmedError
from gateway.smpp import codec
from gateway.smpp.codec import SmppError

# command_status values after which the same submit_sm may succeed later.
RETRYABLE_STATUSES: frozenset[int] = frozenset({
    codec.ESME_RSYSERR, codec.ESME_RMSGQFUL, codec.ESME_RTHROTTLED, codec.ESME_RX_T_APPN,
    0x0C,  # ESME_RINVMSGID: some SMSCs say so when their id generator is busy
    0x45,  # ESME_RSUBMITFAIL
    0x61,  # ESME_RINVSCHED
    0x62,  # ESME_RINVEXPIRY
})


class SmppSubmitError(CmsError):
    """The SMSC answered a submit_sm with an error status (or generic_nack)."""

    def __init__(self, status: int, command: str = "submit_sm", detail: str | None = None
                 ) -> None:
        super().__init__(None, command, detail or codec.status_name(status))
        self.status = status
        self.retryable = status in RETRYABLE_STATUSES and detail is None

    def __str__(self) -> str:
        return f"{self.command} refused: {self.result}"


class SmppSubmitUnconfirmedError(SubmitUnconfirmedError):
    """submit_sm written, but no response (timeout or connection lost): it may have gone out."""


class SmppBindError(SmppError):
    """The SMSC refused the bind (wrong system_id or password, or bound too often)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"bind refused: {codec.status_name(status)}")
        self.status = status
