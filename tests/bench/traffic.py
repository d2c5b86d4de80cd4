"""Uneven synthetic traffic for one availability SLI: busy days, quiet nights (with a
higher error ratio) and one busy hour with an error burst. Integer events per minute, so
the exact counts over any window are known here, from the numbers that were written."""

from __future__ import annotations

import math
import pathlib
from dataclasses import dataclass

MINUTE = 60
DAY = 86400
METRIC = "samokoder_http_requests_total"
JOB = "samokoder-api"
INSTANCE = "samokoder-api-1.prod.internal:8080"


@dataclass(frozen=True)
class Traffic:
    """Cumulative good and bad (5xx) requests at every minute of [start, end]."""

    start: int
    end: int
    good: list[int]  # cumulative, one per minute from start
    bad: list[int]

    def counts(self, a: int, b: int) -> tuple[int, int]:
        """Return (bad, total) events in (a, b]; both must be minutes of the history."""
        i, j = (a - self.start) // MINUTE, (b - self.start) // MINUTE
        bad = self.bad[j] - self.bad[i]
        return bad, bad + self.good[j] - self.good[i]


def per_minute(t: int, burst_at: int) -> tuple[int, int]:
    """Return (good, bad) requests in the minute starting at ``t`` (UTC)."""
    hour = (t % DAY) / 3600
    busy = 8 <= hour < 20
    # Smooth daily curve: ~1200/min mid-afternoon, ~100/min at night.
    total = 100 + (1100 * math.sin(math.pi * (hour - 8) / 12) if busy else 0)
    ratio = 0.0003 if busy else 0.002  # nights: few requests, relatively more errors
    if burst_at <= t < burst_at + 3600:
        ratio = 0.15  # one busy hour of errors
    total = round(total)
    bad = round(total * ratio)
    return total - bad, bad


def build(end: int, days: int = 31, burst_days_ago: int = 9) -> Traffic:
    """Return ``days`` of traffic ending at ``end`` (a whole minute)."""
    start = end - days * DAY
    burst_at = end - burst_days_ago * DAY
    burst_at = burst_at - burst_at % DAY + 14 * 3600  # 14:00 UTC, the busiest hour
    good, bad, g, b = [0], [0], 0, 0
    for t in range(start, end, MINUTE):
        dg, db = per_minute(t, burst_at)
        g, b = g + dg, b + db
        good.append(g)
        bad.append(b)
    return Traffic(start, end, good, bad)


def write_openmetrics(traffic: Traffic, path: pathlib.Path) -> int:
    """Write both counters (status 200 and 500) as OpenMetrics; return the sample count."""
    times = range(traffic.start, traffic.end + 1, MINUTE)
    with path.open("w") as out:
        for status, values in (("200", traffic.good), ("500", traffic.bad)):
            labels = f'instance="{INSTANCE}",job="{JOB}",status="{status}"'
            out.writelines(
                f"{METRIC}{{{labels}}} {v} {t}\n" for t, v in zip(times, values, strict=True)
            )
        out.write("# EOF\n")
    return 2 * len(times)
