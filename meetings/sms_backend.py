"""Sending a text: one interface, back-ends chosen by SMS_URL (as EMAIL_URL chooses mail's).

    console://                                   printed to the worker's terminal (development)
    twilio://ACCOUNT_SID:AUTH_TOKEN@+15551234567 Twilio's Messages API, from that number
    twilio://ACCOUNT_SID:AUTH_TOKEN@MG…          … or through a Messaging Service
      ?base_url=http://127.0.0.1:8025            another API host (the tests' local server)
      &whatsapp_from=+15551234567                a WhatsApp sender, for `channel="whatsapp"`

`get_sender().send(to=…, body=…)` returns a `Sent` (the provider's id and status) or raises
one of the errors below, each saying what the outbox should do: `Unreachable` (nothing was
handed over: try again), `MayHaveArrived` (the whole request went and no answer came: do not
send it again), `RateLimited` (try again after `retry_after`), `ProviderFailed` (a 5xx: try
again), `Refused` (the provider said no for good, with its error code: 21211 not a valid
number, 21610 the number texted STOP to the sender…). An error's text never quotes the
number or the message.

Twilio is spoken over plain HTTP with the standard library (`http.client`): one POST per text,
form-encoded, HTTP basic auth with the account SID and auth token. Its webhooks (delivery
reports, replies) are signed with the auth token: `TwilioSender.signature` computes
X-Twilio-Signature so the views can check it.
"""

import base64
import dataclasses
import hashlib
import hmac
import http.client
import json
import logging
import sys
import threading
import uuid
from collections.abc import Callable, Iterable
from functools import cache
from typing import TextIO
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from meetings.phones import masked

logger = logging.getLogger(__name__)

TWILIO_API = "https://api.twilio.com"


@dataclasses.dataclass(frozen=True)
class Sent:
    provider_id: str
    status: str


class SmsError(Exception):
    """Base class: `describe()` is what the outbox records (never a number or a text)."""

    retry = True

    def describe(self) -> str:
        return str(self)


class Unreachable(SmsError):
    """No connection, or it broke before the provider had the whole request."""


class MayHaveArrived(SmsError):
    """The provider had the whole request but never answered: the text may have gone."""

    retry = False


class RateLimited(SmsError):
    def __init__(self, message: str, *, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ProviderFailed(SmsError):
    """The provider answered 5xx (or something it never sends): worth another try."""


class Refused(SmsError):
    """The provider refused this text; `code` is its error code (Twilio's: 21211, 21610…)."""

    def __init__(self, message: str, *, code: int | None, retry: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.retry = retry


# Twilio's code for "the recipient texted STOP to this sender": our opt-out list learns it too.
UNSUBSCRIBED_RECIPIENT = 21610


class Sender:
    """What every back-end offers."""

    # The secret that signs the provider's webhooks, or "" when it sends none.
    webhook_secret = ""

    def send(
        self,
        *,
        to: str,
        body: str,
        channel: str = "sms",
        status_callback: str = "",
        handing_over: Callable[[], object] | None = None,
    ) -> Sent:
        """Send `body` to `to` (E.164). `handing_over` is called once the provider is
        reached, just before the request itself goes (from then on a failure may hide a sent
        text); it may raise to stop the send (the outbox's "no longer ours")."""
        raise NotImplementedError

    def signature(self, url: str, params: Iterable[tuple[str, str]]) -> str:
        raise NotImplementedError


class ConsoleSender(Sender):
    """Prints each text to stdout, as Django's console mail back-end prints mail."""

    lock = threading.Lock()

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def send(self, *, to, body, channel="sms", status_callback="", handing_over=None):
        if handing_over:
            handing_over()
        stream = self.stream or sys.stdout
        with self.lock:
            stream.write(f"Text message ({channel}) to {to}\n{'-' * 40}\n{body}\n{'-' * 40}\n")
            stream.flush()
        return Sent(provider_id=f"console-{uuid.uuid4().hex}", status="sent")


class TwilioSender(Sender):
    """Twilio's Messages API: POST /2010-04-01/Accounts/{AccountSid}/Messages.json."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        sender: str,
        base_url: str = TWILIO_API,
        whatsapp_from: str = "",
        timeout: float = 10,
    ) -> None:
        if not account_sid or not auth_token or not sender:
            raise ImproperlyConfigured(
                "SMS_URL must look like twilio://ACCOUNT_SID:AUTH_TOKEN@+15551234567 "
                "(or @MG… for a Messaging Service)."
            )
        self.account_sid = account_sid
        self.webhook_secret = auth_token
        self.sender = sender
        self.base_url = base_url.rstrip("/")
        self.whatsapp_from = whatsapp_from
        self.timeout = timeout

    @property
    def path(self) -> str:
        return f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"

    def fields(self, *, to: str, body: str, channel: str, status_callback: str) -> dict:
        if channel == "whatsapp":
            if not self.whatsapp_from:
                raise ImproperlyConfigured("SMS_URL names no whatsapp_from sender.")
            fields = {"To": f"whatsapp:{to}", "From": f"whatsapp:{self.whatsapp_from}"}
        elif self.sender.startswith("MG"):
            fields = {"To": to, "MessagingServiceSid": self.sender}
        else:
            fields = {"To": to, "From": self.sender}
        fields["Body"] = body
        if status_callback:
            fields["StatusCallback"] = status_callback
        return fields

    def send(self, *, to, body, channel="sms", status_callback="", handing_over=None):
        payload = urlencode(
            self.fields(to=to, body=body, channel=channel, status_callback=status_callback)
        ).encode()
        credentials = base64.b64encode(f"{self.account_sid}:{self.webhook_secret}".encode())
        headers = {
            "Authorization": f"Basic {credentials.decode()}",
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "Accept": "application/json",
            "User-Agent": "outreach-sms/1",
        }
        parts = urlsplit(self.base_url)
        connection_class = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        prefix = parts.path.rstrip("/")
        connection = connection_class(parts.hostname or "", parts.port, timeout=self.timeout)
        try:
            try:
                connection.connect()
            except (OSError, http.client.HTTPException) as error:
                raise Unreachable(f"Twilio unreachable: {type(error).__name__}") from None
            if handing_over:
                handing_over()
            try:
                connection.request("POST", prefix + self.path, body=payload, headers=headers)
                response = connection.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as error:
                raise MayHaveArrived(
                    f"No answer from Twilio after the request: {type(error).__name__}"
                ) from None
        finally:
            connection.close()
        return self._answer(response, data, to=to)

    def _answer(self, response, data, *, to):
        try:
            answer = json.loads(data or b"{}")
        except ValueError:
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        status = response.status
        if status in (200, 201) and answer.get("sid"):
            return Sent(provider_id=str(answer["sid"]), status=str(answer.get("status", "")))
        code = answer.get("code")
        code = code if isinstance(code, int) else None
        described = f"Twilio {status}" + (f" code {code}" if code else "")
        if status == 429:
            raise RateLimited(described, retry_after=_seconds(response.getheader("Retry-After")))
        if status >= 500 or status < 400:
            raise ProviderFailed(described)
        # 401/403/404: our credentials or account, not this text: retried while staff fix it.
        logger.warning("Twilio refused a text to %s: %s", masked(to), described)
        raise Refused(described, code=code, retry=status in (401, 403, 404))

    def signature(self, url, params):
        """X-Twilio-Signature: base64 HMAC-SHA1 of the URL followed by each parameter's name
        and value, sorted by name (Twilio's "Webhooks security")."""
        data = url + "".join(name + value for name, value in sorted(params))
        digest = hmac.new(self.webhook_secret.encode(), data.encode(), hashlib.sha1).digest()
        return base64.b64encode(digest).decode()


def _seconds(value):
    try:
        return max(float(value), 0.0)
    except (TypeError, ValueError):
        return None


def from_url(url: str, *, timeout: float = 10) -> Sender:
    """The back-end an SMS_URL names."""
    scheme, _sep, rest = url.partition("://")
    if scheme == "console":
        return ConsoleSender()
    if scheme == "twilio":
        rest, _q, query = rest.partition("?")
        credentials, _at, sender = rest.rpartition("@")
        account_sid, _colon, auth_token = credentials.partition(":")
        options = {name: values[-1] for name, values in parse_qs(query).items()}
        return TwilioSender(
            account_sid=unquote(account_sid),
            auth_token=unquote(auth_token),
            sender=unquote(sender).rstrip("/"),
            base_url=options.get("base_url", TWILIO_API),
            whatsapp_from=unquote(options.get("whatsapp_from", "")).replace(" ", "+"),
            timeout=timeout,
        )
    raise ImproperlyConfigured(f"SMS_URL must start with console:// or twilio://, not {scheme}://")


@cache
def _sender_for(url: str, timeout: float) -> Sender:
    return from_url(url, timeout=timeout)


def get_sender() -> Sender:
    """The back-end SMS_URL names (one per setting value)."""
    return _sender_for(settings.SMS_URL, settings.SMS_TIMEOUT)
