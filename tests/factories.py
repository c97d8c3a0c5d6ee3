"""factory_boy factories: plain, published, upcoming data unless a test asks otherwise."""

import datetime as dt
import hashlib

import factory
from django.utils import timezone

from meetings.models import Meeting, MeetingSeries, Rsvp, Venue


class VenueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Venue

    name = factory.Sequence(lambda n: f"Community Center {n}")
    slug = factory.Sequence(lambda n: f"community-center-{n}")
    street_address = factory.Sequence(lambda n: f"{100 + n} Main Street")
    city = "Dallas"
    state = "TX"
    postal_code = "75201"
    area = "Downtown"
    time_zone = "America/Chicago"


class MeetingSeriesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MeetingSeries

    title = factory.Sequence(lambda n: f"Series {n}")
    slug = factory.Sequence(lambda n: f"series-{n}")


class MeetingFactory(factory.django.DjangoModelFactory):
    """A published meeting a week from now, 90 minutes long, held in English, no capacity."""

    class Meta:
        model = Meeting

    venue = factory.SubFactory(VenueFactory)
    title = factory.Sequence(lambda n: f"Meeting {n}")
    slug = factory.Sequence(lambda n: f"meeting-{n}")
    summary = "A conversation with the police department."
    starts_at = factory.LazyFunction(
        lambda: (timezone.now() + dt.timedelta(days=7)).replace(microsecond=0)
    )
    ends_at = factory.LazyAttribute(lambda meeting: meeting.starts_at + dt.timedelta(minutes=90))
    language = "en"
    status = Meeting.Status.PUBLISHED
    published_at = factory.LazyFunction(timezone.now)
    capacity = None
    rsvp_enabled = True


class RsvpFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rsvp

    meeting = factory.SubFactory(MeetingFactory)
    party_size = 1
    language = "en"
    status = Rsvp.Status.CONFIRMED
    token_hash = factory.Sequence(lambda n: hashlib.sha256(f"test-token-{n}".encode()).hexdigest())
