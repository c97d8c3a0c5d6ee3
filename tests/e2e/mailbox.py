"""A real SMTP server the tests run: the app sends mail to it, the tests read it from here."""

import email
import email.policy
import logging
import re
import threading
import time

from aiosmtpd.controller import Controller

from tests.e2e.server import free_port

# aiosmtpd logs every SMTP command at INFO.
logging.getLogger("mail.log").setLevel(logging.WARNING)

LINK = re.compile(r"https?://[^\s<>\"')]+")


class Message:
    def __init__(self, raw):
        self.raw = raw
        self.parsed = email.message_from_bytes(raw, policy=email.policy.default)
        self.to = [address.lower() for address in self.parsed.get_all("To", [])]
        # meetings.emails.Message keeps the subject's first encoded word on the Subject line
        # (test_emails_notices.py checks the raw header); no leading space to strip.
        self.subject = str(self.parsed["Subject"])
        self.from_ = str(self.parsed["From"])
        self.language = str(self.parsed.get("Content-Language", ""))
        text = self.parsed.get_body(preferencelist=("plain",))
        self.text = text.get_content() if text else ""
        html = self.parsed.get_body(preferencelist=("html",))
        self.html = html.get_content() if html else ""

    def calendar_parts(self):
        """Every text/calendar part, in order (the invitation in multipart/alternative)."""
        return [part for part in self.parsed.walk() if part.get_content_type() == "text/calendar"]

    def invitation(self, method):
        """The one calendar part's VEVENT, after checking its METHOD against its MIME header."""
        from icalendar import Calendar

        (part,) = self.calendar_parts()
        assert part.get_param("method") == method, part.get_param("method")
        calendar = Calendar.from_ical(part.get_content())
        assert str(calendar["METHOD"]) == method
        (event,) = calendar.walk("VEVENT")
        return event

    def attachments(self):
        return list(self.parsed.iter_attachments())

    def links(self):
        return LINK.findall(self.text)

    def link_to(self, path_fragment):
        found = [link for link in self.links() if path_fragment in link]
        assert found, f"no link containing {path_fragment!r} in {self.subject!r}:\n{self.text}"
        return found[0]

    def __repr__(self):
        return f"<Message to {self.to} {self.subject!r}>"


class _Handler:
    def __init__(self, box):
        self.box = box

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.box.add(envelope.content, envelope.rcpt_tos)
        return "250 Message accepted for delivery"


class Mailbox:
    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

    def add(self, raw, recipients):
        message = Message(raw)
        message.to = [address.lower() for address in recipients]
        with self.lock:
            self.messages.append(message)

    def to(self, address):
        with self.lock:
            return [message for message in self.messages if address.lower() in message.to]

    def wait_for(self, address, *, count=1, timeout=15):
        """The `count`-th message to `address` (waiting for it to arrive)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            received = self.to(address)
            if len(received) >= count:
                return received[count - 1]
            time.sleep(0.1)
        raise AssertionError(
            f"no message number {count} to {address} within {timeout}s; got {self.to(address)}"
        )
