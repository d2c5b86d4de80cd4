"""Every incident is visible at every zoom: the dashboard's queries replayed as Grafana runs them.

A short history (3 hours, at a fixed date: no wall clock) holds a 5-minute burst at an odd
second: 50 % of HTTP requests fail, 60 % are slow, every other histogram's observations turn
slow and every other counter runs at ten times its rate. The recording rules are backfilled over
it (promtool on Prometheus 3.5, vmalert replay on VictoriaMetrics), as a ruler would have
written them.

Each time-series and stat panel's queries then run as Grafana runs them for a 1-hour, 24-hour
and 7-day range ending just after the history, on a 1920- and a 1280-pixel wide screen:
``$__interval`` from the range over the panel's width in pixels (Grafana's ``maxDataPoints``
when none is set), rounded as Grafana rounds it, never below the panel's min interval; the
step is that interval (at most 11000 points), start and end aligned to it. A panel the burst
moves at a 1-minute step must show at least :data:`SHARE` of that height at every such step.

This is not an ``e2e``-marked test: it needs no wall clock and runs in ``make test``.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from pathlib import Path

import pytest
import yaml

from generator import tools
from generator.grafana import dashboard
from generator.grafana.queries import ALL_VALUE, VARIABLES
from generator.prometheus import recording
from generator.promql import format_duration, parse_duration
from generator.spec.loader import load_text
from generator.spec.model import Service

from . import clock, prom, synthetic, vm
from .synthetic import HOUR, MINUTE, Level

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "slo_specs" / "samokoder.yaml"
END = 1_780_009_217  # 2026-05-28, an odd second; fixed, so no run depends on the clock
START = clock.block_floor(END - 3 * HOUR)  # promtool's rule backfill starts on a block boundary
BURST = END - 52 * MINUTE - 13  # inside the 1-hour range, aligned to nothing
BURST_LENGTH = 5 * MINUTE
RANGES = {"1h": HOUR, "24h": 24 * HOUR, "7d": 7 * 24 * HOUR}
SCREENS = (1920, 1280)  # pixels; a panel of w columns is w/24 of it, less its padding
PANEL_PADDING = 16
MAX_POINTS = 11000  # the Prometheus data source never asks for more points
SHARE = 0.1  # a 5-minute burst keeps at least 1/6 of its height in a 30-minute mean
ERROR_RATIO, SLOW_RATIO, COUNTER_SCALE = 0.5, 0.6, 10.0
# Grafana's rangeutil.roundInterval: (below this many ms, use this interval in ms).
ROUNDED = (
    (15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500), (1500, 1000),
    (3500, 2000), (7500, 5000), (12500, 10000), (17500, 15000), (25000, 20000),
    (45000, 30000), (90000, 60000), (210000, 120000), (450000, 300000), (750000, 600000),
    (1050000, 900000), (1500000, 1200000), (2700000, 1800000), (5400000, 3600000),
    (9000000, 7200000), (16200000, 10800000), (32400000, 21600000), (86400000, 43200000),
    (604800000, 86400000), (1814400000, 604800000), (3628800000, 2592000000),
)  # fmt: skip
SUMMARY = re.compile(r"(?:max|min|avg)_over_time\((.*?)\[\$__interval\]\)")


def round_interval(ms: float) -> int:
    """Return the interval Grafana rounds ``ms`` milliseconds to."""
    return next((to for below, to in ROUNDED if ms < below), 31536000000)


def grafana_step(panel: dict, range_s: int, screen: int) -> int:
    """Return ``$__interval`` (= the query step), in seconds, as Grafana computes it."""
    width = panel["gridPos"]["w"] * screen // 24 - PANEL_PADDING
    points = panel.get("maxDataPoints", width)
    interval = round_interval(range_s * 1000 / points) / 1000
    interval = max(interval, parse_duration(panel["interval"]))
    return math.ceil(max(interval, range_s / MAX_POINTS))


def substituted(expr: str, step: int, scrape: int) -> str:
    """``expr`` as Grafana sends it: intervals filled in, every variable at All."""
    for variable in VARIABLES:
        expr = expr.replace(f"${variable}", ALL_VALUE)
    rate_interval = max(step + scrape, 4 * scrape)
    expr = expr.replace("$__rate_interval", format_duration(rate_interval))
    return expr.replace("$__interval", format_duration(step))


# -- the history ------------------------------------------------------------------------


def _metric_of(service: Service, name: str):
    for m in service.metrics:
        if name in (m.name, f"{m.name}_bucket", f"{m.name}_count", f"{m.name}_sum"):
            return m
    return None


def burst_feeds(service: Service, base: synthetic.FeedMap) -> synthetic.FeedMap:
    """The burst on top of ``base``: SLIs at 50 % errors and 60 % slow requests; every other
    histogram's observations in its slowest bucket; every other counter at 10x."""
    fault: synthetic.FeedMap = {}
    for slo in service.slos:
        ratio = SLOW_RATIO if slo.sli.kind == "latency" else ERROR_RATIO
        synthetic._put(fault, synthetic.feeds_lib.sli_feeds(slo.sli, ratio))
    sli_metrics = synthetic._sli_metrics(service)
    for key, level in base.items():
        name, labels = key
        metric = _metric_of(service, name)
        if metric is None or metric.name in sli_metrics or key in fault:
            continue
        if metric.type == "counter":
            fault[key] = Level(level.step * COUNTER_SCALE, True)
        elif name.endswith("_bucket"):
            le = dict(labels)["le"]
            if le != "+Inf" and float(le) < max(metric.buckets or (math.inf,)):
                fault[key] = Level(0.0, True)  # nothing this fast during the burst
    return fault


def history(service: Service) -> synthetic.History:
    base = synthetic.healthy_feeds(service)
    segments = (
        (float(START), base),
        (float(BURST), {**base, **burst_feeds(service, base)}),
        (float(BURST + BURST_LENGTH), base),
    )
    targets = synthetic.make_targets(service, START, END)
    return synthetic.History(
        "burst", float(START), END, segments, targets, float(START), service.scrape_interval
    )


def _level_files(service: Service, work: Path) -> list[Path]:
    levels = prom.rule_levels(recording.groups(service))
    paths = []
    for n, level in enumerate(levels, 1):
        path = work / f"level{n}.yml"
        path.write_text(yaml.safe_dump({"groups": level}, sort_keys=False))
        paths.append(path)
    return paths


def prometheus(service: Service, work: Path, engine: tools.Engine):
    source = work / "history.om"
    synthetic.write_openmetrics(service, history(service), source)
    data = work / "data"
    prom.import_openmetrics(source, data, engine)
    for path in _level_files(service, work):
        with prom.running(data, engine=engine) as server:
            prom.backfill_rules(server, path, START, END, work / "blocks", engine)
        prom.move_blocks(work / "blocks", data)
    return prom.running(data, engine=engine)


def victoriametrics(service: Service, work: Path, engine: tools.Engine):
    @contextlib.contextmanager
    def served():
        with vm.storage(work / "vmdata", engine) as store:
            source = work / "history.txt"
            synthetic.write_prometheus_text(service, history(service), source)
            store.import_text(source)
            for path in _level_files(service, work):
                vm.replay(store, path, START, END, f"{service.scrape_interval}s", engine)
            yield store

    return served()


ENGINES = {"prometheus-3.5": (tools.PROMETHEUS_3_5, prometheus)}
ENGINES["victoriametrics"] = (tools.VICTORIAMETRICS, victoriametrics)


# -- the replay -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def service() -> Service:
    return load_text("slo_specs/samokoder.yaml", SPEC.read_text(encoding="utf-8"))


# Engines as parameters: the quick profile replays on one of them (tests/conftest.py).
@pytest.fixture(scope="module", params=[e for e, _ in ENGINES.values()], ids=lambda e: e.name)
def server(request, service: Service):
    engine, setup = ENGINES[request.param.name]
    with prom.scratch("zoom") as work, setup(service, work, engine) as running:
        yield running


def _series(result: list[dict]) -> dict[str, list[tuple[float, float]]]:
    return {
        json.dumps(s["metric"], sort_keys=True): [(float(t), float(v)) for t, v in s["values"]]
        for s in result
    }


def _burst_window(step: int) -> tuple[float, float]:
    # A recorded 5m rate carries the burst up to one rate window after it; a point carries
    # what its interval held, up to one step before it.
    return BURST, BURST + BURST_LENGTH + 5 * MINUTE + step


def height(values: list[tuple[float, float]], step: int, base: float) -> float:
    """Return how far the points in the burst's window rise above ``base``."""
    a, b = _burst_window(step)
    inside = [v for t, v in values if a <= t <= b and not math.isnan(v)]
    return max(inside, default=base) - base


def baseline(values: list[tuple[float, float]], step: int) -> float:
    a, b = _burst_window(step)
    warm = START + 10 * MINUTE  # rates need a window of history first
    return max((v for t, v in values if warm <= t and not a <= t <= b), default=0.0)


def replay(server: prom.Server, expr: str, range_s: int, step: int, scrape: int):
    start = math.floor((END - range_s) / step) * step
    end = math.floor(END / step) * step
    return _series(server.query_range(substituted(expr, step, scrape), start, end, step))


def moved_panels(service: Service) -> tuple[set[str], set[str]]:
    """The panels the burst must move (latencies, error ratios, counters it scales), and
    the error-ratio panels among them."""
    assert service.dashboard is not None
    sli_metrics = synthetic._sli_metrics(service)
    out, error_panels = set(), set()
    for p in service.dashboard.panels:
        latency = p.source == "quantiles" or (p.signal is not None and p.signal.kind == "quantile")
        scaled = p.source == "rate" and p.metric is not None and p.metric.name not in sli_metrics
        errors = (
            p.signal is not None
            and p.signal.kind == "ratio"
            and p.signal.numerator is not None
            and p.signal.numerator.metric.name in sli_metrics
        )
        if p.type != "gauge" and (latency or scaled or errors):
            out.add(p.title)
        if errors:
            error_panels.add(p.title)
    return out, error_panels


def units_problems(service: Service, panel: dict, fine: dict, error_panels: set[str]) -> list[str]:
    """Values that do not fit the panel's unit: percent is 0-100 (the 50 % burst reads about
    50, not 0.5), seconds are within the histograms' buckets (not milliseconds)."""
    unit = panel["fieldConfig"]["defaults"]["unit"]
    values = [v for series in fine.values() for _, v in series if not math.isnan(v)]
    if not values:
        return []
    top = max(b for m in service.metrics if m.buckets for b in m.buckets)
    if unit == "percent" and not (min(values) >= 0 and max(values) <= 100):
        return [f"{panel['title']}: percent outside 0-100: {min(values)}..{max(values)}"]
    if unit == "percent" and panel["title"] in error_panels and max(values) < 100 * ERROR_RATIO / 2:
        return [f"{panel['title']}: the 50 % burst peaks at {max(values)} %"]
    if unit == "s" and not 0 <= max(values) <= top:
        return [f"{panel['title']}: seconds beyond the slowest bucket {top}: {max(values)}"]
    return []


def test_the_burst_shows_in_every_error_and_latency_panel_at_every_zoom(
    service: Service, server: prom.Server
) -> None:
    board = dashboard.build(service)
    scrape = service.scrape_interval
    expected, error_panels = moved_panels(service)
    assert len(expected) >= 8 and error_panels, expected
    seen, missed, naive_missed, unit_problems = set(), [], [], []
    for panel in board["panels"]:
        if panel["type"] not in ("timeseries", "stat"):
            continue
        for target in panel["targets"]:
            fine = replay(server, target["expr"], 3 * HOUR, scrape, scrape)
            unit_problems += units_problems(service, panel, fine, error_panels)
            for labels, values in fine.items():
                base = baseline(values, scrape)
                rise = height(values, scrape, base)
                if rise <= 0.5 * abs(base) or rise <= 0:
                    continue  # the burst does not move this series
                seen.add(panel["title"])
                for (name, range_s), screen in ((r, s) for r in RANGES.items() for s in SCREENS):
                    step = grafana_step(panel, range_s, screen)
                    where = f"{panel['title']} {target['refId']} {labels} {name}@{screen}px"
                    got = replay(server, target["expr"], range_s, step, scrape).get(labels, [])
                    if height(got, step, base) < SHARE * rise:
                        missed.append(f"{where} (step {step}s)")
                    naive = SUMMARY.sub(r"\1", target["expr"])
                    got = replay(server, naive, range_s, step, scrape).get(labels, [])
                    if height(got, step, base) < SHARE * rise:
                        naive_missed.append(where)
    assert expected <= seen, f"the burst did not move {sorted(expected - seen)}"
    assert not unit_problems, unit_problems
    assert not missed, "the burst vanishes at Grafana's step:\n" + "\n".join(missed)
    # The same queries read at the step instants alone lose it: the test can fail.
    assert naive_missed, "reading the recorded series at the step instants kept every burst"
