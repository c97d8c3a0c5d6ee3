"""The table: req/s, p50, p99, ratio to /healthz and the verdict of each path, and what it ran on."""

import datetime as dt
import os
import platform
import shlex
import subprocess
from pathlib import Path

from .config import GROWTH_HEALTHZ_P99_MS, MIXED_RSVP_P99_MS, PATHS, ROOT

# The table ---------------------------------------------------------------------------------


def ratio_to(measurement, healthz_rps):
    return measurement.rps / healthz_rps if healthz_rps else 0.0


def verdict(measurement, healthz_rps):
    if measurement.problems:
        return "FAIL: " + "; ".join(measurement.problems)
    if measurement.key == "growth-healthz":
        within = measurement.p99_ms < GROWTH_HEALTHZ_P99_MS
        return "pass" if within else f"FAIL: p99 not under {GROWTH_HEALTHZ_P99_MS} ms"
    if measurement.key == "mixed-rsvp":
        within = measurement.p99_ms <= MIXED_RSVP_P99_MS
        return "pass" if within else f"FAIL: p99 above {MIXED_RSVP_P99_MS} ms"
    target = PATHS[measurement.key][1]
    if target is None:
        return "—"
    return "pass" if ratio_to(measurement, healthz_rps) >= target else "FAIL: below target"


def table_rows(measurements, healthz_rps):
    rows = [
        [
            "path",
            "req/s",
            "p50",
            "p99",
            "server CPU/req",
            "ratio to /healthz",
            "target",
            "result",
            "checks",
        ]
    ]
    for m in measurements:
        target = PATHS[m.key][1]
        rows.append(
            [
                m.label,
                f"{m.rps:,.1f}" if m.rps < 100 else f"{m.rps:,.0f}",
                format_ms(m.p50_ms),
                format_ms(m.p99_ms),
                format_ms(m.cpu_ms_per_request) if m.cpu_ms_per_request is not None else "—",
                "1"
                if m.key == "healthz"
                else (
                    "—"
                    if m.key in ("mixed-rsvp", "growth-feed", "growth-healthz")
                    else f"{ratio_to(m, healthz_rps):.3f}"
                ),
                f"≥ {target:.2f}"
                if target is not None
                else (
                    f"p99 ≤ {MIXED_RSVP_P99_MS} ms"
                    if m.key == "mixed-rsvp"
                    else (f"p99 < {GROWTH_HEALTHZ_P99_MS} ms" if m.key == "growth-healthz" else "—")
                ),
                verdict(m, healthz_rps)
                if m.key != "healthz"
                else ("—" if not m.problems else verdict(m, 0)),
                m.checks,
            ]
        )
    return rows


def format_ms(ms):
    if ms >= 1000:
        return f"{ms / 1000:.2f} s"
    if ms >= 10:
        return f"{ms:.0f} ms"
    if ms >= 1:
        return f"{ms:.1f} ms"
    return f"{ms:.2f} ms"


NUMERIC_COLUMNS = {1, 2, 3, 4, 5}


def markdown_table(rows):
    head, *body = rows
    align = ["---:" if n in NUMERIC_COLUMNS else "---" for n in range(len(head))]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in body]
    return "\n".join(lines)


def text_table(rows):
    widths = [max(len(row[n]) for row in rows) for n in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        cells = [
            cell.rjust(widths[n]) if n in NUMERIC_COLUMNS else cell.ljust(widths[n])
            for n, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def machine_description():
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({model}), {platform.system()} {platform.release()}"


def load_average():
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def report(spec, command, results, options, seeded, others=None):
    """The table, with what it ran on, as (text for the terminal, markdown)."""
    healthz = [m.rps for m in results if m.key == "healthz"]
    healthz_rps = sum(healthz) / len(healthz) if healthz else 0.0
    rows = table_rows(results, healthz_rps)
    commit = subprocess.run(  # noqa: S603
        ["git", "describe", "--always", "--dirty"],  # noqa: S607 - git from PATH, like make
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    facts = [
        f"Machine: {machine_description()}; load average before/after: {options.load_before} / {load_average()}",
        f"Server: `{shlex.join(command)}` ({spec.name})",
        f"wrk: {options.connections} connections, {options.wrk_threads} threads, "
        f"{options.duration} s per path after a {options.warmup} s warm-up",
        f"Data: {seeded}; PostgreSQL, Redis cache; DEBUG off",
        f"Commit: {commit}; {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
    ]
    if len(healthz) > 1:
        facts.append(
            "/healthz measured first and last ("
            + ", ".join(f"{rps:,.0f}" for rps in healthz)
            + " req/s); ratios use their mean"
        )
    if len(healthz) > 1 and max(healthz) > 1.25 * min(healthz):
        facts.append(
            "WARNING: /healthz changed by more than a quarter between the first and the last "
            "measurement: the machine's load changed during the run, so the ratios are rough"
        )
    if others is not None:
        facts.append(
            f"Other processes used {others:.0%} of the machine's CPU time while this ran "
            "(0% on a quiet machine)"
        )
    text = "\n".join([*facts, "", text_table(rows)])
    markdown = "\n".join([*(f"- {fact}" for fact in facts), "", markdown_table(rows)])
    return text, markdown
