from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from meetings import sms_views
from meetings import views as meeting_views
from meetings.api import api
from outreach import views

admin.site.site_header = _("Police Community Outreach: staff")
admin.site.site_title = _("Community Outreach staff")
admin.site.index_title = _("Meetings, venues and RSVPs")
# The admin's app list beside every page costs a laptop screen the columns staff need.
admin.site.enable_nav_sidebar = False

# A database that cannot be reached gets a 503 page instead of the 500 one.
handler500 = "outreach.views.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    # Browsers ask for /favicon.ico on pages that name no icon (the admin, a raw feed).
    path("favicon.ico", views.favicon),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    # The public read API (meetings/api.py); its text follows ?lang= or Accept-Language.
    # Its root (ninja's own shows nothing) leads people to the page that documents it.
    path("api/v1/", meeting_views.api_documentation, name="api-documentation"),
    path("api/v1/", api.urls),
    # The text message provider's webhooks (signed; no language prefix: Twilio posts here).
    path("sms/status/", sms_views.status_callback, name="sms-status"),
    path("sms/inbound/", sms_views.inbound, name="sms-inbound"),
]

urlpatterns += i18n_patterns(
    path("", include("meetings.urls")),
    prefix_default_language=True,
)
