"""Phone numbers: E.164 from what people type, only numbers a text can reach, the opt-out
list's keyed hash."""

import pytest

from meetings.phones import InvalidPhoneNumber, masked, opt_out_hash, to_e164


@pytest.mark.parametrize(
    ("typed", "region", "e164"),
    [
        ("(214) 555-0123", "US", "+12145550123"),
        ("+52 55 1234 5678", "US", "+525512345678"),  # a Mexican mobile, typed with +
        ("0912 345 678", "VN", "+84912345678"),  # a Vietnamese mobile, in Vietnam's region
    ],
)
def test_numbers_are_stored_in_e164(typed, region, e164):
    assert to_e164(typed, region=region) == e164


@pytest.mark.parametrize(
    "typed",
    [
        "not a number",
        "555-0123",  # no area code
        "+44 20 7946 0958",  # a London fixed line: no texts
    ],
)
def test_what_a_text_cannot_reach_is_refused(typed):
    with pytest.raises(InvalidPhoneNumber):
        to_e164(typed, region="US")


def test_the_opt_out_hash_is_keyed(settings):
    settings.SMS_HASH_KEY = "one key"
    first = opt_out_hash("+12145550123")
    settings.SMS_HASH_KEY = "another key"

    assert opt_out_hash("+12145550123") != first
    assert len(first) == 64 and "2145550123" not in first


def test_a_masked_number_cannot_be_called():
    assert masked("+12145550123") == "+1…23"
    assert masked("") == ""
