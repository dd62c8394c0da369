"""The sections of config.yaml: one frozen model per section, each default set here once.

Relative paths resolve against the config file's directory, passed in the validation context.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import phonenumbers
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from gateway.config_source import BAUD_RATES, resolve_config_path

_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_")


def split_host_port(text: str) -> tuple[str, int]:
    """Split "host:port" (or "[v6]:port"); raises ValueError naming what is wrong."""
    host, sep, port_text = text.rpartition(":")
    if not sep or not host:
        raise ValueError(f"must be host:port, e.g. 127.0.0.1:8080 (got {text!r})")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise ValueError(f"an IPv6 host must be in brackets, e.g. [::1]:8080 (got {text!r})")
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ValueError(f"port must be a number from 0 to 65535 (got {port_text!r})")
    return host, int(port_text)


def _check_listen(value: str) -> str:
    split_host_port(value)
    return value


def _resolve_path(value: Path, info: ValidationInfo) -> Path:
    """Relative paths are relative to the config file's directory (the cwd without a file)."""
    base = (info.context or {}).get("base_dir")
    return resolve_config_path(value, Path(base) if base is not None else None)


def _check_e164(value: str, info: ValidationInfo) -> str:
    region = (info.context or {}).get("default_region")
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {value!r} ({exc._msg})") from exc
    if not phonenumbers.is_possible_number(number):
        raise ValueError(f"not a possible phone number: {value!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


ConfigPath = Annotated[Path, AfterValidator(_resolve_path)]
ListenAddress = Annotated[str, AfterValidator(_check_listen)]
PhoneNumber = Annotated[str, AfterValidator(_check_e164)]
PositiveSeconds = Annotated[float, Field(gt=0)]
NonNegativeSeconds = Annotated[float, Field(ge=0)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HttpConfig(Section):
    listen: ListenAddress = "127.0.0.1:8080"
    tls_cert: ConfigPath | None = None
    tls_key: Annotated[ConfigPath | None, Field(validate_default=True)] = None
    session_ttl_s: PositiveSeconds = 12 * 3600.0
    trusted_origins: tuple[str, ...] = ()
    max_body_bytes: Annotated[int, Field(gt=0)] = 1024 * 1024
    login_max_attempts: Annotated[int, Field(gt=0)] = 10
    login_window_s: PositiveSeconds = 300.0
    login_backoff_initial_s: PositiveSeconds = 1.0
    login_backoff_max_s: PositiveSeconds = 60.0
    header_timeout_s: PositiveSeconds = 10.0
    body_timeout_s: PositiveSeconds = 30.0

    @property
    def host(self) -> str:
        return split_host_port(self.listen)[0]

    @property
    def port(self) -> int:
        return split_host_port(self.listen)[1]

    @field_validator("trusted_origins")
    @classmethod
    def _origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for origin in value:
            scheme, sep, rest = origin.partition("://")
            if scheme not in ("http", "https") or not sep or not rest or "/" in rest:
                raise ValueError(f"an origin is scheme://host[:port], no path (got {origin!r})")
        return value

    @field_validator("tls_key")
    @classmethod
    def _tls_pair(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if "tls_cert" in info.data and (info.data["tls_cert"] is None) != (value is None):
            raise ValueError("tls_cert and tls_key must be given together")
        return value


class SimulatorConfig(Section):
    control: ListenAddress = "127.0.0.1:8081"
    profile: str = "generic"
    delivery_delay_s: NonNegativeSeconds = 0.0
    status_report_delay_s: NonNegativeSeconds = 0.2

    @property
    def host(self) -> str:
        return split_host_port(self.control)[0]

    @property
    def port(self) -> int:
        return split_host_port(self.control)[1]


class LineConfig(Section):
    """A published number and its SIM: what agents and customers know as a line."""

    name: str
    number: PhoneNumber
    iccid: str | None = None
    imsi: str | None = None
    pin: Annotated[str | None, Field(repr=False)] = None
    smsc: str | None = None
    min_send_interval_s: NonNegativeSeconds = 0.0

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value or len(value) > 32 or not set(value) <= _NAME_CHARS:
            raise ValueError(
                "must be 1-32 characters of lower-case letters, digits, '-' and '_'"
                f" (got {value!r})"
            )
        return value

    @field_validator("number", "smsc", mode="before")
    @classmethod
    def _quoted_number(cls, value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            raise ValueError(
                f'must be quoted, e.g. "+{value}" (YAML reads an unquoted number as an integer)'
            )
        return value

    @field_validator("pin", mode="before")
    @classmethod
    def _pin(cls, value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            raise ValueError('must be quoted, e.g. pin: "0123" (YAML drops leading zeros)')
        if isinstance(value, str) and not (value.isdigit() and 4 <= len(value) <= 8):
            raise ValueError("must be 4 to 8 digits")
        return value

    @field_validator("iccid", "imsi", mode="before")
    @classmethod
    def _digits(cls, value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and not (value.isdigit() and 6 <= len(value) <= 22):
            raise ValueError("must be 6 to 22 digits")
        return value

    @field_validator("smsc")
    @classmethod
    def _smsc(cls, value: str | None) -> str | None:
        if value is not None and not (value.startswith("+") and value[1:].isdigit()):
            raise ValueError(f"must be an international number such as +447785016005 ({value!r})")
        return value


class ModemConfig(LineConfig):
    """A line on a known device: a serial path, or a modem of the in-process simulator."""

    device: ConfigPath | None = None
    simulator: Annotated[bool, Field(validate_default=True)] = False
    profile: str = "auto"
    baud: int = 115200

    @field_validator("baud")
    @classmethod
    def _baud(cls, value: int) -> int:
        if value not in BAUD_RATES:
            raise ValueError("must be one of " + ", ".join(str(rate) for rate in BAUD_RATES))
        return value

    @field_validator("simulator")
    @classmethod
    def _device_xor_simulator(cls, value: bool, info: ValidationInfo) -> bool:
        if "device" in info.data and (info.data["device"] is None) == (not value):
            raise ValueError("give either device: PATH or simulator: true (exactly one)")
        return value


DEFAULT_LEASE_TTL_S = 10.0


class NodeConfig(Section):
    """This host in a cluster of gateways sharing one PostgreSQL database (see docs/SCALING.md).
    Without a `node:` section the daemon runs alone, as before."""

    name: str
    heartbeat_interval_s: PositiveSeconds = 2.0
    lease_ttl_s: PositiveSeconds = DEFAULT_LEASE_TTL_S
    event_poll_interval_s: PositiveSeconds = 1.0

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value or len(value) > 63 or not set(value) <= _NAME_CHARS:
            raise ValueError(
                "must be 1-63 characters of lower-case letters, digits, '-' and '_'"
                f" (got {value!r})"
            )
        return value

    @field_validator("lease_ttl_s")
    @classmethod
    def _ttl(cls, value: float, info: ValidationInfo) -> float:
        heartbeat = info.data.get("heartbeat_interval_s")
        if heartbeat is not None and value < 3 * heartbeat:
            raise ValueError(
                f"must be at least three heartbeats ({3 * heartbeat:g} s), so that one late"
                " heartbeat does not cost a node its lines"
            )
        return value


class DriverConfig(Section):
    command_timeout_s: PositiveSeconds = 10.0
    send_timeout_s: PositiveSeconds = 60.0
    health_poll_interval_s: PositiveSeconds = 30.0
    silence_timeout_s: PositiveSeconds = 90.0
    reconnect_backoff_initial_s: PositiveSeconds = 1.0
    reconnect_backoff_max_s: PositiveSeconds = 60.0
    sim_busy_retry_s: PositiveSeconds = 0.5
    sim_busy_timeout_s: PositiveSeconds = 30.0


class DiscoveryConfig(Section):
    watch_dirs: tuple[ConfigPath, ...] = (Path("/dev/gsm"), Path("/dev/serial/by-id"))
    candidates: tuple[str, ...] = ("/dev/gsm/*", "/dev/ttyUSB*", "/dev/ttyACM*")
    probe_timeout_s: PositiveSeconds = 3.0
    settle_s: NonNegativeSeconds = 1.0


class SendingConfig(Section):
    max_parts: Annotated[int, Field(ge=1, le=255)] = 10
    status_reports: bool = True
    validity_minutes: Annotated[int, Field(ge=5, le=63 * 7 * 24 * 60)] | None = 24 * 60
    concat_ref_bits: Literal[8, 16] = 8
    retry_limit: Annotated[int, Field(ge=0)] = 3
    retry_backoff_s: PositiveSeconds = 30.0
    retry_backoff_max_s: PositiveSeconds = 600.0
    status_report_window_s: PositiveSeconds = 48 * 3600.0
    failover: Literal["wait", "other_line"] = "wait"
    failover_after_s: PositiveSeconds = 60.0


class InboundConfig(Section):
    reassembly_timeout_s: PositiveSeconds = 60.0
    db_retry_interval_s: PositiveSeconds = 1.0
    quarantine_after_attempts: Annotated[int, Field(ge=1, le=1000)] = 5


def check_region(value: str) -> str:
    if value.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"not a known region code such as US, GB, DE (got {value!r})")
    return value.upper()


class PhoneConfig(Section):
    default_region: Annotated[str, AfterValidator(check_region)] = "US"


class RoutingConfig(Section):
    mode: Literal["ring_all", "round_robin"] = "ring_all"
    overdue_after_s: PositiveSeconds = 120.0
    round_robin_offer_s: PositiveSeconds = 30.0
    max_open_cases: Annotated[int, Field(ge=0)] = 0
    wrap_up_time_s: NonNegativeSeconds = 0.0
    offline_after_s: PositiveSeconds = 60.0


class CasesConfig(Section):
    """Closing cases: the wrap-up codes agents choose from, and whether one is required."""

    wrap_up_codes: tuple[str, ...] = ()
    require_wrap_up: bool = False
    reply_overdue_s: PositiveSeconds = 300.0

    @field_validator("wrap_up_codes")
    @classmethod
    def _codes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(code.strip() for code in value)
        if any(not code or len(code) > 64 for code in cleaned):
            raise ValueError("each wrap-up code is 1 to 64 characters")
        if len(set(cleaned)) != len(cleaned):
            raise ValueError("a wrap-up code is listed twice")
        return cleaned

    @field_validator("require_wrap_up")
    @classmethod
    def _required_needs_codes(cls, value: bool, info: ValidationInfo) -> bool:
        if value and not info.data.get("wrap_up_codes"):
            raise ValueError("require_wrap_up needs cases.wrap_up_codes")
        return value


class RetentionConfig(Section):
    """How long message text is kept (None: for ever)."""

    message_days: Annotated[int, Field(ge=1)] | None = None


class OptOutConfig(Section):
    """The single exception to "nothing is sent automatically" (off unless set)."""

    confirmation_text: Annotated[str, Field(min_length=1, max_length=1000)] | None = None


class AddressSearchConfig(Section):
    provider: Literal["none", "csv", "sqlite", "http"] = "none"
    path: Annotated[ConfigPath | None, Field(validate_default=True)] = None
    query: str = "SELECT address FROM addresses WHERE phone = ?"
    url_template: Annotated[str | None, Field(validate_default=True)] = None
    headers: dict[str, str] = Field(default_factory=dict)
    timeout_s: PositiveSeconds = 3.0

    @field_validator("path")
    @classmethod
    def _path(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        provider = info.data.get("provider")
        if provider in ("csv", "sqlite"):
            if value is None:
                raise ValueError(f"required by provider {provider}")
            if not value.is_file():
                raise ValueError(f"no such file: {value}")
        return value

    @field_validator("url_template")
    @classmethod
    def _url_template(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("provider") == "http" and (
            value is None
            or not value.startswith(("http://", "https://"))
            or ("{phone}" not in value and "{digits}" not in value)
        ):
            raise ValueError("provider http needs an http(s) URL containing {phone} or {digits}")
        return value


class LoggingConfig(Section):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["auto", "json", "console"] = "auto"
    log_message_text: bool = False
    at_trace: bool = False

    @field_validator("level", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value


class WebhookConfig(Section):
    url: str
    secret: Annotated[str, Field(min_length=16, repr=False)]
    events: tuple[Literal["request.created", "message.created"], ...] = (
        "request.created",
        "message.created",
    )
    timeout_s: PositiveSeconds = 5.0
    retry_limit: Annotated[int, Field(ge=0)] = 5
    retry_backoff_s: PositiveSeconds = 2.0

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"must be an http(s) URL (got {value!r})")
        return value


class SmppLineConfig(Section):
    """An account at an operator's or aggregator's SMSC, over SMPP 3.4: a short code or a long
    number that is a line like a modem's for everything above the pipeline."""

    name: str
    number: str
    host: str
    port: Annotated[int, Field(ge=1, le=65535)]
    system_id: Annotated[str, Field(min_length=1, max_length=15)]
    password: Annotated[str, Field(max_length=8, repr=False)]
    system_type: Annotated[str, Field(max_length=12)] = ""
    bind: Literal["transceiver", "transmitter_receiver"] = "transceiver"
    number_ton: Annotated[int, Field(ge=0, le=6)] | None = None
    number_npi: Annotated[int, Field(ge=0, le=18)] | None = None
    throughput_per_s: Annotated[float, Field(ge=0)] = 10.0
    window: Annotated[int, Field(ge=1, le=1000)] = 10
    enquire_link_s: PositiveSeconds = 30.0
    response_timeout_s: PositiveSeconds = 10.0
    registered_delivery: bool = True
    tls: bool = False
    default_alphabet: Literal["gsm7", "latin1", "ascii"] = "gsm7"
    long_messages: Literal["udh", "sar"] = "udh"
    simulator: bool = False

    _check_name = field_validator("name")(LineConfig._name.__func__)  # type: ignore[attr-defined]

    @field_validator("number", "system_id", "password", mode="before")
    @classmethod
    def _quoted(cls, value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            raise ValueError(f'must be quoted, e.g. "{value}" (YAML reads it as an integer)')
        return value

    @field_validator("number")
    @classmethod
    def _number(cls, value: str) -> str:
        digits = value[1:] if value.startswith("+") else value
        if digits.isdigit() and 3 <= len(digits) <= 15:
            return value
        if not value.startswith("+") and 1 <= len(value) <= 11 and value.isprintable():
            return value  # an alphanumeric sender name
        raise ValueError(
            "must be a short code or number (3-15 digits, + for international) or an"
            f" alphanumeric sender of up to 11 characters (got {value!r})"
        )

    @property
    def ton(self) -> int:
        """TON of the line's number: given, or international / unknown / alphanumeric."""
        if self.number_ton is not None:
            return self.number_ton
        if self.number.startswith("+"):
            return 1
        return 0 if self.number.isdigit() else 5

    @property
    def npi(self) -> int:
        if self.number_npi is not None:
            return self.number_npi
        return 0 if self.ton == 5 else 1
