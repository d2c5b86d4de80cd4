"""Random specs over the timings teams choose, and any number of SLOs: the strategy behind
tests/test_spec_timings.py and the suite-cost benchmark (tests/bench/suite_cost.py).

Timings: periods of 1 to 90 days (one per service, as the loader requires), rate windows
of 1 to 10 minutes, scrape intervals of 10 s to 2 min, and burn-rate pairs derived from
the SRE Workbook's (table "Recommended parameters": 2 % of a 30-day budget in 1 h, 5 % in
6 h, 10 % in 1 d and 3 d, each with a short window of 1/12 of the long one), rounded up
to whole rate windows and scaled to the period so that each keeps the Workbook's
burn-rate factor where 100 % of the budget allows it.

SLOs: ratio SLIs on bad or good events, latency SLIs on a histogram, a second objective
on an earlier SLO's SLI, and an SLI on a slice (``handler="..."``) of an earlier SLO's
metric: the last two read series another SLO reads too.
"""

from __future__ import annotations

from hypothesis import strategies as st

DAY = 1440  # minutes
SCRAPES = (10, 15, 20, 30, 60, 120)  # seconds
# (long window in minutes, % of a 30-day budget burnt in it, severity): the SRE Workbook.
WORKBOOK = (
    (60, 2, "critical"),
    (360, 5, "critical"),
    (DAY, 10, "warning"),
    (3 * DAY, 10, "warning"),
)
BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


def up(minutes: int, step: int) -> int:
    """Return ``minutes`` rounded up to a whole number of ``step``."""
    return -(-minutes // step) * step


def burn_rates(days: int, rate: int) -> list[dict]:
    """Return the Workbook's pairs that fit a ``days`` period, tiled by ``rate`` minutes."""
    rows = []
    for long_, pct, severity in WORKBOOK:
        long_ = up(long_, rate)
        if long_ > days * DAY:
            continue
        short = up(max(long_ // 12, 1), rate)
        rows.append(
            {
                "severity": severity,
                "long": f"{long_}m",
                "short": f"{short}m",
                # The Workbook's factor over 30 days, kept at this period (capped at 100 %).
                "budget_consumed": min(100, round(pct * 30 / days, 3)),
            }
        )
    return rows


def fastest_factor(rows: list[dict], days: int) -> float:
    """Return the largest burn-rate factor (budget consumed x period / long window)."""
    return max(r["budget_consumed"] / 100 * days * DAY / int(r["long"][:-1]) for r in rows)


@st.composite
def objectives(draw: st.DrawFn, factor: float) -> float:
    """An objective whose error budget times ``factor`` stays under 100 % errors (the
    loader refuses an alert that could never fire: fixture 68), with 1 % to spare."""
    lowest = max(90.0, 100 - 99 / factor)
    common = [o for o in (95, 99, 99.5, 99.9, 99.95, 99.99) if o > lowest]
    return draw(
        st.sampled_from(common)
        | st.integers(min_value=int(lowest * 100) + 1, max_value=9999).map(lambda n: n / 100)
    )


@st.composite
def timed_specs(draw: st.DrawFn, min_slos: int = 1, max_slos: int = 50) -> dict:
    """Return a random spec the loader must accept: random timings, ``min_slos`` to
    ``max_slos`` SLOs, no thresholds (the SLO suites are what timing and scale change)."""
    rate = draw(st.integers(min_value=1, max_value=10))
    days = draw(st.integers(min_value=1, max_value=90).filter(lambda d: d * DAY % rate == 0))
    scrape = draw(st.sampled_from([s for s in SCRAPES if 2 * s <= 60 * rate]))
    rows = burn_rates(days, rate)
    count = draw(st.integers(min_value=min_slos, max_value=max_slos))
    metrics: dict = {}
    slos: list[dict] = []
    counters: list[str] = []
    for i in range(count):
        kinds = ["bad", "good", "latency"] + (["again", "slice"] if counters else [])
        kind = draw(st.sampled_from(kinds))
        if kind in ("bad", "good"):
            key = f"req{i}"
            metrics[key] = {"name": f"app_req{i}_total", "type": "counter", "selector": 'job="app"'}
            counters.append(key)
            if kind == "bad":
                sli = {"bad": {"metric": key, "match": 'code=~"5.."'}, "total": {"metric": key}}
            else:
                sli = {"good": {"metric": key, "match": 'code!~"5.."'}, "total": {"metric": key}}
        elif kind == "latency":
            key = f"lat{i}"
            buckets = sorted(draw(st.sets(st.sampled_from(BUCKETS), min_size=1, max_size=4)))
            metrics[key] = {
                "name": f"app_lat{i}_seconds",
                "type": "histogram",
                "selector": 'job="app"',
                "buckets": buckets,
            }
            sli = {"latency": {"metric": key, "threshold": draw(st.sampled_from(buckets))}}
        elif kind == "again":  # a second objective on an earlier SLO's SLI
            sli = draw(st.sampled_from([s["sli"] for s in slos]))
        else:  # a slice of an earlier counter: its series are also the earlier SLO's
            key = draw(st.sampled_from(counters))
            part = f'handler="h{i}"'
            sli = {
                "bad": {"metric": key, "match": f'{part}, code=~"5.."'},
                "total": {"metric": key, "match": part},
            }
        slos.append(
            {
                "name": f"slo{i}",
                "objective": draw(objectives(fastest_factor(rows, days))),
                "sli": sli,
            }
        )
    return {
        "service": "app",
        "period": f"{days}d",
        "scrape_interval": f"{scrape}s",
        "rate_window": f"{rate}m",
        "burn_rates": rows,
        "metrics": metrics,
        "slos": slos,
    }


def fixed_spec(count: int) -> dict:
    """Return a deterministic spec with ``count`` SLOs at the default timings, cycling
    through the SLI kinds of ``timed_specs`` (bad, good, latency, a second objective on
    the previous SLI, a handler slice of the last counter): the suite-cost benchmark's input.
    """
    metrics: dict = {}
    slos: list[dict] = []
    counter = ""
    for i in range(count):
        kind = ("bad", "good", "latency", "again", "slice")[i % 5]
        if kind in ("bad", "good"):
            counter = f"req{i}"
            metrics[counter] = {
                "name": f"app_req{i}_total",
                "type": "counter",
                "selector": 'job="app"',
            }
            part, match = ("bad", 'code=~"5.."') if kind == "bad" else ("good", 'code!~"5.."')
            sli = {part: {"metric": counter, "match": match}, "total": {"metric": counter}}
        elif kind == "latency":
            metrics[f"lat{i}"] = {
                "name": f"app_lat{i}_seconds",
                "type": "histogram",
                "selector": 'job="app"',
                "buckets": [0.1, 0.5, 1],
            }
            sli = {"latency": {"metric": f"lat{i}", "threshold": 0.5}}
        elif kind == "again":
            sli = slos[-1]["sli"]
        else:
            sli = {
                "bad": {"metric": counter, "match": f'handler="h{i}", code=~"5.."'},
                "total": {"metric": counter, "match": f'handler="h{i}"'},
            }
        slos.append({"name": f"slo{i}", "objective": 99.9, "sli": sli})
    return {"service": "app", "period": "30d", "metrics": metrics, "slos": slos}
