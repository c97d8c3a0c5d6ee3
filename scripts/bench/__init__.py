"""Benchmark the site as residents and calendar apps use it, under the production server.

    make bench                                   # the Dockerfile's server command, 16 connections
    make bench BENCH_ARGS="--connections 64 --duration 20"
    .venv/bin/python -m scripts.bench --server granian:2x1 --server gunicorn-sync:4

Creates a throwaway PostgreSQL database, migrates it and seeds 1,000 meetings (50 venues in
10 areas, 6 series, one of 67 dates) and 100,000 RSVPs; collects the static files; serves the
app with DEBUG off and Redis as the cache; then measures each path with wrk (after a warm-up)
and prints req/s, p50, p99 and the ratio to /healthz measured in the same run, beside the
targets of issue 12. Every RSVP POST carries a fresh signed one-time form key, and the RSVPs
in the database are counted afterwards. The database is dropped at the end, even on Ctrl-C.

Needs wrk (Debian: apt-get install wrk), PostgreSQL and Redis. A benchmark, not a test:
the figures depend on the machine and on whatever else it is doing.

One module per job: `seed` (the data and the form keys), `serve` (the server command and its
process), `load` (wrk, its Lua scripts, what a run measured), `report` (the table) and `run`
(the whole run, `main`). `python -m scripts.bench` runs it.
"""
