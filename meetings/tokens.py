"""Private-link tokens and the RSVP form's one-time key: make, hash, check, sign.

A manage token is the secret in an RSVP's private link; the database keeps only its
SHA-256. The form's one-time key is signed into the RSVP form, and the token of the RSVP
a form makes is derived from it (HMAC with SECRET_KEY), so a form sent twice shows the same
link both times. The database keeps only a SHA-256 of that key too: with the database and
SECRET_KEY together nobody can work out a link, since the key itself is stored nowhere.
"""

import base64
import hashlib
import re
import secrets
import time
import uuid
from typing import TYPE_CHECKING

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.crypto import salted_hmac

if TYPE_CHECKING:
    from meetings.models import Meeting

# secrets.token_urlsafe(32) and the derived form tokens: 43 URL-safe base64 characters.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")
FORM_TOKEN_SALT = "meetings.rsvp-form"  # noqa: S105 - a signing namespace, not a secret


def make_token() -> str:
    """A new manage token (256 bits from `secrets`)."""
    return secrets.token_urlsafe(32)


def token_for_submission(submission_key: uuid.UUID) -> str:
    """The manage token of the RSVP a form makes: HMAC-SHA256 of the form's one-time key.

    The key has 128 bits from `secrets` (see `make_form_token`) and the HMAC is keyed with
    SECRET_KEY, so the token cannot be guessed from the key alone, yet a double-clicked form
    gets the same token back without the database ever holding more than its hash.
    """
    digest = salted_hmac(
        "meetings.rsvp-manage-token", submission_key.hex, algorithm="sha256"
    ).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def hash_submission_key(submission_key: uuid.UUID) -> str:
    """SHA-256 hex of a form's one-time key: what the database keeps to know the form again."""
    return hashlib.sha256(submission_key.hex.encode()).hexdigest()


def hash_token(token: str) -> str:
    """SHA-256 hex of a manage token: the only form of it the database keeps."""
    return hashlib.sha256(token.encode()).hexdigest()


def is_well_formed(token: str) -> bool:
    """Whether `token` looks like one we hand out (it may still belong to no RSVP)."""
    return bool(TOKEN_PATTERN.fullmatch(token))


def make_form_token(
    meeting: "Meeting", *, key: uuid.UUID | None = None, issued_at: float | None = None
) -> str:
    """The RSVP form's hidden one-time key, bound to the meeting and the time it was shown.

    Signed, so it can be neither forged nor moved to another meeting. The key has 128 bits
    from `secrets`: the manage token is derived from it (`token_for_submission`).
    """
    key = key or uuid.UUID(bytes=secrets.token_bytes(16))
    payload = {"k": key.hex, "m": meeting.pk, "t": time.time() if issued_at is None else issued_at}
    return signing.dumps(payload, salt=FORM_TOKEN_SALT)


def read_form_token(value: str) -> tuple[uuid.UUID, int, float] | None:
    """(key, meeting pk, issued at) from a form token, or None if it is not one of ours."""
    try:
        payload = signing.loads(value, salt=FORM_TOKEN_SALT)
        return uuid.UUID(hex=payload["k"]), int(payload["m"]), float(payload["t"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def manage_url(token: str) -> str:
    """The absolute private link of a manage token, in the active language."""
    return settings.SITE_URL + reverse("meetings:rsvp-manage", kwargs={"token": token})
