"""Public pages and feeds built once, kept in Django's cache, and keyed by what they show.

Every key carries the data version: an integer in the cache that moves forward on every
change a visitor could see (a meeting, venue or series saved or deleted, translations
included, since they are fields of those rows). It moves when the change is made and again
when its transaction commits: a page built in between from the rows as they were is never
kept under the newest version.

Seat counts do not move it: an entry that shows seats is kept SEATS_FRESH_SECONDS only, so
a burst of RSVPs costs one rebuild per page every few seconds, not one per RSVP, and an
RSVP costs no write to the cache at all. Every other entry expires after PAGE_CACHE_SECONDS,
for what changes with the clock alone (a meeting that starts leaves "upcoming", its RSVPs
close). See "Caching and freshness" in the README.

Each process also keeps the entries it used last in its own memory (up to
LOCAL_COPIES_BYTES): an entry is only ever valid for its data version, so a copy checked
against the shared version and the same expiry is as good as the shared one, and a 600 KB
feed need not cross the network on every request. The shared version stays the only truth.

Every key also carries the site (CACHE_KEY_PREFIX, so several sites can share one Redis) and
the release (RELEASE, so a deploy never serves HTML its old templates or translations built).

The cache may be down (Redis unreachable): then nothing is cached, every page is built as
if this module were not here, and a warning is logged. A page never fails because of it.

Callers use one function, `cached(kind, parts, build, *, shows_seats)`. The page machinery
(per-visitor markers, which addresses are kept) is meetings/page_cache.py.

One build per entry and data version, across all processes: the first request that misses
takes a build lock in the shared cache; the others meanwhile get the previous copy (kept
STALE_KEEP_SECONDS past its freshness for this), or, when there is none, wait for the
builder (BUILD_WAIT_SECONDS at most, then build themselves). A 7 MB feed rebuilt after a
change while calendar apps poll it is then built once, not once per worker at the same time.

A slow entry is rebuilt in the background: when its previous build took BACKGROUND_BUILD_SECONDS
or more and the caller gives a `rebuild` (a build that needs nothing of the request), the
request that takes the lock gets the previous copy too, and a thread of its process builds the
new one. A worker runs one request at a time, so a 3-second feed build in the request would
hold up every request behind it on that worker (the growth benchmark measured /healthz p99 at
3.4 s while the 10x feed rebuilt); in a thread it only shares the processor. Quick entries
(every page, and the feeds at today's size) are still built in the request, so a change shows
at once to whoever asks first.
An entry with an ETag also keeps a small head (ETag, Last-Modified) of its own, so a
conditional request is answered without fetching the body (`head`).
"""

import hashlib
import logging
import secrets
import threading
import time
from collections import OrderedDict

from django.conf import settings
from django.core.cache import cache
from django.db import connections, transaction
from django.http import Http404
from django.utils import translation

logger = logging.getLogger(__name__)

# Django's cache puts the site's CACHE_KEY_PREFIX before every key (settings.CACHES).
VERSION_KEY = "outreach:data-version"
# A build that takes longer than this (or whose process died) lets another one start.
BUILD_LOCK_SECONDS = 60
# How long a request with no previous copy to serve waits for another process's build.
BUILD_WAIT_SECONDS = 10
BUILD_POLL_SECONDS = 0.05
# How long an entry stays in the cache after it is no longer fresh, to be served while the
# next one builds.
STALE_KEEP_SECONDS = 120
# An entry whose last build took this long is rebuilt in a background thread (see above).
BACKGROUND_BUILD_SECONDS = 1.0
# The background builds under way in this process (tests wait for them).
_background: set[threading.Thread] = set()


def _warn(error):
    logger.warning("Page cache unavailable: %s", type(error).__name__)


def data_version():
    """The data version, or None when the cache is down.

    A missing version (a new or emptied cache) starts from a random 62-bit number, so a
    version once used is not used again for other data (entries of the old one may still
    be in the cache).
    """
    try:
        version = cache.get(VERSION_KEY)
        if version is None:
            cache.add(VERSION_KEY, secrets.randbits(62), timeout=None)
            version = cache.get(VERSION_KEY)
        return version
    except Exception as error:  # noqa: BLE001 - a cache outage must not fail a page
        _warn(error)
        return None


def _bump_version():
    try:
        try:
            cache.incr(VERSION_KEY)
        except ValueError:  # missing: any new value will do (see data_version)
            cache.add(VERSION_KEY, secrets.randbits(62), timeout=None)
    except Exception as error:  # noqa: BLE001
        _warn(error)


def _now_and_on_commit(function):
    function()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(function)


def content_changed():
    """Call on any change a visitor could see, except seat counts: every page is rebuilt."""
    _now_and_on_commit(_bump_version)


def make_key(kind, *parts):
    """A cache key for `kind` of entry (page, feed) from the parts that decide its bytes,
    this site's and this release's own."""
    # The site is in the digest too, for the local copies (the shared cache prefixes it).
    parts = (settings.CACHE_KEY_PREFIX, settings.RELEASE, *parts)
    digest = hashlib.sha256("\0".join(str(part) for part in parts).encode()).hexdigest()[:40]
    return f"outreach:{kind}:{digest}"


class _LocalCopies:
    """The most recently used entries of this process, up to a total size in bytes."""

    def __init__(self):
        self._entries = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key, entry):
        size = entry["size"]
        if size > settings.LOCAL_COPIES_BYTES // 4:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._size -= old["size"]
            self._entries[key] = entry
            self._size += size
            while self._size > settings.LOCAL_COPIES_BYTES:
                _key, dropped = self._entries.popitem(last=False)
                self._size -= dropped["size"]

    def clear(self):
        with self._lock:
            self._entries.clear()
            self._size = 0


local_copies = _LocalCopies()


def _size(values):
    return sum(len(value) for value in values.values() if isinstance(value, str | bytes))


def _lifetime(*, shows_seats):
    if shows_seats:
        return min(settings.SEATS_FRESH_SECONDS, settings.PAGE_CACHE_SECONDS)
    return settings.PAGE_CACHE_SECONDS


def _is_fresh(entry):
    return time.time() - entry["built_at"] < entry["lifetime"]


class NotKept(Exception):  # noqa: N818 - an answer, not an error
    """Raised by a `build` for an answer that must not be kept (an error page, a page that
    sets a cookie, a 304): `cached` stores nothing and lets it through to its caller, which
    answers `answer`."""

    def __init__(self, answer):
        super().__init__()
        self.answer = answer


def cached(kind, parts, build, *, shows_seats, rebuild=None):
    """The entry `parts` describe: from the cache when it holds a fresh one, else `build()`'s.

    - `kind`: a short name for the sort of entry ("page", "feed", "atom"…), part of the key.
    - `parts`: everything that decides the entry's content besides the data (e.g. the
      language and the address); the key also carries the data version, the site
      (CACHE_KEY_PREFIX) and the release (RELEASE).
    - `build()`: reads the data and returns the entry, a dict of picklable values (str and
      bytes values count towards its size in the local copies). It may raise: nothing is
      stored, and the exception reaches the caller (`NotKept(answer)` for an answer that is
      fine but not to be kept, Http404…).
    - `shows_seats`: the entry shows seat counts, so it is kept SEATS_FRESH_SECONDS only
      (otherwise PAGE_CACHE_SECONDS), since RSVPs do not move the data version.

    - `rebuild()`: optional, builds the same entry using nothing of the request (no
      conditional answer, no NotKept), so that it may run in a background thread when the
      previous build was slow (BACKGROUND_BUILD_SECONDS), in the active language.

    While another process builds the entry, the previous copy is returned if there is one
    (see the module's docstring). The entry returned may be shared with other requests of
    this process: do not change it (copy what you change). With the cache down, `build()`
    runs every time.
    """
    key, entry, previous = _get_entry(kind, parts, shows_seats=shows_seats)
    if entry is not None:
        return entry
    if key is None:  # the cache is down
        return build()
    lock = _claim(key)
    if lock is None and previous is not None:
        return previous
    if (
        lock is not None
        and previous is not None
        and rebuild is not None
        and previous.get("build_seconds", 0) >= BACKGROUND_BUILD_SECONDS
    ):
        _build_in_background(kind, parts, key, lock, rebuild, shows_seats=shows_seats)
        return previous
    deadline = time.monotonic() + BUILD_WAIT_SECONDS
    while lock is None and time.monotonic() < deadline:
        time.sleep(BUILD_POLL_SECONDS)
        entry = _shared_entry(key)
        if entry is not None and _is_fresh(entry):
            local_copies.put(key, entry)
            return entry
        lock = _claim(key)
    try:
        # Another process may have finished its build just before this one's lock.
        entry = _shared_entry(key) if lock is not None else None
        if entry is not None and _is_fresh(entry):
            local_copies.put(key, entry)
            return entry
        entry = _build_and_keep(kind, parts, key, build, shows_seats=shows_seats)
    finally:
        _release(key, lock)
    return entry


def _build_and_keep(kind, parts, key, build, *, shows_seats):
    # Taken before the first query: a change committed while building moves the version
    # past this entry's (see content_changed).
    built_at = time.time()
    entry = build()
    _put_entry(key, built_at, entry, shows_seats=shows_seats, took=time.time() - built_at)
    _remember_latest(kind, parts, shows_seats, key)
    return entry


def _build_in_background(kind, parts, key, lock, rebuild, *, shows_seats):
    """Build `key`'s entry with `rebuild()` in a thread of this process, holding `lock`."""
    language = translation.get_language()

    def run():
        try:
            with translation.override(language):
                _build_and_keep(kind, parts, key, rebuild, shows_seats=shows_seats)
        except Http404:
            pass  # gone meanwhile (a venue deleted): its next request answers 404
        except Exception:
            logger.exception("Background build of a %s entry failed", kind)
        finally:
            _release(key, lock)
            connections.close_all()  # this thread's own
            _background.discard(threading.current_thread())

    thread = threading.Thread(target=run, name=f"outreach-build-{kind}", daemon=True)
    _background.add(thread)
    thread.start()


def wait_for_background_builds(timeout=30):
    """Wait for this process's background builds (for tests and the benchmark)."""
    for thread in list(_background):
        thread.join(timeout)


def head(kind, parts, *, shows_seats):
    """The fresh entry's ETag and Last-Modified ({"etag", "timestamp"}) without its body, or
    None: for a conditional request, which needs nothing else."""
    version = data_version()
    if version is None:
        return None
    key = make_key(kind, version, shows_seats, *parts)
    entry = local_copies.get(key)
    if entry is not None and _is_fresh(entry):
        return entry
    entry = _shared_entry(_head_key(key))
    return entry if entry is not None and _is_fresh(entry) else None


def _head_key(key):
    return f"{key}:head"


def _latest_key(kind, parts, shows_seats):
    return make_key(f"{kind}-latest", shows_seats, *parts)


def _claim(key):
    """A token when this process may build `key`'s entry (nobody else is), else None."""
    token = secrets.token_hex(8)
    try:
        return token if cache.add(f"{key}:building", token, BUILD_LOCK_SECONDS) else None
    except Exception as error:  # noqa: BLE001
        _warn(error)
        return token  # no cache, no lock: build


def _release(key, token):
    if token is None:
        return
    try:
        if cache.get(f"{key}:building") == token:
            cache.delete(f"{key}:building")
    except Exception as error:  # noqa: BLE001
        _warn(error)


def _remember_latest(kind, parts, shows_seats, key):
    """Where the newest copy of this entry is, whatever its version: the previous copy to
    serve while the next one builds."""
    try:
        cache.set(_latest_key(kind, parts, shows_seats), key, timeout=STALE_KEEP_SECONDS)
    except Exception as error:  # noqa: BLE001
        _warn(error)


def _shared_entry(key):
    try:
        return cache.get(key)
    except Exception as error:  # noqa: BLE001
        _warn(error)
        return None


def _previous_copy(kind, parts, shows_seats, key, stale):
    """A copy to serve while `key`'s entry is built elsewhere: the same key's, no longer
    fresh, or the newest one of an earlier data version."""
    if stale is not None:
        return stale
    latest = _shared_entry(_latest_key(kind, parts, shows_seats))
    if not latest or latest == key:
        return None
    return local_copies.get(latest) or _shared_entry(latest)


def _get_entry(kind, parts, *, shows_seats):
    """(key, entry, previous) for what `parts` describe: entry None when it must be built,
    previous a copy that may be served while another process builds it.

    `shows_seats`: the entry shows seat counts, so it is kept SEATS_FRESH_SECONDS only.

    `key` is None when the cache is down: build, and store nothing.
    """
    version = data_version()
    if version is None:
        return None, None, None
    key = make_key(kind, version, shows_seats, *parts)
    stale = None
    entry = local_copies.get(key)
    if entry is not None:
        if _is_fresh(entry):
            return key, entry, None
        stale = entry
    try:
        entry = cache.get(key)
    except Exception as error:  # noqa: BLE001
        _warn(error)
        return None, None, None
    if entry is not None and _is_fresh(entry):
        local_copies.put(key, entry)
        return key, entry, None
    return key, None, _previous_copy(kind, parts, shows_seats, key, entry or stale)


def _put_entry(key, built_at, values, *, shows_seats, took=0.0):
    """Store an entry built from data read at `built_at` in `took` seconds, kept
    STALE_KEEP_SECONDS past its freshness (to be served while the next one builds), and its
    head when it has an ETag."""
    lifetime = _lifetime(shows_seats=shows_seats)
    if key is None or lifetime <= 0:
        return
    entry = {
        "built_at": built_at,
        "lifetime": lifetime,
        "size": _size(values),
        "build_seconds": took,
        **values,
    }
    try:
        cache.set(key, entry, timeout=lifetime + STALE_KEEP_SECONDS)
        if "etag" in values:
            fields = {name: values.get(name) for name in ("etag", "timestamp")}
            cache.set(
                _head_key(key),
                {"built_at": built_at, "lifetime": lifetime, **fields},
                timeout=lifetime,
            )
    except Exception as error:  # noqa: BLE001
        _warn(error)
        return
    local_copies.put(key, entry)


def _content_receiver(sender, **kwargs):
    content_changed()


def connect_signals():
    """Every save and delete of what pages show moves the version, wherever it comes from
    (the site, the admin, a management command). Bulk `update()`s send no signal: the only
    ones (a venue raising its meetings' SEQUENCE, check-ins) come with a save or show nowhere.
    RSVPs move nothing: pages showing their seat counts are kept a few seconds only."""
    from django.db.models.signals import post_delete, post_save

    from meetings.models import Meeting, MeetingSeries, Venue

    for model in (Meeting, MeetingSeries, Venue):
        post_save.connect(_content_receiver, sender=model, dispatch_uid=f"cache-{model.__name__}")
        post_delete.connect(
            _content_receiver, sender=model, dispatch_uid=f"cache-del-{model.__name__}"
        )
