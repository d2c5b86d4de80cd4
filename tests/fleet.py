"""A fleet of varied service specs, for the tests (and benchmarks) that load many services'
rules into one ruler.

Four families, dealt round-robin, so any ``count`` mixes them:

- ``own``: a service with metrics and a job of its own (``svc007_requests_total``,
  ``job="svc007"``);
- ``edge``: one shared exporter deployed once per cluster: every ``edge`` service reads the
  same metric names (``http_requests_total``, ``http_request_duration_seconds``) from the same
  job (``job="edge"``), told apart only by ``cluster="cNNN"`` in its selectors. The spec has no
  cluster field yet, so the cluster is a selector label and a part of the service's name;
- ``worker``: queue workers sharing the job name ``worker`` and the gauge names ``queue_length``
  and ``queue_capacity``, each reading its own ``queue`` label, with a threshold alert;
- ``batch``: a latency SLI on a histogram of its own, scraped every 30s on a 28d period, in a
  job shared with the ``node`` exporter's name.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

from generator.output import write_tree
from generator.plan import service_files
from generator.spec.loader import load

FAMILIES = ("own", "edge", "worker", "batch")


def _spec(i: int) -> tuple[str, str]:
    family = FAMILIES[i % len(FAMILIES)]
    if family == "own":
        name = f"svc{i:03d}"
        return (
            name,
            f"""\
service: {name}
labels: {{team: team{i % 7}}}
metrics:
  requests:
    name: {name}_requests_total
    type: counter
    selector: 'job="{name}"'
    breakdowns: [[code]]
slos:
  - name: availability
    objective: 99.{i % 10}
    sli:
      bad: {{metric: requests, match: 'code=~"5.."'}}
      total: {{metric: requests}}
""",
        )
    if family == "edge":
        cluster = f"c{i:03d}"
        name = f"edge-{cluster}"
        selector = f'job="edge", cluster="{cluster}"'
        return (
            name,
            f"""\
service: {name}
metrics:
  requests:
    name: http_requests_total
    type: counter
    selector: '{selector}'
    breakdowns: [[code]]
  latency:
    name: http_request_duration_seconds
    type: histogram
    selector: '{selector}'
    buckets: [0.1, 0.25, 0.5, 1]
    quantiles: [0.95]
signals:
  errors:
    kind: ratio
    numerator: {{metric: requests, match: 'code=~"5.."'}}
    denominator: {{metric: requests}}
  p95:
    kind: quantile
    metric: latency
    quantile: 0.95
slos:
  - name: availability
    objective: 99.9
    sli:
      bad: {{metric: requests, match: 'code=~"5.."'}}
      total: {{metric: requests}}
  - name: latency
    slo_type: latency
    objective: 99
    sli:
      latency: {{metric: latency, threshold: 0.5}}
thresholds:
  - alert: EdgeErrorsHigh
    signal: errors
    warning: 1
    critical: 5
    for: 5m
    summary: Many requests fail at the edge.
""",
        )
    if family == "worker":
        name = f"worker-q{i:03d}"
        selector = f'job="worker", queue="q{i:03d}"'
        return (
            name,
            f"""\
service: {name}
metrics:
  jobs:
    name: worker_jobs_processed_total
    type: counter
    selector: '{selector}'
  queue_length:
    name: queue_length
    type: gauge
    selector: '{selector}'
  queue_capacity:
    name: queue_capacity
    type: gauge
    selector: '{selector}'
signals:
  fill:
    kind: ratio
    numerator: {{metric: queue_length}}
    denominator: {{metric: queue_capacity}}
    aggregate: max
slos:
  - name: processing
    objective: 99
    sli:
      bad: {{metric: jobs, match: 'result="failed"'}}
      total: {{metric: jobs}}
thresholds:
  - alert: QueueNearlyFull
    signal: fill
    warning: 80
    critical: 95
    for: 5m
    summary: A queue is nearly full.
""",
        )
    name = f"batch{i:03d}"
    return (
        name,
        f"""\
service: {name}
period: 28d
scrape_interval: 30s
metrics:
  duration:
    name: {name}_run_seconds
    type: histogram
    selector: 'job="node", instance="batch-{i:03d}:9100"'
    buckets: [1, 10, 60]
slos:
  - name: fast-runs
    slo_type: latency
    objective: 95
    sli:
      latency: {{metric: duration, threshold: 10}}
""",
    )


def write_specs(folder: Path, count: int) -> list[str]:
    """Write ``count`` specs into ``folder`` (families dealt round-robin); return the
    service names, in order."""
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i in range(count):
        name, text = _spec(i)
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
        names.append(name)
    return names


def generate(root: Path, count: int) -> tuple[Path, list[str]]:
    """Write ``count`` specs under ``root/slo_specs`` and every file they generate under
    ``root/out``; return (the out folder, the service names)."""
    names = write_specs(root / "slo_specs", count)
    files: dict[str, bytes] = {}
    for name in names:
        files.update(service_files(load(root / "slo_specs" / f"{name}.yaml")))
    write_tree(root / "out", files)
    return root / "out", names


def shared(tmp_path_factory, count: int) -> tuple[Path, list[str]]:
    """Return :func:`generate`'s fleet of ``count`` services, built once per test session:
    under pytest-xdist the first worker to ask builds it in the session's shared temporary
    folder while the others wait on a lock, then all read it (read-only). The build is about
    7 s a worker."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the session's folder, above each worker's own
    root = base / f"fleet-{count}"
    with open(f"{root}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = root / "names.txt"
        if not done.is_file():
            shutil.rmtree(root, ignore_errors=True)  # a build a killed worker left half done
            names = generate(root, count)[1]
            done.write_text("\n".join(names), encoding="utf-8")
    return root / "out", done.read_text(encoding="utf-8").split("\n")


def rule_files(out: Path) -> list[Path]:
    """Return every plain rule file under ``out`` (``<service>/prometheus/*.yml``), sorted."""
    return sorted(out.glob("*/prometheus/*.yml"))
