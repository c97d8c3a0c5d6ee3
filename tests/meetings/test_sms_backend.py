"""The Twilio back-end against a local server speaking Twilio's API (tests/fake_twilio.py),
and the console back-end: what each answer of the provider becomes."""

import io
import socket
import time

import pytest
from django.core.exceptions import ImproperlyConfigured

from meetings import sms_backend
from meetings.sms_backend import (
    ConsoleSender,
    MayHaveArrived,
    ProviderFailed,
    RateLimited,
    Refused,
    TwilioSender,
    Unreachable,
    from_url,
)
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio, twilio_signature

TO = "+12145550123"


@pytest.fixture
def twilio():
    fake = FakeTwilio().start()
    yield fake
    fake.stop()


def sender(twilio, **options):
    return from_url(twilio.sms_url(**options), timeout=1)


def test_a_text_reaches_twilio_with_its_fields(twilio):
    handed = []
    sent = sender(twilio).send(
        to=TO,
        body="Hola: su lugar está confirmado.",
        status_callback="https://outreach.example.org/sms/status/",
        handing_over=lambda: handed.append(True),
    )

    (message,) = twilio.to(TO)
    assert sent.provider_id == message.sid and message.sid.startswith("SM")
    assert sent.status == "queued"
    assert message.from_ == FROM_NUMBER
    assert message.body == "Hola: su lugar está confirmado."
    assert message.status_callback == "https://outreach.example.org/sms/status/"
    assert handed == [True]


def test_a_messaging_service_sends_instead_of_a_number(twilio):
    service = "MG" + "a" * 32
    sender(twilio, sender=service).send(to=TO, body="Hi")

    (message,) = twilio.to(TO)
    assert message.fields["MessagingServiceSid"] == service
    assert "From" not in message.fields


def test_whatsapp_goes_to_whatsapp_addresses(twilio):
    sender(twilio, whatsapp_from="+15005550007").send(to=TO, body="Hi", channel="whatsapp")

    (message,) = twilio.to(TO)
    assert message.to == f"whatsapp:{TO}"
    assert message.from_ == "whatsapp:+15005550007"


def test_an_invalid_number_is_refused_for_good_with_twilio_code(twilio):
    with pytest.raises(Refused) as refused:
        sender(twilio).send(to="+1214", body="Hi")

    assert refused.value.code == 21211
    assert refused.value.retry is False
    assert refused.value.describe() == "Twilio 400 code 21211"


def test_a_number_that_texted_stop_is_refused_with_21610(twilio):
    twilio.unsubscribed.add(TO)

    with pytest.raises(Refused) as refused:
        sender(twilio).send(to=TO, body="Hi")

    assert refused.value.code == sms_backend.UNSUBSCRIBED_RECIPIENT


def test_wrong_credentials_are_retried_while_staff_fix_them(twilio):
    wrong = TwilioSender(
        account_sid=ACCOUNT_SID, auth_token="wrong", sender=FROM_NUMBER, base_url=twilio.base_url
    )
    with pytest.raises(Refused) as refused:
        wrong.send(to=TO, body="Hi")

    assert refused.value.code == 20003
    assert refused.value.retry is True
    assert twilio.to(TO) == []


def test_429_says_when_to_come_back(twilio):
    twilio.answer_next(429, code=20429, headers={"Retry-After": "7"})

    with pytest.raises(RateLimited) as limited:
        sender(twilio).send(to=TO, body="Hi")

    assert limited.value.retry_after == 7
    assert limited.value.retry is True


def test_a_5xx_is_worth_another_try(twilio):
    twilio.answer_next(503, code=20500)

    with pytest.raises(ProviderFailed) as failed:
        sender(twilio).send(to=TO, body="Hi")

    assert failed.value.retry is True
    assert failed.value.describe() == "Twilio 503 code 20500"


def test_a_server_that_hangs_after_the_request_may_have_sent_it(twilio):
    twilio.hang_next(3)
    handed = []

    started = time.monotonic()
    with pytest.raises(MayHaveArrived) as hung:
        sender(twilio).send(to=TO, body="Hi", handing_over=lambda: handed.append(True))

    assert time.monotonic() - started < 2.5  # the 1 s timeout, not the server's 3 s
    assert hung.value.retry is False
    assert handed == [True]


def test_a_refused_connection_hands_nothing_over():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    handed = []
    closed = TwilioSender(
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        sender=FROM_NUMBER,
        base_url=f"http://127.0.0.1:{port}",
        timeout=1,
    )

    with pytest.raises(Unreachable) as unreachable:
        closed.send(to=TO, body="Hi", handing_over=lambda: handed.append(True))

    assert unreachable.value.retry is True
    assert "ConnectionRefusedError" in unreachable.value.describe()
    assert handed == []


def test_the_webhook_signature_matches_twilios_rule():
    twilio = TwilioSender(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, sender=FROM_NUMBER)
    params = {"MessageSid": "SM1", "MessageStatus": "delivered", "To": TO}
    url = "https://outreach.example.org/sms/status/"

    assert (
        twilio.signature(url, params.items()) == twilio_signature(AUTH_TOKEN, url, params).decode()
    )
    assert twilio.signature(url + "x", params.items()) != twilio.signature(url, params.items())


def test_the_console_prints_the_text():
    stream = io.StringIO()

    sent = ConsoleSender(stream).send(to=TO, body="Hello there")

    assert "Text message (sms) to +12145550123" in stream.getvalue()
    assert "Hello there" in stream.getvalue()
    assert sent.provider_id.startswith("console-")


@pytest.mark.parametrize(
    "url",
    ["smtp://x", "twilio://only-a-sid@+15005550006", "twilio://AC1:token@"],
)
def test_a_malformed_sms_url_is_refused(url):
    with pytest.raises(ImproperlyConfigured):
        from_url(url)
