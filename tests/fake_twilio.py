"""A local HTTP server that speaks Twilio's Messages API, for the tests of texts.

It answers as Twilio does (https://www.twilio.com/docs/messaging/api/message-resource):
POST /2010-04-01/Accounts/{AccountSid}/Messages.json with HTTP basic auth (the account SID
and auth token) and a form-encoded To, From or MessagingServiceSid, Body, StatusCallback;
201 with the message's JSON (sid "SM…", status "queued"); 401 code 20003 for bad
credentials; 400 with Twilio's error JSON for a bad request (21211 invalid To, 21602 no Body,
21603 no From, 21610 the number texted STOP). A test can make it answer 429 with
Retry-After, a 5xx, or hang past the client's timeout, and it plays the phone network back:
`deliver()` posts a signed delivery report to the message's StatusCallback, `reply()` posts a
signed incoming message (STOP, START, HELP…) to the app's webhook, as Twilio does.

The signature (X-Twilio-Signature) is computed here from Twilio's documented rule, not by the
app's code.
"""

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fake-twilio-auth-token-0123456789"
FROM_NUMBER = "+15005550006"
E164 = re.compile(r"\+[1-9]\d{6,14}")


def twilio_signature(auth_token, url, params):
    """Twilio's rule: the full URL, then each POST parameter's name and value, sorted by name;
    HMAC-SHA1 with the auth token, base64."""
    data = url + "".join(f"{name}{value}" for name, value in sorted(params.items()))
    return base64.b64encode(hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest())


@dataclass
class Message:
    sid: str
    to: str
    from_: str
    body: str
    status_callback: str
    fields: dict
    received_at: float = field(default_factory=time.monotonic)


class FakeTwilio:
    def __init__(self, *, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.messages: list[Message] = []
        self.requests = 0
        self.lock = threading.Lock()
        # Queued answers for the next requests: ("status", status, code, headers) or ("hang", s).
        self.scripted: list[tuple] = []
        self.unsubscribed: set[str] = set()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self):
        return self.server.server_address[1]

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    def sms_url(self, sender=FROM_NUMBER, **options):
        query = urlencode({"base_url": self.base_url, **options})
        return f"twilio://{self.account_sid}:{self.auth_token}@{sender}?{query}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    # What a test scripts ------------------------------------------------------------------

    def answer_next(self, status, *, code=None, headers=None):
        with self.lock:
            self.scripted.append(("status", status, code, headers or {}))

    def hang_next(self, seconds):
        with self.lock:
            self.scripted.append(("hang", seconds))

    def to(self, number):
        with self.lock:
            return [message for message in self.messages if message.to.endswith(number)]

    def wait_for(self, number, *, count=1, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            received = self.to(number)
            if len(received) >= count:
                return received[count - 1]
            time.sleep(0.1)
        raise AssertionError(
            f"no text number {count} to {number} within {timeout}s: {self.to(number)}"
        )

    def deliver(self, message, status="delivered", error_code=None):
        """The phone network's report on `message`, posted to its StatusCallback."""
        params = {
            "AccountSid": self.account_sid,
            "MessageSid": message.sid,
            "SmsSid": message.sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "To": message.to,
            "From": message.from_,
            "ApiVersion": "2010-04-01",
        }
        if error_code:
            params["ErrorCode"] = str(error_code)
        return self.post_signed(message.status_callback, params)

    def reply(self, url, *, from_, body, to=FROM_NUMBER):
        """An incoming text from `from_`, posted to the app's webhook `url` (`incoming`)."""
        return self.post_signed(url, self.incoming(from_=from_, body=body, to=to))

    def incoming(self, *, from_, body, to=FROM_NUMBER):
        """The webhook parameters of an incoming text from `from_`, for a test to post. A STOP
        also makes this server refuse further texts to that number (21610), and a START or
        YES lifts that, as Twilio's Advanced Opt-Out does."""
        word = body.strip().upper()
        if word in {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}:
            self.unsubscribed.add(from_)
        elif word in {"START", "YES", "UNSTOP"}:
            self.unsubscribed.discard(from_)
        return {
            "AccountSid": self.account_sid,
            "MessageSid": "SM" + secrets.token_hex(16),
            "From": from_,
            "To": to,
            "Body": body,
            "NumMedia": "0",
            "ApiVersion": "2010-04-01",
        }

    def post_signed(self, url, params, *, signature=None):
        """(status, body) of a webhook POST signed as Twilio signs it."""
        data = urlencode(params).encode()
        signature = signature or twilio_signature(self.auth_token, url, params).decode()
        request = urllib.request.Request(  # noqa: S310 - the app under test
            url,
            data=data,
            headers={
                "X-Twilio-Signature": signature,
                "Content-Type": "application/x-www-form-urlencoded",
                "User-Agent": "TwilioProxy/1.1",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    # The server ---------------------------------------------------------------------------

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                with fake.lock:
                    fake.requests += 1
                    script = fake.scripted.pop(0) if fake.scripted else None
                if script and script[0] == "hang":
                    time.sleep(script[1])
                    return self._json(500, {"message": "hung"})
                if script:
                    _kind, status, code, headers = script
                    return self._json(status, fake.error(status, code), headers)
                path = f"/2010-04-01/Accounts/{fake.account_sid}/Messages.json"
                if self.path != path:
                    return self._json(404, fake.error(404, 20404))
                expected = (
                    "Basic "
                    + base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
                )
                if self.headers.get("Authorization") != expected:
                    return self._json(401, fake.error(401, 20003))
                fields = {name: values[-1] for name, values in parse_qs(raw).items()}
                to = fields.get("To", "")
                number = to.removeprefix("whatsapp:")
                if not E164.fullmatch(number):
                    return self._json(400, fake.error(400, 21211))
                if not fields.get("Body") and not fields.get("ContentSid"):
                    return self._json(400, fake.error(400, 21602))
                sender = fields.get("From") or fields.get("MessagingServiceSid")
                if not sender:
                    return self._json(400, fake.error(400, 21603))
                if number in fake.unsubscribed:
                    return self._json(400, fake.error(400, 21610))
                message = Message(
                    sid="SM" + secrets.token_hex(16),
                    to=to,
                    from_=sender,
                    body=fields.get("Body", ""),
                    status_callback=fields.get("StatusCallback", ""),
                    fields=fields,
                )
                with fake.lock:
                    fake.messages.append(message)
                return self._json(
                    201,
                    {
                        "account_sid": fake.account_sid,
                        "api_version": "2010-04-01",
                        "body": message.body,
                        "direction": "outbound-api",
                        "error_code": None,
                        "error_message": None,
                        "from": message.from_,
                        "messaging_service_sid": fields.get("MessagingServiceSid"),
                        "num_segments": "1",
                        "sid": message.sid,
                        "status": "queued",
                        "to": message.to,
                        "uri": f"{path[:-5]}/{message.sid}.json",
                    },
                )

            def _json(self, status, payload, headers=None):
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, str(value))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    @staticmethod
    def error(status, code):
        messages = {
            20003: "Authenticate",
            20404: "The requested resource was not found",
            20429: "Too Many Requests",
            21211: "The 'To' number is not a valid phone number.",
            21602: "Message body is required.",
            21603: "The 'From' phone number is required.",
            21610: "Attempt to send to unsubscribed recipient",
        }
        return {
            "code": code,
            "message": messages.get(code, "Internal Server Error"),
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }
