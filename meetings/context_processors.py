import re

from django.conf import settings


def site(request):
    return {
        "SITE_URL": settings.SITE_URL,
        "RSVP_RETENTION_DAYS": settings.RSVP_RETENTION_DAYS,
        "DEPARTMENT_PHONE": settings.DEPARTMENT_PHONE,
        # tel: links take digits (and a leading +) only.
        "DEPARTMENT_TEL": re.sub(r"[^\d+]", "", settings.DEPARTMENT_PHONE),
        "DEPARTMENT_EMAIL": settings.DEPARTMENT_EMAIL,
        "SMS_ENABLED": settings.SMS_ENABLED,
    }
