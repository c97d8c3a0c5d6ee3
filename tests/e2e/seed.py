"""Meetings a test needs of its own, created through manage.py in the server's database.

The tests never import the app's models in-process: the browser and the server are the
only way in, as for a resident. The meetings share one venue, "Test Hall" (slug e2e-hall), in
an area of its own ("Testville"), so they never change what the listing tests see of the demo
campaign; a test that reads a venue's page or filters by area sees all of them.
"""

import itertools
import json

_numbers = itertools.count(1)

_CREATE = """
import datetime as dt, json
from django.utils import timezone
from meetings.models import Meeting, Venue
spec = json.loads({spec!r})
venue, _ = Venue.objects.get_or_create(
    slug="e2e-hall",
    defaults=dict(name_en="Test Hall", name_es="Salón de prueba", name_vi="Hội trường thử",
                  street_address="1 Test Street", area="Testville"),
)
if spec.get("hours"):
    starts = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(hours=spec["hours"])
else:
    starts = timezone.now().replace(hour=23, minute=0, second=0, microsecond=0) + dt.timedelta(days=spec["days"])
Meeting.objects.create(
    slug=spec["slug"], venue=venue, starts_at=starts, ends_at=starts + dt.timedelta(hours=1),
    title_en=spec["title"]["en"], title_es=spec["title"]["es"], title_vi=spec["title"]["vi"],
    language="en", capacity=spec["capacity"], status=Meeting.Status.PUBLISHED,
    published_at=timezone.now(),
)
"""


def meeting(app, *, capacity, name="meeting", days=None, hours=None):
    """A published meeting taking RSVPs, at 23:00 UTC `days` from today (weeks ahead unless
    told), or `hours` from now (e.g. within the reminder window); returns its slug and its
    title in each language."""
    number = next(_numbers)
    slug = f"e2e-{name}-{number}"
    title = {
        "en": f"Test {name} {number}",
        "es": f"Prueba {name} {number}",
        "vi": f"Thử {name} {number}",
    }
    spec = json.dumps(
        {
            "slug": slug,
            "title": title,
            "capacity": capacity,
            "days": 40 + number if days is None else days,
            "hours": hours,
        }
    )
    app.manage("shell", "-c", _CREATE.format(spec=spec))
    return slug, title


def staff_user(app, username="staff", password="e2e-staff-password-9431"):  # noqa: S107
    """A superuser for the admin tests (created once)."""
    code = (
        "from django.contrib.auth import get_user_model\n"
        f"User = get_user_model()\n"
        f"if not User.objects.filter(username={username!r}).exists():\n"
        f"    User.objects.create_superuser({username!r}, 'staff@example.org', {password!r})\n"
    )
    app.manage("shell", "-c", code)
    return username, password


def series(app, *, tag):
    """A series with its title in the three languages; returns its slug and titles."""
    slug = f"e2e-series-{tag}"
    title = {"en": f"Sessions {tag}", "es": f"Sesiones {tag}", "vi": f"Buổi họp {tag}"}
    code = (
        "from meetings.models import MeetingSeries\n"
        f"MeetingSeries.objects.get_or_create(slug={slug!r}, defaults=dict("
        f"title_en={title['en']!r}, title_es={title['es']!r}, title_vi={title['vi']!r}))\n"
    )
    app.manage("shell", "-c", code)
    return slug, title


def role_user(app, role, username):
    """A staff member (not a superuser) in one of the roles the migration creates."""
    password = f"e2e-{username}-password-5817"
    code = (
        "from django.contrib.auth.models import Group, User\n"
        f"user, created = User.objects.get_or_create(username={username!r}, defaults=dict(is_staff=True))\n"
        f"user.set_password({password!r}); user.save()\n"
        f"user.groups.add(Group.objects.get(name={role!r}))\n"
    )
    app.manage("shell", "-c", code)
    return username, password


def rsvp(app, slug, *, first_name, email="", phone="", party_size=2):
    """An RSVP to the meeting `slug`, made through the service (as a phone-in would be)."""
    code = (
        "from meetings.models import Meeting\n"
        "from meetings.services import create_rsvp\n"
        f"create_rsvp(meeting=Meeting.objects.get(slug={slug!r}), party_size={party_size}, language='es', "
        f"first_name={first_name!r}, email={email!r}, phone={phone!r}, staff=True)\n"
    )
    app.manage("shell", "-c", code)
