"""TP-SCTS / TP-DT: seven swapped-BCD octets with a time-zone offset in quarter hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from gateway.sms.model import PduError

LENGTH = 7


def _bcd(octet: int, what: str) -> int:
    lo, hi = octet & 0x0F, octet >> 4
    if lo > 9 or hi > 9:
        raise PduError(f"timestamp {what} octet 0x{octet:02X} is not BCD")
    return lo * 10 + hi


def _to_bcd(value: int) -> int:
    return (value % 10) << 4 | (value // 10)


def _century(yy: int) -> int:
    return 1900 if yy >= 90 else 2000


def decode(data: bytes) -> datetime:
    """Seven octets -> aware datetime in the sender's offset (years 90-99 are 1990s, the
    rest 20yy: SMS did not exist before 1990)."""
    if len(data) != LENGTH:
        raise PduError("PDU ends inside a timestamp")
    year, month, day, hour, minute, second = (
        _bcd(data[i], what)
        for i, what in enumerate(("year", "month", "day", "hour", "minute", "second"))
    )
    tz = data[6]
    units, tens = tz >> 4, tz & 0x07
    if units > 9:
        raise PduError(f"timestamp time-zone octet 0x{tz:02X} is not BCD")
    quarters = tens * 10 + units  # at most 79: under a day, so any value is accepted
    offset = timedelta(minutes=15 * quarters)
    if tz & 0x08:
        offset = -offset
    try:
        return datetime(
            _century(year) + year, month, day, hour, minute, second, tzinfo=timezone(offset)
        )
    except ValueError as exc:
        raise PduError(f"invalid timestamp: {exc}") from None


def encode(when: datetime) -> bytes:
    """Aware datetime -> seven octets; an offset that is not whole quarter hours becomes UTC."""
    offset = when.utcoffset()
    if offset is None:
        raise PduError("timestamp must be timezone-aware")
    minutes = offset.total_seconds() / 60
    if minutes % 15:
        when = when.astimezone(UTC)
        minutes = 0
    if not 1990 <= when.year <= 2089:
        raise PduError(f"timestamp year {when.year} is outside 1990-2089")
    quarters = int(abs(minutes)) // 15
    tz = _to_bcd(quarters) | (0x08 if minutes < 0 else 0)
    return bytes(
        (
            _to_bcd(when.year % 100),
            _to_bcd(when.month),
            _to_bcd(when.day),
            _to_bcd(when.hour),
            _to_bcd(when.minute),
            _to_bcd(when.second),
            tz,
        )
    )
