"""Alerts of new meetings, with no account: the subscribe page, double opt-in, the daily
digest, one-click unsubscribe, and what staff may see (counts only)."""

import datetime as dt
import re
import threading
from io import StringIO

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from meetings import alerts
from meetings.models import AlertChoice, AlertSubscriber, Meeting, OutgoingEmail
from tests.factories import MeetingFactory, MeetingSeriesFactory, VenueFactory

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^\s<>\"')]+")


def url(name, language="en", **kwargs):
    with translation.override(language):
        return reverse(f"meetings:{name}", kwargs=kwargs)


def subscribe(client, language="en", **data):
    return client.post(url("alerts-subscribe", language), {"about": "held-in:es", **data})


def link_in(message, fragment):
    found = [link for link in LINK.findall(message.body) if fragment in link]
    assert found, message.body
    return found[0].removeprefix("https://outreach.example.org")


@pytest.fixture
def texts(settings):
    """Texts go to the function ALERTS_TEXT_SENDER names (the text message sender, once it
    exists); here a list that keeps what it is handed."""
    sent.clear()
    settings.ALERTS_TEXT_SENDER = "tests.meetings.test_alerts.record_text"
    return sent


sent = []


def record_text(number, *, language, text, kind):
    sent.append((number, language, text))


def confirmed_subscriber(address="ana@example.org", *, language="es", **choice):
    subscriber = AlertSubscriber.objects.create(
        channel=AlertSubscriber.Channel.EMAIL, address=address, language=language
    )
    AlertChoice.objects.create(
        subscriber=subscriber, confirmed_at=timezone.now(), **(choice or {"held_in": "es"})
    )
    return subscriber


# The page and the form


def test_listing_venue_and_series_pages_link_to_the_subscribe_page(client):
    meeting = MeetingFactory(series=MeetingSeriesFactory(slug="talks"), venue__slug="library")

    listing = client.get(url("meeting-list", "es")).content.decode()
    venue = client.get(url("venue-detail", "es", slug="library")).content.decode()
    series = client.get(url("series-detail", "es", slug="talks")).content.decode()

    assert "Avísenme de reuniones nuevas" in listing
    assert f'href="{url("alerts-subscribe", "es")}"' in listing
    assert f'href="{url("alerts-subscribe", "es")}?venue=library"' in venue
    assert f'href="{url("alerts-subscribe", "es")}?series=talks"' in series
    assert meeting.venue.name in venue


def test_subscribe_page_starts_with_the_venue_it_was_opened_from(client):
    VenueFactory(slug="library", name_es="Biblioteca", area="Oak Cliff")

    page = client.get(url("alerts-subscribe", "es") + "?venue=library")

    html = page.content.decode()
    assert page.status_code == 200
    assert '<option value="venue:library" selected>Reuniones en Biblioteca</option>' in html
    assert '<option value="area:Oak Cliff">Reuniones en Oak Cliff</option>' in html
    assert "Reuniones en español" in html
    # From the listing, or with an unknown preset (not an error): the reader's own language.
    for address in (url("alerts-subscribe", "vi"), url("alerts-subscribe", "vi") + "?venue=x"):
        page = client.get(address)
        assert page.status_code == 200
        assert '<option value="held-in:vi" selected>' in page.content.decode()


def test_subscribe_keeps_only_the_address_and_the_choice_and_asks_to_confirm(
    client, send_queued_mail
):
    response = subscribe(client, "es", email="Ana.Perez@Example.org")

    assert response.status_code == 302
    assert response["Location"] == url("alerts-sent", "es")
    subscriber = AlertSubscriber.objects.get()
    assert (subscriber.channel, subscriber.address, subscriber.language) == (
        "email",
        "Ana.Perez@Example.org",  # as typed
        "es",
    )
    choice = subscriber.choices.get()
    assert (choice.held_in, choice.confirmed_at) == ("es", None)
    [message] = send_queued_mail()
    assert message.to == ["Ana.Perez@Example.org"]
    assert message.subject == "Confirme su aviso de reuniones nuevas"
    assert "reuniones nuevas en español" in message.body
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/es/alerts/stop/" in message.extra_headers["List-Unsubscribe"]
    assert not message.attachments


def test_the_answer_never_says_whether_an_address_was_subscribed(client, send_queued_mail):
    confirmed_subscriber("known@example.org")
    first = subscribe(client, email="new@example.org")
    again = subscribe(client, email="new@example.org")
    known = subscribe(client, email="KNOWN@example.org")

    answers = {(r.status_code, r["Location"]) for r in (first, again, known)}
    assert answers == {(302, url("alerts-sent"))}
    assert client.get(url("alerts-sent")).status_code == 200
    # Nothing new for the address already confirmed, one message only for the one asked twice.
    assert [message.to for message in send_queued_mail()] == [["new@example.org"]]
    assert AlertSubscriber.objects.count() == 2


def test_asking_again_an_hour_later_sends_a_new_confirmation(client, send_queued_mail):
    subscribe(client, email="new@example.org")
    with time_machine.travel(timezone.now() + dt.timedelta(hours=2)):
        subscribe(client, email="new@example.org")

    assert len(send_queued_mail()) == 2
    assert AlertChoice.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({}, None, "Escriba un correo electrónico, un número de celular o ambos."),
        ({"email": "not an address"}, "email", "nombre@ejemplo.com"),
        ({"phone": "12"}, "phone", "(214) 555-0123"),
        ({"email": "a@example.org", "about": "venue:nowhere"}, "about", "de la lista"),
    ],
)
def test_bad_input_gets_a_translated_message_and_a_400(client, data, field, message):
    response = subscribe(client, "es", **data)

    assert response.status_code == 400
    assert message in response.content.decode()
    if field:
        assert field in response.context["form"].errors
    assert not AlertSubscriber.objects.exists()


def test_the_form_is_rate_limited_like_the_rsvp_form(client, settings):
    settings.RSVP_RATE_LIMIT = (2, 600)

    answers = [subscribe(client, email=f"n{n}@example.org").status_code for n in range(3)]

    assert answers == [302, 302, 429]
    assert AlertSubscriber.objects.count() == 2


def test_the_honeypot_stops_bots(client):
    response = subscribe(client, email="bot@example.org", leave_empty="x")

    assert response.status_code == 400
    assert not AlertSubscriber.objects.exists()


# Confirming


def test_opening_the_link_changes_nothing_and_the_button_confirms(client, send_queued_mail):
    subscribe(client, "vi", email="lan@example.org")
    [message] = send_queued_mail()
    confirm = link_in(message, "/alerts/confirm/")

    page = client.get(confirm)
    assert page.status_code == 200
    assert AlertChoice.objects.get().confirmed_at is None

    done = client.post(confirm)
    assert done.status_code == 200
    assert AlertChoice.objects.get().confirmed_at is not None
    assert "/vi/alerts/stop/" in done.content.decode()
    # Again: it says so, and nothing breaks.
    assert client.get(confirm).status_code == 200


def test_confirming_in_another_language_writes_in_that_language(client, send_queued_mail):
    subscribe(client, "en", email="lan@example.org")
    confirm = link_in(send_queued_mail()[0], "/alerts/confirm/")

    client.post(confirm.replace("/en/", "/vi/", 1))

    assert AlertSubscriber.objects.get().language == "vi"


def test_a_confirmation_link_works_for_a_week_then_tells_plainly(client, send_queued_mail):
    subscribe(client, "es", email="lan@example.org")
    confirm = link_in(send_queued_mail()[0], "/alerts/confirm/")

    with time_machine.travel(timezone.now() + dt.timedelta(days=8)):
        late = client.post(confirm)
    bad = client.get(confirm[:-3] + "xyz/")

    assert late.status_code == bad.status_code == 404
    assert "Este enlace no funciona" in late.content.decode()
    assert AlertChoice.objects.get().confirmed_at is None


def test_unconfirmed_addresses_are_deleted_after_a_week(client, send_queued_mail):
    subscribe(client, email="never@example.org")
    confirmed_subscriber("kept@example.org")

    with time_machine.travel(timezone.now() + dt.timedelta(days=8)):
        call_command("send_reminders", stdout=StringIO())

    assert list(AlertSubscriber.objects.values_list("address", flat=True)) == ["kept@example.org"]
    assert not OutgoingEmail.objects.filter(recipient="never@example.org").exists()


# The digest


def publish(**fields):
    return MeetingFactory(**{"published_at": timezone.now(), **fields})


def test_the_digest_lists_what_was_published_since_in_the_subscribers_language(
    send_queued_mail,
):
    venue = VenueFactory(time_zone="America/New_York", name_es="Biblioteca")
    subscriber = confirmed_subscriber(language="es")
    with time_machine.travel(timezone.now() - dt.timedelta(hours=1)):
        publish(language="es", title_es="Antes de suscribirse")
    AlertChoice.objects.update(confirmed_at=timezone.now() - dt.timedelta(minutes=30))
    starts = dt.datetime(2030, 3, 5, 23, 30, tzinfo=dt.UTC)  # 6:30 p.m. in New York
    publish(
        language="es",
        title_es="Charla con la policía",
        venue=venue,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=1),
    )
    publish(language="vi", interpretation_languages=["es"], title_es="Con intérprete")
    publish(language="en", title_en="Not in Spanish")
    publish(language="es", status=Meeting.Status.DRAFT, published_at=None, title_es="Borrador")
    publish(
        language="es",
        title_es="Ya pasó",
        starts_at=timezone.now() - dt.timedelta(days=2),
        ends_at=timezone.now() - dt.timedelta(days=2, hours=-1),
    )

    assert alerts.send_digests() == 1
    [message] = send_queued_mail()

    assert message.to == ["ana@example.org"]
    assert message.subject == "2 reuniones comunitarias nuevas de la policía"
    assert "Charla con la policía" in message.body
    # In the meeting's time zone (New York), in Spanish (Babel's narrow no-break spaces).
    assert "martes, 5 de marzo de 2030, 6:30\u202fp.m. – 7:30\u202fp.m." in message.body
    assert "Con intérprete" in message.body
    for absent in ("Antes de suscribirse", "Not in Spanish", "Borrador", "Ya pasó"):
        assert absent not in message.body
    assert "/es/meetings/" in message.body
    assert unsubscribe_path(subscriber) in message.body
    assert message.extra_headers["List-Unsubscribe"] == (
        f"<https://outreach.example.org{unsubscribe_path(subscriber)}>"
    )


def unsubscribe_path(subscriber):
    return url(
        "alerts-unsubscribe", subscriber.language, token=alerts.unsubscribe_token(subscriber)
    )


def test_one_digest_a_day_per_address_whatever_it_chose(send_queued_mail):
    subscriber = confirmed_subscriber(language="en")
    AlertChoice.objects.create(subscriber=subscriber, area="Oak Cliff", confirmed_at=timezone.now())
    publish(language="es", title_en="First")
    publish(language="en", venue__area="Oak Cliff", title_en="Second")

    assert (alerts.send_digests(), alerts.send_digests()) == (1, 0)
    publish(language="es", title_en="Third")
    with time_machine.travel(timezone.now() + dt.timedelta(hours=23)):
        assert alerts.send_digests() == 0
    with time_machine.travel(timezone.now() + dt.timedelta(hours=25)):
        assert alerts.send_digests() == 1
        # Nothing new since: nothing sent, however often the scheduler runs.
    with time_machine.travel(timezone.now() + dt.timedelta(days=3)):
        assert alerts.send_digests() == 0

    first, second = send_queued_mail()
    assert "First" in first.body and "Second" in first.body and "Third" not in first.body
    assert "Third" in second.body and "First" not in second.body


def test_two_schedulers_at_once_send_each_digest_once(send_queued_mail):
    subscriber = confirmed_subscriber()
    publish(language="es")
    due = AlertSubscriber.objects.get(pk=subscriber.pk)
    now = timezone.now()

    # The second scheduler read the same row before the first one claimed it.
    first = alerts._send_digest(due, list(due.choices.all()), [], now, now - alerts.DIGEST_EVERY)
    second = alerts._send_digest(due, list(due.choices.all()), [], now, now - alerts.DIGEST_EVERY)

    assert (first, second) == (True, False)
    assert OutgoingEmail.objects.filter(kind="alert_digest").count() == 1


def test_digests_go_out_from_the_send_reminders_pass(send_queued_mail):
    venue = VenueFactory()
    confirmed_subscriber(venue=venue)
    publish(venue=venue, title_en="At the library")

    call_command("send_reminders", stdout=StringIO())
    call_command("send_reminders", stdout=StringIO())

    assert [m.subject for m in send_queued_mail()] == ["1 reunión comunitaria nueva de la policía"]


def test_a_series_choice_hears_of_its_series_only(send_queued_mail):
    series = MeetingSeriesFactory()
    confirmed_subscriber(series=series, language="en")
    publish(series=series, title_en="In the series")
    publish(title_en="Elsewhere")

    alerts.send_digests()

    [message] = send_queued_mail()
    assert "In the series" in message.body and "Elsewhere" not in message.body


# Unsubscribing


def test_unsubscribe_link_asks_then_deletes_the_address_and_its_outbox_copies(
    client, send_queued_mail
):
    subscriber = confirmed_subscriber("ana@example.org", language="es")
    publish(language="es")
    alerts.send_digests()  # queued, not sent yet
    stop = unsubscribe_path(subscriber)

    page = client.get(stop)
    assert page.status_code == 200
    assert AlertSubscriber.objects.exists()

    done = client.post(stop)
    assert done.status_code == 200
    assert "Eliminamos su correo electrónico o número" in done.content.decode()
    assert not AlertSubscriber.objects.exists()
    assert not AlertChoice.objects.exists()
    email = OutgoingEmail.objects.get(kind="alert_digest")
    assert (email.recipient, email.text, email.status) == ("", "", "withdrawn")
    assert send_queued_mail() == []
    # A second click says the same.
    assert client.post(stop).status_code == 200


def test_one_click_unsubscribe_post_of_rfc_8058_needs_no_csrf_token(send_queued_mail):
    subscriber = confirmed_subscriber()
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        unsubscribe_path(subscriber),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert not AlertSubscriber.objects.exists()


def test_a_made_up_unsubscribe_link_is_a_404(client):
    assert client.post(url("alerts-unsubscribe", token="12:forged")).status_code == 404


# Text messages: stored in E.164, confirmed by a YES reply, sent through ALERTS_TEXT_SENDER


def test_a_number_is_kept_in_e164_and_a_yes_reply_confirms_it(client, texts):
    subscribe(client, "es", phone="(214) 555-0123", about="held-in:vi")

    subscriber = AlertSubscriber.objects.get()
    assert (subscriber.channel, subscriber.address) == ("text", "+12145550123")
    [(number, language, text)] = texts
    assert (number, language) == ("+12145550123", "es")
    assert "responda SÍ" in text

    assert alerts.confirm_by_text("+12145550123", "hello") is False
    assert alerts.confirm_by_text("+12145550123", " Sí ") is True
    assert subscriber.choices.get().confirmed_at is not None
    assert "STOP" in texts[-1][2]
    assert alerts.confirm_by_text("+12145550123", "yes") is False  # nothing left to confirm


def test_email_and_number_together_make_two_subscriptions(client, texts, send_queued_mail):
    subscribe(client, email="ana@example.org", phone="+84 912 345 678")

    assert sorted(AlertSubscriber.objects.values_list("channel", "address")) == [
        ("email", "ana@example.org"),
        ("text", "+84912345678"),
    ]
    assert len(send_queued_mail()) == 1
    assert len(texts) == 1


def test_a_text_digest_is_short_and_ends_with_the_way_to_stop(texts):
    subscriber = AlertSubscriber.objects.create(
        channel="text", address="+12145550123", language="es"
    )
    AlertChoice.objects.create(subscriber=subscriber, held_in="es", confirmed_at=timezone.now())
    for number in range(5):
        publish(language="es", title_es=f"Reunión {number}")

    assert alerts.send_digests() == 1
    assert alerts.send_digests() == 0

    [(number, language, text)] = texts
    assert number == "+12145550123"
    assert "Reunión 0" in text and "Reunión 2" in text and "Reunión 3" not in text
    assert "Y 2 más" in text
    assert text.splitlines()[-1].startswith("Para dejar de recibirlos: https://")


def test_without_a_text_sender_text_digests_wait(settings):
    settings.ALERTS_TEXT_SENDER = ""
    subscriber = AlertSubscriber.objects.create(channel="text", address="+12145550123")
    AlertChoice.objects.create(subscriber=subscriber, held_in="es", confirmed_at=timezone.now())
    publish(language="es")

    assert alerts.send_digests() == 0
    assert AlertSubscriber.objects.get().last_digest_at is None


def test_unsubscribing_twice_deletes_once():
    subscriber = AlertSubscriber.objects.create(channel="text", address="+12145550123")
    AlertChoice.objects.create(subscriber=subscriber, held_in="es")

    assert alerts.unsubscribe(subscriber.pk) is True
    assert not AlertSubscriber.objects.exists()
    assert not AlertChoice.objects.exists()
    assert alerts.unsubscribe(subscriber.pk) is False


# Staff: counts, never the list


@pytest.fixture
def staff(django_user_model):
    def make(role):
        if role == "superuser":
            return django_user_model.objects.create_superuser("boss", password="x")
        user = django_user_model.objects.create_user(f"user-{role}", is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.mark.parametrize(
    ("role", "sees_counts"),
    [
        ("superuser", True),
        ("Outreach coordinators", True),
        ("Viewers", True),
        ("Door volunteers", False),
    ],
)
def test_staff_see_counts_never_addresses(client, staff, role, sees_counts, send_queued_mail):
    venue = VenueFactory(name="Library", area="Oak Cliff")
    confirmed_subscriber("ana@example.org", held_in="es")
    confirmed_subscriber("bao@example.org", venue=venue)
    confirmed_subscriber("chi@example.org", area="Oak Cliff")
    subscribe(client, email="pending@example.org")
    client.force_login(staff(role))
    counts_page = reverse("admin:meetings_alertsubscriber_changelist")

    response = client.get(counts_page)
    index = client.get(reverse("admin:index")).content.decode()
    outbox = client.get(reverse("admin:meetings_outgoingemail_changelist") + "?q=pending")

    if sees_counts:
        html = response.content.decode()
        assert response.status_code == 200
        assert counts_page in index
        assert re.search(r"<th scope=\"row\">Email</th><td>3</td>", html)
        assert re.search(r"<th scope=\"row\">Spanish</th><td>1</td>", html)
        assert re.search(r"<th scope=\"row\">Library</th><td>1</td>", html)
        assert re.search(r"<th scope=\"row\">Oak Cliff</th><td>1</td>", html)
        assert "1 address has not confirmed yet" in html
    else:
        assert response.status_code == 403
        assert counts_page not in index
    for address in ("ana@", "bao@", "chi@", "pending@"):
        assert address not in response.content.decode()
        assert address not in outbox.content.decode()
    # There is no page for one subscriber, nor an export, for anyone.
    subscriber = AlertSubscriber.objects.first()
    for path in (f"{counts_page}{subscriber.pk}/change/", f"{counts_page}add/"):
        assert client.get(path).status_code in (403, 404)


def test_the_outbox_does_not_show_alert_addresses_even_to_coordinators(client, staff):
    subscribe(Client(), email="pending@example.org")
    client.force_login(staff("Outreach coordinators"))

    page = client.get(reverse("admin:meetings_outgoingemail_changelist")).content.decode()
    email = OutgoingEmail.objects.get()
    detail = client.get(
        reverse("admin:meetings_outgoingemail_change", args=[email.pk])
    ).content.decode()

    assert "Alerts: please confirm" in page
    assert "pending@example.org" not in page and "pending@example.org" not in detail


def test_confirm_and_stop_links_never_reach_the_logs():
    from outreach.logging import redact

    assert redact("Not Found: /es/alerts/confirm/12:1abc:Xy-z_9/") == (
        "Not Found: /es/alerts/confirm/[private]/"
    )
    assert redact("Bad Request: /vi/alerts/stop/7:Qw-e_r/") == (
        "Bad Request: /vi/alerts/stop/[private]/"
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_schedulers_at_once_on_postgresql_send_each_address_one_digest():
    for number in range(30):
        confirmed_subscriber(f"p{number}@example.org")
    publish(language="es")
    counts = []

    def run():
        try:
            counts.append(alerts.send_digests())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(counts) == 30
    digests = OutgoingEmail.objects.filter(kind="alert_digest")
    assert sorted(digests.values_list("recipient", flat=True)) == sorted(
        f"p{number}@example.org" for number in range(30)
    )


def test_an_alert_message_given_up_on_keeps_no_address(client):
    subscribe(client, email="bounce@example.org")
    OutgoingEmail.objects.update(status=OutgoingEmail.Status.FAILED, text="")

    alerts.send_digests()

    assert OutgoingEmail.objects.get().recipient == ""
