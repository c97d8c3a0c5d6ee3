"""Venues, series, meetings and RSVPs, and the questions the site asks of them."""

import datetime as dt
import uuid
import zoneinfo
from functools import cached_property
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Concat, Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from meetings.search import fold
from meetings.tokens import hash_token, is_well_formed, make_token

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.contrib.auth.models import AnonymousUser, User

MAX_PARTY_SIZE = 10
# Calendar feeds show meetings that started at most this many days ago, and everything after.
FEED_PAST_DAYS = 90


def language_choices():
    """The site's languages; a callable so adding one needs no migration."""
    return list(settings.LANGUAGES)


def validate_time_zone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("“%(value)s” is not a known time zone, such as America/Chicago."),
            code="unknown_time_zone",
            params={"value": value},
        )


def default_time_zone():
    return settings.TIME_ZONE


class CalendarStateMixin:
    """Remembers, as loaded, the fields whose change a calendar app must be told about.

    `CALENDAR_FIELDS` names them; translated ones (`TRANSLATED_CALENDAR_FIELDS`) count in
    every language. `calendar_changed()` says whether any differs from the database now.
    """

    CALENDAR_FIELDS: tuple[str, ...] = ()
    TRANSLATED_CALENDAR_FIELDS: tuple[str, ...] = ()

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)  # type: ignore[misc]  # a Model's
        instance._loaded_calendar_state = instance._calendar_state()
        return instance

    def _calendar_state(self):
        state: dict[str, object] = {}
        for name in self.CALENDAR_FIELDS:
            if name in self.TRANSLATED_CALENDAR_FIELDS:
                for code, _name in settings.LANGUAGES:
                    state[f"{name}_{code}"] = self.__dict__.get(f"{name}_{code}")
            else:
                state[name] = self.__dict__.get(name)
        return state

    @property
    def loaded_calendar_state(self):
        """Those fields as last loaded or saved ({name: value}), or None for a new row."""
        return getattr(self, "_loaded_calendar_state", None)

    def calendar_changed(self):
        loaded = self.loaded_calendar_state
        return loaded is not None and loaded != self._calendar_state()

    def remember_calendar_state(self):
        self._loaded_calendar_state = self._calendar_state()


class Venue(CalendarStateMixin, models.Model):
    # What its meetings' LOCATION, GEO and times show: a change raises their `sequence`.
    CALENDAR_FIELDS = (
        "name",
        "street_address",
        "city",
        "state",
        "postal_code",
        "latitude",
        "longitude",
        "time_zone",
    )
    TRANSLATED_CALENDAR_FIELDS = ("name",)

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(
        _("slug"), max_length=100, unique=True, help_text=_("The venue's address on the site.")
    )
    street_address = models.CharField(_("street address"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, default="Dallas")
    state = models.CharField(_("state"), max_length=50, default="TX")
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    area = models.CharField(
        _("area of the city"),
        max_length=100,
        blank=True,
        help_text=_("The neighborhood residents know it by, e.g. Oak Cliff."),
    )
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default=default_time_zone,
        validators=[validate_time_zone],
        help_text=_("Meeting times at this venue are shown in this time zone."),
    )
    accessibility_notes = models.TextField(
        _("accessibility notes"),
        blank=True,
        help_text=_("Step-free entrance, elevator, accessible restrooms, hearing loop…"),
    )
    directions_notes = models.TextField(
        _("directions and parking"),
        blank=True,
        help_text=_("Which door to use, where to park, nearest bus or train stop."),
    )

    class Meta:
        verbose_name = _("venue")
        verbose_name_plural = _("venues")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="venue_latitude_in_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="venue_longitude_in_range",
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        changed = self.calendar_changed()
        super().save(*args, **kwargs)
        self.remember_calendar_state()
        if changed:
            # Google Calendar updates a known event only when its SEQUENCE rises; the new
            # `updated_at` moves the feeds' Last-Modified too.
            self.meetings.update(sequence=F("sequence") + 1, updated_at=timezone.now())

    def get_absolute_url(self):
        return reverse("meetings:venue-detail", kwargs={"slug": self.slug})

    @property
    def full_address(self):
        """One line: street, city, state and postal code, leaving out what is blank."""
        city_line = " ".join(part for part in [self.state, self.postal_code] if part)
        return ", ".join(part for part in [self.street_address, self.city, city_line] if part)

    @property
    def directions_url(self):
        """A plain link to a maps site; no map is embedded in our pages."""
        if self.latitude is not None and self.longitude is not None:
            destination = f"{self.latitude},{self.longitude}"
        else:
            destination = f"{self.name}, {self.full_address}"
        return "https://www.openstreetmap.org/search?" + urlencode({"query": destination})

    @cached_property
    def tzinfo(self):
        return zoneinfo.ZoneInfo(self.time_zone)


class MeetingSeries(models.Model):
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("meeting series")
        verbose_name_plural = _("meeting series")
        ordering = ["title"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("meetings:series-detail", kwargs={"slug": self.slug})


class MeetingQuerySet(models.QuerySet["Meeting"]):
    def published(self) -> Self:
        """Meetings the public may see: published ones and those cancelled after publishing.

        Cancelled meetings stay visible (marked as such) so that nobody who saw the
        announcement is left wondering; drafts never show.
        """
        return self.filter(status__in=[Meeting.Status.PUBLISHED, Meeting.Status.CANCELLED])

    def visible_to(self, user: "User | AnonymousUser") -> Self:
        """The meetings `user` may open: published ones, and for staff drafts too."""
        return self if user.is_staff else self.published()

    def in_feed_window(self, now: dt.datetime | None = None) -> Self:
        """What calendar feeds carry: published or cancelled, from FEED_PAST_DAYS ago onward."""
        since = (now or timezone.now()) - dt.timedelta(days=FEED_PAST_DAYS)
        return self.published().filter(starts_at__gte=since)

    def upcoming(self, now: dt.datetime | None = None) -> Self:
        """Meetings that have not ended yet, soonest first."""
        return self.filter(ends_at__gte=now or timezone.now()).order_by("starts_at", "pk")

    def past(self, now: dt.datetime | None = None) -> Self:
        """Meetings that have ended, most recent first."""
        return self.filter(ends_at__lt=now or timezone.now()).order_by("-starts_at", "-pk")

    def in_language(self, code: str) -> Self:
        """Held in the language, or with interpretation into it."""
        # JSON text match works alike on PostgreSQL and SQLite (no JSON `contains` on SQLite).
        return self.filter(Q(language=code) | Q(interpretation_languages__icontains=f'"{code}"'))

    def search(self, text: str) -> Self:
        """Meetings whose title, summary, venue, area or series mention the text (any language),
        ignoring case, accents and tone marks: "policia" finds "Policía"."""
        text = fold(text)
        query = Q()
        for code, _name in settings.LANGUAGES:
            for field in ("title", "summary", "venue__name", "series__title"):
                query |= Q(**{f"{field}_{code}__fold__contains": text})
        query |= Q(venue__area__fold__contains=text)
        return self.filter(query)

    def with_seat_counts(self) -> Self:
        """Annotate `confirmed_seats` and `waitlist_count`.

        Correlated subqueries over the (meeting, status) index: the database counts only
        the RSVPs of the meetings actually fetched (a page), not all RSVPs.
        """
        rsvps = Rsvp.objects.filter(meeting=OuterRef("pk")).order_by().values("meeting")
        confirmed = rsvps.filter(status=Rsvp.Status.CONFIRMED).annotate(total=Sum("party_size"))
        waitlisted = rsvps.filter(status=Rsvp.Status.WAITLISTED).annotate(total=Count("pk"))
        return self.annotate(
            confirmed_seats=Coalesce(
                Subquery(confirmed.values("total"), output_field=IntegerField()), 0
            ),
            waitlist_count=Coalesce(
                Subquery(waitlisted.values("total"), output_field=IntegerField()), 0
            ),
        )

    def for_listing(self) -> Self:
        """Everything a listing or card shows, in a fixed number of queries."""
        return self.select_related("venue", "series").with_seat_counts()


class Meeting(CalendarStateMixin, models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        CANCELLED = "cancelled", _("Cancelled")

    # Changes to these fields change what a calendar app shows, so they raise `sequence`.
    CALENDAR_FIELDS = ("starts_at", "ends_at", "venue_id", "status", "title", "summary")
    TRANSLATED_CALENDAR_FIELDS = ("title", "summary")

    series = models.ForeignKey(
        MeetingSeries,
        verbose_name=_("series"),
        related_name="meetings",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    venue = models.ForeignKey(
        Venue, verbose_name=_("venue"), related_name="meetings", on_delete=models.PROTECT
    )
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(
        _("slug"),
        max_length=100,
        unique=True,
        help_text=_("The meeting's address on the site; keep it once published."),
    )
    summary = models.CharField(
        _("summary"), max_length=300, blank=True, help_text=_("One or two sentences for listings.")
    )
    description = models.TextField(_("description"), blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    language = models.CharField(
        _("held in"),
        max_length=10,
        choices=language_choices,
        default="en",
        help_text=_("The language the meeting is held in."),
    )
    interpretation_languages = models.JSONField(
        _("interpretation into"),
        default=list,
        blank=True,
        help_text=_("Languages an interpreter will be present for."),
    )
    host = models.CharField(
        _("host"), max_length=200, blank=True, help_text=_("For example: Interim Chief of Police.")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    cancellation_note = models.TextField(
        _("cancellation note"),
        blank=True,
        help_text=_("Shown when the meeting is cancelled: why, and where to go instead."),
    )
    capacity = models.PositiveIntegerField(
        _("capacity"),
        null=True,
        blank=True,
        help_text=_("Seats available for RSVPs. Leave empty for no limit."),
    )
    send_reminder = models.BooleanField(
        _("send a reminder"),
        default=True,
        db_default=True,  # old replicas insert without it (expand/contract)
        help_text=_(
            "Email everyone with an RSVP and an email a reminder before the meeting "
            "(REMINDER_HOURS_BEFORE, 24 hours by default), with a link to cancel."
        ),
    )
    rsvp_enabled = models.BooleanField(
        _("takes RSVPs"), default=True, help_text=_("Untick for drop-in meetings.")
    )
    rsvp_closes_at = models.DateTimeField(
        _("RSVPs close at"),
        null=True,
        blank=True,
        help_text=_("Leave empty to take RSVPs until the meeting starts."),
    )
    sequence = models.PositiveIntegerField(
        _("calendar revision"),
        default=0,
        editable=False,
        help_text=_("Raised on every change calendar apps must pick up."),
    )
    published_at = models.DateTimeField(_("first published at"), null=True, blank=True)
    previous_starts_at = models.DateTimeField(
        _("previously started at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "Set when a published meeting is moved to another time: the start it had before, "
            "which search engines and the public API show beside the new one."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = MeetingQuerySet.as_manager()

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["starts_at", "pk"]
        permissions = [
            ("message_rsvps", _("Can send a message to a meeting's RSVPs and waitlist")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="meeting_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(capacity__gt=0),
                name="meeting_capacity_positive",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "starts_at"], name="meeting_status_starts"),
            models.Index(fields=["status", "ends_at"], name="meeting_status_ends"),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        changed = []
        if self.calendar_changed():
            self.sequence += 1
            changed.append("sequence")
            # A published meeting moved to another start is "rescheduled" (schema.org, the API).
            before = self.loaded_calendar_state or {}
            if self.published_at is not None and before.get("starts_at") not in (
                None,
                self.starts_at,
            ):
                self.previous_starts_at = before["starts_at"]
                changed.append("previous_starts_at")
        # The one place `published_at` is stamped: the first save that is not a draft.
        if not self.is_draft and self.published_at is None:
            self.published_at = timezone.now()
            changed.append("published_at")
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, *changed}
        super().save(*args, **kwargs)
        self.remember_calendar_state()

    def get_absolute_url(self):
        return reverse("meetings:meeting-detail", kwargs={"slug": self.slug})

    def clean(self):
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError(
                {"ends_at": _("The meeting must end after it starts.")}, code="ends_before_start"
            )
        if self.rsvp_closes_at and self.ends_at and self.rsvp_closes_at > self.ends_at:
            raise ValidationError(
                {"rsvp_closes_at": _("RSVPs must close before the meeting ends.")},
                code="rsvp_closes_after_end",
            )
        if self.language in (self.interpretation_languages or []):
            raise ValidationError(
                {
                    "interpretation_languages": _(
                        "The meeting is already held in that language; "
                        "interpretation is for other languages."
                    )
                },
                code="interpretation_into_own_language",
            )

    # Single-row facts.

    @property
    def tzinfo(self):
        return self.venue.tzinfo

    @property
    def local_starts_at(self):
        return timezone.localtime(self.starts_at, self.tzinfo)

    @property
    def local_ends_at(self):
        return timezone.localtime(self.ends_at, self.tzinfo)

    @property
    def local_date(self):
        """The day the meeting starts, in its own time zone (listings group by it)."""
        return self.local_starts_at.date()

    @property
    def is_published(self):
        return self.status == self.Status.PUBLISHED

    @property
    def is_cancelled(self):
        return self.status == self.Status.CANCELLED

    @property
    def is_draft(self):
        return self.status == self.Status.DRAFT

    @property
    def is_moved(self):
        """Published, and moved to another start since it was first published."""
        return self.is_published and self.previous_starts_at is not None

    @property
    def local_previous_starts_at(self):
        if self.previous_starts_at is None:
            return None
        return timezone.localtime(self.previous_starts_at, self.tzinfo)

    @property
    def is_past(self):
        return self.ends_at < timezone.now()

    @property
    def has_started(self):
        return self.starts_at <= timezone.now()

    @property
    def rsvp_deadline(self):
        return self.rsvp_closes_at or self.starts_at

    @property
    def is_taking_rsvps(self):
        """Whether the RSVP form is open right now."""
        return self.is_published and self.rsvp_enabled and timezone.now() < self.rsvp_deadline

    @cached_property
    def seat_counts(self):
        """(confirmed seats, waitlist length): from `with_seat_counts()` when annotated."""
        if hasattr(self, "confirmed_seats") and hasattr(self, "waitlist_count"):
            return self.confirmed_seats, self.waitlist_count
        counts = self.rsvps.aggregate(
            seats=Coalesce(Sum("party_size", filter=Q(status=Rsvp.Status.CONFIRMED)), 0),
            waitlist=Count("pk", filter=Q(status=Rsvp.Status.WAITLISTED)),
        )
        return counts["seats"], counts["waitlist"]

    @property
    def seats_left(self):
        """Seats still free, or None when the meeting has no capacity limit."""
        if self.capacity is None:
            return None
        return max(self.capacity - self.seat_counts[0], 0)

    @property
    def is_full(self):
        return self.capacity is not None and self.seats_left == 0

    @property
    def interpretation_language_names(self):
        names = dict(settings.LANGUAGES)
        return [names.get(code, code) for code in self.interpretation_languages or []]

    # Single-row changes.

    def publish(self):
        """Publish the meeting (`save` stamps `published_at` the first time).

        Staff screens call services.publish_meeting, which also tells whoever must know.
        """
        self.status = self.Status.PUBLISHED
        self.save(update_fields=["status", "updated_at"])

    def cancel(self, note=None):
        """Cancel the meeting; the raised `sequence` tells calendar apps.

        Staff screens call services.cancel_meeting, which also emails the RSVPs.
        """
        self.status = self.Status.CANCELLED
        fields = ["status", "updated_at"]
        if note is not None:
            self.cancellation_note = note
            fields.append("cancellation_note")
        self.save(update_fields=fields)


class RsvpQuerySet(models.QuerySet["Rsvp"]):
    def active(self) -> Self:
        return self.exclude(status=Rsvp.Status.CANCELLED)

    def confirmed(self) -> Self:
        return self.filter(status=Rsvp.Status.CONFIRMED)

    def waitlisted(self) -> Self:
        """Waitlisted RSVPs in arrival order: the order they are promoted in."""
        return self.filter(status=Rsvp.Status.WAITLISTED).order_by("created_at", "pk")

    def by_token(self, token: str) -> Self:
        """The RSVP a private manage link points to, or none.

        Erased RSVPs are left out, so an old link and a made-up one look the same; so is
        a malformed token, without a query.
        """
        if not is_well_formed(token):
            return self.none()
        hashed = hash_token(token)
        return self.filter(
            Q(token_hash=hashed)
            # Links made before RsvpLink (one per RSVP, the latest reminder's or promotion's).
            | Q(reminder_token_hash=hashed)
            | Q(pk__in=RsvpLink.objects.filter(token_hash=hashed).values("rsvp_id")),
            personal_data_erased_at__isnull=True,
        ).select_related("meeting__venue")

    def with_shared_email(self):
        """Adds `shares_email`: another RSVP to the same meeting has the same address
        (every form sent makes its own RSVP, so staff see such pairs flagged)."""
        others = (
            Rsvp.objects.annotate(lower_email=Lower("email"))
            .filter(meeting=OuterRef("meeting"), lower_email=Lower(OuterRef("email")))
            .exclude(pk=OuterRef("pk"))
        )
        return self.annotate(shares_email=Exists(others) & ~Q(email=""))

    def reachable(self) -> Self:
        """RSVPs with an email address or a phone number to tell things to."""
        return self.exclude(email="", phone="")

    def needs_summary(self) -> dict[str, Any]:
        """What staff must arrange: {"interpretation": [(code, parties, people)],
        "wheelchair": parties, "childcare": parties, "parties": n, "people": n}."""
        totals = self.aggregate(
            parties=Count("pk"),
            people=Coalesce(Sum("party_size"), 0),
            wheelchair=Count("pk", filter=Q(needs_wheelchair_access=True)),
            childcare=Count("pk", filter=Q(needs_childcare=True)),
        )
        interpretation = (
            self.exclude(needs_interpretation="")
            .order_by("needs_interpretation")
            .values_list("needs_interpretation")
            .annotate(parties=Count("pk"), people=Sum("party_size"))
        )
        return {**totals, "interpretation": list(interpretation)}

    def personal_data_expired(self, *, days: int, now: dt.datetime | None = None) -> Self:
        """RSVPs still holding a name, email or note whose meeting ended more than `days` ago."""
        cutoff = (now or timezone.now()) - dt.timedelta(days=days)
        return self.filter(meeting__ends_at__lt=cutoff, personal_data_erased_at__isnull=True)

    def erase_personal_data(self, now: dt.datetime | None = None) -> int:
        """Blank name, email, phone number and note; keep party size, status and needs for the
        counts.

        The token hash is replaced too, and the further links deleted, so no private link
        finds anything. Returns the number of RSVPs erased.
        """
        RsvpLink.objects.filter(rsvp__in=self.values("pk")).delete()
        return self.update(
            first_name="",
            email="",
            phone="",
            note="",
            submission_key_hash=None,
            reminder_token_hash=None,
            token_hash=Concat(Value("erased:"), Cast("pk", output_field=models.CharField())),
            personal_data_erased_at=now or timezone.now(),
        )


# What a party says about itself when it RSVPs or changes its RSVP, in the forms' order: the
# fields of the RSVP forms and the keyword arguments of services.create_rsvp and update_rsvp
# (a new RSVP also takes an email and the form's one-time key).
RSVP_ANSWER_FIELDS = (
    "party_size",
    "language",
    "first_name",
    "needs_interpretation",
    "needs_wheelchair_access",
    "needs_childcare",
    "note",
)


class Rsvp(models.Model):
    """One party's answer to one meeting.

    Deliberately minimal: no IP address, nationality, immigration status, home address
    or ID is ever stored. Name, email and note are optional and erased after the meeting.
    """

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        WAITLISTED = "waitlisted", _("Waitlisted")
        CANCELLED = "cancelled", _("Cancelled")

    meeting = models.ForeignKey(
        Meeting, verbose_name=_("meeting"), related_name="rsvps", on_delete=models.PROTECT
    )
    party_size = models.PositiveSmallIntegerField(
        _("party size"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_PARTY_SIZE)],
        help_text=_("How many people are coming, including children."),
    )
    first_name = models.CharField(_("first name or nickname"), max_length=100, blank=True)
    email = models.EmailField(_("email"), max_length=254, blank=True)
    # E.164 ("+12145550123"), for text messages (meetings.phones); erased like the email.
    # db_default: a replica still on the previous release inserts RSVPs without this column.
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True, db_default="")
    language = models.CharField(
        _("preferred language"), max_length=10, choices=language_choices, default="en"
    )
    needs_interpretation = models.CharField(
        _("needs interpretation into"),
        max_length=10,
        choices=language_choices,
        blank=True,
    )
    needs_wheelchair_access = models.BooleanField(_("needs wheelchair access"), default=False)
    needs_childcare = models.BooleanField(_("needs childcare"), default=False)
    note = models.CharField(_("note"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.CONFIRMED
    )
    token_hash = models.CharField(
        _("manage token hash"),
        max_length=64,
        unique=True,
        editable=False,
        help_text=_(
            "SHA-256 of the private manage link's token; the token itself is never stored."
        ),
    )
    submission_key_hash = models.CharField(
        _("form submission key hash"),
        max_length=64,
        null=True,
        blank=True,
        unique=True,
        editable=False,
        help_text=_(
            "SHA-256 of the one-time key of the form that made this RSVP, so a form sent twice "
            "(a double click) makes one RSVP; the key itself is never stored."
        ),
    )
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    reminder_token_hash = models.CharField(
        _("reminder link hash"),
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "SHA-256 of the private link in the latest reminder, follow-up or promotion sent "
            "before each message got a link of its own (private links); kept so that link works."
        ),
    )
    reminded_at = models.DateTimeField(
        _("reminder queued at"), null=True, blank=True, editable=False
    )
    feedback_asked_at = models.DateTimeField(
        _("feedback questions sent at"), null=True, blank=True, editable=False
    )
    feedback_given = models.BooleanField(
        _("feedback given"),
        default=False,
        db_default=False,  # old replicas insert without it (expand/contract)
        editable=False,
        help_text=_(
            "Its private link was used to answer the feedback questions (never which answer)."
        ),
    )
    is_walk_in = models.BooleanField(
        _("walk-in"),
        default=False,
        db_default=False,  # old replicas insert without it (expand/contract)
        help_text=_("Came to the door without an RSVP; added at check-in."),
    )
    personal_data_erased_at = models.DateTimeField(
        _("personal data erased at"), null=True, blank=True, editable=False
    )
    calendar_sequence = models.PositiveIntegerField(
        _("calendar sequence"),
        # In the database too: a replica still on the previous release inserts RSVPs
        # without this column (expand, then contract).
        db_default=0,
        editable=False,
        help_text=_(
            "Raised each time the party's emailed calendar invitation changes (a promotion, "
            "a change, a cancellation); with the meeting's own sequence, it tells calendar "
            "apps which version is newest."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = RsvpQuerySet.as_manager()

    class Meta:
        verbose_name = _("RSVP")
        verbose_name_plural = _("RSVPs")
        ordering = ["created_at", "pk"]
        # Beyond Django's add/change/delete/view: what the staff roles (README) are made of.
        permissions = [
            ("check_in_rsvp", _("Can check parties in at the door and add walk-ins")),
            (
                "view_rsvp_contact",
                _("Can see the email addresses, phone numbers and notes of RSVPs"),
            ),
            ("export_rsvp", _("Can export RSVPs and counts as CSV")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(party_size__gte=1, party_size__lte=MAX_PARTY_SIZE),
                name="rsvp_party_size_in_range",
            ),
        ]
        indexes = [
            # "Does this address already have an RSVP here?" (RsvpQuerySet.with_shared_email).
            models.Index("meeting", Lower("email"), name="rsvp_meeting_email"),
            # Seat counts and the waitlist order read only this index's columns.
            models.Index(
                fields=["meeting", "status", "created_at"], name="rsvp_meeting_status_created"
            ),
        ]

    def __str__(self):
        # No name or address: this text is kept in the admin's history of changes.
        return _("RSVP #%(number)s") % {"number": self.pk}

    @property
    def is_confirmed(self):
        return self.status == self.Status.CONFIRMED

    @property
    def is_waitlisted(self):
        return self.status == self.Status.WAITLISTED

    @property
    def is_cancelled(self):
        return self.status == self.Status.CANCELLED

    @property
    def can_be_changed(self):
        """Whether its party may still change it: not cancelled, and the meeting takes RSVPs."""
        return not self.is_cancelled and self.meeting.is_taking_rsvps

    @property
    def can_give_feedback(self):
        """Whether its private link may still send the anonymous feedback: once, after the
        meeting took place, unless the RSVP or the meeting was cancelled."""
        meeting = self.meeting
        return (
            not self.feedback_given
            and not self.is_cancelled
            and not meeting.is_cancelled
            and meeting.is_past
        )

    @property
    def can_be_cancelled(self):
        """Whether its party may still cancel it: not cancelled, and the meeting not started
        (staff may cancel at any time)."""
        return not self.is_cancelled and not self.meeting.has_started

    def check_in(self):
        """Mark the party as arrived, now. False when it is cancelled or already in."""
        if self.is_cancelled or self.checked_in_at is not None:
            return False
        self.checked_in_at = timezone.now()
        self.save(update_fields=["checked_in_at", "updated_at"])
        return True

    def undo_check_in(self):
        """Take back a check-in made by mistake. False when it was not checked in."""
        if self.checked_in_at is None:
            return False
        self.checked_in_at = None
        self.save(update_fields=["checked_in_at", "updated_at"])
        return True

    @property
    def waitlist_place(self):
        """1 for the first party in line; None when not waitlisted."""
        if not self.is_waitlisted:
            return None
        ahead = (
            Rsvp.objects.filter(meeting_id=self.meeting_id)
            .waitlisted()
            .filter(
                Q(created_at__lt=self.created_at) | Q(created_at=self.created_at, pk__lt=self.pk)
            )
        )
        return ahead.count() + 1


class RsvpLink(models.Model):
    """A further private link to an RSVP, made for one message that carries it (a reminder,
    a promotion, a text saying the meeting changed, the follow-up). The first link cannot be
    rebuilt (only its hash is kept), so each such message makes its own; every one keeps
    working, so an older text's link still opens the RSVP, until its personal data is
    erased, which deletes these rows (RsvpQuerySet.erase_personal_data)."""

    rsvp = models.ForeignKey(Rsvp, related_name="links", on_delete=models.CASCADE)
    token_hash = models.CharField(
        _("link hash"),
        max_length=64,
        unique=True,
        editable=False,
        help_text=_("SHA-256 of the link's token; the token itself is never stored."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("private link")
        verbose_name_plural = _("private links")
        default_permissions = ()

    def __str__(self):
        return f"{_('private link')} #{self.pk}"

    @classmethod
    def make(cls, rsvps: "Iterable[Rsvp]") -> dict[int, str]:
        """A new link for each of `rsvps`: {rsvp pk: token}. The token exists only in what
        is returned (for the message being written); the database keeps its hash."""
        tokens = {rsvp.pk: make_token() for rsvp in rsvps}
        RsvpLink.objects.bulk_create(
            RsvpLink(rsvp_id=pk, token_hash=hash_token(token)) for pk, token in tokens.items()
        )
        return tokens


class OutgoingEmailQuerySet(models.QuerySet):
    def withdraw(self, reason):
        """Erase every personal field, whatever the status; what was not handed to the
        server yet never will be (status withdrawn, `reason` as its last error). A message
        handed over but not yet acknowledged keeps its status (the worker, or the sweep,
        settles it), a sent or failed one too. Returns the number of rows changed.

        A worker in the middle of sending a row withdrawn here checks the row again before it
        hands the message over (meetings.outbox), so a cancelled RSVP's message stops there.
        """
        not_handed_over = Q(status=OutgoingEmail.Status.QUEUED) | Q(
            status=OutgoingEmail.Status.SENDING, handed_over_at__isnull=True
        )
        return self.update(
            status=Case(
                When(not_handed_over, then=Value(OutgoingEmail.Status.WITHDRAWN)),
                default=F("status"),
            ),
            last_error=Case(When(not_handed_over, then=Value(reason)), default=F("last_error")),
            next_attempt_at=None,
            **OutgoingEmail.ERASED,
        )

    def addressed(self):
        """Rows that still have somewhere to go (an address field not erased)."""
        condition = Q()
        for name in OutgoingEmail.ADDRESS_FIELDS:
            condition |= ~Q(**{name: ""})
        return self.filter(condition)

    def status_counts(self):
        """{status: how many} for every status, zeros included."""
        counts = dict(self.order_by().values_list("status").annotate(Count("pk")))
        return {status: counts.get(status, 0) for status in OutgoingEmail.Status.values}


class OutgoingEmail(models.Model):
    """One message in the outbox, rendered and queued in the transaction of the change it is
    about, and sent by the outbox worker (meetings.outbox.deliver).

    Once sent, the address, subject, text and calendar are erased: what stays (kind,
    language, status, dates, attempts) says that a message went out, not to whom or what.
    """

    class Kind(models.TextChoices):
        RSVP_CONFIRMATION = "rsvp_confirmation", _("RSVP confirmation")
        RSVP_PROMOTED = "rsvp_promoted", _("Seat from the waitlist")
        MEETING_CHANGED = "meeting_changed", _("Meeting changed")
        RSVP_REMINDER = "rsvp_reminder", _("Reminder before the meeting")
        FEEDBACK_REQUEST = "feedback_request", _("Questions after the meeting")
        ALERT_CONFIRMATION = "alert_confirmation", _("Alerts: please confirm")
        ALERT_DIGEST = "alert_digest", _("Alerts: new meetings")
        RSVP_CHANGED = "rsvp_changed", _("RSVP changed")
        RSVP_CANCELLED = "rsvp_cancelled", _("RSVP cancelled")
        STAFF_MESSAGE = "staff_message", _("Message from staff about a meeting")

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("Text message")
        WHATSAPP = "whatsapp", _("WhatsApp")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        # Not sent because it was no longer needed (the RSVP was cancelled or purged first).
        WITHDRAWN = "withdrawn", _("Withdrawn (no longer needed)")
        # Handed to the server (or carrier), which never said whether it took it: the worker
        # died or the connection dropped. Never sent again by itself; staff may resend.
        UNKNOWN = "unknown", _("Unknown (may have arrived)")

    # Whatever could identify the person or holds their private link: erased once sent,
    # withdrawn, cancelled or purged, whatever the status (OutgoingEmailQuerySet.withdraw).
    PERSONAL_FIELDS = ("recipient", "subject", "text", "html", "calendar")
    ERASED = dict.fromkeys(PERSONAL_FIELDS, "")
    # Where the message goes, per channel (a second channel adds its own, e.g. a phone number).
    ADDRESS_FIELDS = ("recipient",)

    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    channel = models.CharField(
        _("channel"),
        max_length=10,
        choices=Channel.choices,
        default=Channel.EMAIL,
        db_default=Channel.EMAIL,  # the previous release's code writes mail rows without it
    )
    language = models.CharField(_("language"), max_length=10, choices=language_choices)
    rsvp = models.ForeignKey(
        Rsvp,
        verbose_name=_("RSVP"),
        related_name="emails",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    # An email address, or a phone number in E.164 for a text.
    recipient = models.CharField(_("recipient"), max_length=254, blank=True)
    subject = models.TextField(_("subject"), blank=True)
    text = models.TextField(_("text"), blank=True)
    html = models.TextField(_("HTML"), blank=True)
    calendar = models.TextField(_("calendar attachment"), blank=True)
    context = models.JSONField(
        _("context"),
        default=dict,
        blank=True,
        help_text=_(
            "What the message says beyond the RSVP and its meeting (e.g. which changes), "
            "for messages written when sent."
        ),
    )
    message_id = models.CharField(
        _("Message-ID"),
        max_length=255,
        unique=True,
        help_text=_("The same on every try, so a mail program can tell a repeat."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_error = models.CharField(
        _("last error"),
        max_length=200,
        blank=True,
        help_text=_("What the mail server or the network said, never an address."),
    )
    created_at = models.DateTimeField(_("queued at"), auto_now_add=True, db_index=True)
    claimed_at = models.DateTimeField(
        _("claimed at"),
        null=True,
        blank=True,
        help_text=_("When a worker last took the message to send it."),
    )
    handed_over_at = models.DateTimeField(
        _("handed over at"),
        null=True,
        blank=True,
        help_text=_(
            "When the message itself went to the mail server on the latest try (the DATA "
            "phase). Empty: the server never had it, so sending it again cannot repeat it."
        ),
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # Texts: the provider's id of the message (Twilio's MessageSid), which its delivery
    # reports name, and the latest status they gave ("delivered", "undelivered"…).
    provider_id = models.CharField(
        _("provider's message id"), max_length=64, blank=True, db_index=True, db_default=""
    )
    delivery_status = models.CharField(
        _("delivery report"),
        max_length=20,
        blank=True,
        db_default="",
        help_text=_("The latest status the text message provider reported for this message."),
    )

    objects = OutgoingEmailQuerySet.as_manager()

    class Meta:
        verbose_name = _("outgoing email")
        verbose_name_plural = _("outgoing emails")
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("view_outgoingemail_recipient", _("Can see to whom an outgoing email is addressed")),
            ("resend_outgoingemail", _("Can send again a message whose arrival is unknown")),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def has_address(self):
        return any(getattr(self, name) for name in self.ADDRESS_FIELDS)


class SmsOptOut(models.Model):
    """A phone number that texted STOP: no text goes to it until it texts START.

    Kept only as a keyed hash of the number (meetings.phones.opt_out_hash), never the number.
    """

    number_hash = models.CharField(_("number hash"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("opted out at"), auto_now_add=True)

    class Meta:
        verbose_name = _("text message opt-out")
        verbose_name_plural = _("text message opt-outs")

    def __str__(self):
        return gettext("Opt-out #%(number)s") % {"number": self.pk}


class FeedbackAnswer(models.Model):
    """Three optional answers on a 1–5 scale and a comment, after a meeting.

    Anonymous by design: no link to the RSVP, the person or the time of answering (a random
    id, so not even the order of answers can be matched with anything). The RSVP only
    remembers *that* its link was used to answer (`Rsvp.feedback_given`), never which answer.
    """

    SCALE = [(number, str(number)) for number in range(1, 6)]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    meeting = models.ForeignKey(
        Meeting, verbose_name=_("meeting"), related_name="feedback", on_delete=models.CASCADE
    )
    felt_welcome = models.PositiveSmallIntegerField(
        _("felt welcome"), choices=SCALE, null=True, blank=True
    )
    questions_answered = models.PositiveSmallIntegerField(
        _("got questions answered"), choices=SCALE, null=True, blank=True
    )
    would_call_police = models.PositiveSmallIntegerField(
        _("would call the police if needed"), choices=SCALE, null=True, blank=True
    )
    comment = models.TextField(_("comment"), max_length=1000, blank=True)

    QUESTIONS = {
        "felt_welcome": _("Did you feel welcome?"),
        "questions_answered": _("Did you get your questions answered?"),
        "would_call_police": _("Would you call the police if you needed help?"),
    }

    class Meta:
        verbose_name = _("feedback answer")
        verbose_name_plural = _("feedback answers")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(felt_welcome__isnull=True) | Q(felt_welcome__gte=1, felt_welcome__lte=5)
                )
                & (
                    Q(questions_answered__isnull=True)
                    | Q(questions_answered__gte=1, questions_answered__lte=5)
                )
                & (
                    Q(would_call_police__isnull=True)
                    | Q(would_call_police__gte=1, would_call_police__lte=5)
                ),
                name="feedback_answers_on_the_scale",
            )
        ]

    def __str__(self):
        return gettext("Feedback on %(meeting)s") % {"meeting": self.meeting}


class AlertSubscriberQuerySet(models.QuerySet):
    def forget(self, reason: str) -> int:
        """Delete these subscribers with their choices, and erase their address from every
        outbox copy of an alert message (a queued one is withdrawn with `reason`). The one
        place an alert subscription ends: the unsubscribe link, a STOP reply, and a text the
        provider refuses because the number texted STOP (Twilio's 21610) all come here.
        Returns how many subscribers were deleted."""
        addresses = list(self.values_list("address", flat=True))
        if not addresses:
            return 0
        to_them = Q()
        for address in addresses:
            to_them |= Q(recipient__iexact=address)
        OutgoingEmail.objects.filter(to_them, kind__in=AlertSubscriber.MESSAGE_KINDS).withdraw(
            reason
        )
        self.delete()
        return len(addresses)


class AlertSubscriber(models.Model):
    """Someone who asked to hear of new meetings: an email address as typed, or a mobile
    number in E.164, the language to write in, and when the last digest went out. Nothing
    else. Deleted (with its choices) by the one-click unsubscribe; staff see counts only
    (meetings.alerts.counts), never a list: there is no admin list of these rows."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        TEXT = "text", _("Text message")

    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    address = models.CharField(_("email address or mobile number"), max_length=254)
    language = models.CharField(_("language"), max_length=10, choices=language_choices)
    last_digest_at = models.DateTimeField(_("last digest sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    # The outbox rows an alert subscription makes (meetings.alerts).
    MESSAGE_KINDS = (OutgoingEmail.Kind.ALERT_CONFIRMATION, OutgoingEmail.Kind.ALERT_DIGEST)

    objects = AlertSubscriberQuerySet.as_manager()

    class Meta:
        verbose_name = _("alert subscription")
        verbose_name_plural = _("alert subscriptions")
        # No add/change/delete/view permissions: nobody may list these rows, only count them.
        default_permissions = ()
        permissions = [
            ("view_alert_counts", _("Can see how many residents subscribed to alerts")),
        ]
        constraints = [
            models.UniqueConstraint(
                "channel", Lower("address"), name="alert_subscriber_unique_address"
            ),
        ]

    def __str__(self):
        return f"{self.get_channel_display()} #{self.pk}"


class AlertChoice(models.Model):
    """What one subscriber asked to hear of: new meetings held in a language, in an area of
    the city, at a venue, or of a series (exactly one of the four). Pending until confirmed
    (the link in the email, or "YES" to the text)."""

    subscriber = models.ForeignKey(
        AlertSubscriber, related_name="choices", on_delete=models.CASCADE
    )
    held_in = models.CharField(_("held in"), max_length=10, blank=True, choices=language_choices)
    area = models.CharField(_("area of the city"), max_length=100, blank=True)
    venue = models.ForeignKey(
        Venue, verbose_name=_("venue"), null=True, blank=True, on_delete=models.CASCADE
    )
    series = models.ForeignKey(
        MeetingSeries,
        verbose_name=_("series"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("alert choice")
        verbose_name_plural = _("alert choices")
        default_permissions = ()
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(held_in__gt="", area="", venue__isnull=True, series__isnull=True)
                    | Q(held_in="", area__gt="", venue__isnull=True, series__isnull=True)
                    | Q(held_in="", area="", venue__isnull=False, series__isnull=True)
                    | Q(held_in="", area="", venue__isnull=True, series__isnull=False)
                ),
                name="alert_choice_exactly_one",
            ),
        ]

    def __str__(self):
        return f"{_('alert choice')} #{self.pk}"

    def meetings(self, queryset):
        """`queryset` narrowed to the meetings this choice is about."""
        if self.held_in:
            return queryset.in_language(self.held_in)
        if self.area:
            return queryset.filter(venue__area__iexact=self.area)
        if self.venue_id:
            return queryset.filter(venue_id=self.venue_id)
        return queryset.filter(series_id=self.series_id)


class DoorAction(models.Model):
    """One tap at the door (a check-in, its undo, a walk-in), known by the one-time key the
    phone gave it, so a tap sent twice (a double tap, a retry after a lost answer, a queue
    sent again when the signal returns) is applied once. No personal data: the key, what was
    done, to which RSVP, and what came of it."""

    class Kind(models.TextChoices):
        CHECK_IN = "check_in", _("check-in")
        UNDO = "undo", _("undo of a check-in")
        WALK_IN = "walk_in", _("walk-in")

    key = models.UUIDField(_("one-time key"), unique=True, editable=False)
    meeting = models.ForeignKey(
        Meeting, verbose_name=_("meeting"), related_name="door_actions", on_delete=models.CASCADE
    )
    rsvp = models.ForeignKey(
        Rsvp, verbose_name=_("RSVP"), related_name="door_actions", on_delete=models.CASCADE
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    # services.DoorOutcome: what the first sending of this key did.
    outcome = models.CharField(_("outcome"), max_length=20)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("door action")
        verbose_name_plural = _("door actions")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"


class MeetingSeats(models.Model):
    """A meeting's confirmed seats, kept by database triggers on the RSVP table (migration
    `0018_ops2_seat_counter`) in the same transaction as every insert, update or delete of an
    RSVP, whichever code makes it: the seat check under the meeting's row lock
    (`services._confirmed_seats`) reads one row, however many RSVPs the meeting has. The app
    never writes it."""

    meeting = models.OneToOneField(
        Meeting,
        primary_key=True,
        on_delete=models.CASCADE,
        db_constraint=False,
        related_name="+",
    )
    seats = models.IntegerField(default=0)

    def __str__(self):
        return f"{self.seats} seats of meeting #{self.meeting_id}"
