import datetime as dt
import io
import logging
import re
import time

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from meetings.models import Meeting, Rsvp
from meetings.services import create_rsvp
from meetings.tokens import hash_token, make_form_token
from tests.factories import MeetingFactory, RsvpFactory

pytestmark = pytest.mark.django_db

TEXT_FIELDS = ["first_name", "email", "note"]


def url(name, language="en", **kwargs):
    with translation.override(language):
        return reverse(f"meetings:{name}", kwargs=kwargs)


def rsvp_data(meeting, **overrides):
    data = {
        "party_size": "1",
        "language": "en",
        "first_name": "",
        "email": "",
        "needs_interpretation": "",
        "note": "",
        "leave_empty": "",
        "form_token": make_form_token(meeting, issued_at=time.time() - 60),
    }
    data.update(overrides)
    return data


def post_rsvp(client, meeting, page_language="en", **overrides):
    return client.post(
        url("rsvp-create", page_language, slug=meeting.slug), rsvp_data(meeting, **overrides)
    )


def token_from(response):
    match = re.search(r"/rsvp/([A-Za-z0-9_-]{43})/$", response["Location"])
    assert match, response["Location"]
    return match.group(1)


# The form on the meeting page.


def test_meeting_page_shows_the_rsvp_form_while_taking_rsvps(client):
    meeting = MeetingFactory()

    response = client.get(meeting.get_absolute_url())

    content = response.content.decode()
    # No fragment: the browser would carry it over to the private link people bookmark.
    assert f'action="{url("rsvp-create", slug=meeting.slug)}"' in content
    assert url("privacy") in content
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(
    "meeting_kwargs",
    [
        {"status": Meeting.Status.CANCELLED},
        {"rsvp_enabled": False},
        {"rsvp_closes_at": dt.datetime(2020, 1, 1, tzinfo=dt.UTC)},
        {
            "starts_at": dt.datetime(2020, 1, 1, 18, tzinfo=dt.UTC),
            "ends_at": dt.datetime(2020, 1, 1, 19, tzinfo=dt.UTC),
        },
    ],
)
def test_meeting_page_hides_the_form_when_not_taking_rsvps(client, meeting_kwargs):
    meeting = MeetingFactory(**meeting_kwargs)

    content = client.get(meeting.get_absolute_url()).content.decode()

    assert "rsvp-create" not in content
    assert 'name="form_token"' not in content


def test_meeting_page_asks_nothing_about_status_nationality_address_or_id(client):
    meeting = MeetingFactory()

    content = client.get(meeting.get_absolute_url()).content.decode()
    form = content[content.index('<section class="rsvp"') :]
    names = set(re.findall(r'name="([a-z_]+)"', form))

    assert names == {
        "csrfmiddlewaretoken",
        "form_token",
        "party_size",
        "language",
        "first_name",
        "email",
        "phone",
        "needs_interpretation",
        "needs_wheelchair_access",
        "needs_childcare",
        "note",
        "leave_empty",
    }


def test_privacy_notice_states_the_retention_days(client, settings):
    settings.RSVP_RETENTION_DAYS = 45
    meeting = MeetingFactory()

    notice = client.get(meeting.get_absolute_url()).content.decode()
    page = client.get(url("privacy", "es")).content.decode()

    assert "erased 45 days after the meeting" in notice
    assert "se borran 45 días después de que termine la reunión" in " ".join(page.split())
    assert '<html lang="es">' in page


# Posting an RSVP.


def test_rsvp_redirects_to_its_private_page_with_status_calendar_and_link(client):
    meeting = MeetingFactory(capacity=10)

    response = post_rsvp(client, meeting, party_size="3")

    assert response.status_code == 302
    token = token_from(response)
    page = client.get(response["Location"])
    content = page.content.decode()
    assert "You are confirmed: 3 seats are kept for you." in content
    assert url("rsvp-calendar", token=token) in content
    assert f"https://outreach.example.org/en/rsvp/{token}/" in content
    assert "Keep this private link" in content
    # same-origin keeps the link from other sites; no-referrer made browsers post "Origin: null".
    assert page["Referrer-Policy"] == "same-origin"
    assert "no-store" in page["Cache-Control"]


def test_private_page_forms_accept_a_browser_post_with_the_site_origin(client, settings):
    """Browsers send Origin on every form post; CSRF must accept the page's own origin."""
    from django.test import Client

    settings.ALLOWED_HOSTS = ["outreach.example.org", "testserver"]
    browser = Client(enforce_csrf_checks=True, HTTP_HOST="outreach.example.org")
    meeting = MeetingFactory(capacity=10)
    token = token_from(post_rsvp(client, meeting, party_size="2"))
    manage = browser.get(url("rsvp-manage", token=token))
    csrf = browser.cookies["csrftoken"].value

    response = browser.post(
        url("rsvp-cancel", token=token),
        {"csrfmiddlewaretoken": csrf},
        HTTP_ORIGIN="http://outreach.example.org",
    )

    assert manage["Referrer-Policy"] == "same-origin"
    assert response.status_code == 302
    assert Rsvp.objects.get().is_cancelled


def test_waitlisted_rsvp_is_told_its_place_in_line(client):
    meeting = MeetingFactory(capacity=1)
    RsvpFactory(meeting=meeting)
    RsvpFactory(meeting=meeting, status=Rsvp.Status.WAITLISTED)

    response = post_rsvp(client, meeting)

    content = client.get(response["Location"]).content.decode()
    assert "You are on the waitlist, number 2 in line." in content


def test_double_submit_makes_one_rsvp_and_both_land_on_it(client):
    meeting = MeetingFactory()
    data = rsvp_data(meeting)
    create = url("rsvp-create", slug=meeting.slug)

    first = client.post(create, data)
    second = client.post(create, data)

    assert Rsvp.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_form_sent_again_after_ten_minutes_shows_the_form_not_the_link(client):
    meeting = MeetingFactory()
    data = rsvp_data(meeting, first_name="Rosa")
    create = url("rsvp-create", slug=meeting.slug)
    first = client.post(create, data)
    token = token_from(first)

    with time_machine.travel(dt.timedelta(minutes=11)):
        again = Client().post(create, data)

    page = again.content.decode()
    assert again.status_code == 409
    assert "This form was already sent." in page
    assert token not in page
    assert re.search(r"/rsvp/[A-Za-z0-9_-]{43}/", page) is None
    # A new one-time key, so sending this form now makes a new RSVP.
    assert data["form_token"] not in page
    assert Rsvp.objects.count() == 1


def test_form_sent_again_within_ten_minutes_lands_on_the_same_rsvp(client):
    meeting = MeetingFactory()
    data = rsvp_data(meeting)
    create = url("rsvp-create", slug=meeting.slug)
    first = client.post(create, data)

    with time_machine.travel(dt.timedelta(minutes=9)):
        again = client.post(create, data)

    assert again["Location"] == first["Location"]


def test_form_shown_more_than_a_day_ago_is_shown_again(client):
    meeting = MeetingFactory()
    stale = make_form_token(meeting, issued_at=time.time() - 25 * 60 * 60)

    response = post_rsvp(client, meeting, form_token=stale)

    assert response.status_code == 400
    assert "This form is out of date." in response.content.decode()
    assert stale not in response.content.decode()
    assert not Rsvp.objects.exists()


def _normalised(response, client):
    """The page a response leads to, with what differs between any two RSVPs blanked."""
    page = client.get(response["Location"]).content.decode()
    page = re.sub(r"/rsvp/[A-Za-z0-9_-]{43}/", "/rsvp/TOKEN/", page)
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", page)
    page = re.sub(r"[A-Za-z]+@example\.org", "EMAIL", page)  # the address each one typed
    return re.sub(r"<svg.*?</svg>", "QR", page, flags=re.DOTALL)  # the QR code of the link


def test_an_email_already_used_gets_the_same_answer_as_a_fresh_one(client, send_queued_mail):
    meeting = MeetingFactory(capacity=10)
    first = post_rsvp(client, meeting, email="rosa@example.org", first_name="Rosa")
    first_token = token_from(first)

    reuser, newcomer = Client(), Client()
    reused = post_rsvp(reuser, meeting, email="ROSA@example.org", party_size="2")
    fresh = post_rsvp(newcomer, meeting, email="luis@example.org", party_size="2")

    assert (reused.status_code, fresh.status_code) == (302, 302)
    assert _normalised(reused, reuser) == _normalised(fresh, newcomer)
    # The first RSVP and its link are untouched.
    rsvp = Rsvp.objects.by_token(first_token).get()
    assert (rsvp.party_size, rsvp.first_name, rsvp.email) == (1, "Rosa", "rosa@example.org")
    assert Rsvp.objects.count() == 3


@pytest.mark.parametrize(
    "meeting_kwargs, message",
    [
        ({"status": Meeting.Status.CANCELLED}, "This meeting is cancelled."),
        ({"rsvp_closes_at": dt.datetime(2020, 1, 1, tzinfo=dt.UTC)}, "RSVPs for this meeting"),
        (
            {
                "starts_at": dt.datetime(2020, 1, 1, 18, tzinfo=dt.UTC),
                "ends_at": dt.datetime(2020, 1, 1, 19, tzinfo=dt.UTC),
            },
            "This meeting has ended.",
        ),
        ({"rsvp_enabled": False}, "RSVPs for this meeting"),
    ],
)
def test_rsvp_to_a_closed_meeting_gets_a_clear_409(client, meeting_kwargs, message):
    meeting = MeetingFactory(**meeting_kwargs)

    response = post_rsvp(client, meeting)

    assert response.status_code == 409
    assert message in response.content.decode()
    assert not Rsvp.objects.exists()


def test_rsvp_to_a_draft_meeting_is_not_found(client):
    meeting = MeetingFactory(status=Meeting.Status.DRAFT)

    response = post_rsvp(client, meeting)

    assert response.status_code == 404
    assert not Rsvp.objects.exists()


def test_get_of_the_rsvp_address_goes_back_to_the_meeting(client):
    meeting = MeetingFactory()

    response = client.get(url("rsvp-create", slug=meeting.slug))

    assert response["Location"] == meeting.get_absolute_url()


# Bad input: a form error or a 4xx, in the page's language, nothing saved, nothing unescaped.

# (what is sent, the field that says what is wrong, the error's code)
BAD_INPUTS = [
    ({"party_size": "0"}, "party_size", "min_value"),
    ({"party_size": "-1"}, "party_size", "min_value"),
    ({"party_size": "11"}, "party_size", "max_value"),
    ({"party_size": "1000000000"}, "party_size", "max_value"),
    ({"party_size": "two"}, "party_size", "invalid"),
    ({"first_name": "x" * 100_000}, "first_name", "max_length"),
    ({"first_name": "Ro\x00sa"}, "first_name", "not_single_line"),
    ({"note": "nul\x00"}, "note", "control_characters"),
    ({"first_name": "Rosa\r\nX-Injected: yes"}, "first_name", "not_single_line"),
    ({"email": "rosa@example.org\r\nBcc: everyone@example.org"}, "email", "not_single_line"),
    ({"email": "rosa@example.org\nSubject: hi"}, "email", "not_single_line"),
    ({"language": "xx"}, "language", "invalid_choice"),
    ({"needs_interpretation": "klingon"}, "needs_interpretation", "invalid_choice"),
    ({"leave_empty": "I am a bot"}, "__all__", "honeypot"),
    ({"form_token": "forged"}, "__all__", "bad_form_token"),
]


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize(("bad", "field", "code"), BAD_INPUTS, ids=lambda value: repr(value)[:40])
def test_bad_input_gets_a_form_error_in_the_page_language_and_saves_nothing(
    client, bad, field, code, language
):
    meeting = MeetingFactory()

    response = post_rsvp(client, meeting, language, **bad)

    assert response.status_code == 400
    content = response.content.decode()
    assert f'<html lang="{language}">' in content
    assert 'class="form-errors"' in content
    (error,) = response.context["rsvp_form"].errors.as_data()[field]
    assert error.code == code
    with translation.override(language):
        shown = error.messages[0]
    with translation.override("en"):
        english = error.messages[0]
    assert escape(shown) in content
    # The Spanish page says it in Spanish, not in English.
    assert (shown == english) == (language == "en")
    assert not Rsvp.objects.exists()


def test_script_in_every_text_field_is_shown_escaped(client):
    meeting = MeetingFactory()
    script = "<script>alert(1)</script>"
    bad = dict.fromkeys(TEXT_FIELDS, script) | {"party_size": "0"}

    content = post_rsvp(client, meeting, **bad).content.decode()

    assert script not in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content


def test_script_in_saved_answers_is_shown_escaped_on_the_private_page(client):
    meeting = MeetingFactory()
    script = "<script>alert(1)</script>"

    response = post_rsvp(client, meeting, first_name=script, note=script)

    content = client.get(response["Location"]).content.decode()
    assert script not in content
    assert "&lt;script&gt;" in content


@pytest.mark.parametrize("language", ["en", "es"])
def test_rsvp_without_csrf_token_is_refused_in_the_page_language(language):
    csrf_client = Client(enforce_csrf_checks=True)
    meeting = MeetingFactory()

    response = post_rsvp(csrf_client, meeting, language)

    assert response.status_code == 403
    assert f'<html lang="{language}">' in response.content.decode()
    assert not Rsvp.objects.exists()


def test_rsvp_with_a_stale_csrf_token_is_refused():
    csrf_client = Client(enforce_csrf_checks=True)
    meeting = MeetingFactory()
    csrf_client.get(meeting.get_absolute_url())  # sets the CSRF cookie
    csrf_client.cookies["csrftoken"] = "a" * 32  # the cookie rotated since the page was shown

    response = post_rsvp(csrf_client, meeting, csrfmiddlewaretoken="b" * 32)

    assert response.status_code == 403
    assert "could not be sent" in response.content.decode()
    assert not Rsvp.objects.exists()


def test_rsvp_with_a_fresh_csrf_token_works():
    csrf_client = Client(enforce_csrf_checks=True)
    meeting = MeetingFactory()
    page = csrf_client.get(meeting.get_absolute_url()).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)

    response = post_rsvp(csrf_client, meeting, csrfmiddlewaretoken=token)

    assert response.status_code == 302
    assert Rsvp.objects.count() == 1


def test_oversized_form_gets_a_friendly_400(client):
    meeting = MeetingFactory()
    flood = {f"field{number}": "x" for number in range(1100)}

    response = post_rsvp(client, meeting, **flood)

    assert response.status_code == 400
    assert "We could not read that request" in response.content.decode()
    assert not Rsvp.objects.exists()


# The private page.


def make_rsvp(meeting=None, **kwargs):
    kwargs.setdefault("language", "en")
    result = create_rsvp(
        meeting=meeting or MeetingFactory(), party_size=kwargs.pop("party_size", 2), **kwargs
    )
    return result.rsvp, result.token


def test_opening_the_private_link_changes_nothing(client):
    rsvp, token = make_rsvp()
    before = Rsvp.objects.filter(pk=rsvp.pk).values().get()

    client.get(url("rsvp-manage", token=token))
    client.get(url("rsvp-cancel", token=token))
    client.get(url("rsvp-change", token=token))

    assert Rsvp.objects.filter(pk=rsvp.pk).values().get() == before


@pytest.mark.parametrize("token", ["x" * 43, "short", "a" * 500, "%00", "a.b", "a b"], ids=str)
def test_unknown_or_malformed_link_gets_a_friendly_404(client, token):
    response = client.get(f"/en/rsvp/{token}/")

    assert response.status_code == 404
    assert "We could not find this RSVP" in response.content.decode()


@pytest.mark.parametrize("name", ["rsvp-change", "rsvp-cancel"])
def test_posting_a_change_or_cancel_with_an_unknown_link_gets_the_friendly_404(client, name):
    rsvp, _token = make_rsvp()

    response = client.post(url(name, token="z" * 43), {"party_size": "2", "language": "en"})

    assert response.status_code == 404
    assert "We could not find this RSVP" in response.content.decode()
    assert Rsvp.objects.get(pk=rsvp.pk).status == rsvp.status


def test_erased_rsvp_looks_the_same_as_one_that_never_existed(client):
    rsvp, token = make_rsvp(email="a@example.org")
    Rsvp.objects.filter(pk=rsvp.pk).erase_personal_data()

    erased = client.get(url("rsvp-manage", token=token))
    unknown = client.get(url("rsvp-manage", token="z" * 43))

    assert erased.status_code == unknown.status_code == 404
    assert erased.content.replace(token.encode(), b"T") == unknown.content.replace(b"z" * 43, b"T")


def test_change_updates_party_and_needs(client):
    meeting = MeetingFactory(capacity=10)
    rsvp, token = make_rsvp(meeting)

    response = client.post(
        url("rsvp-change", token=token),
        {"party_size": "4", "language": "es", "needs_childcare": "on"},
    )

    assert response["Location"] == url("rsvp-manage", token=token)
    rsvp.refresh_from_db()
    assert (rsvp.party_size, rsvp.language, rsvp.needs_childcare) == (4, "es", True)


def test_change_beyond_the_free_seats_is_refused_with_a_clear_message(client):
    meeting = MeetingFactory(capacity=3)
    rsvp, token = make_rsvp(meeting, party_size=2)

    response = client.post(url("rsvp-change", token=token), {"party_size": "5", "language": "en"})

    assert response.status_code == 409
    assert "Only 1 more seat is free" in response.content.decode()
    rsvp.refresh_from_db()
    assert rsvp.party_size == 2


def test_change_with_bad_input_is_refused(client):
    rsvp, token = make_rsvp()

    response = client.post(url("rsvp-change", token=token), {"party_size": "0", "language": "en"})

    assert response.status_code == 400
    assert "Please enter at least 1 person." in response.content.decode()
    rsvp.refresh_from_db()
    assert rsvp.party_size == 2


def test_cancel_frees_the_seats_for_the_waitlist(client):
    meeting = MeetingFactory(capacity=2)
    rsvp, token = make_rsvp(meeting, party_size=2)
    waiting, _token = make_rsvp(meeting, party_size=1)

    response = client.post(url("rsvp-cancel", token=token))

    assert response["Location"] == url("rsvp-manage", token=token)
    rsvp.refresh_from_db()
    waiting.refresh_from_db()
    assert (rsvp.status, waiting.status) == (Rsvp.Status.CANCELLED, Rsvp.Status.CONFIRMED)
    content = client.get(response["Location"]).content.decode()
    assert "You cancelled this RSVP." in content


def test_cancel_after_the_meeting_started_gets_a_409(client, time_machine):
    meeting = MeetingFactory()
    rsvp, token = make_rsvp(meeting)
    time_machine.move_to(meeting.starts_at + dt.timedelta(minutes=1))

    response = client.post(url("rsvp-cancel", token=token))

    assert response.status_code == 409
    rsvp.refresh_from_db()
    assert rsvp.status == Rsvp.Status.CONFIRMED


def test_private_page_offers_no_change_once_rsvps_close(client):
    meeting = MeetingFactory(rsvp_closes_at=timezone.now() + dt.timedelta(hours=1))
    _rsvp, token = make_rsvp(meeting)
    meeting.rsvp_closes_at = timezone.now() - dt.timedelta(minutes=1)
    meeting.save()

    content = client.get(url("rsvp-manage", token=token)).content.decode()

    assert "Change your RSVP" not in content
    assert "Cancel my RSVP" in content


def test_token_in_request_path_is_kept_out_of_the_logs(client):
    _rsvp, token = make_rsvp()
    (handler,) = [  # settings.LOGGING's stdout handler
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.StreamHandler) and h.filters
    ]
    logged = io.StringIO()
    original = handler.setStream(logged)

    try:
        client.post(url("rsvp-change", token=token), {"party_size": "0", "language": "en"})
    finally:
        handler.setStream(original)

    assert "Bad Request: /en/rsvp/[private]/change/" in logged.getvalue()
    assert token not in logged.getvalue()


# Rate limit.


def test_too_many_rsvps_from_one_client_get_a_friendly_429(client, settings):
    settings.RSVP_RATE_LIMIT = (3, 600)
    meeting = MeetingFactory()

    codes = [post_rsvp(client, meeting).status_code for _ in range(4)]

    assert codes == [302, 302, 302, 429]
    assert Rsvp.objects.count() == 3


def test_rate_limit_page_is_translated_and_says_when_to_retry(client, settings):
    settings.RSVP_RATE_LIMIT = (0, 600)
    meeting = MeetingFactory()

    response = post_rsvp(client, meeting, "es")

    assert response.status_code == 429
    assert response["Retry-After"] == "600"
    assert '<html lang="es">' in response.content.decode()


def test_empty_rate_limit_turns_it_off(client, settings):
    settings.RSVP_RATE_LIMIT = None
    meeting = MeetingFactory()

    codes = {post_rsvp(client, meeting).status_code for _ in range(15)}

    assert codes == {302}


def test_forwarded_for_is_ignored_unless_behind_a_proxy(client, settings):
    settings.RSVP_RATE_LIMIT = (1, 600)
    settings.BEHIND_PROXY = False
    meeting = MeetingFactory()

    post_rsvp(client, meeting, HTTP_X_FORWARDED_FOR="10.0.0.1")
    second = client.post(
        url("rsvp-create", slug=meeting.slug),
        rsvp_data(meeting),
        HTTP_X_FORWARDED_FOR="10.0.0.2",
    )

    assert second.status_code == 429


def test_behind_a_proxy_each_forwarded_client_has_its_own_limit(client, settings):
    settings.RSVP_RATE_LIMIT = (1, 600)
    settings.BEHIND_PROXY = True
    meeting = MeetingFactory()
    create = url("rsvp-create", slug=meeting.slug)

    first = client.post(create, rsvp_data(meeting), HTTP_X_FORWARDED_FOR="spoof, 10.0.0.1")
    other = client.post(create, rsvp_data(meeting), HTTP_X_FORWARDED_FOR="spoof, 10.0.0.2")
    again = client.post(create, rsvp_data(meeting), HTTP_X_FORWARDED_FOR="other, 10.0.0.1")

    assert [first.status_code, other.status_code, again.status_code] == [302, 302, 429]


def test_rate_limit_keeps_no_address_in_the_cache(client, settings):
    settings.RSVP_RATE_LIMIT = (5, 600)
    meeting = MeetingFactory()

    post_rsvp(client, meeting, REMOTE_ADDR="203.0.113.7")

    keys = list(cache._cache.keys())  # the local-memory backend's store
    assert keys
    assert not any("203.0.113.7" in key for key in keys)


# The whole flow, in English and in Spanish.


@pytest.mark.parametrize("language", ["en", "es"])
def test_whole_flow_without_javascript(client, language, send_queued_mail):
    meeting = MeetingFactory(capacity=5, title_en="Town hall", title_es="Asamblea")
    page = client.get(meeting.get_absolute_url().replace("/en/", f"/{language}/"))
    assert f'<html lang="{language}">' in page.content.decode()

    created = post_rsvp(
        client, meeting, language, party_size="3", language=language, email="a@example.org"
    )
    send_queued_mail()
    token = token_from(created)
    assert created["Location"] == url("rsvp-manage", language, token=token)
    confirmation = client.get(created["Location"]).content.decode()
    assert ("Asamblea" if language == "es" else "Town hall") in confirmation
    assert f'<html lang="{language}">' in confirmation
    assert url("rsvp-manage", language, token=token) in mail.outbox[0].body

    changed = client.post(
        url("rsvp-change", language, token=token), {"party_size": "2", "language": language}
    )
    assert changed.status_code == 302
    cancelled = client.post(url("rsvp-cancel", language, token=token))
    assert cancelled.status_code == 302

    rsvp = Rsvp.objects.get(token_hash=hash_token(token))
    assert (rsvp.status, rsvp.party_size, rsvp.language) == (
        Rsvp.Status.CANCELLED,
        2,
        language,
    )


def test_waitlisted_private_page_speaks_of_the_waitlist_not_seats(client):
    meeting = MeetingFactory(capacity=1)
    RsvpFactory(meeting=meeting)
    token = token_from(post_rsvp(client, meeting, page_language="es"))

    content = client.get(url("rsvp-manage", "es", token=token)).content.decode()

    assert "Si cancela, sale de la lista de espera." in content
    assert "Cancelling gives your seats" not in content


def test_private_page_shows_the_whole_link_with_a_qr_code_and_copy_button(client):
    meeting = MeetingFactory()
    token = token_from(post_rsvp(client, meeting))

    content = client.get(url("rsvp-manage", token=token)).content.decode()

    link = f"https://outreach.example.org/en/rsvp/{token}/"
    assert f'<p class="private-link" id="private-link">{link}</p>' in content
    assert '<svg role="img" aria-label="QR code of your private link"' in content
    # Shown by JavaScript only, where it can copy.
    assert 'data-copy="#private-link"' in content
    assert "Copy the link</button>" in content


def test_rsvp_form_with_errors_puts_the_cursor_on_the_first_answer_to_fix(client):
    meeting = MeetingFactory()

    response = post_rsvp(client, meeting, party_size="0", email="nope")

    content = response.content.decode()
    assert response.status_code == 400
    assert re.search(r'<input type="number" name="party_size"[^>]*autofocus', content)
    assert not re.search(r'name="email"[^>]*autofocus', content)


def test_too_many_posts_page_gives_the_number_to_call(client, settings):
    settings.RSVP_RATE_LIMIT = (1, 600)
    settings.DEPARTMENT_PHONE = "(555) 010-0100"
    meeting = MeetingFactory()
    post_rsvp(client, meeting)

    response = post_rsvp(client, meeting, page_language="es")

    content = response.content.decode()
    assert response.status_code == 429
    body = content[content.index("<main") : content.index("</main>")]
    assert '<a href="tel:5550100100">(555) 010-0100</a>' in body


def test_personal_calendar_file_keeps_the_private_link_and_the_public_one_does_not(client):
    import icalendar

    meeting = MeetingFactory()
    token = token_from(post_rsvp(client, meeting, page_language="es"))
    link = f"https://outreach.example.org/es/rsvp/{token}/"

    personal = client.get(url("rsvp-calendar", "es", token=token))
    public = client.get(url("meeting-ics", "es", slug=meeting.slug))

    event = icalendar.Calendar.from_ical(personal.content).walk("VEVENT")[0]
    assert personal["Content-Type"] == "text/calendar; charset=utf-8"
    assert "no-store" in personal["Cache-Control"]
    assert personal["Referrer-Policy"] == "same-origin"
    assert link in str(event["DESCRIPTION"])
    assert "enlace privado" in str(event["DESCRIPTION"])
    assert token not in public.content.decode()
    page = client.get(url("rsvp-manage", "es", token=token)).content.decode()
    assert url("rsvp-calendar", "es", token=token) in page


def test_a_cancelled_rsvp_is_not_offered_a_calendar_file(client):
    """Once the party has cancelled, "Add to my calendar" would put a meeting they are not
    going to into their calendar."""
    token = token_from(post_rsvp(client, MeetingFactory()))
    calendar_link = url("rsvp-calendar", token=token)

    client.post(url("rsvp-cancel", token=token))
    page = client.get(url("rsvp-manage", token=token)).content.decode()

    assert "You cancelled this RSVP." in page
    assert calendar_link not in page
    assert "Add to my calendar" not in page


def test_personal_calendar_file_of_an_unknown_link_is_not_found(client):
    response = client.get(url("rsvp-calendar", token="x" * 43))

    assert response.status_code == 404


# Anonymous feedback after the meeting


def ended_meeting_rsvp(client):
    import datetime as dt

    import time_machine

    meeting = MeetingFactory()
    token = token_from(post_rsvp(client, meeting, page_language="es"))
    return meeting, token, time_machine.travel(meeting.ends_at + dt.timedelta(hours=1))


def test_feedback_is_offered_after_the_meeting_and_kept_without_the_rsvp(client):
    from meetings.models import FeedbackAnswer

    meeting, token, after = ended_meeting_rsvp(client)
    before = client.get(url("rsvp-manage", "es", token=token)).content.decode()
    rsvp = Rsvp.objects.get()
    updated_at = rsvp.updated_at

    with after:
        page = client.get(url("rsvp-manage", "es", token=token)).content.decode()
        sent = client.post(
            url("rsvp-feedback", "es", token=token),
            {"felt_welcome": "5", "would_call_police": "4", "comment": "Gracias"},
        )
        again = client.post(url("rsvp-feedback", "es", token=token), {"felt_welcome": "1"})

    assert "¿Se sintió bienvenido" not in before
    assert "¿Se sintió bienvenido" in page
    assert sent.status_code == 302
    assert again.status_code == 409
    answer = FeedbackAnswer.objects.get()
    assert (answer.felt_welcome, answer.questions_answered, answer.would_call_police) == (
        5,
        None,
        4,
    )
    assert answer.meeting == meeting
    rsvp.refresh_from_db()
    assert rsvp.feedback_given
    assert rsvp.updated_at == updated_at  # nothing dates the answer
    assert {field.name for field in FeedbackAnswer._meta.get_fields()} == {
        "id",
        "meeting",
        "felt_welcome",
        "questions_answered",
        "would_call_police",
        "comment",
    }


def test_feedback_out_of_the_scale_is_a_clear_error(client):
    _meeting, token, after = ended_meeting_rsvp(client)

    with after:
        response = client.post(url("rsvp-feedback", "es", token=token), {"felt_welcome": "9"})

    assert response.status_code == 400
    assert "Elija un número del 1 al 5" in response.content.decode()


@pytest.mark.parametrize(("email", "statements"), [("", 6), ("ana@example.org", 11)])
def test_rsvp_post_statements_are_counted(client, django_assert_num_queries, email, statements):
    meeting = MeetingFactory(capacity=10)
    RsvpFactory(meeting=meeting, party_size=2)
    post_rsvp(client, meeting, party_size="3")  # the first reads the meeting for the cache
    data = rsvp_data(meeting, email=email)

    # One transaction (a savepoint in tests): the meeting's row lock, the form's earlier RSVP
    # (by its key's hash), the seats, the new RSVP; with an email, whether the address
    # already has an RSVP here, and the queued message with its task (a savepoint of its own).
    with django_assert_num_queries(statements):
        response = client.post(url("rsvp-create", slug=meeting.slug), data)

    assert response.status_code == 302
    assert meeting.rsvps.get(party_size=1).status == Rsvp.Status.CONFIRMED


def test_rsvp_post_sees_a_cancellation_made_after_the_meeting_was_cached(client):
    meeting = MeetingFactory(capacity=10)
    post_rsvp(client, meeting)
    meeting.status = Meeting.Status.CANCELLED
    meeting.save()

    response = post_rsvp(client, meeting)

    assert response.status_code == 409
    assert meeting.rsvps.count() == 1


def test_rsvp_to_a_full_meeting_after_the_meeting_was_cached_is_waitlisted(client):
    meeting = MeetingFactory(capacity=3)
    post_rsvp(client, meeting, party_size="3")

    post_rsvp(client, meeting, party_size="1")

    assert meeting.rsvps.get(party_size=1).status == Rsvp.Status.WAITLISTED


def test_posts_with_made_up_private_links_count_against_the_rate_limit(client, settings):
    # Changing or cancelling one's own RSVP never counts (tests/e2e/test_pages.py shows it in
    # the browser); guessing private links does, so it is throttled like new RSVPs.
    settings.RSVP_RATE_LIMIT = (2, 600)
    guesses = [client.post(url("rsvp-cancel", token=f"made-up-{n}")) for n in range(3)]

    assert [response.status_code for response in guesses] == [404, 404, 429]
