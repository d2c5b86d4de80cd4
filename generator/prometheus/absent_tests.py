"""promtool tests of MetricAbsent: for every metric an SLI or a threshold alert reads, the
alert fires once the metric is renamed while its job is up, and stays silent while the
metric exists at 0 (no traffic is not absence) and while the job is down (TargetDown pages
then). A metric whose selector names no job fires on an outage too: it is the outage alert.
"""

from __future__ import annotations

from ..promql import format_duration
from ..spec.model import ABSENT_ALERT, TARGET_DOWN_ALERT, Service
from . import alerts
from .promtool_cases import expect, input_series
from .synthetic import INSTANCE, Feed, labels_for

FIRING_MARGIN = 4 * 60  # past `for`: a `for` longer by this much fails the test
RENAMED = "_v2"  # what a deploy appends to the metric's name in the rename case


def _series(watched: alerts.Watched, name: str, value: float) -> Feed:
    """A series of the watched metric (or of its renamed twin ``name``), steady at ``value``:
    a counter that never grew still exists at 0."""
    labels = dict(labels_for(watched.metric.matchers))
    if watched.series.endswith("_bucket"):
        labels["le"] = "+Inf"
    return Feed(name, tuple(sorted(labels.items())), value, False)


def _up(job: str, value: int) -> Feed:
    return Feed("up", tuple(sorted({"job": job, "instance": INSTANCE}.items())), value, False)


def _labels(watched: alerts.Watched) -> dict[str, str]:
    """Return the labels the firing alert's series carries: its job (``by (job)``), or the
    equality matchers of the selector, which is what ``absent()`` returns."""
    if watched.job:
        return {"job": watched.job}
    return {m.name: m.text for m in watched.metric.matchers if m.op == "="}


def absent_cases(service: Service) -> list[dict]:
    """Return the MetricAbsent cases: each watched metric renamed (fires after ``for``, not a
    minute before; without a job, also every target gone), then the healthy service with
    every metric at 0 (silent), then each job down (silent; TargetDown fires). Around the
    change, every job is up and every other watched metric exists at 0."""
    everything = alerts.watched_metrics(service)
    longest = max(alerts.absent_for(w) for w in everything) if everything else 0
    minutes = (longest + FIRING_MARGIN) // 60
    at = format_duration(minutes * 60)

    def healthy(skip: alerts.Watched | None = None, down: str = "") -> list[Feed]:
        """Every job up and every watched metric at 0, but ``skip`` and ``down``'s."""
        jobs = [_up(j, 1) for j in service.jobs if j != down]
        present = [
            _series(w, w.series, 0.0)
            for w in everything
            if w is not skip and not (down and w.job == down)
        ]
        return jobs + present

    cases = []
    for watched in everything:
        rule = alerts.absent_rule(service, watched)
        for_ = alerts.absent_for(watched)
        what = f"{ABSENT_ALERT} {watched.series}"
        until = (for_ + FIRING_MARGIN) // 60
        fires = {
            "eval_time": format_duration(until * 60),
            "alertname": ABSENT_ALERT,
            "exp_alerts": [expect(rule, 1.0, _labels(watched))],
        }
        pending = {
            "eval_time": format_duration(for_ - 60),
            "alertname": ABSENT_ALERT,
            "exp_alerts": [],
        }
        renamed = _series(watched, watched.series + RENAMED, 1.0)
        cases.append(
            {
                "name": f"{what}: renamed to {watched.series}{RENAMED}"
                + (f" while job {watched.job} is up" if watched.job else ""),
                "interval": "1m",
                "input_series": input_series(healthy(skip=watched) + [renamed], until),
                "alert_rule_test": [pending, fires] if for_ >= 120 else [fires],
            }
        )
        if not watched.job:
            cases.append(
                {
                    "name": f"{what}: every target exporting it is down (no series at all); "
                    "its selector names no job, so this is its outage alert",
                    "interval": "1m",
                    "input_series": input_series(healthy(skip=watched), until),
                    "alert_rule_test": [fires],
                }
            )
    if not everything:
        return cases
    cases.append(
        {
            "name": f"{ABSENT_ALERT} silent: every watched metric exists at 0 "
            "(no traffic is not absence)",
            "interval": "1m",
            "input_series": input_series(healthy(), minutes),
            "alert_rule_test": [{"eval_time": at, "alertname": ABSENT_ALERT, "exp_alerts": []}],
        }
    )
    for job in sorted({w.job for w in everything if w.job}):
        warning, critical = alerts.target_rules(service, job)
        instance = {"job": job, "instance": INSTANCE}
        cases.append(
            {
                "name": f"{ABSENT_ALERT} silent while job {job} is down: {TARGET_DOWN_ALERT} pages",
                "interval": "1m",
                "input_series": input_series(healthy(down=job) + [_up(job, 0)], minutes),
                "alert_rule_test": [
                    {"eval_time": at, "alertname": ABSENT_ALERT, "exp_alerts": []},
                    {
                        "eval_time": at,
                        "alertname": TARGET_DOWN_ALERT,
                        "exp_alerts": [
                            expect(warning, 0, instance),
                            expect(critical, 0, {"job": job}),
                        ],
                    },
                ],
            }
        )
    return cases
