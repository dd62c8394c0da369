"""AT modem layer: framer (pure) -> protocol -> driver -> supervisor, one supervisor per line."""

from gateway.modem.driver import ModemDriver, Opener, serial_opener
from gateway.modem.errors import (
    CmeError,
    CmsError,
    CommandError,
    CommandTimeoutError,
    ConnectionLostError,
    LineUnavailableError,
    ModemError,
    ModemSilentError,
    PinError,
    SimError,
    SubmitConnectionLostError,
    SubmitTimeoutError,
    SubmitUnconfirmedError,
    cms_is_retryable,
)
from gateway.modem.framer import Urc
from gateway.modem.model import (
    Identity,
    InboundItem,
    InboundSink,
    LineState,
    LineStatus,
    RawDelivery,
    Registration,
    ReportSink,
    StateCallback,
    StorageStatus,
    StoredMessage,
)
from gateway.modem.settings import ModemSettings
from gateway.modem.supervisor import ModemSupervisor

__all__ = [
    "CmeError",
    "CmsError",
    "CommandError",
    "CommandTimeoutError",
    "ConnectionLostError",
    "Identity",
    "InboundItem",
    "InboundSink",
    "LineState",
    "LineStatus",
    "LineUnavailableError",
    "ModemDriver",
    "ModemError",
    "ModemSettings",
    "ModemSilentError",
    "ModemSupervisor",
    "Opener",
    "PinError",
    "RawDelivery",
    "Registration",
    "ReportSink",
    "SimError",
    "StateCallback",
    "StorageStatus",
    "StoredMessage",
    "SubmitConnectionLostError",
    "SubmitTimeoutError",
    "SubmitUnconfirmedError",
    "Urc",
    "cms_is_retryable",
    "serial_opener",
]
