"""The text message provider's webhooks: delivery reports and residents' replies.

Twilio posts to them (configure the number's "A message comes in" webhook as
SITE_URL/sms/inbound/; delivery reports come to SITE_URL/sms/status/, which each text names
as its StatusCallback). Every request must carry a valid X-Twilio-Signature made with the
auth token in SMS_URL, over SITE_URL + path: anything else gets 403 and changes nothing.

Replies: a YES (SÍ, CÓ) to a pending alert subscription confirms it (meetings.alerts, which
texts its own answer); STOP (and Twilio's other opt-out words, and ALTO, PARAR, DỪNG…) puts the
number on the opt-out list, kept as a keyed hash, withdraws what is queued for it and deletes
its alert subscription; START lifts it; HELP answers with the department's contact. Nothing a
resident texts is stored or logged.
"""

import hmac
import logging
from xml.sax.saxutils import escape

from django.conf import settings
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from meetings import alerts, sms, sms_backend, texts
from meetings.models import OutgoingEmail, Rsvp
from meetings.phones import InvalidPhoneNumber, to_e164

logger = logging.getLogger(__name__)

# Twilio's own opt-out, opt-in and help words (it answers them itself when Advanced Opt-Out
# is on), and the words our Spanish and Vietnamese readers are told or likely to send.
TWILIO_STOP = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
STOP_WORDS = TWILIO_STOP | {"ALTO", "PARAR", "PARA", "BAJA", "DUNG", "DỪNG", "HUY", "HỦY"}
START_WORDS = {"START", "YES", "UNSTOP", "INICIAR", "COMENZAR", "BATDAU", "BẮT ĐẦU"}
HELP_WORDS = {"HELP", "INFO", "AYUDA", "GIUP", "GIÚP", "TRỢ GIÚP"}

# Delivery statuses in the order a message goes through them: a late report never undoes
# a later one (Twilio does not promise their order).
PROGRESS = ["accepted", "scheduled", "queued", "sending", "sent", "delivered", "read"]
FAILED = {"undelivered", "failed", "canceled"}


def _verified(request):
    sender = sms_backend.get_sender()
    if not sender.webhook_secret:
        raise Http404("No text message provider is configured.")
    url = settings.SITE_URL + request.get_full_path()
    params = [(name, value) for name in request.POST for value in request.POST.getlist(name)]
    expected = sender.signature(url, params)
    given = request.headers.get("X-Twilio-Signature", "")
    return hmac.compare_digest(expected.encode(), given.encode())


def _twiml(message=""):
    body = f"<Message>{escape(message)}</Message>" if message else ""
    return HttpResponse(
        f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>',
        content_type="text/xml; charset=utf-8",
    )


@csrf_exempt
@require_POST
def status_callback(request):
    """A delivery report: the outbox row of that message learns its fate."""
    if not _verified(request):
        return HttpResponseForbidden()
    sid = request.POST.get("MessageSid", "")
    status = request.POST.get("MessageStatus", "").lower()
    error_code = request.POST.get("ErrorCode", "")
    if not sid or not status:
        return HttpResponse(status=400)
    with transaction.atomic():
        row = (
            OutgoingEmail.objects.select_for_update()
            .filter(provider_id=sid)
            .exclude(channel=OutgoingEmail.Channel.EMAIL)
            .first()
        )
        if row is None:
            return HttpResponse(status=204)
        if status in FAILED:
            row.delivery_status = status
            if row.status == OutgoingEmail.Status.SENT:
                row.status = OutgoingEmail.Status.FAILED
                row.last_error = f"Delivery report: {status}" + (
                    f" (error {error_code})" if error_code.isdigit() else ""
                )
        elif _later(status, than=row.delivery_status):
            row.delivery_status = status
        row.save(update_fields=["delivery_status", "status", "last_error"])
    if error_code == str(sms_backend.UNSUBSCRIBED_RECIPIENT):
        _number_stopped(request.POST.get("To", ""))
    return HttpResponse(status=204)


def _later(status, *, than):
    if than in FAILED:
        return False
    rank = {name: index for index, name in enumerate(PROGRESS)}
    return rank.get(status, -1) > rank.get(than, -1)


def _number_stopped(raw):
    try:
        number = to_e164(raw.removeprefix("whatsapp:"))
    except InvalidPhoneNumber:
        return
    sms.record_opt_out(number)


@csrf_exempt
@require_POST
def inbound(request):
    """A text a resident sent to our number: STOP, START and HELP are acted on; anything else
    gets no answer (and is neither stored nor logged)."""
    if not _verified(request):
        return HttpResponseForbidden()
    try:
        number = to_e164(request.POST.get("From", "").removeprefix("whatsapp:"))
    except InvalidPhoneNumber:
        return _twiml()
    body = request.POST.get("Body", "")
    # Before START (whose words include YES): a YES to an alert subscription confirms it. It
    # is an opt-in too (Twilio lifts its own block on a YES), so a number that texted STOP
    # before and now asks for alerts gets them.
    with transaction.atomic():
        if alerts.pending_by_text(number, body).exists():
            sms.record_opt_in(number)
            alerts.confirm_by_text(number, body)
            return _twiml()
    word = " ".join(body.split()).upper().strip(".!¡¿?")
    language = _language_of(number)
    if word in STOP_WORDS:
        sms.record_opt_out(number)
        # Twilio confirms its own words; ours we confirm.
        return _twiml("" if word in TWILIO_STOP else texts.stopped_reply(language))
    if word in START_WORDS:
        sms.record_opt_in(number)
        return _twiml(texts.started_reply(language))
    if word in HELP_WORDS:
        return _twiml(texts.help_reply(language))
    return _twiml()


def _language_of(number):
    """The language of the latest RSVP with this number, or the site's default."""
    language = (
        Rsvp.objects.filter(phone=number, personal_data_erased_at__isnull=True)
        .order_by("-created_at")
        .values_list("language", flat=True)
        .first()
    )
    return language or settings.LANGUAGE_CODE
