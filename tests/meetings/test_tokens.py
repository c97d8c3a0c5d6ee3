import uuid

import pytest

from meetings.models import Rsvp, RsvpLink
from meetings.tokens import (
    hash_token,
    is_well_formed,
    make_form_token,
    make_token,
    read_form_token,
    token_for_submission,
)
from tests.factories import MeetingFactory, RsvpFactory


def test_make_token_is_well_formed_and_new_each_time():
    first, second = make_token(), make_token()

    assert is_well_formed(first)
    assert is_well_formed(second)
    assert first != second


def test_token_for_submission_is_stable_and_well_formed():
    key = uuid.UUID("12345678-1234-5678-1234-567812345678")

    token = token_for_submission(key)

    assert token == token_for_submission(key)
    assert token != token_for_submission(uuid.UUID(int=1))
    assert is_well_formed(token)


def test_token_for_submission_depends_on_secret_key(settings):
    key = uuid.UUID(int=7)
    before = token_for_submission(key)

    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789"

    assert token_for_submission(key) != before


def test_hash_token_is_sha256_hex():
    assert hash_token("abc") == ("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")


@pytest.mark.parametrize(
    "token",
    ["", "short", "a" * 42, "a" * 44, "a" * 42 + "!", "a" * 42 + "/", "a" * 42 + "\n"],
)
def test_malformed_tokens_are_refused(token):
    assert not is_well_formed(token)


@pytest.mark.django_db
def test_form_token_reads_back_its_key_meeting_and_time():
    meeting = MeetingFactory()
    key = uuid.uuid4()

    read = read_form_token(make_form_token(meeting, key=key, issued_at=1234.5))

    assert read == (key, meeting.pk, 1234.5)


@pytest.mark.django_db
def test_tampered_form_token_reads_as_none():
    value = make_form_token(MeetingFactory())

    assert read_form_token(value[:-2] + "xx") is None
    assert read_form_token("not a token") is None


@pytest.mark.django_db
def test_by_token_finds_the_rsvp_of_a_token():
    token = make_token()
    rsvp = RsvpFactory(token_hash=hash_token(token))

    assert list(Rsvp.objects.by_token(token)) == [rsvp]


@pytest.mark.django_db
def test_by_token_with_malformed_token_finds_nothing_without_a_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        found = list(Rsvp.objects.by_token("not-a-token"))

    assert found == []


@pytest.mark.django_db
def test_by_token_leaves_out_erased_rsvps():
    token = make_token()
    RsvpFactory(token_hash=hash_token(token))

    Rsvp.objects.all().erase_personal_data()

    assert list(Rsvp.objects.by_token(token)) == []


@pytest.mark.django_db
def test_every_link_made_for_a_message_finds_its_rsvp_once():
    rsvp, other = RsvpFactory(), RsvpFactory()
    first = RsvpLink.make([rsvp])[rsvp.pk]
    second = RsvpLink.make([rsvp, other])[rsvp.pk]
    legacy = make_token()  # a reminder's link from before each message had its own
    Rsvp.objects.filter(pk=rsvp.pk).update(reminder_token_hash=hash_token(legacy))

    for token in (first, second, legacy):
        assert list(Rsvp.objects.by_token(token)) == [rsvp]
    assert list(Rsvp.objects.by_token(make_token())) == []


@pytest.mark.django_db
def test_erasing_an_rsvp_deletes_its_links_and_only_its_own():
    rsvp, other = RsvpFactory(), RsvpFactory()
    tokens = RsvpLink.make([rsvp, other])
    legacy = make_token()
    Rsvp.objects.filter(pk=rsvp.pk).update(reminder_token_hash=hash_token(legacy))

    Rsvp.objects.filter(pk=rsvp.pk).erase_personal_data()

    assert list(Rsvp.objects.by_token(tokens[rsvp.pk])) == []
    assert list(Rsvp.objects.by_token(legacy)) == []
    assert list(RsvpLink.objects.values_list("rsvp_id", flat=True)) == [other.pk]
    assert list(Rsvp.objects.by_token(tokens[other.pk])) == [other]
    assert Rsvp.objects.get(pk=rsvp.pk).reminder_token_hash is None
