"""Fleet evaluation cost: every rule group of N services, live in one Prometheus 3.5.

The services come from ``tests/fleet.py`` (four families: metrics of their own, one shared
exporter per cluster, shared job and gauge names, latency SLIs). A small exporter in this
process serves synthetic series for each service's metrics, ``instances`` copies of each (the
raw series per service grow with it), with label values derived from the spec's selectors
and SLI matchers (:func:`generator.label_values.labels_for`), and Prometheus scrapes it every
``SCRAPE`` seconds. Live copies of every group (their ``interval`` removed) evaluate every
``EVAL`` seconds, so each is timed equally often; ``evaluationTime`` from ``/api/v1/rules``
is read for ``EVALUATIONS`` evaluations after a warm-up, and the cost at the groups' real
intervals is ``sum(evaluationTime / interval)``: core-seconds of rule evaluation per second.
"""

from __future__ import annotations

import collections
import contextlib
import http.server
import os
import pathlib
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import yaml

from generator import label_values, tools
from generator.prometheus.rule_files import all_groups
from generator.promql import parse_duration
from generator.spec.loader import load
from generator.spec.model import Service
from tests.e2e import prom
from tests.fleet import write_specs

SCRAPE = 5  # seconds; denser than a real 1m scrape, so the rate windows read more samples
EVAL = 5  # seconds between live evaluations of every group
EVALUATIONS = 5
WARM_UP = 3 * SCRAPE  # rates need two scrapes in their window
DEFAULT_INTERVAL = 60  # Prometheus' default evaluation_interval
HEADROOM = 0.5  # of the machine's cores left for queries, scrapes and compaction


@dataclass(frozen=True)
class FleetRun:
    """One measured fleet: its size and what evaluating it costs."""

    services: int
    instances: int  # copies of each raw series (label instance)
    raw_series: int  # series the exporter serves
    groups: int
    rules: int
    eval_round_ms: float  # median time of one evaluation of every group, summed
    cost: float  # core-seconds of evaluation per second, at the groups' real intervals
    load_s: float  # server start until every group is loaded
    recorded: int  # series carrying a service label after the run: the rules saw data
    missed: int  # evaluations Prometheus skipped because the previous one overran

    @property
    def saturated(self) -> bool:
        """True when one round of every group took longer than the live interval: groups
        then queue for the query engine, and their wall times measure the wait, not work."""
        return self.eval_round_ms / 1000 > EVAL


def _series(service: Service, instances: int) -> list[tuple[str, dict[str, str], str]]:
    """Return ``(name, labels, kind)`` for every synthetic raw series of ``service``; kind
    is counter, gauge or bucket:<le>|sum|count."""
    out = []
    for metric in service.metrics:
        variants = [label_values.labels_for(metric.matchers)]
        for slo in service.slos:
            sli = slo.sli
            if sli.total.metric is metric and sli.bad is not None:
                variants.append(label_values.labels_for(sli.bad.all_matchers))
                variants.append(label_values.labels_for(sli.total.all_matchers, sli.bad.matchers))
        unique = {tuple(sorted((k, v) for k, v in labels.items() if v)) for labels in variants}
        for base in sorted(unique):
            for i in range(instances):
                labels = {"instance": f"i{i}", **dict(base)}
                if metric.type == "histogram":
                    for le in [*map(str, metric.buckets), "+Inf"]:
                        out.append((f"{metric.name}_bucket", {**labels, "le": le}, f"bucket:{le}"))
                    out.append((f"{metric.name}_sum", labels, "sum"))
                    out.append((f"{metric.name}_count", labels, "count"))
                else:
                    out.append((metric.name, labels, metric.type))
    return out


def _value(kind: str, t: float) -> float:
    if kind == "gauge":
        return 50.0
    if kind.startswith("bucket:"):
        le = kind.split(":", 1)[1]
        return t * (10.0 if le == "+Inf" else min(9.0, 1 + float(le)))
    return t * 10.0  # counter, sum, count


def _exposition(series: list[tuple[str, dict[str, str], str]], t: float) -> bytes:
    lines = []
    for name, labels, kind in series:
        body = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        lines.append(f"{name}{{{body}}} {_value(kind, t):.1f}")
    return ("\n".join(lines) + "\n").encode()


@contextlib.contextmanager
def _exporter(series: list[tuple[str, dict[str, str], str]]) -> Iterator[int]:
    """Serve ``series`` at /metrics on a free port; yield the port."""
    started = time.monotonic()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = _exposition(series, time.monotonic() - started)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()


def measure(services: int, instances: int) -> FleetRun:
    """Generate ``services`` fleet services, serve their raw series ``instances`` times over,
    load every group into one Prometheus 3.5 and time its live evaluations."""
    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as tmp:
        root = pathlib.Path(tmp)
        names = write_specs(root / "specs", services)
        groups, series, intervals = [], [], {}
        for name in names:
            service = load(root / "specs" / f"{name}.yaml")
            for g in all_groups(service):
                intervals[g["name"]] = parse_duration(g.get("interval", "1m"))
                groups.append({k: v for k, v in g.items() if k != "interval"})
            series += _series(service, instances)
        rules = root / "rules.yml"
        rules.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
        with _exporter(series) as port:
            prom_port = prom.free_port()
            config = root / "prometheus.yml"
            config.write_text(
                yaml.safe_dump(
                    {
                        "global": {
                            "scrape_interval": f"{SCRAPE}s",
                            "evaluation_interval": f"{EVAL}s",
                        },
                        "rule_files": [str(rules)],
                        "scrape_configs": [
                            {
                                "job_name": "fleet-exporter",
                                "honor_labels": True,  # keep each series' own job label
                                "static_configs": [{"targets": [f"127.0.0.1:{port}"]}],
                            },
                            {  # the rule groups' own timings, read with PromQL
                                "job_name": "prometheus-self",
                                "static_configs": [{"targets": [f"127.0.0.1:{prom_port}"]}],
                            },
                        ],
                    }
                )
            )
            times, load_s, recorded, missed = _run_server(root, config, prom_port, len(groups))
    round_ms = sum(statistics.median(v) for v in times.values()) * 1000
    cost = sum(statistics.median(v) / intervals[n] for n, v in times.items())
    return FleetRun(
        services,
        instances,
        len(series),
        len(groups),
        sum(len(g["rules"]) for g in groups),
        round_ms,
        cost,
        load_s,
        recorded,
        missed,
    )


def _count(server: prom.Prometheus, expr: str) -> int:
    result = server.query(expr)["result"]
    return int(float(result[0]["value"][1])) if result else 0


def _run_server(
    root: pathlib.Path, config: pathlib.Path, port: int, groups: int
) -> tuple[dict[str, list[float]], float, int, int]:
    """Start Prometheus 3.5 on ``port``; return per group EVALUATIONS samples of
    ``prometheus_rule_group_last_duration_seconds`` (one scrape apart, after the warm-up),
    the seconds until every group was loaded, the series recorded and the iterations missed.

    The server's own metrics are read rather than /api/v1/rules, whose answer for thousands
    of groups takes longer to build than the groups take to evaluate."""
    url = f"http://127.0.0.1:{port}"
    args = [
        str(tools.PROMETHEUS_3_5.tool("prometheus")),
        f"--config.file={config}",
        f"--storage.tsdb.path={root / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    started = time.monotonic()
    with prom.spawned(args, root / "prometheus.log") as proc:
        server = prom.Prometheus(proc, url, root / "prometheus.log", time.time())
        prom.wait_ready(server, proc, url, "/-/ready")
        server.wait_for(
            "every group",
            lambda: _count(server, "count(prometheus_rule_group_rules)") == groups,
            600,
        )
        load_s = time.monotonic() - started
        time.sleep(WARM_UP)
        samples: dict[str, list[float]] = collections.defaultdict(list)
        for _ in range(EVALUATIONS):
            # A group not evaluated yet (its last evaluation timestamp is 0) has no duration.
            expr = (
                "prometheus_rule_group_last_duration_seconds and on (rule_group) "
                "(prometheus_rule_group_last_evaluation_timestamp_seconds > 0)"
            )
            for row in server.query(expr)["result"]:
                samples[row["metric"]["rule_group"].split(";", 1)[1]].append(float(row["value"][1]))
            time.sleep(max(SCRAPE, EVAL))
        recorded = _count(server, 'count({service!=""})')
        missed = _count(server, "sum(prometheus_rule_group_iterations_missed_total)")
    return dict(samples), load_s, recorded, missed


def capacity(runs: list[FleetRun], cores: int) -> float:
    """Return how many services (of the mix measured, one instance each) one Prometheus with
    ``cores`` cores evaluates at the groups' intervals, keeping HEADROOM of them free: the
    per-service cost of the largest one-instance fleet, extrapolated linearly."""
    largest = max(
        (r for r in runs if r.instances == 1 and not r.saturated), key=lambda r: r.services
    )
    return cores * (1 - HEADROOM) / (largest.cost / largest.services)


def run(
    sizes: tuple[int, ...] = (10, 100, 1000), instances: tuple[int, ...] = (1, 10)
) -> list[FleetRun]:
    """Measure every size with one instance per series, then the middle size with each
    larger ``instances`` count (raw series per service)."""
    runs = [measure(n, 1) for n in sizes]
    middle = sorted(sizes)[len(sizes) // 2]
    runs += [measure(middle, k) for k in instances if k != 1]
    return runs


def render(runs: list[FleetRun], when: str) -> list[str]:
    """Return the RESULTS.md section of the fleet runs (Markdown lines)."""
    cores = os.cpu_count() or 1
    ones = sorted(
        (r for r in runs if r.instances == 1 and not r.saturated), key=lambda r: r.services
    )
    lines = [
        "## 3. Fleet evaluation cost",
        "",
        f"Measured {when}. Every rule group of N services from `tests/fleet.py` (own metrics, "
        "one shared exporter per cluster, shared jobs and gauge names, latency SLIs), live in one "
        f"Prometheus {tools.PROMETHEUS_3_5.version}, on synthetic raw series scraped every "
        f"{SCRAPE} s from an exporter in the benchmark (label values derived from each spec's "
        f"selectors). Live copies of every group evaluate every {EVAL} s (their `interval` "
        f"removed); after a {WARM_UP} s warm-up, the median of {EVALUATIONS} readings of "
        "`prometheus_rule_group_last_duration_seconds` per group (Prometheus scrapes itself). "
        "*Round* is one evaluation of every group, summed; *cost* is "
        "`sum(evaluationTime / interval)` at the groups' real intervals (1m default, the event "
        "counts' 5m): core-seconds of evaluation per second. The history is minutes long, so "
        "the 30-day ranges read little; section 2 times one SLO's 30-day period with full "
        "history (add that per SLO).",
        "",
        "| Services | Raw series per metric label set | Raw series | Groups | Rules | Series "
        "recorded | Load (s) | Missed evaluations | Round (ms) | Cost (cores) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        timed = "— | —" if r.saturated else f"{r.eval_round_ms:.1f} | {r.cost:.5f}"
        lines.append(
            f"| {r.services}{' (saturated)' if r.saturated else ''} | {r.instances} | "
            f"{r.raw_series} | {r.groups} | {r.rules} | {r.recorded} | {r.load_s:.1f} | "
            f"{r.missed} | {timed} |"
        )
    lines.append("")
    for r in runs:
        if r.saturated:
            lines.append(
                f"At {r.services} services the live {EVAL} s interval saturates the server: the "
                f"groups' summed wall time ({r.eval_round_ms / 1000:,.0f} s) exceeds the run "
                "many times over, because groups overlap and wait for the query engine, so it "
                "is no cost figure, and the row is left out below. At the real intervals the "
                f"same fleet does {60 // EVAL}x less work per second."
            )
    if len(ones) >= 2:
        a, b = ones[-2], ones[-1]
        lines.append(
            f"From {a.services} to {b.services} services (x{b.services / a.services:.0f}) the "
            f"round grows x{b.eval_round_ms / a.eval_round_ms:.1f} and the cost "
            f"x{b.cost / a.cost:.1f}."
        )
    for r in runs:
        if r.instances != 1:
            base = next((o for o in ones if o.services == r.services), None)
            if base:
                lines.append(
                    f"At {r.services} services, x{r.instances} raw series per service grows the "
                    f"round x{r.eval_round_ms / base.eval_round_ms:.2f} and the cost "
                    f"x{r.cost / base.cost:.2f}: most rules read recorded series, whose count "
                    "does not grow with raw series."
                )
    if ones:
        lines.append(
            f"One {cores}-core Prometheus keeping {HEADROOM:.0%} of its cores free evaluates "
            f"about {capacity(runs, cores):,.0f} services of this mix at the default interval "
            "(linear extrapolation of the largest fleet's per-service cost)."
        )
    lines.append("")
    return lines
