from django.apps import AppConfig


class OutreachConfig(AppConfig):
    """The project itself as an app, so its system checks are registered."""

    name = "outreach"
    verbose_name = "Outreach"

    def ready(self):
        from outreach import checks  # noqa: F401 - registers the checks
