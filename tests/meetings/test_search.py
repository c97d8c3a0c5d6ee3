"""Search the way people type (meetings/search.py): without accents, tone marks or case, and the
database agrees with Python on every letter."""

import pytest
from django.db import connection

from meetings.models import Venue
from meetings.search import fold, postgresql_translate_table
from tests.factories import MeetingFactory, VenueFactory


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Cảnh Sát", "canh sat"),
        ("Đồn Cảnh Sát Đà Nẵng", "don canh sat da nang"),
        ("Reunión Comunitaria", "reunion comunitaria"),
        ("Straße", "straße"),  # ß lower-cases to itself; it has no accent to lose
        ("Søren Łukasz", "soren lukasz"),
        ("ＡＢＣ", "abc"),  # full-width letters, as some phone keyboards type them
        ("", ""),
    ],
)
def test_fold_drops_accents_tone_marks_and_case(text, folded):
    assert fold(text) == folded


def test_the_postgresql_table_maps_each_letter_to_what_fold_gives():
    sources, targets = postgresql_translate_table()

    assert len(sources) == len(targets) > 400
    assert all(
        fold(source) == target.lower() for source, target in zip(sources, targets, strict=True)
    )
    assert ("ệ", "e") in set(zip(sources, targets, strict=True))


@pytest.mark.django_db
def test_the_database_lookup_finds_accented_text_typed_plain_and_the_other_way():
    VenueFactory(name="Trung Tâm Cộng Đồng")
    VenueFactory(name="Biblioteca Pública")
    VenueFactory(name="Library")

    def found(typed):
        return sorted(
            Venue.objects.filter(name__fold__contains=fold(typed)).values_list("name", flat=True)
        )

    assert found("cong dong") == ["Trung Tâm Cộng Đồng"]
    assert found("PUBLICA") == ["Biblioteca Pública"]
    assert found("Cộng") == ["Trung Tâm Cộng Đồng"]
    assert found("bibl") == ["Biblioteca Pública"]


@pytest.mark.django_db
def test_sql_fold_agrees_with_python_on_every_foldable_letter():
    sources, _targets = postgresql_translate_table()
    with connection.cursor() as cursor:
        cursor.execute("SELECT outreach_fold(%s)", [sources + "ĐÀ NẴNG"])
        (folded,) = cursor.fetchone()

    assert folded == fold(sources + "ĐÀ NẴNG")


@pytest.mark.django_db
def test_a_meeting_title_search_ignores_accents(client):
    MeetingFactory(title="Reunión con la policía")

    content = client.get("/en/meetings/?q=policia").content.decode()

    assert "Reunión con la policía" in content
