"""Where the benchmark runs and what it measures: the paths, their targets, the sizes."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432"
DEFAULT_REDIS = "redis://127.0.0.1:6379"
DEFAULT_REDIS_DB = 11

# The paths of issue 12, with its target ratios to /healthz.
PATHS = {
    "healthz": ("/healthz", None),
    "listing": ("listing /en/meetings/", 0.30),
    "meeting": ("meeting page, series of 67 dates", 0.20),
    "feed": ("all-meetings feed (200)", 0.30),
    "feed-304": ("same feed, If-None-Match (304)", 0.60),
    "atom": ("Atom feed", 0.30),
    "rsvp": ("RSVP POST (each a new RSVP)", 0.08),
    # Issue 19's mixed run: readers while RSVPs arrive (scripts/bench/mixed.py); the RSVPs'
    # target is their p99 (MIXED_RSVP_P99_MS), not a ratio.
    "mixed-reads": ("mixed: meeting page + listing, RSVPs arriving", 0.30),
    "mixed-rsvp": ("mixed: RSVP POSTs at a fixed rate, each new", None),
}
MIXED_RSVP_P99_MS = 500
# Issue 19's growth run (scripts/bench/growth.py): not in the default run; --paths growth.
GROWTH_PATHS = {
    "growth-feed": ("growth: feed after a change, 4 apps at once", None),
    "growth-healthz": ("/healthz while the feed rebuilds", None),
}
GROWTH_HEALTHZ_P99_MS = 100
PATHS.update(GROWTH_PATHS)

# Seed sizes (the issue's: 1,000 meetings and 100,000 RSVPs).
MEETINGS = 1000
RSVPS = 100_000
VENUES = 50
BIG_SERIES_DATES = 67
