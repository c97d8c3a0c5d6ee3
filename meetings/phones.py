"""Phone numbers for text messages: parsed and stored in E.164, hashed for the opt-out list.

A number is parsed with Google's libphonenumber metadata (`phonenumbers`), in the department's
country (PHONE_REGION) unless it starts with "+", and kept as E.164 ("+12145550123"): the one
form a provider accepts and two spellings of the same number compare equal in.

A number that texted STOP is kept only as a keyed hash (`opt_out_hash`): HMAC-SHA256 with
SMS_HASH_KEY, so the opt-out list alone gives no number back, yet a number can still be looked
up in it. Text in logs never quotes a number (`masked`).
"""

import hashlib
import hmac

import phonenumbers
from django.conf import settings


class InvalidPhoneNumber(ValueError):
    """Not a number a text message can reach."""


class NotTextable(InvalidPhoneNumber):
    """A real number that cannot take text messages (a fixed line, a premium number)."""


# Fixed lines cannot take texts; "fixed line or mobile" is what US numbers always are.
TEXTABLE = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    phonenumbers.PhoneNumberType.VOIP,
    phonenumbers.PhoneNumberType.PERSONAL_NUMBER,
}


def to_e164(text: str, *, region: str | None = None) -> str:
    """'(214) 555-0123' → '+12145550123'. Raises InvalidPhoneNumber for anything a text
    message cannot reach (too short, no such area code, a fixed line, a premium number)."""
    region = region or settings.PHONE_REGION
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        raise InvalidPhoneNumber(str(error)) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber("not a valid number")
    if phonenumbers.number_type(number) not in TEXTABLE:
        raise NotTextable("cannot take text messages")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def opt_out_hash(e164: str) -> str:
    """The keyed hash the opt-out list keeps instead of the number."""
    key = settings.SMS_HASH_KEY.encode()
    return hmac.new(key, b"sms-opt-out:" + e164.encode(), hashlib.sha256).hexdigest()


def masked(e164: str) -> str:
    """'+1…23': enough to tell two log lines apart, not enough to call anyone."""
    return f"{e164[:2]}…{e164[-2:]}" if e164 else ""
