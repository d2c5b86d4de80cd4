"""From a spec and a scenario to a live engine holding the history, the recording rules'
history and the generated rules: the steps every end-to-end test shares, for Prometheus
(promtool backfill, then a live server) and VictoriaMetrics (HTTP import and vmalert
replay into victoria-metrics, then vmalert live)."""

from __future__ import annotations

import contextlib
import os
import pathlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import yaml
from generated_rules import groups_in

from generator import tools
from generator.plan import service_files
from generator.prometheus.rule_files import FILES, RECORDING_FILES
from generator.spec.model import Service

from . import clock, prom, synthetic, vm

COUNTS = "slo:sli_events:increase5m"  # one SLO count series: where the count slices sit


@dataclass
class Env:
    """A scenario loaded into a running engine."""

    service: Service
    history: synthetic.History
    server: prom.Server
    files: dict[str, bytes]
    timings: dict[str, float]
    timeline: clock.Timeline
    engine: tools.Engine
    notes: dict = field(default_factory=dict)

    def count_times(self, slo: str) -> list[float]:
        """Return the timestamp of every SLO count sample of ``slo`` the server holds."""
        span = int(time.time() - self.history.start) + 600
        result = self.server.query(f'{COUNTS}{{slo="{slo}"}}[{span}s]')["result"]
        return sorted({float(t) for s in result for t, _ in s["values"]})


# Setup takes longer on a longer history; the first scenario of a run has only this guess,
# later ones plan with what the previous ones of the same length measured.
BUDGET_DAYS = int(os.environ.get("E2E_BUDGET_DAYS", "7"))
_measured: dict[tuple[str, int], float] = {}


def lead_seconds(engine: tools.Engine, span: int) -> float:
    """Setup time to plan for: the last measured setup of this engine and span plus 5 %,
    else ``E2E_LEAD``, else a guess measured on a loaded 2-core machine."""
    days = span / synthetic.DAY
    if (engine.name, span) in _measured:
        return _measured[(engine.name, span)] * 1.05 + 5
    if "E2E_LEAD" in os.environ:
        return float(os.environ["E2E_LEAD"])
    if engine.family == "victoriametrics":
        return 5 + 1 * days
    return 60 + 25 * days


def spans(scenario: str) -> int:
    """History length: ``BUDGET_DAYS`` where the period matters, one day elsewhere (the
    longest alert window, 3d, then covers the whole history, which expect.py allows for)."""
    return BUDGET_DAYS * synthetic.DAY if scenario == "budget-exhausted" else synthetic.DAY


def align_for(engine: tools.Engine) -> int:
    """The history ends on a whole minute: the last count slice a vmalert replay stamps
    (on multiples of 5m) is then at most 4 minutes old, so live evaluations have at least a
    minute before vmalert stamps the first count whose window reaches past the end."""
    return 60


def _write_files(files: dict[str, bytes], root: pathlib.Path) -> None:
    for rel, body in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)


def held_since(server: prom.Server, expr: str, hold: int, end: float) -> dict[str, float]:
    """Return, per output series of ``expr`` at ``end``, since when it has held without a
    gap (minute resolution, looking back ``hold`` plus an hour), read from ``server``.

    Neither engine can restore an alert's ``for`` clock from backfilled data, so the tests
    measure how long each active alert's condition has held in the history instead.
    """
    out = {}
    for series in server.query_range(expr, end - hold - 3600, end, 60):
        times = [float(t) for t, _ in series["values"]]
        if not times or times[-1] < end - 60:
            continue
        run = times[-1]
        for t in reversed(times):
            if run - t > 60:
                break
            run = t
        labels = {k: v for k, v in series["metric"].items() if k != "__name__"}
        out[",".join(f"{k}={v}" for k, v in sorted(labels.items()))] = run
    return out


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _level_file(work: pathlib.Path, n: int, what: str, groups: list[dict]) -> pathlib.Path:
    path = work / f"level{n}-{what}.yml"
    path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    return path


def _parts(level: list[dict], tl: clock.Timeline) -> list[tuple[str, list[dict], int]]:
    """Split a level: groups with their own interval (the SLO counts) cover the whole
    history so period sums are complete; the rest only the recent hours tests look at."""
    ranges = dict((what, a) for what, a, _ in clock.backfill_ranges(tl))
    whole = [g for g in level if "interval" in g]
    recent = [g for g in level if "interval" not in g]
    return [(w, p, ranges[w]) for w, p in (("whole", whole), ("recent", recent)) if p]


def _wait_until(t: float) -> None:
    while time.time() < t:
        time.sleep(min(5.0, t - time.time()))


class _Laps:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self.tick = self.begin = time.monotonic()

    def __call__(self, name: str) -> None:
        now = time.monotonic()
        self.timings[name] = round(now - self.tick, 2)
        self.tick = now


def _prometheus(
    engine, work, service, history, levels, tl, rule_files, lap
) -> contextlib.AbstractContextManager[prom.Server]:
    source = work / "history.om"
    synthetic.write_openmetrics(service, history, source)
    data = work / "data"
    prom.import_openmetrics(source, data, engine)
    source.unlink()
    lap("history")
    for n, level in enumerate(levels, 1):
        with prom.running(data, engine=engine) as server:
            for what, part, start in _parts(level, tl):
                path = _level_file(work, n, what, part)
                prom.backfill_rules(server, path, start, tl.end, work / "blocks", engine)
        prom.move_blocks(work / "blocks", data)
        lap(f"rules level {n}")

    @contextlib.contextmanager
    def live() -> Iterator[prom.Server]:
        # The live server writes rule results at "now": it must start after the last
        # backfilled sample, or every write is rejected as out of bounds.
        _wait_until(tl.end + 2)
        lap("wait for the history's end")
        with prom.running(data, rule_files, engine=engine) as server:
            yield server

    return live()


@contextlib.contextmanager
def _victoriametrics(
    engine, work, service, history, levels, tl, rule_files, lap
) -> Iterator[prom.Server]:
    with vm.storage(work / "vmdata", engine) as store:
        source = work / "history.txt"
        synthetic.write_prometheus_text(service, history, source)
        store.import_text(source)
        source.unlink()
        some = history.series_keys()[0][0]
        store.wait_visible(f"last_over_time({some}[15m])", tl.end)
        lap("history")
        for n, level in enumerate(levels, 1):
            for what, part, start in _parts(level, tl):
                path = _level_file(work, n, what, part)
                vm.replay(store, path, start, tl.end, f"{clock.EVAL_INTERVAL}s", engine)
            for name in sorted({r["record"] for g in level for r in g["rules"]}):
                store.wait_visible(f"last_over_time({name}[15m])", tl.end)
            lap(f"rules level {n}")
        # vmalert could start now, but alerts are predicted at the history's end.
        _wait_until(tl.end + 2)
        lap("wait for the history's end")
        with vm.live(store, rule_files, work, engine=engine) as server:
            yield server


@contextlib.contextmanager
def scenario_server(
    service: Service,
    scenario: str,
    work: pathlib.Path,
    engine: tools.Engine = tools.PROMETHEUS_3_5,
    now: Callable[[], float] = time.time,
) -> Iterator[Env]:
    """Backfill ``scenario`` for ``service`` into ``work`` and serve it with the rules.

    The history ends at the planned setup time; a machine slower than planned gets the
    scenario set up again, planned with the setup time it just measured (twice at most), so
    no machine speed makes the history stale.
    """
    files = service_files(service)
    gen = work / "out"
    _write_files(files, gen)
    base = gen / service.name / "prometheus"
    rules = [base / name for name in FILES if (base / name).is_file()]
    levels = prom.rule_levels(groups_in(base, RECORDING_FILES))
    span = spans(scenario)
    attempts = 3
    for attempt in range(attempts):
        lap = _Laps()
        tl = clock.plan(now(), span, lead_seconds(engine, span), align_for(engine))
        problems = clock.check(tl, span)
        assert not problems, problems
        history = synthetic.build(service, scenario, tl.start, tl.end, tl.raw_from)
        setup = _victoriametrics if engine.family == "victoriametrics" else _prometheus
        here = work / f"attempt-{attempt}"
        here.mkdir()
        with setup(engine, here, service, history, levels, tl, rules, lap) as server:
            lap("server start")
            setup_took = (
                time.monotonic() - lap.begin - lap.timings.get("wait for the history's end", 0)
            )
            _measured[(engine.name, span)] = setup_took
            late = time.time() - tl.end
            if late > clock.STALE_AFTER and attempt + 1 < attempts:
                continue  # stop this server; plan again with the measured setup time
            if late > clock.STALE_AFTER:
                raise AssertionError(
                    f"setup took {setup_took:.0f}s, planned {tl.lead:.0f}s, {attempts} times: "
                    f"the history's last samples are {late:.0f}s old, too old for 5m rates"
                )
            yield Env(service, history, server, files, lap.timings, tl, engine)
            return


def rule_labels_selector(rule: dict) -> str:
    """Return ``record{label="value", ...}`` selecting what one recording rule writes."""
    labels = rule.get("labels") or {}
    inner = ", ".join(f'{k}="{_escape(str(v))}"' for k, v in sorted(labels.items()))
    return f"{rule['record']}{{{inner}}}" if inner else rule["record"]
