from django.urls import path

from meetings import alert_views, views

app_name = "meetings"

urlpatterns = [
    path("", views.redirect_to_listing, name="language-home"),
    path("meetings/", views.MeetingListView.as_view(), name="meeting-list"),
    path("meetings/past/", views.PastMeetingListView.as_view(), name="meeting-list-past"),
    # Before meetings/<slug>/ for readability; a slug never contains a dot, so no clash.
    path("meetings/<slug:slug>.ics", views.meeting_ics, name="meeting-ics"),
    path("meetings/<slug:slug>/", views.MeetingDetailView.as_view(), name="meeting-detail"),
    path("meetings/<slug:slug>/flyer/", views.meeting_flyer, name="meeting-flyer"),
    path("venues/<slug:slug>/", views.VenueDetailView.as_view(), name="venue-detail"),
    path("series/<slug:slug>/", views.SeriesDetailView.as_view(), name="series-detail"),
    path("series/<slug:slug>/flyer/", views.series_flyer, name="series-flyer"),
    # Calendar feeds: the language prefix picks the language of titles and descriptions.
    path("feeds/meetings.ics", views.meetings_feed, name="feed-all"),
    path("feeds/venues/<slug:slug>.ics", views.venue_feed, name="feed-venue"),
    path("feeds/series/<slug:slug>.ics", views.series_feed, name="feed-series"),
    path("feeds/held-in/<str:code>.ics", views.language_feed, name="feed-language"),
    path("feeds/announcements.atom", views.announcements_feed, name="feed-atom"),
    path("meetings/<slug:slug>/rsvp/", views.rsvp_create, name="rsvp-create"),
    path("rsvp/<str:token>/", views.rsvp_manage, name="rsvp-manage"),
    path("rsvp/<str:token>/change/", views.rsvp_change, name="rsvp-change"),
    path("rsvp/<str:token>/calendar.ics", views.rsvp_calendar, name="rsvp-calendar"),
    path("rsvp/<str:token>/cancel/", views.rsvp_cancel, name="rsvp-cancel"),
    path("rsvp/<str:token>/feedback/", views.rsvp_feedback, name="rsvp-feedback"),
    path("privacy/", views.privacy, name="privacy"),
    # Alerts of new meetings (meetings/alerts.py): subscribe, confirm, unsubscribe.
    path("alerts/", alert_views.subscribe, name="alerts-subscribe"),
    path("alerts/sent/", alert_views.sent, name="alerts-sent"),
    path("alerts/confirm/<str:token>/", alert_views.confirm, name="alerts-confirm"),
    path("alerts/stop/<str:token>/", alert_views.unsubscribe, name="alerts-unsubscribe"),
    # For partner sites: a listing to frame (its own CSP), and the page that documents it.
    path("embed/meetings/", views.embed_meetings, name="embed-meetings"),
    path("partners/", views.partners, name="partners"),
]
