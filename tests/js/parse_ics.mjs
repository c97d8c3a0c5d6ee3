// Reads an iCalendar file with ical.js (the parser Thunderbird uses) and prints its events
// as JSON, one object per VEVENT, with start and end as UTC instants (and the calendar's
// METHODs, for the emailed invitations).
// Usage: node parse_ics.mjs FILE   (or the file on standard input)
// Times with a TZID are resolved through the file's own VTIMEZONE, as Thunderbird does,
// so a wrong VTIMEZONE shows up here as a wrong instant.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const source = readFileSync(process.argv[2] ?? 0, "utf8");
const calendar = new ICAL.Component(ICAL.parse(source));

function instant(time) {
  return time ? new Date(time.toUnixTime() * 1000).toISOString() : null;
}

const events = calendar.getAllSubcomponents("vevent").map((component) => {
  const event = new ICAL.Event(component);
  return {
    uid: event.uid,
    summary: event.summary,
    description: event.description,
    location: event.location,
    status: component.getFirstPropertyValue("status"),
    sequence: event.sequence,
    dtstamp: instant(component.getFirstPropertyValue("dtstamp")),
    organizer: component.getFirstPropertyValue("organizer"),
    attendees: component.getAllProperties("attendee").map((attendee) => ({
      address: attendee.getFirstValue(),
      partstat: attendee.getParameter("partstat") ?? null,
      rsvp: attendee.getParameter("rsvp") ?? null,
    })),
    tzid: event.startDate.zone ? event.startDate.zone.tzid : null,
    start: instant(event.startDate),
    end: instant(event.endDate),
  };
});

process.stdout.write(
  JSON.stringify({
    name: calendar.getFirstPropertyValue("x-wr-calname"),
    methods: calendar.getAllProperties("method").map((method) => method.getFirstValue()),
    timezones: calendar.getAllSubcomponents("vtimezone").map((tz) => tz.getFirstPropertyValue("tzid")),
    events,
  }) + "\n",
);
