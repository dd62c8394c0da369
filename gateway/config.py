"""The daemon's typed configuration, loaded from config.yaml.

Every timeout, interval and limit is a named setting with its unit in the name and its default
in gateway/config_sections.py, in one place. Loading errors (YAML syntax, unknown keys, bad
values, cross-field conflicts) all surface as one ConfigError listing every problem with its
key path.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

import phonenumbers
from pydantic import (
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from gateway.config_errors import ConfigError, ConfigProblem, problems_from_validation_error
from gateway.config_sections import (
    AddressSearchConfig,
    CasesConfig,
    ConfigPath,
    DiscoveryConfig,
    DriverConfig,
    HttpConfig,
    InboundConfig,
    LineConfig,
    LoggingConfig,
    ModemConfig,
    NodeConfig,
    OptOutConfig,
    PhoneConfig,
    RetentionConfig,
    RoutingConfig,
    Section,
    SendingConfig,
    SimulatorConfig,
    SmppLineConfig,
    WebhookConfig,
    check_region,
    split_host_port,
)
from gateway.config_source import (
    DEFAULT_CONFIG_PATHS,
    DEFAULT_DATA_DIR,
    find_config_path,
    read_yaml,
)

__all__ = [
    "DEFAULT_CONFIG_PATHS",
    "AddressSearchConfig",
    "CasesConfig",
    "Config",
    "ConfigError",
    "ConfigProblem",
    "DiscoveryConfig",
    "DriverConfig",
    "HttpConfig",
    "InboundConfig",
    "LineConfig",
    "LoggingConfig",
    "ModemConfig",
    "NodeConfig",
    "OptOutConfig",
    "PhoneConfig",
    "RetentionConfig",
    "RoutingConfig",
    "SendingConfig",
    "SimulatorConfig",
    "SmppLineConfig",
    "WebhookConfig",
    "find_config_path",
    "load_config",
    "parse_config",
    "split_host_port",
]

def _modems_kind(value: Any) -> str:
    return "~auto" if isinstance(value, str) else "~list"


class Config(Section):
    data_dir: Annotated[ConfigPath, Field(validate_default=True)] = DEFAULT_DATA_DIR
    database: str | None = None
    node: NodeConfig | None = None
    default_region: str = "US"  # the older spelling of phone.default_region; kept equal to it
    phone: PhoneConfig = PhoneConfig()
    http: HttpConfig = HttpConfig()
    simulator: SimulatorConfig = SimulatorConfig()
    modems: Annotated[
        Annotated[tuple[ModemConfig, ...], Tag("~list")] | Annotated[Literal["auto"], Tag("~auto")],
        Discriminator(_modems_kind),
    ] = ()
    lines: tuple[LineConfig, ...] = ()
    smpp: tuple[SmppLineConfig, ...] = ()
    driver: DriverConfig = DriverConfig()
    discovery: DiscoveryConfig = DiscoveryConfig()
    sending: SendingConfig = SendingConfig()
    inbound: InboundConfig = InboundConfig()
    routing: RoutingConfig = RoutingConfig()
    cases: CasesConfig = CasesConfig()
    optout: OptOutConfig = OptOutConfig()
    retention: RetentionConfig = RetentionConfig()
    address_search: AddressSearchConfig = AddressSearchConfig()
    opt_out_words: tuple[str, ...] | None = None
    logging: LoggingConfig = LoggingConfig()
    webhooks: tuple[WebhookConfig, ...] = ()

    _source_path: Path | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _empty_means_default(cls, data: Any) -> Any:
        # A section whose keys are all commented out reads as null: give it its defaults.
        if isinstance(data, dict):
            data = {key: value for key, value in data.items() if value is not None}
            data = _one_region(data)
        return data

    @field_validator("default_region")
    @classmethod
    def _region(cls, value: str) -> str:
        return check_region(value)

    @field_validator("database")
    @classmethod
    def _database(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        # SQLAlchemy is imported here, not at the top: commands that only read the configuration
        # (`sms-gateway status`) start without it.
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"not a SQLAlchemy URL: {value!r}") from exc
        backend = url.get_backend_name()
        if backend == "sqlite":
            url = url.set(drivername="sqlite+aiosqlite")
            if url.database and url.database != ":memory:" and not os.path.isabs(url.database):
                base = (info.context or {}).get("base_dir") or Path.cwd()
                url = url.set(database=str(Path(base) / url.database))
        elif backend == "postgresql":
            url = url.set(drivername="postgresql+asyncpg")
        else:
            raise ValueError(f"database must be sqlite or postgresql (got {backend!r})")
        return url.render_as_string(hide_password=False)

    @field_validator("opt_out_words")
    @classmethod
    def _words(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None and any(not word.strip() for word in value):
            raise ValueError("words must not be empty")
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> Config:
        problems: list[ConfigProblem] = []
        section = "lines" if self.modems == "auto" else "modems"
        entries: tuple[LineConfig, ...] = self.lines if self.modems == "auto" else self.modems
        if self.modems != "auto" and self.lines:
            problems.append(ConfigProblem("lines", "only used with modems: auto"))
        for key in ("name", "number", "iccid", "imsi", "device"):
            seen: dict[object, int] = {}
            for index, entry in enumerate(entries):
                value = getattr(entry, key, None)
                if value is None:
                    continue
                if value in seen:
                    problems.append(
                        ConfigProblem(
                            f"{section}[{index}].{key}",
                            f"{value} is already used by {section}[{seen[value]}]",
                        )
                    )
                else:
                    seen[value] = index
        names = {entry.name: f"{section}[{i}]" for i, entry in enumerate(entries)}
        for index, smpp_line in enumerate(self.smpp):
            if smpp_line.name in names:
                problems.append(ConfigProblem(
                    f"smpp[{index}].name",
                    f"{smpp_line.name} is already used by {names[smpp_line.name]}",
                ))
            names[smpp_line.name] = f"smpp[{index}]"
        # (The URL is normalised by _database above: a PostgreSQL one uses asyncpg.)
        if self.node is not None and not self.database_url.startswith("postgresql"):
            problems.append(ConfigProblem(
                "node", "a cluster of nodes shares one PostgreSQL database: set database:"
                " postgresql://... on every node (SQLite serves one host only)",
            ))
        if problems:
            raise ConfigError(problems)
        return self

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL with an async driver; default a SQLite file in data_dir."""
        if self.database is not None:
            return self.database
        return f"sqlite+aiosqlite:///{self.data_dir / 'gateway.db'}"

    @property
    def sqlite_path(self) -> Path | None:
        """The database file when the store is SQLite (None for PostgreSQL or in-memory)."""
        from sqlalchemy.engine import make_url

        url = make_url(self.database_url)
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        return Path(url.database)

    @property
    def modems_auto(self) -> bool:
        return self.modems == "auto"

    @property
    def modem_list(self) -> tuple[ModemConfig, ...]:
        """The configured modems ((), with modems: auto)."""
        return () if isinstance(self.modems, str) else self.modems

    @property
    def line_list(self) -> tuple[LineConfig, ...]:
        """Every configured line: the modems, or with modems: auto, the lines to match."""
        return self.lines if isinstance(self.modems, str) else self.modems

    @property
    def source_path(self) -> Path | None:
        """The file this configuration was loaded from, if any (for reload)."""
        return self._source_path


def _one_region(data: dict[str, Any]) -> dict[str, Any]:
    """phone.default_region and its older spelling, top-level default_region, as one value."""
    phone = data.get("phone")
    given = phone.get("default_region") if isinstance(phone, dict) else None
    older = data.get("default_region")
    if isinstance(given, str) and isinstance(older, str) and given.upper() != older.upper():
        raise ConfigError([ConfigProblem(
            "phone.default_region", f"{given} differs from default_region {older}; give one"
        )])
    region = given if given is not None else older
    if not isinstance(region, str) or region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        return data  # the key as written gets the error
    return {**data, "default_region": region,
            "phone": {**(phone if isinstance(phone, dict) else {}), "default_region": region}}


def parse_config(data: Any, base_dir: Path | None = None, source: Path | None = None) -> Config:
    """Validate already-parsed YAML data; relative paths resolve against base_dir."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        problem = ConfigProblem("", "the file must be a mapping of keys to values")
        raise ConfigError([problem], source)
    phone = data.get("phone")
    region = (phone.get("default_region") if isinstance(phone, dict) else None) or data.get(
        "default_region", "US"
    )
    context = {
        "base_dir": base_dir if base_dir is not None else Path.cwd(),
        "default_region": region.upper() if isinstance(region, str) else None,
    }
    try:
        config = Config.model_validate(data, context=context)
    except ValidationError as exc:
        raise ConfigError(problems_from_validation_error(exc), source) from None
    except ConfigError as exc:
        raise ConfigError(exc.problems, source) from None
    config._source_path = source
    return config


def load_config(path: str | Path | None = None) -> Config:
    """Read, validate and return the configuration; raises ConfigError listing every problem."""
    source = find_config_path(path).absolute()
    data, positions = read_yaml(source)
    try:
        return parse_config(data, base_dir=source.parent, source=source)
    except ConfigError as exc:
        raise exc.with_lines(positions) from None
