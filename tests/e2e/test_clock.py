"""The end-to-end setup's time arithmetic at 48 start times over a day (fast; ``make test``).

Every time the e2e depends on is a pure function of an injected ``now`` (tests/e2e/clock.py
and the synthetic history), so checking it at start times spread over a day, odd seconds
included, shows a run cannot pass at one hour and fail at another.
"""

from __future__ import annotations

import pathlib

import pytest
from depth import examples

from generator import tools
from generator.spec.loader import load

from . import clock, expect, pipeline, synthetic
from .prom import E2E_ENGINES

SPEC = pathlib.Path(__file__).resolve().parents[2] / "slo_specs" / "samokoder.yaml"
DAY0 = 1_796_083_200  # 2026-12-01T00:00:00Z
# Every 30 minutes over a day, each with a different odd second (0 … 59.7 s).
STARTS = [DAY0 + i * 1800 + (i * 37 % 60) + 0.7 * (i % 2) for i in range(48)]
LEADS = (0.0, 37.5, 90.0, 299.0, 1234.5)


@pytest.mark.parametrize("now", STARTS)
def test_timeline_invariants_hold_at_any_time_of_day(now):
    for engine in map(tools.engine, E2E_ENGINES):
        for scenario in synthetic.SCENARIOS:
            span = pipeline.spans(scenario)
            for lead in LEADS:
                tl = clock.plan(now, span, lead, pipeline.align_for(engine))
                assert clock.check(tl, span) == [], (engine.name, scenario, lead)
                assert tl.end % pipeline.align_for(engine) == 0
                # A pure function: the same now gives the same timeline.
                assert tl == clock.plan(now, span, lead, pipeline.align_for(engine))


def _promtool_first_evals(a: int, b: int, interval: int, phase: float) -> list[float]:
    """Replay promtool's block walk (cmd/promtool/rules.go importRule): the first
    evaluation it makes in each 2-hour block of [a, b], stopping where promtool stops."""
    out = []
    block = clock.BLOCK
    start_of_block = block * (a // block)
    while start_of_block <= b:
        cur = max(start_of_block, a)
        first = cur - (cur - phase) % interval  # EvalTimestamp: the phase point at or before
        while first < cur:
            first += interval
        end = min(start_of_block + block - 1e-3, b)
        if end < first:
            break
        out.append(first)
        start_of_block += block
    return out


@pytest.mark.parametrize("now", STARTS)
def test_every_backfill_range_writes_something_whatever_the_phase(now):
    """promtool evaluates a group at a phase set by a hash of its file and name: every
    phase, the old probe's 3-hour range could come back empty; the planned ranges cannot."""
    for scenario in synthetic.SCENARIOS:
        span = pipeline.spans(scenario)
        tl = clock.plan(now, span, 120.0)
        for _, a, b in clock.backfill_ranges(tl):
            for interval in (clock.EVAL_INTERVAL, clock.COUNT_INTERVAL):
                for phase in range(0, interval, 7):
                    evals = _promtool_first_evals(a, b, interval, phase + 0.5)
                    blocks = (b - clock.block_floor(a)) // clock.BLOCK + 1
                    assert len(evals) >= blocks - 1 and evals, (a, b, interval, phase)
    # The old probe range, [end - 4h, end - 3h], from a whole minute: empty at some phases
    # when it starts minutes before a block boundary.
    empty = 0
    for minute in range(120):
        end = DAY0 + 4 * 3600 + minute * 60
        for phase in range(0, 300, 7):
            if not _promtool_first_evals(end - 4 * 3600, end - 3600, 300, phase + 0.5):
                empty += 1
    assert empty, "the replayed promtool walk should reproduce the old failure"


@pytest.mark.parametrize("now", STARTS[::6])
def test_history_is_fresh_unaligned_and_deterministic(now):
    service = load(str(SPEC))
    tl = clock.plan(now, synthetic.DAY, 90.0)
    history = synthetic.build(service, "error-storm", tl.start, tl.end, tl.raw_from)
    again = synthetic.build(service, "error-storm", tl.start, tl.end, tl.raw_from)
    assert history == again
    # Rate changes fall on odd seconds: never on a 5-minute (or minute) mark.
    for start, _ in history.segments[1:]:
        assert start % 60, start
    # Every target scrapes to within a scrape interval of the end (5m rates at the end
    # find their samples), at its own phase.
    times = {}
    for name, text, ts, _ in synthetic.samples(service, history):
        times.setdefault(text.split("instance=")[1], ts)
        assert ts == sorted(ts) and ts[-1] <= tl.end
        assert ts[-1] > tl.end - history.interval - 2 * synthetic.JITTER, (name, text)
    phases = {round(ts[0] % 60) for ts in times.values()}
    assert len(phases) > 3, phases


def test_targets_reset_gap_and_birth_fall_inside_the_history():
    service = load(str(SPEC))
    for now in STARTS:
        for scenario in ("healthy", "budget-exhausted"):
            tl = clock.plan(now, pipeline.spans(scenario), 90.0)
            targets = synthetic.make_targets(service, tl.start, tl.end)
            assert sum(t.reset is not None for t in targets) == 1
            assert sum(t.gap is not None for t in targets) == 1
            born = [t for t in targets if t.born > tl.start]
            assert len(born) == 1
            for t in targets:
                for x in (t.reset, *(t.gap or ()), t.born if t.born > tl.start else None):
                    if x is not None:
                        # Clear of the faults (the last 4 hours) and of the history's start.
                        assert tl.start + 3600 < x < tl.end - synthetic.FAULT_AGE - 3600


@pytest.mark.deep
def test_expected_alerts_are_the_same_at_any_time_of_day():
    """The predictions the real-server tests compare with depend on the history's shape
    only, never on the hour it ends at; and each fault scenario decides at least one alert
    firing for sure, so the comparison cannot pass by allowing everything. At a start every
    4 hours of the day in `make test` (6), every hour in `make deep` (24); the timeline
    tests above take all 48."""
    service = load(str(SPEC))
    for scenario in synthetic.SCENARIOS:
        seen = None
        for now in STARTS[:: examples(deep=2, quick=8)]:
            tl = clock.plan(now, pipeline.spans(scenario), 90.0)
            history = synthetic.build(service, scenario, tl.start, tl.end, tl.raw_from)
            want = expect.expected_states(service, history)
            assert seen is None or want == seen, (scenario, now)
            seen = want
        firing = [k for k, states in seen.items() if states == {"firing"}]
        assert (scenario == "healthy") != bool(firing), (scenario, seen)
