"""Logging: JSON lines off a terminal, context bound once, message text kept out by default."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from gateway.config_sections import LoggingConfig
from gateway.log import at_trace_enabled, configure_logging, get_at_logger, get_logger


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_when_not_a_terminal_with_bound_context() -> None:
    stream = io.StringIO()
    configure_logging(LoggingConfig(), stream=stream)
    structlog.contextvars.bind_contextvars(line="support", imei="356938035643809")
    get_logger("gateway.pipeline").info("message stored", message_id=42)
    logging.getLogger("aiohttp.server").warning("foreign %s", "library", extra={"peer": "x"})
    stored, foreign = lines(stream)
    assert stored["event"] == "message stored"
    assert stored["level"] == "info"
    assert stored["logger"] == "gateway.pipeline"
    assert (stored["line"], stored["imei"], stored["message_id"]) == (
        "support",
        "356938035643809",
        42,
    )
    assert "timestamp" in stored
    assert foreign["event"] == "foreign library"
    assert foreign["peer"] == "x"
    assert foreign["line"] == "support"


def test_console_output_on_a_terminal() -> None:
    stream = Terminal()
    configure_logging(LoggingConfig(), stream=stream)
    get_logger("gateway.daemon").info("started", lines=1)
    output = stream.getvalue()
    assert "started" in output
    assert not output.lstrip().startswith("{")


def test_message_text_is_redacted_unless_allowed() -> None:
    stream = io.StringIO()
    configure_logging(LoggingConfig(level="debug"), stream=stream)
    log = get_logger("gateway.pipeline")
    log.info("received", text="I need help at 12 Harbour Road", pdu="0791447758100650")
    log.debug("parts", pdus=["00", "01"])
    first, second = lines(stream)
    assert first["text"] == "<redacted: 30 chars>"
    assert first["pdu"] == "<redacted: 16 chars>"
    assert second["pdus"] == "<redacted: 2 items>"
    assert "Harbour" not in stream.getvalue()

    stream = io.StringIO()
    configure_logging(LoggingConfig(log_message_text=True), stream=stream)
    get_logger("gateway.pipeline").info("received", text="I need help")
    assert lines(stream)[0]["text"] == "I need help"


def test_level_filters_and_exceptions_have_no_locals() -> None:
    stream = io.StringIO()
    configure_logging(LoggingConfig(level="warning"), stream=stream)
    log = get_logger("gateway.modem")
    log.info("hidden")
    secret_text = "my address is 12 Harbour Road"
    try:
        raise RuntimeError("modem vanished")
    except RuntimeError:
        log.exception("send failed", len=len(secret_text))
    (record,) = lines(stream)
    assert record["event"] == "send failed"
    assert "modem vanished" in json.dumps(record["exception"])
    assert "Harbour" not in stream.getvalue()


def test_at_trace_is_off_unless_enabled() -> None:
    stream = io.StringIO()
    configure_logging(LoggingConfig(level="debug"), stream=stream)
    assert not at_trace_enabled()
    get_at_logger(line="demo").debug("tx", data="AT+CSQ")
    assert stream.getvalue() == ""

    configure_logging(LoggingConfig(level="info", at_trace=True), stream=stream)
    assert at_trace_enabled()
    get_at_logger(line="demo").debug("tx", data="AT+CSQ")
    get_logger("gateway.modem").debug("not at info")
    (record,) = lines(stream)
    assert (record["logger"], record["data"], record["line"]) == ("gateway.at", "AT+CSQ", "demo")


def test_reconfiguring_replaces_the_handler() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging(LoggingConfig(), stream=first)
    configure_logging(LoggingConfig(), stream=second)
    get_logger("gateway").info("once")
    assert first.getvalue() == ""
    assert len(lines(second)) == 1
