"""Texts are short: the segment counter on real strings in each language, and every notice's
text within two segments (one where the language allows), in the RSVP's language."""

import pytest
from django.utils import translation

from meetings import segments, texts
from meetings.models import OutgoingEmail, Rsvp
from meetings.tokens import make_token
from tests.factories import MeetingFactory, RsvpFactory, VenueFactory

pytestmark = pytest.mark.django_db

Kind = OutgoingEmail.Kind


# The counter -------------------------------------------------------------------------------


def test_plain_english_is_gsm7_with_160_characters_in_one_segment():
    text = "Police outreach: you are confirmed. " + "x" * 124

    assert len(text) == 160
    assert segments.count(text) == segments.Segments("GSM-7", 160, 1)
    assert segments.count(text + "x").count == 2  # 161 characters: 153 per segment when split


def test_gsm7_extension_characters_take_two_septets():
    assert segments.count("€[]").units == 6
    assert segments.count("a" * 79 + "€").count == 1  # 81 septets
    assert segments.count("{" * 81).count == 2  # 162 septets


def test_spanish_with_only_gsm7_accents_stays_gsm7():
    # é, ñ, ü, ¿ and ¡ are in the GSM-7 alphabet.
    text = "¿Qué pasó? ¡Señor Güemes, mañana!"
    assert segments.is_gsm7(text.replace("ó", "o"))
    assert segments.count(text).encoding == "UCS-2"  # the ó alone makes it UCS-2


def test_spanish_accents_gsm7_lacks_are_dropped_only_in_plain_letter_languages():
    text = "Recordatorio: reunión el miércoles, ¿podrá venir? Está confirmado."

    spanish = segments.fit_alphabet(text, "es")
    vietnamese = segments.fit_alphabet("Nhắc lịch: buổi họp thứ Năm.", "vi")

    # é is in GSM-7 and stays; ó and á are not.
    assert spanish == "Recordatorio: reunion el miércoles, ¿podra venir? Esta confirmado."
    assert segments.count(spanish).encoding == "GSM-7"
    assert vietnamese == "Nhắc lịch: buổi họp thứ Năm."


def test_vietnamese_is_ucs2_with_70_in_one_segment_and_67_per_segment_after():
    text = "Cảnh sát cộng đồng: đã giữ 2 chỗ cho quý vị."
    assert segments.count(text).encoding == "UCS-2"
    assert segments.count("ạ" * 70).count == 1
    assert segments.count("ạ" * 71).count == 2
    assert segments.count("ạ" * 134).count == 2
    assert segments.count("ạ" * 135).count == 3


def test_an_emoji_counts_two_ucs2_units():
    assert segments.count("📅").units == 2
    assert segments.count("📅" * 35).count == 1
    assert segments.count("📅" * 36).count == 2


def test_an_empty_text_is_no_segment():
    assert segments.count("").count == 0


# Every notice in every language --------------------------------------------------------------


@pytest.fixture
def meeting():
    venue = VenueFactory(
        name_en="Oak Lawn Branch Library",
        name_es="Biblioteca Oak Lawn",
        name_vi="Thư viện Oak Lawn",
    )
    return MeetingFactory(
        venue=venue,
        title_en="Coffee with a Cop: Northwest",
        title_es="Café con la policía: Noroeste",
        title_vi="Cà phê với cảnh sát: Tây Bắc",
        slug="coffee-with-a-cop-northwest",
    )


CASES = [
    (Kind.RSVP_CONFIRMATION, {"token": True}),
    (Kind.RSVP_PROMOTED, {"token": True}),
    (Kind.MEETING_CHANGED, {"changes": ["time"], "token": True}),
    (Kind.MEETING_CHANGED, {"changes": ["cancelled"], "token": True}),
    (Kind.MEETING_CHANGED, {"changes": ["reinstated"], "token": True}),
    (Kind.MEETING_CHANGED, {"changes": ["venue"]}),  # queued before texts had links
    (Kind.RSVP_REMINDER, {"token": True}),
    (Kind.FEEDBACK_REQUEST, {"token": True}),
    (Kind.STAFF_MESSAGE, {"template": "doors_late", "minutes": 15}),
    (Kind.RSVP_CHANGED, {"before": {"party_size": 1}}),
    (Kind.RSVP_CANCELLED, {"by_staff": False, "was_confirmed": True}),
    (Kind.RSVP_CANCELLED, {"by_staff": True, "was_confirmed": True}),
]


@pytest.mark.parametrize("language", ["en", "es", "vi"])
@pytest.mark.parametrize(("kind", "context"), CASES)
@pytest.mark.parametrize("status", [Rsvp.Status.CONFIRMED, Rsvp.Status.WAITLISTED])
def test_every_text_fits_in_two_segments_in_its_language(meeting, language, kind, context, status):
    rsvp = RsvpFactory(meeting=meeting, language=language, party_size=2, status=status)
    context = dict(context)
    token = make_token() if context.pop("token", False) else None

    text = texts.compose(kind, rsvp, token=token, **context)

    counted = segments.count(text)
    assert counted.count <= 2, (text, counted)
    if language in ("en", "es"):
        assert counted.encoding == "GSM-7", text
    if token:
        with translation.override(language):
            assert f"/{language}/rsvp/{token}/" in text


def test_a_spanish_confirmation_reads_spanish_in_gsm7(meeting):
    rsvp = RsvpFactory(meeting=meeting, language="es", party_size=2)
    token = make_token()

    text = texts.compose(Kind.RSVP_CONFIRMATION, rsvp, token=token)

    assert text.startswith("Policia comunitaria: tiene 2 espacios confirmados")
    assert f"https://outreach.example.org/es/rsvp/{token}/" in text
    assert "Responda STOP" in text
    assert segments.count(text) == segments.Segments("GSM-7", len(text), 2)


def test_a_vietnamese_text_keeps_its_marks(meeting):
    rsvp = RsvpFactory(meeting=meeting, language="vi")

    text = texts.compose(Kind.RSVP_PROMOTED, rsvp)

    assert "quý vị" in text or "chỗ" in text
    assert segments.count(text).encoding == "UCS-2"


def test_a_short_text_fits_in_one_segment(meeting):
    rsvp = RsvpFactory(meeting=meeting, language="es")

    text = texts.compose(Kind.STAFF_MESSAGE, rsvp, template="doors_late", minutes=15)

    assert segments.count(text).count == 1
    assert "15 minutos tarde" in text


def test_the_reminder_has_the_one_tap_cant_come_link(meeting):
    rsvp = RsvpFactory(meeting=meeting, language="en")
    token = make_token()

    text = texts.compose(Kind.RSVP_REMINDER, rsvp, token=token)

    assert f"/en/rsvp/{token}/?cant-come " in text + " "


def test_help_names_the_department(settings):
    settings.DEPARTMENT_PHONE = "(214) 555-0100"

    reply = texts.help_reply("es")

    assert "(214) 555-0100" in reply
    assert "STOP" in reply
    assert segments.count(reply).encoding == "GSM-7"
