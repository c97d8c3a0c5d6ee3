"""Load the demo campaign: the February 2025 community sessions with the interim chief.

Every text a resident reads is given in English, Spanish and Vietnamese.

Idempotent: a second run with the same options changes nothing in the database.
"""

import datetime as dt
import hashlib
import hmac
import uuid
import zoneinfo
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from meetings import scheduling
from meetings.models import FeedbackAnswer, Meeting, MeetingSeries, Venue
from meetings.services import (
    RsvpOutcome,
    add_walk_in,
    create_rsvp,
    publish_meeting,
    save_meeting,
)

RECORDED_START = dt.date(2025, 2, 12)  # a Wednesday: the first session at the church
WEDNESDAY = 2

VENUES: list[dict[str, Any]] = [
    {
        "slug": "familia-bethel-internacional",
        "name_en": "Familia Bethel Internacional church",
        "name_es": "Iglesia Familia Bethel Internacional",
        "name_vi": "Nhà thờ Familia Bethel Internacional",
        "street_address": "",
        "area": "West Dallas",
        "accessibility_notes_en": "Step-free entrance from the parking lot. Accessible restrooms.",
        "accessibility_notes_es": "Entrada sin escalones desde el estacionamiento. Baños accesibles.",
        "accessibility_notes_vi": (
            "Lối vào từ bãi đậu xe không có bậc thềm. Có nhà vệ sinh cho người khuyết tật."
        ),
        "directions_notes_en": "Free parking beside the church. Ask at the front door for the hall.",
        "directions_notes_es": (
            "Estacionamiento gratis junto a la iglesia. Pregunte en la puerta principal por el salón."
        ),
        "directions_notes_vi": (
            "Đậu xe miễn phí cạnh nhà thờ. Xin hỏi ở cửa chính để được chỉ đến hội trường."
        ),
    },
    {
        "slug": "sample-oak-cliff-recreation-center",
        "name_en": "Oak Cliff Recreation Center (sample venue)",
        "name_es": "Centro Recreativo de Oak Cliff (lugar de ejemplo)",
        "name_vi": "Trung tâm Giải trí Oak Cliff (địa điểm mẫu)",
        "street_address": "100 Sample Street",
        "postal_code": "75208",
        "area": "Oak Cliff",
        "latitude": Decimal("32.745000"),
        "longitude": Decimal("-96.827000"),
        "accessibility_notes_en": "Ramp at the main entrance; the gym is on the ground floor.",
        "accessibility_notes_es": "Rampa en la entrada principal; el gimnasio está en la planta baja.",
        "accessibility_notes_vi": "Lối vào chính có dốc cho xe lăn; phòng thể dục ở tầng trệt.",
        "directions_notes_en": "Bus stop on the corner. Parking lot behind the building.",
        "directions_notes_es": "Parada de autobús en la esquina. Estacionamiento detrás del edificio.",
        "directions_notes_vi": "Trạm xe buýt ở ngay góc đường. Bãi đậu xe phía sau tòa nhà.",
    },
    {
        "slug": "sample-vickery-meadow-library",
        "name_en": "Vickery Meadow Branch Library (sample venue)",
        "name_es": "Biblioteca de Vickery Meadow (lugar de ejemplo)",
        "name_vi": "Thư viện Chi nhánh Vickery Meadow (địa điểm mẫu)",
        "street_address": "200 Sample Avenue",
        "postal_code": "75231",
        "area": "Vickery Meadow",
        "accessibility_notes_en": "Elevator to the meeting room on the second floor.",
        "accessibility_notes_es": "Elevador a la sala de reuniones del segundo piso.",
        "accessibility_notes_vi": "Có thang máy lên phòng họp ở lầu một (tầng hai).",
        "directions_notes_en": "Five minutes' walk from the light-rail station.",
        "directions_notes_es": "A cinco minutos a pie de la estación del tren ligero.",
        "directions_notes_vi": "Cách ga tàu điện năm phút đi bộ.",
    },
    {
        "slug": "sample-pleasant-grove-community-center",
        "name_en": "Pleasant Grove Community Room (sample venue)",
        "name_es": "Salón Comunitario de Pleasant Grove (lugar de ejemplo)",
        "name_vi": "Phòng Sinh hoạt Cộng đồng Pleasant Grove (địa điểm mẫu)",
        "street_address": "300 Sample Boulevard",
        "postal_code": "75217",
        "area": "Pleasant Grove",
        "accessibility_notes_en": "Small room with step-free access. Limited seating.",
        "accessibility_notes_es": "Salón pequeño con acceso sin escalones. Cupo limitado.",
        "accessibility_notes_vi": "Phòng nhỏ, lối vào không có bậc thềm. Số chỗ ngồi có hạn.",
        "directions_notes_en": "Street parking only.",
        "directions_notes_es": "Solo hay estacionamiento en la calle.",
        "directions_notes_vi": "Chỉ có chỗ đậu xe dọc bên đường.",
    },
    {
        "slug": "sample-northwest-dallas-school",
        "name_en": "Northwest Dallas Elementary gym (sample venue)",
        "name_es": "Gimnasio de la Primaria de Northwest Dallas (lugar de ejemplo)",
        "name_vi": "Phòng thể dục Trường Tiểu học Northwest Dallas (địa điểm mẫu)",
        "street_address": "400 Sample Road",
        "postal_code": "75220",
        "area": "Northwest Dallas",
        "accessibility_notes_en": "Enter through the gym doors on the east side; no steps.",
        "accessibility_notes_es": "Entre por las puertas del gimnasio del lado este; sin escalones.",
        "accessibility_notes_vi": "Vào bằng cửa phòng thể dục phía đông; không có bậc thềm.",
        "directions_notes_en": "Parking in the school lot after 5 p.m.",
        "directions_notes_es": "Estacionamiento en la escuela después de las 5 p.m.",
        "directions_notes_vi": "Sau 5 giờ chiều có thể đậu xe trong bãi của trường.",
    },
]

SERIES: dict[str, Any] = {
    "slug": "community-sessions-with-the-chief",
    "title_en": "Community sessions with the Interim Chief",
    "title_es": "Sesiones comunitarias con el jefe de policía interino",
    "title_vi": "Gặp gỡ cộng đồng cùng Quyền Cảnh sát trưởng",
    "description_en": (
        "The interim chief of police is meeting residents across the city to say plainly: "
        "the department does not take part in immigration raids, and you can call 911 "
        "without fear. Come with your questions."
    ),
    "description_es": (
        "El jefe de policía interino se reúne con residentes en toda la ciudad para decir "
        "claramente: el departamento no participa en redadas de inmigración y usted puede "
        "llamar al 911 sin miedo. Venga con sus preguntas."
    ),
    "description_vi": (
        "Quyền Cảnh sát trưởng đang đi gặp cư dân khắp thành phố để nói rõ: sở cảnh sát "
        "không tham gia các cuộc bố ráp di trú, và quý vị có thể gọi 911 mà không phải lo sợ. "
        "Xin mời quý vị đến và mang theo câu hỏi của mình."
    ),
}

HOST: dict[str, Any] = {
    "host_en": "Interim Chief of Police",
    "host_es": "Jefe de Policía interino",
    "host_vi": "Quyền Cảnh sát trưởng",
}

# day: days after the first Wednesday; times are local wall-clock times.
MEETINGS: list[dict[str, Any]] = [
    {
        "slug": "community-conversation-familia-bethel",
        "venue": "familia-bethel-internacional",
        "day": 0,
        "start": (18, 30),
        "end": (20, 0),
        "language": "es",
        "interpretation_languages": ["en"],
        "capacity": 150,
        "title_en": "Community conversation with the Interim Chief",
        "title_es": "Conversación comunitaria con el jefe de policía interino",
        "title_vi": "Trò chuyện cộng đồng cùng Quyền Cảnh sát trưởng",
        "summary_en": "Spanish-language session: the police do not take part in deportation raids.",
        "summary_es": "Sesión en español: la policía no participa en redadas de deportación.",
        "summary_vi": (
            "Buổi họp bằng tiếng Tây Ban Nha: cảnh sát không tham gia các cuộc bố ráp trục xuất."
        ),
        "description_en": (
            "The interim chief of police hosts the first session of the series at the church. "
            "Hear what the department does and does not do, why calling 911 is safe whatever "
            "your immigration status, and ask your own questions."
        ),
        "description_es": (
            "El jefe de policía interino encabeza la primera sesión de la serie en la iglesia. "
            "Escuche lo que el departamento hace y no hace, por qué llamar al 911 es seguro sin "
            "importar su situación migratoria, y haga sus propias preguntas."
        ),
        "description_vi": (
            "Quyền Cảnh sát trưởng chủ trì buổi đầu tiên của chuỗi gặp gỡ tại nhà thờ. "
            "Quý vị sẽ được nghe sở cảnh sát làm gì và không làm gì, vì sao gọi 911 là an toàn "
            "bất kể tình trạng di trú, và có thể hỏi bất cứ điều gì quý vị thắc mắc."
        ),
    },
    {
        "slug": "vickery-meadow-safety-questions",
        "venue": "sample-vickery-meadow-library",
        "day": 1,
        "start": (18, 0),
        "end": (19, 30),
        "language": "en",
        "interpretation_languages": ["es"],
        "capacity": 60,
        "title_en": "Your questions about public safety",
        "title_es": "Sus preguntas sobre la seguridad pública",
        "title_vi": "Giải đáp thắc mắc của quý vị về an toàn công cộng",
        "summary_en": "Held in English with Spanish interpretation.",
        "summary_es": "En inglés, con interpretación en español.",
        "summary_vi": "Tổ chức bằng tiếng Anh, có phiên dịch sang tiếng Tây Ban Nha.",
    },
    {
        "slug": "oak-cliff-saturday-session",
        "venue": "sample-oak-cliff-recreation-center",
        "day": 3,
        "start": (10, 0),
        "end": (11, 30),
        "language": "es",
        "interpretation_languages": [],
        "capacity": 120,
        "title_en": "Saturday morning session in Oak Cliff",
        "title_es": "Sesión del sábado por la mañana en Oak Cliff",
        "title_vi": "Buổi gặp gỡ sáng thứ Bảy tại Oak Cliff",
        "summary_en": "Families welcome; activities for children during the talk.",
        "summary_es": "Las familias son bienvenidas; habrá actividades para niños durante la charla.",
        "summary_vi": "Hoan nghênh cả gia đình; có hoạt động cho trẻ em trong lúc trò chuyện.",
    },
    {
        "slug": "pleasant-grove-small-group",
        "venue": "sample-pleasant-grove-community-center",
        "day": 5,
        "start": (18, 30),
        "end": (20, 0),
        "language": "es",
        "interpretation_languages": [],
        "capacity": 12,
        "title_en": "Small-group conversation in Pleasant Grove",
        "title_es": "Conversación en grupo pequeño en Pleasant Grove",
        "title_vi": "Trò chuyện nhóm nhỏ tại Pleasant Grove",
        "summary_en": "A small room for a close conversation: seats are few.",
        "summary_es": "Un salón pequeño para una conversación más cercana: hay pocos espacios.",
        "summary_vi": "Phòng nhỏ để trò chuyện gần gũi: chỉ có ít chỗ.",
    },
    {
        "slug": "northwest-dallas-town-hall",
        "venue": "sample-northwest-dallas-school",
        "day": 6,
        "start": (18, 0),
        "end": (19, 30),
        "language": "en",
        "interpretation_languages": ["es", "vi"],
        "capacity": 200,
        "title_en": "Town hall in Northwest Dallas",
        "title_es": "Asamblea comunitaria en Northwest Dallas",
        "title_vi": "Họp cộng đồng tại Northwest Dallas",
        "summary_en": "Held in English with Spanish and Vietnamese interpretation.",
        "summary_es": "En inglés, con interpretación en español y vietnamita.",
        "summary_vi": "Tổ chức bằng tiếng Anh, có phiên dịch sang tiếng Tây Ban Nha và tiếng Việt.",
    },
    {
        "slug": "closing-session-familia-bethel",
        "venue": "familia-bethel-internacional",
        "day": 8,
        "start": (18, 30),
        "end": (20, 0),
        "language": "es",
        "interpretation_languages": [],
        "capacity": None,
        "rsvp_enabled": False,
        "title_en": "Closing session: what we heard",
        "title_es": "Sesión de cierre: lo que escuchamos",
        "title_vi": "Buổi tổng kết: những gì chúng tôi đã lắng nghe",
        "summary_en": "The chief reports back on what residents asked. No RSVP needed.",
        "summary_es": "El jefe comparte lo que preguntaron los residentes. No hace falta reservar.",
        "summary_vi": "Quyền Cảnh sát trưởng chia sẻ lại những điều cư dân đã hỏi. Không cần đăng ký.",
    },
]

# The small meeting fills up: its 12 seats go to the first four parties, the last two wait.
FULL_MEETING = "pleasant-grove-small-group"
FULL_MEETING_PARTIES = [4, 3, 2, 3, 2, 1]
# The first parties gave a mobile number (555-01XX numbers are reserved for fiction): their
# confirmations show as texts in `make run`'s terminal (SMS_URL=console://).
FULL_MEETING_PHONES = ["+12145550101", "+12145550102"]
DEMO_NAMESPACE = uuid.UUID("5d7c1a52-8f0e-4a51-9d4c-6f1b2e3a4c5d")

# A session that already took place, two weeks before the campaign: (party size, language,
# came to the door) per RSVP, then anonymous feedback (felt welcome, questions answered,
# would call the police), each 1 to 5.
PAST_MEETING = {
    "slug": "kickoff-listening-session-familia-bethel",
    "title_en": "Kickoff listening session",
    "title_es": "Sesión inicial para escuchar a la comunidad",
    "title_vi": "Buổi lắng nghe đầu tiên",
    "summary_en": "The first session at the church: what residents asked, and what we answered.",
    "summary_es": "La primera sesión en la iglesia: lo que preguntaron los residentes y lo que respondimos.",
    "summary_vi": "Buổi đầu tiên tại nhà thờ: cư dân đã hỏi gì và chúng tôi đã trả lời ra sao.",
    "language": "es",
    "interpretation_languages": ["en", "vi"],
}
PAST_PARTIES = [
    (3, "es", True),
    (2, "es", True),
    (4, "es", False),
    (1, "vi", True),
    (2, "en", True),
    (5, "es", True),
    (2, "vi", False),
]
PAST_FEEDBACK = [(5, 4, 4), (5, 5, 5), (4, 3, 3), (5, 4, None), (3, 3, 2)]

# A second series, its dates generated from a pattern (every Saturday, four times).
OFFICE_HOURS = {
    "slug": "saturday-office-hours-vickery-meadow",
    "title_en": "Saturday office hours at the library",
    "title_es": "Horario de atención los sábados en la biblioteca",
    "title_vi": "Gặp gỡ cảnh sát khu vực vào thứ Bảy tại thư viện",
    "description_en": "Drop in with a question for the neighbourhood officers. In Vietnamese.",
    "description_es": "Pase con una pregunta para los agentes del barrio. En vietnamita.",
    "description_vi": "Ghé qua để hỏi các cảnh sát khu vực. Bằng tiếng Việt.",
}

# Demo staff users, one per role (development databases only).
DEMO_STAFF = [
    ("demo-coordinator", "Outreach coordinators"),
    ("demo-volunteer", "Door volunteers"),
    ("demo-viewer", "Viewers"),
]

# What load_demo says on a production database (DEBUG off), where it makes no staff user.
_ROLE_COMMAND = (
    '  python manage.py shell -c "from django.contrib.auth.models import Group, User; '
    "User.objects.create_user('NAME', is_staff=True).groups.add(Group.objects.get(name='{role}'))\""
)
PRODUCTION_STAFF_HELP = "\n".join(
    [
        "No demo staff users on a production database. The first staff user:",
        "  python manage.py createsuperuser",
        "Then one per person, in its role (NAME: their user name), and a password they type:",
        *[_ROLE_COMMAND.format(role=role) for _username, role in DEMO_STAFF],
        "  python manage.py changepassword NAME",
        "Or in the admin: Users, Add, tick 'Staff status', and pick the role under Groups.",
    ]
)


def coming_wednesday(today):
    """The next Wednesday after today, so every demo meeting is still ahead."""
    days = (WEDNESDAY - today.weekday()) % 7 or 7
    return today + dt.timedelta(days=days)


def sync(model, lookup, values, *, save=None):
    """Create or update one row, saving only when a value differs (so reruns change nothing).

    `save(obj)` saves it, `obj.save()` when not given.
    """
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **values)
    else:
        changed = [name for name, value in values.items() if getattr(obj, name) != value]
        if not changed:
            return obj, False
        for name in changed:
            setattr(obj, name, values[name])
    if save is None:
        obj.save()
    else:
        save(obj)
    return obj, True


class Command(BaseCommand):
    help = "Create or refresh the demo outreach campaign (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--as-recorded",
            action="store_true",
            help="Use the real dates, Wednesday 2025-02-12 through 2025-02-20, "
            "instead of starting on the coming Wednesday.",
        )

    @transaction.atomic
    def handle(self, *args, as_recorded=False, **options):
        tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        first_day = RECORDED_START if as_recorded else coming_wednesday(timezone.localdate())
        changes = 0

        venues = {}
        for data in VENUES:
            values = {key: value for key, value in data.items() if key != "slug"}
            values.setdefault("time_zone", settings.TIME_ZONE)
            venue, changed = sync(Venue, {"slug": data["slug"]}, values)
            venues[venue.slug] = venue
            changes += changed
        series, changed = sync(
            MeetingSeries,
            {"slug": SERIES["slug"]},
            {key: value for key, value in SERIES.items() if key != "slug"},
        )
        changes += changed

        for data in MEETINGS:
            day = first_day + dt.timedelta(days=data["day"])
            values = {
                key: value
                for key, value in data.items()
                if key not in ("slug", "venue", "day", "start", "end")
            }
            values.update(
                HOST,
                series=series,
                venue=venues[data["venue"]],
                starts_at=dt.datetime.combine(day, dt.time(*data["start"]), tz),
                ends_at=dt.datetime.combine(day, dt.time(*data["end"]), tz),
                status=Meeting.Status.PUBLISHED,
            )
            values.setdefault("rsvp_enabled", True)
            # Through the same path as the admin: a moved meeting tells its RSVPs.
            meeting, changed = sync(
                Meeting,
                {"slug": data["slug"]},
                values,
                save=lambda meeting: save_meeting(meeting=meeting),
            )
            changes += changed

        # Through the same service as the site; each party's fixed submission key makes a
        # second run find it ("already sent") instead of adding it again.
        meeting = Meeting.objects.get(slug=FULL_MEETING)
        for number, party_size in enumerate(FULL_MEETING_PARTIES, start=1):
            result = create_rsvp(
                meeting=meeting,
                party_size=party_size,
                language="es",
                phone=FULL_MEETING_PHONES[number - 1] if number <= len(FULL_MEETING_PHONES) else "",
                submission_key=uuid.uuid5(DEMO_NAMESPACE, f"{FULL_MEETING}:{number}"),
                staff=True,
            )
            changes += result.outcome != RsvpOutcome.ALREADY_SENT

        changes += self.load_past_meeting(series, venues, first_day, tz)
        changes += self.load_generated_series(venues, first_day)
        self.load_staff()

        start_text = first_day.isoformat()
        self.stdout.write(
            f"Demo campaign starting {start_text}: {len(MEETINGS)} meetings at "
            f"{len(VENUES)} venues; {changes} rows created or updated."
        )

    def load_past_meeting(self, series, venues, first_day, tz):
        """A session two weeks back, as staff would have run it: RSVPs, check-ins at the door,
        walk-ins and anonymous feedback, so "How it went" has something to show."""
        day = first_day - dt.timedelta(days=14)
        meeting, changed = sync(
            Meeting,
            {"slug": PAST_MEETING["slug"]},
            {
                **{key: value for key, value in PAST_MEETING.items() if key != "slug"},
                **HOST,
                "series": series,
                "venue": venues["familia-bethel-internacional"],
                "starts_at": dt.datetime.combine(day, dt.time(18, 30), tz),
                "ends_at": dt.datetime.combine(day, dt.time(20, 0), tz),
                "status": Meeting.Status.PUBLISHED,
                "capacity": 60,
            },
            save=lambda meeting: save_meeting(meeting=meeting),
        )
        if meeting.rsvps.exists():  # already loaded: nothing to add
            return changed
        for number, (size, language, arrived) in enumerate(PAST_PARTIES, start=1):
            rsvp = create_rsvp(
                meeting=meeting,
                party_size=size,
                language=language,
                needs_interpretation="en" if language == "vi" else "",
                submission_key=uuid.uuid5(DEMO_NAMESPACE, f"past:{number}"),
                staff=True,
            ).rsvp
            if arrived:
                rsvp.check_in()
        for number, (size, language) in enumerate([(3, "es"), (2, "es"), (1, "vi")], start=1):
            add_walk_in(
                meeting=meeting,
                key=uuid.uuid5(DEMO_NAMESPACE, f"walk-in:{meeting.pk}:{number}"),
                party_size=size,
                language=language,
            )
        for welcome, answered, would_call in PAST_FEEDBACK:
            FeedbackAnswer.objects.create(
                meeting=meeting,
                felt_welcome=welcome,
                questions_answered=answered,
                would_call_police=would_call,
            )
        return True

    def load_generated_series(self, venues, first_day):
        """A second series whose dates a coordinator generated from a pattern (Saturdays)."""
        series, changed = sync(
            MeetingSeries,
            {"slug": OFFICE_HOURS["slug"]},
            {key: value for key, value in OFFICE_HOURS.items() if key != "slug"},
        )
        if series.meetings.exists():
            return changed
        venue = venues["sample-vickery-meadow-library"]
        days = scheduling.pattern_dates(
            start=first_day + dt.timedelta(days=1), weekdays={5}, every_weeks=1, count=4
        )
        planned = scheduling.plan(
            venue=venue, days=days, start_time=dt.time(11, 0), end_time=dt.time(12, 0)
        )
        meetings = scheduling.generate_meetings(
            series=series,
            planned=planned,
            venue=venue,
            language="vi",
            interpretation_languages=["en", "es"],
            capacity=30,
        )
        for meeting in meetings:
            for code, _name in settings.LANGUAGES:
                setattr(meeting, f"summary_{code}", OFFICE_HOURS[f"description_{code}"])
            meeting.save()
            publish_meeting(meeting=meeting)
        return True

    def load_staff(self):
        """One demo user per staff role, on a development database only (DEBUG on), with a
        password derived from the development SECRET_KEY and printed here."""
        if not settings.DEBUG:
            self.stdout.write(PRODUCTION_STAFF_HELP)
            return
        from django.contrib.auth.models import Group, User

        lines = []
        for username, role in DEMO_STAFF:
            password = hmac.new(
                settings.SECRET_KEY.encode(), username.encode(), hashlib.sha256
            ).hexdigest()[:16]
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User.objects.create_user(username, is_staff=True, password=password)
            elif not user.check_password(password):
                user.set_password(password)
                user.save(update_fields=["password"])
            user.groups.add(Group.objects.get(name=role))
            lines.append(f"  {username} / {password}  ({role})")
        self.stdout.write("Demo staff at /admin/ (development database only):\n" + "\n".join(lines))
