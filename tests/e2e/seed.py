"""Meetings a test needs of its own, created through manage.py in the server's database.

The tests never import the app's models in-process: the browser and the server are the
only way in, as for a resident. Each meeting gets its own venue in an area of its own, weeks
after the demo campaign, so it never changes what the listing tests see.
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
starts = timezone.now().replace(hour=23, minute=0, second=0, microsecond=0) + dt.timedelta(days=spec["days"])
Meeting.objects.create(
    slug=spec["slug"], venue=venue, starts_at=starts, ends_at=starts + dt.timedelta(hours=1),
    title_en=spec["title"]["en"], title_es=spec["title"]["es"], title_vi=spec["title"]["vi"],
    language="en", capacity=spec["capacity"], status=Meeting.Status.PUBLISHED,
    published_at=timezone.now(),
)
"""


def meeting(app, *, capacity, name="meeting"):
    """A published meeting taking RSVPs; returns its slug and its title in each language."""
    number = next(_numbers)
    slug = f"e2e-{name}-{number}"
    title = {
        "en": f"Test {name} {number}",
        "es": f"Prueba {name} {number}",
        "vi": f"Thử {name} {number}",
    }
    spec = json.dumps({"slug": slug, "title": title, "capacity": capacity, "days": 40 + number})
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
