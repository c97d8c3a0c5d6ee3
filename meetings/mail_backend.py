"""Handing one email to the mail server, and telling the outbox what a failure means.

`SmtpBackend` (what EMAIL_BACKEND names when EMAIL_URL is an SMTP server) is Django's SMTP
backend on connections that note when the whole message went over, so a timeout after that
point (the message may have arrived: never send it again) is told apart from one before it
(safe to retry). `hand_over` opens a connection with the configured backend, sends one message
and turns the server's failures into `outbox.SendFailed`.
"""

import contextlib
import smtplib

from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends import smtp

from meetings.outbox import SendFailed

# No connection, no greeting, or a connection lost before the message went over.
UNREACHABLE_ERRORS = (
    ConnectionError,
    TimeoutError,
    smtplib.SMTPConnectError,
    smtplib.SMTPServerDisconnected,
)

MAY_HAVE_ARRIVED = "No answer after the whole message was sent: it may have arrived."


def hand_over(message: EmailMessage) -> None:
    """Send `message` on a connection of its own; raise SendFailed when the server did not
    take it, saying whether to try again."""
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
        if connection.send_messages([message]) != 1:
            raise smtplib.SMTPException("the backend sent nothing")
    except Exception as error:
        smtp_connection = getattr(connection, "connection", None)
        if getattr(smtp_connection, "message_handed_over", False):
            raise SendFailed(MAY_HAVE_ARRIVED, retry=False) from None
        raise SendFailed(
            describe(error),
            retry=not refused_for_good(error),
            unreachable=isinstance(error, UNREACHABLE_ERRORS),
        ) from None
    finally:
        # A server that hangs up on QUIT changes nothing about the message.
        with contextlib.suppress(Exception):
            connection.close()


def describe(error: Exception) -> str:
    """The error's class and SMTP code: never its text, which may quote an address."""
    code = getattr(error, "smtp_code", None)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _text in error.recipients.values()})
        code = ",".join(str(code) for code in codes)
    name = type(error).__name__
    return f"{name} {code}" if code else name


def refused_for_good(error: Exception) -> bool:
    """The server refused the address with a permanent (5xx) answer: retrying will not help."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _text in error.recipients.values())
    return False


class _HandOverTracking:
    """Notes when the whole message (up to the final ".") went to the server."""

    message_handed_over = False

    def send(self, s):
        super().send(s)  # type: ignore[misc]  # a mixin for smtplib.SMTP and SMTP_SSL
        if isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            self.message_handed_over = True


class _SMTP(_HandOverTracking, smtplib.SMTP):
    pass


class _SMTP_SSL(_HandOverTracking, smtplib.SMTP_SSL):
    pass


class SmtpBackend(smtp.EmailBackend):
    """Django's SMTP backend, on connections that note when a message was handed over."""

    @property
    def connection_class(self):
        return _SMTP_SSL if self.use_ssl else _SMTP
