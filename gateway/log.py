"""Logging: structlog for our code, stdlib loggers routed through the same processors.

JSON lines when stderr is not a terminal (systemd, journald, pipes), readable colour output on
a terminal. Raw AT traffic goes to the separate "gateway.at" logger, silent unless
`logging.at_trace` is set. Message content (keys in MESSAGE_TEXT_KEYS) is redacted unless
`logging.log_message_text` is set, so customers' texts stay out of the journal by default.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from gateway.config_sections import LoggingConfig

__all__ = [
    "AT_LOGGER_NAME",
    "MESSAGE_TEXT_KEYS",
    "MessageTextRedactor",
    "at_trace_enabled",
    "configure_logging",
    "get_at_logger",
    "get_logger",
]

AT_LOGGER_NAME = "gateway.at"
# Event keys whose values are a customer's or agent's words (a PDU encodes them too).
MESSAGE_TEXT_KEYS: frozenset[str] = frozenset({"text", "message_text", "preview", "pdu", "pdus"})
# Libraries that are chatty at INFO and say nothing an admin needs there (Alembic: its plugin
# set-up and each migration step, on every start with a new database).
_QUIET_LOGGERS = ("sqlalchemy.engine", "aiosqlite", "asyncio", "alembic")

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


class MessageTextRedactor:
    """Replaces message content in an event with its length, unless logging it is allowed."""

    def __init__(self, log_message_text: bool) -> None:
        self.log_message_text = log_message_text

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
        if self.log_message_text:
            return event_dict
        for key in MESSAGE_TEXT_KEYS.intersection(event_dict):
            event_dict[key] = _redacted(event_dict[key])
        return event_dict


def _redacted(value: object) -> str:
    if isinstance(value, str | bytes):
        return f"<redacted: {len(value)} chars>"
    if isinstance(value, list | tuple):
        return f"<redacted: {len(value)} items>"
    return "<redacted>"


class _GatewayHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler this module installed, so reconfiguring replaces it."""


def configure_logging(
    settings: LoggingConfig | None = None, *, stream: TextIO | None = None
) -> None:
    """Set up structlog and the stdlib root logger; safe to call again (on reload, in tests)."""
    settings = settings or LoggingConfig()
    stream = stream if stream is not None else sys.stderr
    use_json = settings.format == "json" or (settings.format == "auto" and not _is_tty(stream))

    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        MessageTextRedactor(settings.log_message_text),
        structlog.processors.StackInfoRenderer(),
        # Tracebacks without local variables: those could hold a customer's text.
        structlog.processors.ExceptionRenderer(
            structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
        )
        if use_json
        else structlog.processors.format_exc_info,
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=_is_tty(stream))
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *shared],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, _GatewayHandler):
            root.removeHandler(handler)
    handler = _GatewayHandler(stream)
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel(_LEVELS[settings.level])
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, _LEVELS[settings.level]))
    at_logger = logging.getLogger(AT_LOGGER_NAME)
    # The AT trace is all or nothing: at_trace shows it at any level, otherwise it stays off.
    at_logger.setLevel(logging.DEBUG if settings.at_trace else logging.WARNING)

    structlog.configure(
        processors=[
            # Drop disabled levels before any work is done on the event.
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached: reconfiguring on reload and structlog.testing.capture_logs must take effect.
        cache_logger_on_first_use=False,
    )


def _is_tty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def get_logger(name: str, **initial_values: Any) -> structlog.stdlib.BoundLogger:
    """A structlog logger named like a stdlib logger (use the module's __name__)."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name, **initial_values)
    return logger


def get_at_logger(**initial_values: Any) -> structlog.stdlib.BoundLogger:
    """The raw AT traffic logger; log at DEBUG and check at_trace_enabled() in hot paths."""
    return get_logger(AT_LOGGER_NAME, **initial_values)


def at_trace_enabled() -> bool:
    return logging.getLogger(AT_LOGGER_NAME).isEnabledFor(logging.DEBUG)
