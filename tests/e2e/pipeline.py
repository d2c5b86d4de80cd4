"""From a spec and a scenario to a live Prometheus holding the history, the recording
rules' history and the generated rules: the steps every end-to-end test shares."""

from __future__ import annotations

import contextlib
import os
import pathlib
import time
from collections.abc import Iterator
from dataclasses import dataclass

import yaml

from generator.plan import service_files
from generator.spec.model import Service

from . import prom, synthetic

RECENT = 8 * 3600  # recording history kept for alert 'for' state and dashboard ranges
STALE_AFTER = 210  # seconds: past this, 5m rates at the server's "now" lose their samples


@dataclass
class Env:
    """A scenario loaded into a running server."""

    service: Service
    history: synthetic.History
    server: prom.Prometheus
    files: dict[str, bytes]
    timings: dict[str, float]
    counts_end: float  # the last backfilled count evaluation
    phase: float  # seconds into each 5-minute cycle at which backfilled counts sit

    def count_times(self) -> list[float]:
        """Return the timestamps of every backfilled SLO count sample."""
        out, t = [], self.history.start + synthetic.SLICE
        while t <= self.counts_end + 1e-6:
            out.append(round(t, 3))
            t += synthetic.SLICE
        return out


# promtool backfills rules one 2-hour block at a time: a month of SLO counts takes 2 to 10
# minutes, and the history must still be fresh (5m rates) when the server starts. A week
# of errors at 5x the budget exhausts it just as surely; E2E_BUDGET_DAYS=31 runs the month.
BUDGET_DAYS = int(os.environ.get("E2E_BUDGET_DAYS", "7"))


def lead_seconds(days: float) -> float:
    """Setup time to plan for (E2E_LEAD overrides): measured 40 to 120 s for two days of
    history and 240 s for a week on a loaded 2-core machine."""
    return float(os.environ.get("E2E_LEAD", 90 + 30 * days))


def spans(scenario: str) -> int:
    """History length: ``BUDGET_DAYS`` where the period matters, two days elsewhere."""
    return BUDGET_DAYS * synthetic.DAY if scenario == "budget-exhausted" else 2 * synthetic.DAY


def _write_files(files: dict[str, bytes], root: pathlib.Path) -> None:
    for rel, body in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)


def held_since(server: prom.Prometheus, expr: str, hold: int, end: float) -> dict[str, float]:
    """Return, per output series of ``expr`` at ``end``, since when it has held without a
    gap (minute resolution, looking back ``hold`` plus an hour), read from ``server``.

    Prometheus cannot restore an alert's ``for`` clock from backfilled data (its first
    evaluations write the ALERTS_FOR_STATE it would read back), so the tests measure how
    long each active alert's condition has held in the server's own history instead.
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


def _seconds(duration: str) -> int:
    from generator.promql import parse_duration

    return 0 if duration in ("0s", "0") else parse_duration(duration)


def _level_file(work: pathlib.Path, n: int, what: str, groups: list[dict]) -> pathlib.Path:
    path = work / f"level{n}-{what}.yml"
    path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    return path


def _count_phase(level1: list[dict], work: pathlib.Path, end: int, flavour: str) -> float:
    """Return when, within each 5-minute cycle, promtool evaluates the count group.

    Rule evaluation is offset by a hash of the group's file and name; the history puts
    its rate changes on that phase so that no count window straddles one.
    """
    whole = [g for g in level1 if "interval" in g]
    if not whole:
        return 0.0
    path = _level_file(work, 1, "whole", whole)
    probe = work / "probe"
    probe.mkdir()
    with prom.running(probe, flavour=flavour) as server:
        # Three hours: a shorter range can fall between promtool's 2-hour blocks and
        # come back empty.
        prom.backfill_rules(
            server, path, end - 4 * 3600, end - 3600, work / "probe-blocks", flavour
        )
    prom.move_blocks(work / "probe-blocks", probe)
    record = whole[0]["rules"][0]["record"]
    with prom.running(probe, flavour=flavour) as server:
        result = server.query(f"{record}[5h]", at=end)["result"]
    assert result, f"the probe backfill of {record} wrote nothing"
    return round(float(result[0]["values"][-1][0]) % synthetic.SLICE, 3)


@contextlib.contextmanager
def scenario_server(
    service: Service, scenario: str, work: pathlib.Path, flavour: str = "system"
) -> Iterator[Env]:
    """Backfill ``scenario`` for ``service`` into ``work`` and serve it with the rules."""
    timings: dict[str, float] = {}
    tick = time.monotonic()

    def lap(name: str) -> None:
        nonlocal tick
        now = time.monotonic()
        timings[name] = round(now - tick, 2)
        tick = now

    files = service_files(service)
    gen = work / "out"
    _write_files(files, gen)
    base = gen / service.name / "prometheus"
    recording, alerts = base / "recording_rules.yml", base / "alerts.yml"

    groups = yaml.safe_load(recording.read_text())["groups"]
    levels = prom.rule_levels(groups)
    # The history ends a little in the future, when setup should be done, so that the
    # live server's 5m rates still find samples; backfill servers only read, so future
    # samples do them no harm, and the live server starts once the end has passed.
    days = spans(scenario) / synthetic.DAY
    end = (int(time.time() + lead_seconds(days)) // 60 + 1) * 60
    phase = _count_phase(levels[0], work, end, flavour)
    history = synthetic.build(service, scenario, end, spans(scenario), phase)
    source = work / "history.om"
    synthetic.write_openmetrics(service, history, source)
    data = work / "data"
    prom.import_openmetrics(source, data, flavour)
    source.unlink()
    lap("history")

    counts_end = synthetic.on_phase(end, phase)
    for n, level in enumerate(levels, 1):
        with prom.running(data, flavour=flavour) as server:
            # Groups with their own interval (the SLO event counts) cover the whole history
            # so period sums are complete; the rest only the recent hours tests look at.
            whole = [g for g in level if "interval" in g]
            recent = [g for g in level if "interval" not in g]
            for part, start, what in (
                (whole, int(history.start), "whole"),
                (recent, end - RECENT, "recent"),
            ):
                if not part:
                    continue
                path = _level_file(work, n, what, part)
                prom.backfill_rules(server, path, start, end, work / "blocks", flavour)
        prom.move_blocks(work / "blocks", data)
        lap(f"rules level {n}")

    # The live server writes rule results at "now": it must start after the last
    # backfilled sample, or every write is rejected as out of bounds.
    while time.time() < end + 2:
        time.sleep(min(5.0, end + 2 - time.time()))
    lap("wait for the history's end")
    with prom.running(data, [recording, alerts], flavour=flavour) as server:
        lap("server start")
        late = time.time() - end
        if late > STALE_AFTER:
            raise AssertionError(
                f"setup took {late:.0f}s; the history's last samples are too old for 5m rates"
            )
        yield Env(service, history, server, files, timings, counts_end, phase)


def rule_labels_selector(rule: dict) -> str:
    """Return ``record{label="value", ...}`` selecting what one recording rule writes."""
    labels = rule.get("labels") or {}
    inner = ", ".join(f'{k}="{_escape(str(v))}"' for k, v in sorted(labels.items()))
    return f"{rule['record']}{{{inner}}}" if inner else rule["record"]
