"""Admin widgets with an accessible name for every input."""

from django.contrib.admin.widgets import AdminSplitDateTime
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _


class LabelledSplitDateTime(AdminSplitDateTime):
    """The admin's date and time inputs, each named after its field ("Starts at: date").

    Django labels the pair as a whole, so screen readers met two unnamed inputs.
    """

    def __init__(self, label, attrs=None):
        super().__init__(attrs)
        date, time = self.widgets
        date.attrs["aria-label"] = format_lazy("{}: {}", label, _("date"))
        time.attrs["aria-label"] = format_lazy("{}: {}", label, _("time"))
