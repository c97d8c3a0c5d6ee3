from django.conf import settings


def site(request):
    return {"SITE_URL": settings.SITE_URL, "RSVP_RETENTION_DAYS": settings.RSVP_RETENTION_DAYS}
