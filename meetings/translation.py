"""Which model fields staff write in every language (django-modeltranslation).

Code and templates read `meeting.title`, which gives the current language's text and
falls back to English when that translation is missing.
"""

from modeltranslation.translator import TranslationOptions, register

from meetings.models import Meeting, MeetingSeries, Venue


@register(Venue)
class VenueTranslationOptions(TranslationOptions):
    fields = ("name", "accessibility_notes", "directions_notes")


@register(MeetingSeries)
class MeetingSeriesTranslationOptions(TranslationOptions):
    fields = ("title", "description")


@register(Meeting)
class MeetingTranslationOptions(TranslationOptions):
    fields = ("title", "summary", "description", "host", "cancellation_note")
