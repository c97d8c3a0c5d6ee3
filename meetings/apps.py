from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = _("Outreach meetings")

    def ready(self):
        # The `fold` lookup and SQLite's outreach_fold() function (accent-insensitive search).
        from meetings import caching, search  # noqa: F401

        caching.connect_signals()
