"""Phone numbers as agents type them, normalised to E.164 with a configured default region."""

from __future__ import annotations

import phonenumbers

from gateway.service.errors import InvalidPhoneError

_REASONS = {
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "its country code is unknown",
    phonenumbers.ValidationResult.TOO_SHORT: "it is too short",
    phonenumbers.ValidationResult.TOO_LONG: "it is too long",
    phonenumbers.ValidationResult.INVALID_LENGTH: "its length is not valid for its country",
}


def normalise_phone(raw: str, default_region: str | None) -> str:
    """Return `raw` as E.164 (`+15551234567`) or raise InvalidPhoneError naming the problem."""
    text = raw.strip()
    if not text:
        raise InvalidPhoneError("phone number is empty")
    if len(text) > 32:
        raise InvalidPhoneError("phone number is longer than 32 characters")
    region = default_region.upper() if default_region else None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneError(f"phone number {text!r} cannot be read: {exc._msg}") from exc
    # "Possible" rather than "valid": numbering plans change faster than the library, and a
    # number an agent was given must not be refused because it is new (or a 555 test number).
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible != phonenumbers.ValidationResult.IS_POSSIBLE:
        reason = _REASONS.get(possible, "it needs an area code")
        raise InvalidPhoneError(f"phone number {text!r} is not valid: {reason}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
