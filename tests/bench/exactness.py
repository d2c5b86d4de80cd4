"""The period error ratio's error bound on realistic history, on every rule engine.

31 days of one availability SLI from 10 instances scraped every minute at their own phase
(uniform in the minute) with +-1.5 s jitter and noisy traffic (the day/night curve and
burst of ``traffic.per_minute``), every instance restarting twice (counters back to 0), one
instance born at 0 on day 10, one gone on day 20, a 4-minute and a 15-minute scrape gap.
The exact weighted value is bad / all events the samples show in the 30 days.

Per engine (Prometheus 2.42, 2.53, 3.5 and VictoriaMetrics) the raw history is imported,
the generated event-count expressions (this project's exact slices) and today's
``sum(increase(x[5m]))`` are evaluated every 5 minutes over the 30 days with a range query
(what ``promtool tsdb create-blocks-from rules`` and ``vmalert -replay`` do, without
writing a block per two hours), the results are imported as recorded series, and the
generated period expression is queried on each: its relative error against the exact value,
the samples it reads and its time (median of 15). The period is queried 30 s after the last
slice, as a live ratio group evaluates between slices (a query exactly on a slice would add
the first slice again on Prometheus 2, whose ranges are closed at both ends).

Not a test: it asserts nothing; ``make bench`` runs it and it writes tests/bench/EXACTNESS.md.
Run alone as ``python -m tests.bench.exactness``.
"""

from __future__ import annotations

import datetime
import os
import pathlib
import random
import statistics
import sys
import time
from dataclasses import dataclass, field

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
    __package__ = "tests.bench"

from generator import tools
from generator.prometheus import recording
from generator.spec.loader import load
from tests.e2e import prom, vm

from . import evaluation
from . import traffic as traffic_lib

RESULTS = pathlib.Path(__file__).with_name("EXACTNESS.md")
SPEC = evaluation.ROOT / "slo_specs" / "samokoder.yaml"
DAY, SLICE, SCRAPE = traffic_lib.DAY, 300, 60
INSTANCES = 10
BOUND = 1e-4  # the relative error the period ratio must stay within
RECORDS = ("slo:sli_bad_events:increase5m", "slo:sli_events:increase5m")
TODAY = "today:"  # today's increase() slices are recorded under this prefix instead of slo:
QUERY_REPEATS = 15


@dataclass
class Instance:
    """One target's scrapes: (time, cumulative good, cumulative bad)."""

    name: str
    samples: list[tuple[float, int, int]] = field(default_factory=list)
    events: list[tuple[float, int, int]] = field(default_factory=list)  # what each sample adds


def build(end: int, seed: int = 13) -> list[Instance]:
    """Return the 10 instances' scrapes over the 31 days before ``end``."""
    rng = random.Random(seed)
    start = end - 31 * DAY
    burst = end - 9 * DAY
    burst = burst - burst % DAY + 14 * 3600
    born, gone = start + 10 * DAY + 7 * 3600 + 17, start + 20 * DAY + 13 * 3600 + 41
    gaps = {3: (start + 15 * DAY + 3600, 15 * 60), 5: (start + 17 * DAY + 7200, 4 * 60)}
    out = []
    for i in range(INSTANCES):
        inst = Instance(f"samokoder-api-{i}.prod.internal:8080")
        phase = rng.uniform(0, SCRAPE)
        restarts = sorted(rng.uniform(start + DAY, end - DAY) for _ in range(2))
        weight = rng.uniform(0.5, 1.5) / INSTANCES
        good = bad = 0
        last = None
        t = start + phase
        while t < end:
            at = round(t + rng.uniform(-1.5, 1.5), 3)
            t += SCRAPE
            if (i == 8 and at < born) or (i == 9 and at > gone):
                continue
            if i in gaps and gaps[i][0] <= at < gaps[i][0] + gaps[i][1]:
                continue
            if last is None:  # a new series: first seen at 0
                inst.samples.append((at, 0, 0))
                inst.events.append((at, 0, 0))
                last = at
                continue
            g, b = traffic_lib.per_minute(int(at), burst)
            scale = weight * (at - last) / 60 * max(0.0, rng.gauss(1, 0.3))
            dg, db = round(g * scale), round(b * scale + rng.random() * 0.5)
            if restarts and at > restarts[0]:  # restarted since the last scrape
                restarts.pop(0)
                good = bad = 0
            good, bad, last = good + dg, bad + db, at
            inst.samples.append((at, good, bad))
            inst.events.append((at, dg, db))
        out.append(inst)
    return out


def exact(instances: list[Instance], a: int, b: int) -> tuple[int, int]:
    """Return (bad, total) events the samples show in (a, b]."""
    bad = sum(db for i in instances for t, _, db in i.events if a < t <= b)
    good = sum(dg for i in instances for t, dg, _ in i.events if a < t <= b)
    return bad, bad + good


def _raw_lines(instances: list[Instance], scale: int) -> list[str]:
    """Exposition lines with timestamps in seconds (scale 1) or milliseconds (1000)."""
    lines = []
    for status, col in (("200", 1), ("500", 2)):
        for inst in instances:
            labels = f'instance="{inst.name}",job="{traffic_lib.JOB}",status="{status}"'
            for s in inst.samples:
                t = f"{s[0]:.3f}" if scale == 1 else str(round(s[0] * 1000))
                lines.append(f"{traffic_lib.METRIC}{{{labels}}} {s[col]} {t}\n")
    return lines


def _slice_exprs() -> dict[str, str]:
    """Record name -> expression: the generated exact slices and today's increase() ones."""
    service = load(SPEC)
    slo = service.slo(evaluation.SLO)
    out = {r["record"]: r["expr"] for r in recording.slo_count_rules(service, slo)}
    bad, total = recording._sli_bad_and_total(slo.sli, SLICE, "increase")
    out[RECORDS[0].replace("slo:", TODAY)] = f"{bad} or vector(0)"
    out[RECORDS[1].replace("slo:", TODAY)] = f"{total} or vector(0)"
    return out


def _recorded_lines(server: prom.Server, exprs: dict[str, str], a: int, b: int, ms: bool):
    """Evaluate every slice expression every 5 minutes over (a, b]; return them as
    exposition lines labelled as the generated rules label them."""
    labels = f'service="samokoder",slo="{evaluation.SLO}"'
    lines = []
    for record, expr in exprs.items():
        result = server.query_range(expr, a + SLICE, b, SLICE)
        (series,) = result
        for t, v in series["values"]:
            stamp = str(int(t) * 1000) if ms else str(int(t))
            lines.append(f"{record}{{{labels}}} {v} {stamp}\n")
    return lines


@dataclass
class Run:
    engine: str
    version: str = ""
    ratio: dict[str, float] = field(default_factory=dict)  # shape -> period ratio
    samples: dict[str, int] = field(default_factory=dict)
    ms: dict[str, float] = field(default_factory=dict)
    slice_samples: dict[str, int] = field(default_factory=dict)  # one slice's raw read
    slice_ms: dict[str, float] = field(default_factory=dict)
    setup_s: float = 0.0


def _period_exprs(period: str) -> dict[str, str]:
    today = period
    for r in RECORDS:
        today = today.replace(r, r.replace("slo:", TODAY))
    return {"exact slices": period, "today (increase)": today}


def _measure(server: prom.Server, expr: str, at: float) -> tuple[float, float, int]:
    """Return (value, median ms, samples read; -1 where the engine gives no stats)."""
    times, samples, value = [], -1, float("nan")
    for _ in range(QUERY_REPEATS):
        tick = time.perf_counter()
        data = server.query(expr, at=at, stats=True)
        wall = 1000 * (time.perf_counter() - tick)
        stats = data.get("stats") or {}
        ms = 1000 * float(stats.get("timings", {}).get("evalTotalTime", 0.0))
        times.append(ms or wall)
        samples = int(stats.get("samples", {}).get("totalQueryableSamples", -1))
        value = float(data["result"][0]["value"][1])
    return value, statistics.median(times), samples


def _measure_all(server: prom.Server, run: Run, period: str, exprs: dict[str, str], end: int):
    for shape, expr in _period_exprs(period).items():
        run.ratio[shape], run.ms[shape], run.samples[shape] = _measure(server, expr, end + 30)
    for shape, prefix in (("exact slices", "slo:"), ("today (increase)", TODAY)):
        _, run.slice_ms[shape], run.slice_samples[shape] = _measure(
            server, exprs[RECORDS[1].replace("slo:", prefix)], end
        )


def _prometheus(engine: tools.Engine, instances, exprs, period, end: int) -> Run:
    run, tick = Run(engine.name), time.monotonic()
    with prom.scratch(f"exact-{engine.name}") as work:
        data, raw = work / "data", work / "raw.om"
        raw.write_text("".join(_raw_lines(instances, 1)) + "# EOF\n")
        prom.import_openmetrics(raw, data, engine)
        with prom.running(data, engine=engine) as server:
            recorded = _recorded_lines(server, exprs, end - 30 * DAY, end, ms=False)
        rec = work / "recorded.om"
        rec.write_text("".join(recorded) + "# EOF\n")
        prom.import_openmetrics(rec, data, engine)
        run.setup_s = time.monotonic() - tick
        with prom.running(data, engine=engine) as server:
            run.version = server.get("/api/v1/status/buildinfo")["version"]
            _measure_all(server, run, period, exprs, end)
    return run


def _victoriametrics(instances, exprs, period, end: int) -> Run:
    run, tick = Run(tools.VICTORIAMETRICS.name), time.monotonic()
    with prom.scratch("exact-vm") as work, vm.storage(work / "data") as store:
        raw = work / "raw.prom"
        raw.write_text("".join(_raw_lines(instances, 1000)))
        store.import_text(raw)
        rec = work / "recorded.prom"
        rec.write_text("".join(_recorded_lines(store, exprs, end - 30 * DAY, end, ms=True)))
        store.import_text(rec)
        run.setup_s = time.monotonic() - tick
        run.version = tools.VICTORIAMETRICS.version
        _measure_all(store, run, period, exprs, end)
    return run


def run(end: int | None = None, progress=None) -> dict:
    """Build the history once, measure every engine (``EXACTNESS_ENGINES``, default every
    rule engine); return the figures, and pass them to ``progress`` after each engine."""
    end = end if end is not None else int(time.time()) // 3600 * 3600
    instances = build(end)
    bad, total = exact(instances, end - 30 * DAY, end)
    exprs = _slice_exprs()
    _, period = evaluation._ours()
    res = {
        "end": end,
        "exact": bad / total,
        "bad": bad,
        "total": total,
        "raw_samples": sum(2 * len(i.samples) for i in instances),
        "runs": [],
    }
    names = os.environ.get("EXACTNESS_ENGINES", ",".join(e.name for e in tools.RULE_ENGINES))
    for name in names.split(","):
        print(f"  exactness on {name}", flush=True)
        engine = tools.engine(name)
        if engine.family == "victoriametrics":
            res["runs"].append(_victoriametrics(instances, exprs, period, end))
        else:
            res["runs"].append(_prometheus(engine, instances, exprs, period, end))
        if progress:
            progress(res)
    return res


def render(res: dict) -> str:
    exact_ratio = res["exact"]
    end = datetime.datetime.fromtimestamp(res["end"], datetime.UTC)
    lines = [
        "# The period error ratio on realistic history",
        "",
        f"Written by `tests/bench/exactness.py` (`make bench`), T = {end:%Y-%m-%d %H:%M} UTC. "
        f"31 days, 10 instances scraped every minute at their own phase with +-1.5 s jitter, "
        "noisy day/night traffic with a burst, two restarts per instance, one instance born "
        "at 0 on day 10 and one gone on day 20, a 4-minute and a 15-minute scrape gap: "
        f"{res['raw_samples']:,} raw samples; in the 30 days {res['bad']:,} bad of "
        f"{res['total']:,} events, exact error ratio {exact_ratio:.9f}.",
        "",
        "| Engine | Slices | Period ratio | Relative error | Within 1e-4 | Period samples "
        "| Period query (ms) | One slice: samples | One slice (ms) |",
        "|---|---|---:|---:|---|---:|---:|---:|---:|",
    ]
    for r in res["runs"]:
        for shape in r.ratio:
            err = r.ratio[shape] / exact_ratio - 1
            samples = f"{r.samples[shape]:,}" if r.samples[shape] >= 0 else "n/a"
            slice_samples = f"{r.slice_samples[shape]:,}" if r.slice_samples[shape] >= 0 else "n/a"
            lines.append(
                f"| {r.engine} {r.version.split()[0] if r.version else ''} | {shape} "
                f"| {r.ratio[shape]:.9f} | {err:+.2e} | {'yes' if abs(err) <= BOUND else 'no'} "
                f"| {samples} | {r.ms[shape]:.1f} | {slice_samples} | {r.slice_ms[shape]:.2f} |"
            )
    lines += [
        "",
        "Period samples and time: the generated `slo:sli_error:ratio_rate30d` expression "
        "(`evalTotalTime` of the query stats on Prometheus, wall time of the HTTP query on "
        "VictoriaMetrics, which reports no sample count), median of "
        f"{QUERY_REPEATS}. One slice: the all-events count expression at T. Setup per engine "
        "(import, slices, import): "
        + ", ".join(f"{r.engine} {r.setup_s:.0f} s" for r in res["runs"])
        + ".",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    def write(res: dict) -> None:
        RESULTS.write_text(render(res))
        print(f"wrote {RESULTS}", flush=True)

    run(progress=write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
