"""Public pages and feeds built once, kept in Django's cache, and keyed by what they show.

Every key carries the data version: an integer in the cache that moves forward on every
change a visitor could see (a meeting, venue or series saved or deleted, translations
included, since they are fields of those rows). Seat counts move a second marker, the time
of the last RSVP change: a page showing seats is rebuilt once it is older than
SEATS_FRESH_SECONDS and an RSVP changed since it was built, so a burst of RSVPs costs one
rebuild per page every few seconds, not one per RSVP. See "Caching and freshness" in the README.

Both are moved when the change is made and again when its transaction commits: a page built
in between from the rows as they were is never kept under the newest version. Every entry
also expires after PAGE_CACHE_SECONDS, for what changes with the clock alone (a meeting that
starts leaves "upcoming", its RSVPs close).

The cache may be down (Redis unreachable): then nothing is cached, every page is built as
if this module were not here, and a warning is logged. A page never fails because of it.
"""

import hashlib
import logging
import secrets
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

VERSION_KEY = "outreach:data-version"
SEATS_CHANGED_KEY = "outreach:seats-changed-at"


def _warn(error):
    logger.warning("Page cache unavailable: %s", type(error).__name__)


def data_versions():
    """(data version, time of the last seat change) or None when the cache is down.

    A missing version (a new or emptied cache) starts from a random 62-bit number, so a
    version once used is not used again for other data (entries of the old one may still
    be in the cache).
    """
    try:
        values = cache.get_many([VERSION_KEY, SEATS_CHANGED_KEY])
        version = values.get(VERSION_KEY)
        if version is None:
            cache.add(VERSION_KEY, secrets.randbits(62), timeout=None)
            version = cache.get(VERSION_KEY)
            if version is None:
                return None
        return version, values.get(SEATS_CHANGED_KEY, 0)
    except Exception as error:  # noqa: BLE001 - a cache outage must not fail a page
        _warn(error)
        return None


def _bump_version():
    try:
        try:
            cache.incr(VERSION_KEY)
        except ValueError:  # missing: any new value will do (see data_versions)
            cache.add(VERSION_KEY, secrets.randbits(62), timeout=None)
    except Exception as error:  # noqa: BLE001
        _warn(error)


def _mark_seats_changed():
    try:
        cache.set(SEATS_CHANGED_KEY, time.time(), timeout=None)
    except Exception as error:  # noqa: BLE001
        _warn(error)


def _now_and_on_commit(function):
    function()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(function)


def content_changed():
    """Call on any change a visitor could see, except seat counts: every page is rebuilt."""
    _now_and_on_commit(_bump_version)


def seats_changed():
    """Call when RSVPs change (seat counts, the waitlist)."""
    _now_and_on_commit(_mark_seats_changed)


def make_key(kind, *parts):
    """A cache key for `kind` of entry (page, feed) from the parts that decide its bytes."""
    digest = hashlib.sha256("\0".join(str(part) for part in parts).encode()).hexdigest()[:40]
    return f"outreach:{kind}:{digest}"


def get_entry(kind, parts, *, shows_seats=True):
    """(key, entry) for what `parts` describe, entry None when it must be built.

    `key` is None when the cache is down: build, and store nothing.
    """
    versions = data_versions()
    if versions is None:
        return None, None
    version, seats_changed_at = versions
    key = make_key(kind, version, *parts)
    try:
        entry = cache.get(key)
    except Exception as error:  # noqa: BLE001
        _warn(error)
        return None, None
    if entry is None:
        return key, None
    built_at = entry["built_at"]
    if (
        shows_seats
        and seats_changed_at >= built_at  # the same instant counts as after
        and time.time() - built_at >= settings.SEATS_FRESH_SECONDS
    ):
        return key, None
    return key, entry


def start_entry():
    """The time an entry's data is read from: taken before the first query."""
    return time.time()


def put_entry(key, built_at, **values):
    """Store an entry built from data read at `built_at` (see `start_entry`)."""
    if key is None:
        return
    try:
        cache.set(key, {"built_at": built_at, **values}, timeout=settings.PAGE_CACHE_SECONDS)
    except Exception as error:  # noqa: BLE001
        _warn(error)


def _content_receiver(sender, **kwargs):
    content_changed()


def _seats_receiver(sender, **kwargs):
    seats_changed()


def connect_signals():
    """Every save and delete of what pages show moves the versions, wherever it comes from
    (the site, the admin, a management command). Bulk `update()`s send no signal: the only
    ones (a venue raising its meetings' SEQUENCE, check-ins) come with a save or show nowhere."""
    from django.db.models.signals import post_delete, post_save

    from meetings.models import Meeting, MeetingSeries, Rsvp, Venue

    for model in (Meeting, MeetingSeries, Venue):
        post_save.connect(_content_receiver, sender=model, dispatch_uid=f"cache-{model.__name__}")
        post_delete.connect(
            _content_receiver, sender=model, dispatch_uid=f"cache-del-{model.__name__}"
        )
    post_save.connect(_seats_receiver, sender=Rsvp, dispatch_uid="cache-Rsvp")
    post_delete.connect(_seats_receiver, sender=Rsvp, dispatch_uid="cache-del-Rsvp")
