"""Evaluation cost and accuracy of three 30-day SLO rule shapes on one real Prometheus:
this project's generated rules, Sloth's default shape and Pyrra's default shape."""

from __future__ import annotations

import pathlib
import statistics
import time
from dataclasses import dataclass, field

import yaml

from tests.e2e import prom

from . import traffic as traffic_lib

ROOT = pathlib.Path(__file__).resolve().parents[2]
RECORDING = ROOT / "out" / "samokoder" / "prometheus" / "slo_recording_rules.yml"
SLO = "availability"
BUDGET = 0.001  # 1 - 99.9 %
PERIOD = 30 * traffic_lib.DAY
EVALUATIONS = 30  # live evaluations per group
QUERY_REPEATS = 15
BAD = f'{traffic_lib.METRIC}{{job="{traffic_lib.JOB}", status=~"5.."}}'
TOTAL = f'{traffic_lib.METRIC}{{job="{traffic_lib.JOB}"}}'
SLOTH_LABELS = {"shape": "sloth", "sloth_service": "samokoder", "sloth_slo": SLO}
SLOTH_SEL = 'slo:sli_error:ratio_rate5m{shape="sloth"}'
SLOTH_PERIOD = (
    f"sum_over_time({SLOTH_SEL}[30d]) / ignoring (sloth_window) count_over_time({SLOTH_SEL}[30d])"
)
PYRRA_PERIOD = f"sum(increase({BAD}[30d])) / sum(increase({TOTAL}[30d]))"


@dataclass
class Shape:
    """One rule shape: its live groups, its period expression and what was measured."""

    name: str
    groups: list[dict]
    period: str
    group_ms: dict[str, float] = field(default_factory=dict)  # median live evaluation time
    group_query_ms: dict[str, float] = field(default_factory=dict)  # rule exprs queried at T
    group_samples: dict[str, int] = field(default_factory=dict)
    period_ms: float = 0.0
    period_samples: int = 0
    ratio: float = 0.0
    history_points: int = 0  # recorded samples the period expression reads (0: raw only)


def _ours() -> tuple[list[dict], str]:
    """Return the generated SLO groups (availability rules only) and its period expression."""
    groups = yaml.safe_load(RECORDING.read_text())["groups"]
    out, period = [], ""
    for g in groups:
        if not g["name"].endswith(("-slo-event-counts", "-slo-error-ratios")):
            continue
        rules = [r for r in g["rules"] if (r.get("labels") or {}).get("slo") == SLO]
        out.append({**g, "rules": rules})
        for r in rules:
            if r.get("record") == "slo:sli_error:ratio_rate30d":
                period = r["expr"]
    if len(out) != 2 or not period:
        raise RuntimeError(f"{RECORDING}: no availability event-count and error-ratio groups")
    return out, period


def _sloth() -> list[dict]:
    """Sloth's default SLI and period rules (its published format, labelled shape=sloth)."""
    return [
        {
            "name": "sloth-slo-sli-recordings-samokoder-availability",
            "rules": [
                {
                    "record": "slo:sli_error:ratio_rate5m",
                    "expr": f"(sum(rate({BAD}[5m])))\n/\n(sum(rate({TOTAL}[5m])))\n",
                    "labels": {**SLOTH_LABELS, "sloth_window": "5m"},
                },
                {
                    "record": "slo:sli_error:ratio_rate30d",
                    "expr": SLOTH_PERIOD,
                    "labels": {**SLOTH_LABELS, "sloth_window": "30d"},
                },
            ],
        }
    ]


def _pyrra() -> list[dict]:
    """Pyrra's default period shape: the raw counters' increase over the whole window."""
    return [
        {
            "name": "pyrra-samokoder-availability",
            "rules": [
                {
                    "record": "slo:sli_error:ratio_rate30d",
                    "expr": PYRRA_PERIOD,
                    "labels": {"shape": "pyrra", "slo": SLO},
                }
            ],
        }
    ]


def _dump(path: pathlib.Path, groups: list[dict]) -> pathlib.Path:
    path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    return path


def _backfill_groups(ours: list[dict], sloth: list[dict]) -> list[dict]:
    """The recorded history the period rules read, every 5 minutes: our event counts and
    Sloth's 5m ratio. The interval is set per group (promtool honours it, and the sample
    count checked after the backfill proves it)."""
    counts = next(g for g in ours if g["name"].endswith("-slo-event-counts"))
    ratio = {**sloth[0], "rules": sloth[0]["rules"][:1], "interval": "5m"}
    return [{**counts, "interval": "5m"}, ratio]


def _live(groups: list[dict]) -> list[dict]:
    """Live copies evaluate at the global interval, so every group is timed equally often."""
    return [{k: v for k, v in g.items() if k != "interval"} for g in groups]


def _poll_groups(server: prom.Prometheus, names: set[str]) -> dict[str, list[float]]:
    """Return, per group, the evaluationTime of EVALUATIONS distinct live evaluations."""
    seen: dict[str, dict[str, float]] = {n: {} for n in names}
    deadline = time.monotonic() + 300
    while any(len(v) < EVALUATIONS for v in seen.values()):
        if time.monotonic() > deadline:
            raise RuntimeError(f"rule groups did not evaluate {EVALUATIONS} times: {seen}")
        for g in server.rule_groups():
            if g["name"] in seen and g.get("lastEvaluation", "").startswith("20"):
                seen[g["name"]][g["lastEvaluation"]] = float(g["evaluationTime"])
        time.sleep(0.2)
    return {n: list(v.values())[:EVALUATIONS] for n, v in seen.items()}


def _query_cost(server: prom.Prometheus, expr: str, at: int) -> tuple[float, int, float]:
    """Return (median eval ms, queryable samples, value) of ``expr`` at ``at``."""
    times, samples, value = [], 0, float("nan")
    for _ in range(QUERY_REPEATS):
        data = server.query(expr, at=at, stats=True)
        stats = data.get("stats", {})
        times.append(1000 * float(stats.get("timings", {}).get("evalTotalTime", 0.0)))
        samples = int(stats.get("samples", {}).get("totalQueryableSamples", -1))
        if data["result"]:
            value = float(data["result"][0]["value"][1])
    return statistics.median(times), samples, value


def run() -> dict:
    """Build the history, backfill, serve the three shapes; return everything measured."""
    ours_groups, ours_period = _ours()
    shapes = [
        Shape("this project", ours_groups, ours_period),
        Shape("Sloth (default)", _sloth(), SLOTH_PERIOD),
        Shape("Pyrra (default)", _pyrra(), PYRRA_PERIOD),
    ]
    timings: dict[str, float] = {}
    end = int(time.time()) // 300 * 300
    with prom.scratch("bench") as work:
        tick = time.monotonic()
        history = traffic_lib.build(end)
        source = work / "history.om"
        raw_samples = traffic_lib.write_openmetrics(history, source)
        data = work / "data"
        prom.import_openmetrics(source, data)
        timings["raw history (31 d, 1 m step)"] = time.monotonic() - tick

        tick = time.monotonic()
        backfill = _dump(work / "backfill.yml", _backfill_groups(ours_groups, shapes[1].groups))
        with prom.running(data) as server:
            prom.backfill_rules(server, backfill, end - PERIOD - 900, end, work / "blocks")
        blocks = prom.move_blocks(work / "blocks", data)
        timings[f"rule backfill (30 d, 5 m step, {blocks} blocks)"] = time.monotonic() - tick

        files = [_dump(work / f"live-{i}.yml", _live(s.groups)) for i, s in enumerate(shapes)]
        tick = time.monotonic()
        with prom.running(data, files, evaluation_interval="1s") as server:
            names = {g["name"] for s in shapes for g in s.groups}
            evals = _poll_groups(server, names)
            for s in shapes:
                for g in s.groups:
                    s.group_ms[g["name"]] = 1000 * statistics.median(evals[g["name"]])
                    ms, n = 0.0, 0
                    for r in g["rules"]:
                        q_ms, q_n, _ = _query_cost(server, r["expr"], end)
                        ms, n = ms + q_ms, n + max(q_n, 0)
                    s.group_query_ms[g["name"]], s.group_samples[g["name"]] = ms, n
                s.period_ms, s.period_samples, s.ratio = _query_cost(server, s.period, end)
            ours_points = server.query(
                f'count_over_time(slo:sli_events:increase5m{{slo="{SLO}"}}[30d])', at=end
            )["result"]
            sloth_points = server.query(f"count_over_time({SLOTH_SEL}[30d])", at=end)["result"]
            shapes[0].history_points = int(float(ours_points[0]["value"][1]))
            shapes[1].history_points = int(float(sloth_points[0]["value"][1]))
            version = server.get("/api/v1/status/buildinfo")["version"]
        timings["live server (evaluations + queries)"] = time.monotonic() - tick
    bad, total = history.counts(end - PERIOD, end)
    return {
        "end": end,
        "shapes": shapes,
        "exact_ratio": bad / total,
        "bad": bad,
        "total": total,
        "raw_samples": raw_samples,
        "timings": timings,
        "prometheus": version,
    }


def remaining(ratio: float) -> float:
    """Return the error budget remaining, in percent, for a period error ratio."""
    return 100 * (1 - ratio / BUDGET)
