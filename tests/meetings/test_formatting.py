"""Dates, times, lists and language names in the reader's language."""

import datetime as dt
import zoneinfo

import pytest
from django.utils import translation

from meetings.formatting import (
    language_name,
    long_date,
    own_language_name,
    short_time,
    spoken_list,
    time_range,
)

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
# The first demo session: Wednesday 12 February 2025, 6:00 to 7:30 p.m. in Dallas.
STARTS = dt.datetime(2025, 2, 12, 18, 0, tzinfo=CHICAGO)
ENDS = dt.datetime(2025, 2, 12, 19, 30, tzinfo=CHICAGO)
NNBSP = "\u202f"  # CLDR puts a narrow no-break space before AM/PM


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("en", "Wednesday, February 12, 2025"),
        ("es", "miércoles, 12 de febrero de 2025"),
        ("vi", "Thứ Tư, ngày 12 tháng 2 năm 2025"),
    ],
)
def test_long_date_is_written_for_the_language(code, expected):
    with translation.override(code):
        assert long_date(STARTS) == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [("en", f"6:00{NNBSP}PM"), ("es", f"6:00{NNBSP}p.m."), ("vi", "6:00 tối")],
)
def test_short_time_is_written_for_the_language(code, expected):
    with translation.override(code):
        assert short_time(STARTS) == expected


def test_short_time_uses_the_datetimes_own_time_zone():
    in_los_angeles = STARTS.astimezone(zoneinfo.ZoneInfo("America/Los_Angeles"))

    with translation.override("es"):
        assert short_time(in_los_angeles) == f"4:00{NNBSP}p.m."


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("es", f"6:00{NNBSP}p.m. – 7:30{NNBSP}p.m."),
        ("vi", "6:00 tối – 7:30 tối"),
    ],
)
def test_time_range_is_written_for_the_language(code, expected):
    with translation.override(code):
        assert time_range(STARTS, ENDS) == expected


def test_morning_time_in_spanish_says_a_m():
    with translation.override("es"):
        assert short_time(STARTS.replace(hour=10)) == f"10:00{NNBSP}a.m."


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("en", "Spanish, Vietnamese, and English"),
        ("es", "Spanish, Vietnamese y English"),
        ("vi", "Spanish, Vietnamese và English"),
    ],
)
def test_lists_are_joined_the_way_each_language_joins_them(code, expected):
    with translation.override(code):
        assert spoken_list(["Spanish", "Vietnamese", "English"]) == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [("en", "Spanish"), ("es", "español")],
)
def test_language_name_is_the_readers_word_for_it(code, expected):
    with translation.override(code):
        assert language_name("es") == expected


def test_language_name_of_an_unknown_code_is_the_code():
    assert language_name("xx") == "xx"


@pytest.mark.parametrize("reader", ["en", "es", "vi"])
def test_own_language_name_is_the_same_for_every_reader(reader):
    with translation.override(reader):
        names = [own_language_name(code) for code in ("en", "es", "vi")]

    assert names == ["English", "Español", "Tiếng Việt"]


def test_vietnamese_morning_and_noon_times_use_the_12_hour_clock():
    zone = zoneinfo.ZoneInfo("America/Chicago")
    with translation.override("vi"):
        assert short_time(dt.datetime(2025, 2, 12, 9, 5, tzinfo=zone)) == "9:05 sáng"
        assert short_time(dt.datetime(2025, 2, 12, 12, 0, tzinfo=zone)) == "12:00 trưa"
        assert short_time(dt.datetime(2025, 2, 12, 15, 0, tzinfo=zone)) == "3:00 chiều"
        assert short_time(dt.datetime(2025, 2, 12, 0, 30, tzinfo=zone)) == "12:30 sáng"
