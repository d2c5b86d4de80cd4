"""Input series sampled finely enough for the spec's rate window.

The planners write every input series one sample a minute. A rate over a window needs two
samples inside it, and since Prometheus 3 a range is left-open: ``(t - 1m, t]`` holds one
sample a minute, so a 1m rate window would record nothing on 3.5 while 2.x and MetricsQL
(which read the sample before the range) record it. The generated tests therefore sample
``samples_per_minute`` times a minute, at least twice per rate window, as a real scrape
must (the loader requires a rate window of two scrape intervals or more).

The finer series is the piecewise-linear interpolation of the minute series: every
planner's counter grows at one rate from one whole minute to the next, so the added
samples lie on that line and every window the planners reason about keeps its increase;
gauges are constant within a case, so theirs repeat the level. Blanks stay blanks.
"""

from __future__ import annotations

import re

from ..promql import format_duration
from .synthetic import exact_text, largest_end

_RUN = re.compile(r"(\d+(?:\.\d+)?)\+(\d+(?:\.\d+)?)x(\d+)")
_BLANKS = re.compile(r"_x(\d+)")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def samples_per_minute(rate_window: int) -> int:
    """Return how many input samples a minute put two inside every ``rate_window`` (s)."""
    return max(1, -(-120 // rate_window))


def _runs(values: str) -> list[tuple[float, float, int] | int]:
    """Return promtool's notation as runs: (start, step, steps) for ``a+bxn`` (n + 1
    samples; a lone ``a`` is ``a+0x0``), or a count of blank minutes for ``_xn``."""
    out: list[tuple[float, float, int] | int] = []
    for token in values.split():
        if m := _RUN.fullmatch(token):
            out.append((float(m[1]), float(m[2]), int(m[3])))
        elif m := _BLANKS.fullmatch(token):
            out.append(int(m[1]))
        elif _NUMBER.fullmatch(token):
            out.append((float(token), 0.0, 0))
        else:
            raise ValueError(f"input series notation the resampler does not know: {token!r}")
    return out


def resample(values: str, per_minute: int) -> str:
    """Return ``values`` (one sample a minute) with ``per_minute`` samples a minute."""
    if per_minute == 1:
        return values
    runs = _runs(values)
    parts = []
    for i, run in enumerate(runs):
        after = runs[i + 1] if i + 1 < len(runs) else None
        if isinstance(run, int):  # blank minutes; the last blank of a series ends it
            parts.append(
                f"_x{run * per_minute if after is not None else (run - 1) * per_minute + 1}"
            )
            continue
        start, step, steps = run
        fine = step / per_minute
        parts.append(f"{exact_text(start)}+{exact_text(fine)}x{steps * per_minute}")
        if after is None:
            continue
        if isinstance(after, int):  # the series ends at this sample
            parts.append(f"_x{per_minute - 1}")
            continue
        end, nxt = largest_end(start, step, steps), after[0]
        gap = (nxt - end) / per_minute
        parts += [exact_text(end + gap * j) for j in range(1, per_minute)]
    return " ".join(parts)


def resampled_case(case: dict, per_minute: int) -> dict:
    """Return a test case (interval 1m) with its input series at ``per_minute`` a minute."""
    if per_minute == 1:
        return case
    assert case["interval"] == "1m", case["interval"]
    series = [{**s, "values": resample(s["values"], per_minute)} for s in case["input_series"]]
    return {**case, "interval": format_duration(60 // per_minute), "input_series": series}
