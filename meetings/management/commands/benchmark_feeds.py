"""Time the all-meetings calendar feed against the floor: icalendar serializing alone.

Works in a transaction it rolls back: it sets aside the meetings already there, creates its
own, measures, and leaves the database as it was. Meant for a development database: while
it runs, the meetings table is locked for other writers.
"""

import datetime as dt
import statistics
import time
import tracemalloc
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone, translation

from meetings import ical, views
from meetings.feeds import CalendarFeed
from meetings.models import Meeting, MeetingSeries, Rsvp, Venue

TARGET_RATIO = 1.5


class Rollback(Exception):
    pass


class Command(BaseCommand):
    help = (
        "Build the all-meetings iCalendar feed for many meetings and report the median time "
        "and peak memory beside the floor: icalendar serializing the same prepared events."
    )

    def add_arguments(self, parser):
        parser.add_argument("--meetings", type=int, default=1000)
        parser.add_argument("--runs", type=int, default=7)
        parser.add_argument("--language", default="es")

    def handle(self, *args, meetings, runs, language, **options):
        try:
            with transaction.atomic():
                self.create_meetings(meetings)
                with translation.override(language):
                    report = self.measure(meetings, runs)
                raise Rollback
        except Rollback:
            pass
        self.stdout.write(report)

    def create_meetings(self, count):
        # Only this command's meetings in the feed (all rolled back afterwards).
        Rsvp.objects.all().delete()
        Meeting.objects.all().delete()
        venues = Venue.objects.bulk_create(
            Venue(
                name_en=f"Benchmark Community Center {n}",
                name_es=f"Centro comunitario de prueba {n}",
                name_vi=f"Trung tâm cộng đồng thử nghiệm {n}",
                slug=f"benchmark-venue-{n}",
                street_address=f"{100 + n} Sample Street",
                postal_code="75201",
                latitude=Decimal("32.780000") if n % 2 else None,
                longitude=Decimal("-96.800000") if n % 2 else None,
                accessibility_notes_en="Step-free entrance; accessible restrooms.",
                accessibility_notes_es="Entrada sin escalones; baños accesibles.",
                time_zone="America/Chicago",
            )
            for n in range(10)
        )
        series = MeetingSeries.objects.bulk_create(
            MeetingSeries(
                title_en=f"Benchmark series {n}",
                title_es=f"Serie de prueba {n}",
                slug=f"benchmark-series-{n}",
            )
            for n in range(3)
        )
        now = timezone.now().replace(minute=0, second=0, microsecond=0)
        Meeting.objects.bulk_create(
            Meeting(
                venue=venues[n % len(venues)],
                series=series[n % len(series)] if n % 4 else None,
                slug=f"benchmark-meeting-{n}",
                title_en=f"Community conversation with the police chief, number {n}",
                title_es=f"Conversación comunitaria con el jefe de policía, número {n}",
                title_vi=f"Trò chuyện cộng đồng với cảnh sát trưởng, số {n}",
                summary_en="Questions, answers and coffee; families welcome.",
                summary_es="Preguntas, respuestas y café; familias bienvenidas.",
                summary_vi="Hỏi đáp và cà phê; gia đình được chào đón.",
                host_en="Interim Chief of Police",
                host_es="Jefe de Policía interino",
                starts_at=now + dt.timedelta(hours=17 * n - 24 * 60),
                ends_at=now + dt.timedelta(hours=17 * n - 24 * 60, minutes=90),
                language=["en", "es", "vi"][n % 3],
                interpretation_languages=[["es"], ["en"], ["en", "es"]][n % 3],
                status=Meeting.Status.CANCELLED if n % 25 == 0 else Meeting.Status.PUBLISHED,
                published_at=now,
                sequence=n % 3,
            )
            for n in range(count)
        )

    def measure(self, count, runs):
        factory = RequestFactory()
        path = reverse("meetings:feed-all")

        def build_feed():
            response = views.meetings_feed(factory.get(path))
            assert response.status_code == 200
            return response.content

        etag = views.meetings_feed(factory.get(path))["ETag"]

        def not_modified():
            response = views.meetings_feed(factory.get(path, HTTP_IF_NONE_MATCH=etag))
            assert response.status_code == 304

        feed = CalendarFeed.for_all()
        prepared = ical.build_calendar(
            ical.calendar_meetings(Meeting.objects.in_feed_window().order_by("starts_at", "pk")),
            name=feed.name,
            description=feed.description,
        )

        def floor():
            return ical.calendar_bytes(prepared)

        assert len(prepared.walk("VEVENT")) == count
        build_feed()  # warm up: translations, URL resolver, VTIMEZONE cache
        feed_times, floor_times, not_modified_times = [], [], []
        for _ in range(runs):  # interleaved, so both see the same machine
            feed_times.append(_timed(build_feed))
            floor_times.append(_timed(floor))
            not_modified_times.append(_timed(not_modified))
        feed_peak, size = _peak_memory(build_feed)
        floor_peak, _size = _peak_memory(floor)

        feed_median = statistics.median(feed_times)
        floor_median = statistics.median(floor_times)
        ratio = feed_median / floor_median
        verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
        return "\n".join(
            [
                f"All-meetings feed, {count} meetings, {size / 1024:.0f} KiB, median of {runs} runs:",
                f"  feed (request to bytes):    {feed_median * 1000:7.1f} ms, "
                f"peak memory {feed_peak / 2**20:5.1f} MiB",
                f"  floor (icalendar to_ical):  {floor_median * 1000:7.1f} ms, "
                f"peak memory {floor_peak / 2**20:5.1f} MiB",
                f"  ratio {ratio:.2f}x: {verdict} the target of at most {TARGET_RATIO}x the floor",
                f"  conditional request answered 304: "
                f"{statistics.median(not_modified_times) * 1000:.1f} ms",
            ]
        )


def _timed(function):
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def _peak_memory(function):
    tracemalloc.start()
    try:
        result = function()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, len(result)
