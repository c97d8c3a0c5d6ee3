"""The data: venues, series, meetings and RSVPs in bulk, and the signed one-time form keys
the RSVP posts carry."""

import datetime as dt
import hashlib
import random
import urllib.error
import urllib.parse
import urllib.request
import zoneinfo
from decimal import Decimal
from pathlib import Path

from .config import BIG_SERIES_DATES, MEETINGS, RSVPS, VENUES

# Seeding -----------------------------------------------------------------------------------

AREAS = [
    "Oak Cliff",
    "West Dallas",
    "Vickery Meadow",
    "Pleasant Grove",
    "Bachman Lake",
    "Lake Highlands",
    "Old East Dallas",
    "South Dallas",
    "Northwest Dallas",
    "Far North Dallas",
]
# (English, Spanish, Vietnamese): the venue kind; its name is built around the area.
VENUE_KINDS = [
    ("{area} Recreation Center", "Centro Recreativo de {area}", "Trung tâm Giải trí {area}"),
    ("{area} Branch Library", "Biblioteca de {area}", "Thư viện Chi nhánh {area}"),
    ("{area} Community Room", "Salón Comunitario de {area}", "Phòng Sinh hoạt Cộng đồng {area}"),
    ("{area} Church Hall", "Salón parroquial de {area}", "Hội trường Nhà thờ {area}"),
    (
        "{area} Elementary School Cafeteria",
        "Cafetería de la Escuela Primaria de {area}",
        "Căng-tin Trường Tiểu học {area}",
    ),
]
TOPICS = [
    (
        (
            "Community meeting with the police chief",
            "Reunión comunitaria con el jefe de policía",
            "Họp cộng đồng với cảnh sát trưởng",
        ),
        (
            "Questions and answers with the chief; families welcome.",
            "Preguntas y respuestas con el jefe; familias bienvenidas.",
            "Hỏi đáp với cảnh sát trưởng; gia đình được chào đón.",
        ),
    ),
    (
        (
            "Know your rights when you talk with officers",
            "Conozca sus derechos al hablar con los agentes",
            "Biết quyền của bạn khi nói chuyện với cảnh sát",
        ),
        (
            "What officers may ask, and what you never have to answer.",
            "Lo que los agentes pueden preguntar y lo que nunca tiene que responder.",
            "Cảnh sát có thể hỏi gì, và điều gì bạn không bao giờ phải trả lời.",
        ),
    ),
    (
        (
            "Reporting a crime without fear",
            "Denunciar un delito sin miedo",
            "Báo cáo tội phạm mà không sợ hãi",
        ),
        (
            "How to report, with or without your name; interpreters present.",
            "Cómo denunciar, con o sin su nombre; habrá intérpretes.",
            "Cách báo cáo, có hoặc không cần tên; có thông dịch viên.",
        ),
    ),
    (
        ("Scam and fraud prevention", "Prevención de estafas y fraudes", "Phòng chống lừa đảo"),
        (
            "Phone, notario and rental scams, and where to get help.",
            "Estafas por teléfono, de notarios y de alquiler, y dónde pedir ayuda.",
            "Lừa đảo qua điện thoại, công chứng và thuê nhà, và nơi tìm trợ giúp.",
        ),
    ),
    (
        (
            "Neighborhood safety walk",
            "Caminata de seguridad en el vecindario",
            "Đi bộ an toàn khu phố",
        ),
        (
            "Walk the neighborhood with officers and point out what needs fixing.",
            "Recorra el vecindario con los agentes y señale lo que hay que arreglar.",
            "Đi quanh khu phố cùng cảnh sát và chỉ ra những gì cần sửa.",
        ),
    ),
    (
        (
            "Youth and family night",
            "Noche de jóvenes y familias",
            "Đêm thanh thiếu niên và gia đình",
        ),
        (
            "Games, food and a conversation about school safety.",
            "Juegos, comida y una conversación sobre la seguridad escolar.",
            "Trò chơi, đồ ăn và trò chuyện về an toàn học đường.",
        ),
    ),
    (
        (
            "Traffic safety and your car",
            "Seguridad vial y su auto",
            "An toàn giao thông và xe của bạn",
        ),
        (
            "Traffic stops, car seats and what to carry with you.",
            "Paradas de tráfico, asientos infantiles y qué llevar consigo.",
            "Khi bị dừng xe, ghế ngồi trẻ em và giấy tờ cần mang theo.",
        ),
    ),
    (
        (
            "Domestic violence: help is confidential",
            "Violencia doméstica: la ayuda es confidencial",
            "Bạo lực gia đình: sự trợ giúp được giữ kín",
        ),
        (
            "Advocates and officers explain the help available, in confidence.",
            "Defensores y agentes explican la ayuda disponible, con confidencialidad.",
            "Người hỗ trợ và cảnh sát giải thích sự trợ giúp hiện có, một cách kín đáo.",
        ),
    ),
]
DESCRIPTION = (
    "Come as you are: no ID is asked for at the door, and nobody's immigration status is "
    "discussed or recorded. Officers from the Community Affairs unit answer questions, listen "
    "to concerns and explain how to reach them. Light refreshments; children are welcome.",
    "Venga tal como es: no se pide identificación en la puerta y no se habla ni se anota la "
    "situación migratoria de nadie. Agentes de la unidad de Asuntos Comunitarios responden "
    "preguntas, escuchan sus inquietudes y explican cómo comunicarse con ellos. Habrá un "
    "refrigerio; los niños son bienvenidos.",
    "Xin cứ đến: không cần xuất trình giấy tờ tùy thân ở cửa, và không ai hỏi hay ghi lại tình "
    "trạng di trú của bất kỳ ai. Cảnh sát thuộc đơn vị Cộng đồng sẽ trả lời câu hỏi, lắng nghe "
    "và hướng dẫn cách liên lạc. Có đồ ăn nhẹ; trẻ em được chào đón.",
)
HOSTS = [
    ("Interim Chief of Police", "Jefe de Policía interino", "Quyền Cảnh sát trưởng"),
    ("Community Affairs Unit", "Unidad de Asuntos Comunitarios", "Đơn vị Cộng đồng"),
    (
        "Patrol Division commander",
        "Comandante de la División de Patrulla",
        "Chỉ huy Phân khu Tuần tra",
    ),
]
# (English title, Spanish, Vietnamese, number of dates, days between dates)
SERIES = [
    (
        "Coffee with the chief",
        "Café con el jefe",
        "Cà phê với cảnh sát trưởng",
        BIG_SERIES_DATES,
        3,
    ),
    ("Know your rights", "Conozca sus derechos", "Biết quyền của bạn", 24, 7),
    ("Safe neighborhoods", "Vecindarios seguros", "Khu phố an toàn", 16, 10),
    ("Youth nights", "Noches de jóvenes", "Đêm thanh thiếu niên", 12, 14),
    (
        "Small business watch",
        "Vigilancia para pequeños negocios",
        "Canh phòng cho tiểu thương",
        8,
        21,
    ),
    ("Senior safety", "Seguridad para mayores", "An toàn cho người cao tuổi", 6, 28),
]
CAPACITIES = [None, 120, 150, 200, 250, 300, 400, 500, 200, 150, 250, 300, 60, 80]
FIRST_NAMES = ["María", "José", "Lan", "Minh", "Guadalupe", "Tuấn", "Ana", "Carlos", "Hương", ""]
FIRST_DAY = -120  # meetings run from four months ago (the feeds show the last 90 days) ...
LAST_DAY = 150  # ... to five months ahead


def seed(*, meetings=MEETINGS, rsvps=RSVPS, venues=VENUES, now=None):
    """Bulk-create venues, series, meetings and RSVPs through the models; return the pages to
    measure: {"meeting": slug of a meeting in the big series, "rsvp": slug of a meeting with
    no capacity limit that takes RSVPs}. Deterministic for the same arguments and day."""
    from django.db import transaction

    from meetings.models import Meeting, MeetingSeries, Rsvp, Venue

    chicago = zoneinfo.ZoneInfo("America/Chicago")
    today = (now or dt.datetime.now(tz=chicago)).astimezone(chicago).date()
    rng = random.Random(12)  # noqa: S311 - repeatable data, not secrets

    def at(day, hour, minute=0):
        return dt.datetime.combine(today + dt.timedelta(days=day), dt.time(hour, minute), chicago)

    with transaction.atomic():
        venue_rows = Venue.objects.bulk_create(
            Venue(
                name_en=kind[0].format(area=area),
                name_es=kind[1].format(area=area),
                name_vi=kind[2].format(area=area),
                slug=f"{area}-{n}".lower().replace(" ", "-"),
                street_address=f"{100 + 10 * n} Sample Street",
                postal_code=f"752{n % 50:02d}",
                area=area,
                latitude=Decimal("32.780000") + Decimal(n) / 1000,
                longitude=Decimal("-96.800000") - Decimal(n) / 1000,
                accessibility_notes_en="Step-free entrance; accessible restrooms.",
                accessibility_notes_es="Entrada sin escalones; baños accesibles.",
                accessibility_notes_vi="Lối vào không có bậc thềm; có nhà vệ sinh cho người khuyết tật.",
                directions_notes_en="Free parking beside the building; bus stop on the corner.",
                directions_notes_es="Estacionamiento gratis junto al edificio; parada de autobús en la esquina.",
                directions_notes_vi="Đậu xe miễn phí cạnh tòa nhà; trạm xe buýt ở góc đường.",
                time_zone="America/Chicago",
            )
            for n in range(venues)
            for area, kind in [
                (AREAS[n % len(AREAS)], VENUE_KINDS[n // len(AREAS) % len(VENUE_KINDS)])
            ]
        )
        series_rows = MeetingSeries.objects.bulk_create(
            MeetingSeries(
                title_en=en,
                title_es=es,
                title_vi=vi,
                slug=en.lower().replace(" ", "-"),
                description_en=DESCRIPTION[0],
                description_es=DESCRIPTION[1],
                description_vi=DESCRIPTION[2],
            )
            for en, es, vi, _dates, _every in SERIES
        )
        # Series dates first (the big one every 3 days from 50 days ago), then one-off meetings
        # spread evenly over the whole period.
        plan = []
        for series, (_en, _es, _vi, dates, every) in zip(series_rows, SERIES, strict=True):
            start = -50 if dates == BIG_SERIES_DATES else rng.randrange(FIRST_DAY, 0)
            plan += [(series, start + every * k) for k in range(dates)]
        plan = plan[:meetings]
        singles = meetings - len(plan)
        span = LAST_DAY - FIRST_DAY
        plan += [(None, FIRST_DAY + span * k // max(singles, 1)) for k in range(singles)]

        meeting_rows = []
        for n, (series, day) in enumerate(plan):
            topic, summary = TOPICS[n % len(TOPICS)]
            venue = venue_rows[(n * 7) % len(venue_rows)]
            language = ["en", "es", "en", "vi", "es"][n % 5]
            if series is not None:
                title = (series.title_en, series.title_es, series.title_vi)
            else:
                title = (
                    f"{topic[0]} in {venue.area}",
                    f"{topic[1]} en {venue.area}",
                    f"{topic[2]} tại {venue.area}",
                )
            starts = at(day, 10 if day % 7 == 5 else 18, 30 if n % 2 else 0)
            host = HOSTS[n % len(HOSTS)]
            meeting_rows.append(
                Meeting(
                    series=series,
                    venue=venue,
                    slug=f"{title[0].lower().replace(' ', '-').replace(':', '')}-{n}"[:100],
                    title_en=title[0],
                    title_es=title[1],
                    title_vi=title[2],
                    summary_en=summary[0],
                    summary_es=summary[1],
                    summary_vi=summary[2],
                    description_en=DESCRIPTION[0],
                    description_es=DESCRIPTION[1],
                    description_vi=DESCRIPTION[2],
                    host_en=host[0],
                    host_es=host[1],
                    host_vi=host[2],
                    starts_at=starts,
                    ends_at=starts + dt.timedelta(minutes=90),
                    language=language,
                    interpretation_languages=[c for c in ("en", "es", "vi") if c != language][
                        : 1 + n % 2
                    ],
                    status=Meeting.Status.CANCELLED if n % 20 == 7 else Meeting.Status.PUBLISHED,
                    cancellation_note_en="Postponed: the room is not available."
                    if n % 20 == 7
                    else "",
                    cancellation_note_es="Aplazada: el salón no está disponible."
                    if n % 20 == 7
                    else "",
                    capacity=CAPACITIES[n % len(CAPACITIES)],
                    rsvp_enabled=n % 15 != 4,
                    published_at=starts - dt.timedelta(days=21),
                    sequence=n % 3,
                )
            )
        # The pages to measure: a date of the big series a week or more ahead, with a capacity
        # (so its page computes seats for every date), and a one-off meeting without a limit
        # that takes RSVPs (so every POST confirms).
        big = [m for m in meeting_rows if m.series is series_rows[0]]
        page = next((m for m in big if m.starts_at > at(7, 0)), big[-1])
        page.capacity, page.status, page.rsvp_enabled = 80, Meeting.Status.PUBLISHED, True
        singles = [m for m in meeting_rows if m.series is None] or meeting_rows
        target = next((m for m in singles if m.starts_at > at(20, 0)), singles[-1])
        target.capacity, target.status, target.rsvp_enabled = None, Meeting.Status.PUBLISHED, True
        meeting_rows = Meeting.objects.bulk_create(meeting_rows)

        # RSVPs: some meetings far more popular than others; confirmed while seats last, then
        # waitlisted; a few cancelled. Names and emails only on some, as on the real site.
        takers = [m for m in meeting_rows if m.rsvp_enabled]
        weights = [1 + (n * 37) % 11 for n in range(len(takers))]
        chosen = rng.choices(range(len(takers)), weights=weights, k=rsvps)
        seats = [0] * len(takers)
        rsvp_rows = []
        for i, index in enumerate(chosen):
            meeting = takers[index]
            party = rng.choices((1, 2, 3, 4, 5), weights=(50, 25, 12, 8, 5))[0]
            if i % 25 == 3:
                status = Rsvp.Status.CANCELLED
            elif meeting.capacity is None or seats[index] + party <= meeting.capacity:
                status = Rsvp.Status.CONFIRMED
                seats[index] += party
            else:
                status = Rsvp.Status.WAITLISTED
            rsvp_rows.append(
                Rsvp(
                    meeting=meeting,
                    party_size=party,
                    first_name=FIRST_NAMES[i % len(FIRST_NAMES)],
                    email=f"resident{i}@example.org" if i % 3 == 0 else "",
                    language=["es", "en", "vi", "es"][i % 4],
                    needs_interpretation=["", "", "es", "", "vi"][i % 5],
                    needs_wheelchair_access=i % 17 == 0,
                    needs_childcare=i % 9 == 0,
                    status=status,
                    token_hash=hashlib.sha256(f"bench-rsvp-{i}".encode()).hexdigest(),
                )
            )
        Rsvp.objects.bulk_create(rsvp_rows, batch_size=5000)
    return {"meeting": page.slug, "rsvp": target.slug}


def make_form_keys(meeting, count):
    """`count` fresh signed one-time RSVP form keys for the meeting, as the page would give them."""
    try:
        from meetings.tokens import make_form_token
    except ImportError:  # before the tokens module existed they lived in forms.py
        from meetings.forms import make_form_token
    return [make_form_token(meeting) for _ in range(count)]


def submission_keys(form_keys):
    """The one-time keys inside signed form keys: an RSVP made from a form keeps its key."""
    try:
        from meetings.tokens import read_form_token
    except ImportError:  # before the tokens module existed they lived in forms.py
        from meetings.forms import read_form_token
    return [read_form_token(value)[0] for value in form_keys]


def rsvps_made(keys):
    """How many RSVPs carry one of these submission keys (stored hashed)."""
    from meetings.models import Rsvp
    from meetings.tokens import hash_submission_key

    hashes = [hash_submission_key(key) for key in keys]
    return sum(
        Rsvp.objects.filter(submission_key_hash__in=hashes[start : start + 5000]).count()
        for start in range(0, len(hashes), 5000)
    )


def write_key_files(keys, directory, threads):
    """Split the keys over one file per wrk thread (URL-encoded, one a line), so no two
    threads ever send the same key. Returns the file paths."""
    paths = []
    for n in range(threads):
        path = Path(directory) / f"keys-{n}.txt"
        path.write_text(
            "".join(urllib.parse.quote(key, safe="") + "\n" for key in keys[n::threads])
        )
        paths.append(path)
    return paths
