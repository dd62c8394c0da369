"""ModemSettings: everything one modem's supervisor is configured with, defaulted in one place."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class ModemSettings:
    """One modem (line). Timeouts and intervals are in seconds, as their names say.

    What config.yaml sets (`driver.*`, `inbound.db_retry_interval_s`, the modem's own entry)
    has no default here: its one default is in gateway/config_sections.py and is passed down
    (gateway.pipeline.modems.modem_settings). The rest are the driver's own constants.
    """

    name: str
    device: str | None = None  # serial path; None when the supervisor is given an opener
    pin: str | None = None
    profile: str | None = None  # vendor hint for logs and the simulator; quirks are detected
    baud: int
    smsc: str | None = None  # e.g. "+15550000000"; None keeps the SIM's
    command_timeout_s: float
    send_timeout_s: float  # from the PDU's Ctrl-Z to +CMGS: <mr>
    prompt_timeout_s: float = 5.0  # from AT+CMGS=<n> to the `> ` prompt
    list_timeout_s: float = 30.0  # AT+CMGL on a full SIM is slow on some modems
    open_timeout_s: float = 5.0
    settle_s: float = 0.5  # after a timed-out command, how long its late answer is awaited
    health_poll_interval_s: float  # AT+CSQ / AT+CREG? and a storage sweep (URCs cover the rest)
    silence_timeout_s: float  # nothing received this long: the port is reopened
    min_send_interval_s: float  # spacing between two AT+CMGS on this modem
    reconnect_initial_s: float
    reconnect_max_s: float
    busy_retry_window_s: float  # +CME ERROR 515/14 retried this long during init
    busy_retry_interval_s: float
    sink_retry_initial_s: float  # a sink that raised is retried after this, doubling
    sink_retry_max_s: float = 60.0
    stop_timeout_s: float = 10.0
    log_message_text: bool = False  # PDUs in logged traffic are shown, not redacted

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a modem needs a name")
        if self.health_poll_interval_s >= self.silence_timeout_s:
            raise ValueError(
                "health_poll_interval_s must be shorter than silence_timeout_s, or a healthy"
                " but quiet modem would be declared silent"
            )
        if self.reconnect_initial_s <= 0 or self.reconnect_max_s < self.reconnect_initial_s:
            raise ValueError("need 0 < reconnect_initial_s <= reconnect_max_s")
        for field_name in (
            "command_timeout_s",
            "send_timeout_s",
            "prompt_timeout_s",
            "list_timeout_s",
            "open_timeout_s",
            "health_poll_interval_s",
            "busy_retry_interval_s",
            "sink_retry_initial_s",
        ):
            if getattr(self, field_name) <= 0:
                raise ValueError(f"{field_name} must be positive")
