from django.apps import AppConfig


class OutreachConfig(AppConfig):
    """The project itself as an app, so its system checks are registered."""

    name = "outreach"
    verbose_name = "Outreach"

    def ready(self):
        from django.core.signals import request_finished, request_started

        from outreach import checks  # noqa: F401 - registers the checks
        from outreach.logging import finish_request, start_request

        # Each request's id, for every log line written while it is served.
        request_started.connect(start_request, dispatch_uid="outreach-request-id")
        request_finished.connect(finish_request, dispatch_uid="outreach-request-id")
