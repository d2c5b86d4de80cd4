"""promtool tests of MetricAbsent: for every metric an SLI or a threshold alert reads, the
alert fires once the metric is renamed while its job is up, and stays silent while the
metric exists at 0 (no traffic is not absence) and while the job is down (TargetDown pages
then). A metric whose selector names no job fires on an outage too: it is the outage alert.
"""

from __future__ import annotations

from ..promql import absent_labels, format_duration
from ..spec.model import ABSENT_ALERT, TARGET_DOWN_ALERT, Service
from . import alerts
from .promtool_cases import expect, input_series
from .synthetic import Feed, labels_for, target_labels, up_feed

FIRING_MARGIN = 4 * 60  # past `for`: a `for` longer by this much fails the test
RENAMED = "_v2"  # what a deploy appends to the metric's name in the rename case


def _series(watched: alerts.Watched, name: str, value: float) -> Feed:
    """A series of the watched metric (or of its renamed twin ``name``), steady at ``value``:
    a counter that never grew still exists at 0."""
    labels = dict(labels_for(watched.metric.matchers))
    if watched.series.endswith("_bucket"):
        labels["le"] = "+Inf"
    return Feed(name, tuple(sorted(labels.items())), value, False)


def _up(service: Service, job: str, value: int) -> Feed:
    return up_feed(service, job, value)


def _labels(watched: alerts.Watched) -> dict[str, str]:
    """Return the labels the firing alert's series carries: its job (``by (job)``), or the
    equality matchers of the selector, which is what ``absent()`` returns."""
    if watched.job:
        return {"job": watched.job}
    return absent_labels(watched.metric.matchers)


def _separating(items: list[alerts.Watched]) -> list[tuple[list, list]]:
    """Return (gone, kept) splits of ``items`` such that every item is gone in some split
    and, for any two items, some split has one gone and the other kept: one split per bit
    of the items' index, and its complement. 2 x ceil(log2 n) cases instead of n, each
    loading every rule, and still every alert is shown to read its own metric only."""
    if len(items) == 1:
        return [(items, [])]
    out = []
    for bit in range((len(items) - 1).bit_length()):
        ones = [w for i, w in enumerate(items) if i >> bit & 1]
        zeros = [w for i, w in enumerate(items) if not i >> bit & 1]
        out += [(ones, zeros), (zeros, ones)]
    return out


def _gone_case(
    service: Service, name: str, for_: int, gone: list, present: list[Feed], twins: bool
) -> dict:
    """A case where the ``gone`` watched metrics (all with this ``for_``) lose their series,
    renamed to a twin (``twins``) or with no series at all, beside the ``present`` series:
    their alerts stay pending until ``for``, then fire; no other one fires."""
    until = (for_ + FIRING_MARGIN) // 60
    fires = {
        "eval_time": format_duration(until * 60),
        "alertname": ABSENT_ALERT,
        "exp_alerts": [
            expect(
                alerts.absent_rule(service, w),
                1.0,
                _labels(w),
                alerts.link_annotations(service, ABSENT_ALERT, metric=w.metric.name),
            )
            for w in gone
        ],
    }
    pending = {"eval_time": format_duration(for_ - 60), "alertname": ABSENT_ALERT, "exp_alerts": []}
    renamed = [_series(w, w.series + RENAMED, 1.0) for w in gone] if twins else []
    return {
        "name": name,
        "interval": "1m",
        "input_series": input_series(present + renamed, until),
        "alert_rule_test": [pending, fires] if for_ >= 120 else [fires],
    }


def absent_cases(service: Service) -> list[dict]:
    """Return the MetricAbsent cases: watched metrics renamed (each fires after ``for``, not
    a minute before; without a job, also every target gone), then the healthy service with
    every metric at 0 (silent), then each job down (silent; TargetDown fires). Around the
    change, every job is up and every other watched metric exists at 0.

    Metrics with one ``for`` are renamed together along ``_separating`` splits, so that the
    suite's cost grows as n log n in watched metrics, not n^2 (every case evaluates every
    rule it loads).
    """
    everything = alerts.watched_metrics(service)
    longest = max(alerts.absent_for(w) for w in everything) if everything else 0
    minutes = (longest + FIRING_MARGIN) // 60
    at = format_duration(minutes * 60)

    def healthy(gone: tuple | list = (), down: str = "") -> list[Feed]:
        """Every job up and every watched metric at 0, but ``gone``'s and ``down``'s."""
        jobs = [_up(service, j, 1) for j in service.jobs if j != down]
        present = [
            _series(w, w.series, 0.0)
            for w in everything
            if not any(w is g for g in gone) and not (down and w.job == down)
        ]
        return jobs + present

    cases = []
    by_for: dict[int, list[alerts.Watched]] = {}
    for w in everything:
        by_for.setdefault(alerts.absent_for(w), []).append(w)
    for for_, same in sorted(by_for.items()):
        what = f"{ABSENT_ALERT} (for {format_duration(for_)})"
        for gone, kept in _separating(same):
            name = (
                f"{what}: {', '.join(w.series for w in gone)} renamed to *{RENAMED} while "
                f"their jobs are up; {', '.join(w.series for w in kept) or 'nothing else'} "
                "still exported and silent"
            )
            cases.append(_gone_case(service, name, for_, gone, healthy(gone), twins=True))
        if outage := [w for w in same if not w.job]:
            name = (
                f"{what}: every target exporting {', '.join(w.series for w in outage)} is "
                "down (no series at all); their selectors name no job, so this is their "
                "outage alert"
            )
            cases.append(_gone_case(service, name, for_, outage, healthy(outage), twins=False))
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
        instance = target_labels(service, job)
        links = alerts.link_annotations(service, TARGET_DOWN_ALERT, job=job)
        paging = [expect(warning, 0, instance, links), expect(critical, 0, {"job": job}, links)]
        pages = f"{TARGET_DOWN_ALERT} pages"
        if job not in service.target_down_jobs:  # `target_down: false`: nothing pages
            paging, pages = [], f"{TARGET_DOWN_ALERT} is switched off and silent"
        cases.append(
            {
                "name": f"{ABSENT_ALERT} silent while job {job} is down: {pages}",
                "interval": "1m",
                "input_series": input_series(healthy(down=job) + [_up(service, job, 0)], minutes),
                "alert_rule_test": [
                    {"eval_time": at, "alertname": ABSENT_ALERT, "exp_alerts": []},
                    {
                        "eval_time": at,
                        "alertname": TARGET_DOWN_ALERT,
                        "exp_alerts": paging,
                    },
                ],
            }
        )
    return cases
