"""Alert rules: threshold alerts, error budget alerts and multi-window burn-rate alerts."""

from __future__ import annotations

from dataclasses import dataclass

from .. import signals as names
from ..grafana.links import alert_annotations
from ..promql import Matcher, format_duration, format_number, quote, selector
from ..spec.model import (
    ABSENT_ALERT,
    BUDGET_CRITICAL_ALERT,
    BUDGET_LOW_ALERT,
    SLO,
    TARGET_DOWN_ALERT,
    BurnRate,
    Labels,
    Metric,
    Service,
    Signal,
    Threshold,
)
from .windows import describe_factor

Rule = dict[str, object]
UNIT_WORDS = {"percent": "%", "seconds": "", "connections": " connections", "bytes": "B"}


def literal(text: str) -> str:
    """Return ``text`` so that Prometheus's template engine prints it unchanged."""
    return text.replace("{{", '{{ "{{" }}')


def anchor(alert: str, slo: str = "") -> str:
    """Return the docs section anchor of an alert, or of one SLO's burn-rate alerts
    (GitHub's heading slug of :func:`section_title`; SLO names are already slugs)."""
    return f"{alert.lower()}-{slo}" if slo else alert.lower()


def section_title(alert: str, slo: str = "") -> str:
    """Return the runbook heading of an alert, or of one SLO's burn-rate alerts."""
    return f"{alert}: {slo}" if slo else alert


def runbooks(service: Service) -> str:
    """Return where the generated runbooks (docs/alerts.md) are served: ``runbook_base_url``,
    or "" (a path in the repository is no link a pager can open)."""
    return service.runbook_base_url


def runbook_url(service: Service, alert: str, override: str = "", slo: str = "") -> str:
    """Return the runbook of an alert: the override, else its section in the generated docs
    (``slo``: that SLO's burn-rate section), else "" without ``runbook_base_url``."""
    if override:
        return override
    base = runbooks(service)
    return f"{base}#{anchor(alert, slo)}" if base else ""


def link_annotations(
    service: Service, alert: str, override: str = "", section: str = "", **watched: str
) -> dict[str, str]:
    """Return an alert's link annotations, each an absolute URL: ``runbook_url`` (see
    :func:`runbook_url`; ``section`` the SLO of a burn-rate section), ``dashboard_url`` and
    ``panel_url`` (see :func:`generator.grafana.links.alert_annotations`, given what the
    alert ``watched``: ``signal``, ``slo``, ``metric`` or ``job``)."""
    url = runbook_url(service, alert, override, section)
    return {**({"runbook_url": url} if url else {}), **alert_annotations(service, **watched)}


def templated_value(sig: Signal) -> str:
    """Return the Go template that prints ``$value`` in the signal's unit."""
    if sig.unit == "seconds":
        return "{{ $value | humanizeDuration }}"
    return "{{ $value | humanize }}" + UNIT_WORDS.get(sig.unit, "")


def threshold_text(sig: Signal, value: float) -> str:
    """Return a threshold as people read it: ``90%``, ``2s``, ``5000 connections``."""
    if sig.unit == "seconds":
        return f"{format_number(value)}s"
    return format_number(value) + UNIT_WORDS.get(sig.unit, "")


def own_labels(service: Service, extra: Labels = ()) -> dict[str, str]:
    """Return the spec's labels of an alert: the service-wide ones, then an SLO's or a
    threshold row's own ``extra`` over them (the loader refuses any the generator sets)."""
    return dict(sorted({**dict(service.labels), **dict(extra)}.items()))


def own_annotations(service: Service, extra: Labels = ()) -> dict[str, str]:
    """Return the spec's annotations of an alert, as :func:`own_labels`, each printed
    literally (Prometheus would expand ``{{`` as a template)."""
    merged = {**dict(service.annotations), **dict(extra)}
    return {k: literal(v) for k, v in sorted(merged.items())}


def _where(sig: Signal) -> str:
    return " on {{ $labels.instance }}" if "instance" in sig.by else ""


def _lead(row: Threshold, sig: Signal) -> str:
    """Return the words before the value: the row's description or the signal's help as a
    sentence, then "Now"; without either, "<Signal in words> is"."""
    text = (row.description or sig.help).strip()
    if not text:
        return f"{sig.key.replace('_', ' ').capitalize()} is"
    return literal(text if text.endswith((".", "!", "?")) else f"{text}.") + " Now"


def threshold_rules(service: Service, row: Threshold) -> list[Rule]:
    """Return one rule per severity of a threshold-table row, warning first."""
    sig = row.signal
    series = f"{names.signal(service, sig)}{{{names.own_matchers(service)}}}"
    op = ">" if row.direction == "above" else "<"
    word = "above" if row.direction == "above" else "below"
    rules = []
    for severity, value in row.levels():
        description = (
            f"{_lead(row, sig)} {templated_value(sig)}{_where(sig)}, {word} the {severity} "
            f"threshold of {threshold_text(sig, value)}."
        )
        rules.append(
            {
                "alert": row.alert,
                "expr": f"{series} {op} {format_number(value)}",
                "for": format_duration(row.for_),
                "labels": {
                    **own_labels(service, row.labels),
                    "severity": severity,
                    "service": service.name,
                },
                "annotations": {
                    "summary": literal(row.summary),
                    "description": description,
                    **link_annotations(service, row.alert, row.runbook_url, signal=sig.key),
                    **own_annotations(service, row.annotations),
                },
            }
        )
    return rules


def _slo_labels(service: Service, slo: SLO, severity: str, extra: Labels = ()) -> dict[str, str]:
    return {
        **own_labels(service, (*slo.labels, *extra)),
        "severity": severity,
        "service": service.name,
        "slo": slo.name,
        "slo_type": slo.slo_type,
    }


def burn_rate_rule(service: Service, slo: SLO, burn: BurnRate) -> Rule:
    """Return the alert for one long/short window pair of one SLO; its severity's
    ``page_alert``/``ticket_alert`` extras are set over the SLO's own labels and annotations."""
    extra = slo.severity_alert(burn.severity)
    sel = names.slo_selector(service, slo)
    budget = format_number(slo.error_budget)
    factor = describe_factor(slo, burn)
    long_, short = format_duration(burn.long), format_duration(burn.short)
    period = format_duration(slo.period)
    clause = "{ratio}{sel} / {budget} > {factor}"
    expr = (
        clause.format(ratio=names.slo_error_ratio(burn.long), sel=sel, budget=budget, factor=factor)
        + "\nand\n"
        + clause.format(
            ratio=names.slo_error_ratio(burn.short), sel=sel, budget=budget, factor=factor
        )
    )
    spent = format_number(burn.budget_consumed)
    # No `for` unless the spec sets one: the short window resets the alert (SRE Workbook).
    delay = {"for": format_duration(burn.for_)} if burn.for_ else {}
    return {
        "alert": slo.burn_alert,
        "expr": expr,
        **delay,
        "labels": {
            **_slo_labels(service, slo, burn.severity, extra.labels),
            "long": long_,
            "short": short,
        },
        "annotations": {
            "summary": literal(f"The {slo.name} SLO is burning its error budget too fast."),
            "description": (
                f"Over the last {long_} the {slo.name} SLO burnt its error budget "
                "{{ $value | humanize }} times faster than the "
                f"{period} period allows (alert above {factor}x, confirmed over {short}). "
                f"At {factor}x, {spent}% of the {period} budget is gone in {long_}."
            ),
            **link_annotations(
                service, slo.burn_alert, slo.runbook_url, section=slo.name, slo=slo.name
            ),
            **own_annotations(service, (*slo.annotations, *extra.annotations)),
        },
    }


def budget_levels(service: Service) -> tuple[tuple[str, str, float], ...]:
    """Return ``(alert, severity, budget remaining % it fires below)`` per budget alert."""
    policy = service.error_budget
    return (
        (BUDGET_LOW_ALERT, "warning", policy.low_below),
        (BUDGET_CRITICAL_ALERT, "critical", policy.critical_below),
    )


def budget_rules(service: Service, slo: SLO) -> list[Rule]:
    """Return ErrorBudgetLow (warning) and ErrorBudgetCritical (critical) for one SLO."""
    policy = service.error_budget
    series = f"{names.budget_remaining_percent(service)}{names.slo_selector(service, slo)}"
    out = []
    for alert, severity, below in budget_levels(service):
        out.append(
            {
                "alert": alert,
                "expr": f"{series} < {format_number(below)}",
                "for": format_duration(policy.for_),
                "labels": _slo_labels(service, slo, severity),
                "annotations": {
                    "summary": literal(
                        f"Less than {format_number(below)}% of the {slo.name} error budget is left."
                    ),
                    "description": (
                        "{{ $value | humanize }}% of the "
                        f"{format_duration(slo.period)} error budget of the {slo.name} SLO "
                        f"({format_number(slo.objective)}%) is left; the {severity} "
                        f"level is {format_number(below)}%."
                    ),
                    **link_annotations(service, alert, slo.runbook_url, slo=slo.name),
                    **own_annotations(service, slo.annotations),
                },
            }
        )
    return out


TARGET_DOWN_FOR = 3 * 60  # every instance down: the outage page
# How long a cluster that exported a series is remembered once it exports none: a cluster
# gone for longer is taken as decommissioned (absent() still fires when every cluster is gone).
CLUSTER_MEMORY = 24 * 3600


def keyed(service: Service, by: tuple[str, ...]) -> tuple[str, ...]:
    """Return ``by`` and then the service's kept labels (the cluster), without repeats."""
    return by + tuple(x for x in names.kept_labels(service) if x not in by)


def vanished(service: Service, series: str, matchers: tuple[Matcher, ...], by=()) -> str:
    """Return PromQL that, per cluster (and ``by``), is 1 where ``series{matchers}`` had a
    series with the cluster label in the last :data:`CLUSTER_MEMORY` and has none now; ""
    without a cluster label.

    ``absent()`` keeps no labels, so with two clusters it stays silent while one of them
    still exports the series: the cluster that went dark must be told apart by its own
    past series. The alert then names the cluster, as an SRE reading it expects.
    """
    cluster = service.cluster_label
    if not cluster:
        return ""
    keep = ", ".join(keyed(service, by))
    past = selector(series, matchers + (Matcher(cluster, "!=", ""),))
    now = selector(series, matchers)
    return (
        f"count by ({keep}) (last_over_time({past}[{format_duration(CLUSTER_MEMORY)}])) * 0 + 1"
        f" unless on ({keep}) count by ({keep}) ({now})"
    )


BUDGET_SEEN = 0.01  # the share of the error budget that may burn while an SLI is blind


def up_matchers(service: Service, job: str) -> tuple[Matcher, ...]:
    """Return the matchers of the ``up`` series TargetDown reads for scrape job ``job``:
    the job's, then the environment selector's."""
    return (Matcher("job", "=", quote(job)), *service.environment_matchers)


def target_rules(service: Service, job: str) -> list[Rule]:
    """Return TargetDown for one scrape job: one instance down (warning), or every instance
    down or gone from service discovery (critical). During an outage no requests arrive,
    so no SLO alert can fire; this is the page that does."""
    reads = up_matchers(service, job)
    up = selector("up", reads)
    nl = "\n" if service.cluster_label else " "
    # `job` as a rule label too: promtool counts rules with equal names and labels as duplicates.
    labels = {**own_labels(service), "service": service.name, "job": job}
    links = link_annotations(service, TARGET_DOWN_ALERT, job=job)
    return [
        {
            "alert": TARGET_DOWN_ALERT,
            "expr": f"{up} == 0",
            "for": "5m",
            "labels": {**labels, "severity": "warning"},
            "annotations": {
                "summary": literal(f"A {job} target is down."),
                "description": "Prometheus cannot scrape {{ $labels.instance }} of job "
                "{{ $labels.job }}.",
                **links,
                **own_annotations(service),
            },
        },
        {
            "alert": TARGET_DOWN_ALERT,
            "expr": f"sum by ({', '.join(keyed(service, ('job',)))}) ({up}) == 0"
            + (f"\nor\n{gone}" if (gone := vanished(service, "up", reads, ("job",))) else "")
            + f"{nl}or absent({up})",
            "for": format_duration(TARGET_DOWN_FOR),
            "labels": {**labels, "severity": "critical"},
            "annotations": {
                "summary": literal(f"Every {job} target is down."),
                "description": "No instance of job {{ $labels.job }} can be scraped, or none "
                "is discovered: the service is down or invisible, and its SLOs cannot see it.",
                **links,
                **own_annotations(service),
            },
        },
    ]


def blind_budget_time(service: Service, slo: SLO) -> int:
    """Return the seconds, in whole minutes, in which 1 % of ``slo``'s error budget burns at
    the fastest page burn rate: how long its SLI may be blind before MetricAbsent fires.

    At burn rate ``b`` the budget of a period ``P`` lasts ``P / b``, so a share ``s`` of it
    burns in ``s × P / b``. With ``b`` the factor of the fastest critical pair (``budget
    consumed % × P / long window``) this is ``long window × s / budget consumed %``: for the
    SRE Workbook's 1h pair at 2 % and s = 1 %, 30 minutes, whatever the period (30d: 14.4x;
    28d: 13.44x). Burns slower than that pair page later anyway; a blind SLI at that rate
    lets through no more than 1 % of the budget unseen. Rounded down to a whole minute.
    """
    pages = [b for b in service.burn_rates if b.severity == "critical"] or service.burn_rates
    fastest = max(b.factor(slo.period) for b in pages)
    return max(60, int(BUDGET_SEEN * slo.period / fastest) // 60 * 60)


@dataclass(frozen=True)
class Watched:
    """A metric whose absence blinds an SLO or a threshold alert.

    ``series`` is the series name checked (a histogram's ``_bucket``), ``readers`` what goes
    blind without it (in words), ``for_`` the MetricAbsent ``for`` in seconds, and
    ``job`` the scrape job its selector names (``job="x"``), or "" when it names none.
    """

    metric: Metric
    series: str
    readers: tuple[str, ...]
    for_: int

    @property
    def job(self) -> str:
        """Return the job (the label value) of a ``job="x"`` matcher in the metric's
        selector, or ""."""
        return next((m.text for m in self.metric.matchers if (m.name, m.op) == ("job", "=")), "")

    @property
    def selector(self) -> str:
        """Return ``series{selector}``: the series whose absence fires MetricAbsent."""
        return selector(self.series, self.metric.matchers)


def watched_metrics(service: Service) -> tuple[Watched, ...]:
    """Return every metric an SLI or a threshold alert reads, each once, sorted by name.

    Only the metric and its own ``selector`` are checked, never a reader's extra ``match``:
    a ``status=~"5.."`` series rightly does not exist before the first 5xx, but the request
    counter does (a client creates a counter at 0; label combinations should be created at 0
    too). Where several readers share a metric, the shortest ``for`` wins: a threshold row's
    own ``for`` (a breach that long could go unseen), or :func:`blind_budget_time` for an
    SLO; never shorter than the rate window, in which no rate exists anyway.
    """
    readers: dict[str, list[tuple[str, int]]] = {}
    metrics: dict[str, Metric] = {}
    native: set[str] = set()

    def add(metric: Metric, reader: str, for_: int) -> None:
        metrics[metric.name] = metric
        readers.setdefault(metric.name, []).append((reader, for_))

    for slo in service.slos:
        for part in slo.sli.watched:
            add(part.metric, f"the {slo.name} SLO", blind_budget_time(service, slo))
        if slo.sli.native:  # its series is the histogram itself, no _bucket
            native.add(slo.sli.total.metric.name)
    for row in service.thresholds:
        for metric in service.signal_inputs(row.signal):
            add(metric, row.alert, row.for_)
    out = []
    for name in sorted(metrics):
        metric = metrics[name]
        suffix = "_bucket" if metric.type == "histogram" and name not in native else ""
        who = tuple(dict.fromkeys(r for r, _ in readers[name]))
        for_ = max(service.rate_window, min(f for _, f in readers[name]))
        out.append(Watched(metric, metric.name + suffix, who, for_))
    return tuple(out)


def _readers_text(readers: tuple[str, ...]) -> str:
    return ", ".join(readers[:-1]) + (" and " if len(readers) > 1 else "") + readers[-1]


def absent_for(watched: Watched) -> int:
    """Return MetricAbsent's ``for`` in seconds: the watched metric's, and without a job (the
    metric's only outage alert) no longer than TargetDown's critical."""
    return watched.for_ if watched.job else min(watched.for_, TARGET_DOWN_FOR)


def absent_rule(service: Service, watched: Watched) -> Rule:
    """Return MetricAbsent for one watched metric.

    With a ``job="x"`` in its selector: some target of the job is up (``up == 1``) and yet
    none exports a series of the metric, keyed ``on (job)``: the metric was renamed,
    dropped by relabelling, or never created. A job that is down is TargetDown's (no scrape,
    no series), so this alert stays silent then. A metric at 0 (no traffic) is present and
    silent: absence of the series is the signal, not a zero rate.

    Keyed on the job, not the instance: instances of one job may rightly export different
    series (a gauge only the leader sets), while a rename reaches every instance of the job
    by the end of its deploy. Each job is judged on its own, so a rename in one of two jobs
    is not hidden by the other.

    Without a ``job="x"`` (no job, or a regex such as ``job=~"shop-.*"`` that may match jobs
    that never export the metric), ``up`` cannot say which targets should, and no TargetDown
    is written; ``absent()`` of the whole selector then fires on a rename and on an outage
    alike, as the only outage alert of that metric, so its ``for`` is at most TargetDown's.
    """
    job = watched.job
    if job:
        up = selector("up", (Matcher("job", "=", quote(job)), *service.environment_matchers))
        by = ", ".join(keyed(service, ("job",)))
        expr = f"max by ({by}) ({up}) == 1\nunless on ({by})\ncount by ({by}) ({watched.selector})"
        where = f"while job {job} is up"
        cause = (
            "Prometheus scrapes job {{ $labels.job }}, but no target of it exports "
            f"{literal(watched.selector)}: the metric was renamed, dropped or never created."
        )
    else:
        expr = f"absent({watched.selector})"
        if gone := vanished(service, watched.series, watched.metric.matchers):
            expr += f"\nor\n{gone}"
        where = "at all"
        cause = (
            f"No series matches {literal(watched.selector)}: every target exporting it is down or "
            "gone from service discovery, or the metric was renamed or dropped (its selector "
            "names no job, so Prometheus's up cannot tell which)."
        )
    blind = literal(_readers_text(watched.readers))
    slo_blind = any(r.endswith(" SLO") for r in watched.readers)
    effect = (
        "An SLO without events reads 100 % and no burn-rate alert can fire."
        if slo_blind
        else "A threshold alert without data never fires."
    )
    return {
        "alert": ABSENT_ALERT,
        "expr": expr,
        "for": format_duration(absent_for(watched)),
        "labels": {
            **own_labels(service),
            "severity": service.absent_data.severity,
            "service": service.name,
            "metric": watched.series,
        },
        "annotations": {
            "summary": literal(f"{watched.series} has no series {where}."),
            "description": f"{cause} Blind without it: {blind}. {effect}",
            **link_annotations(service, ABSENT_ALERT, metric=watched.metric.name),
            **own_annotations(service),
        },
    }


def groups(service: Service) -> list[dict[str, object]]:
    """Return the alert rule groups of a service: the signal groups, then the SLO groups
    (see :func:`groups_by_concern`)."""
    signal_groups, slo_groups = groups_by_concern(service)
    return signal_groups + slo_groups


def groups_by_concern(service: Service) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Return the alert rule groups of a service as ``(signal groups, SLO groups)``; either
    list may be empty. Signal groups: TargetDown, MetricAbsent, thresholds. SLO groups:
    burn-rate and error-budget alerts, which read only the SLO recording groups."""
    svc = names.group_prefix(service)
    signal_groups = [
        {
            "name": f"{svc}-target-alerts",
            "rules": [r for job in service.target_down_jobs for r in target_rules(service, job)],
        },
        {
            "name": f"{svc}-absent-data-alerts",
            "rules": [absent_rule(service, w) for w in watched_metrics(service)],
        },
        {
            "name": f"{svc}-threshold-alerts",
            "rules": [r for row in service.thresholds for r in threshold_rules(service, row)],
        },
    ]
    slo_groups = [
        {
            "name": f"{svc}-slo-burn-rate-alerts",
            "rules": [
                burn_rate_rule(service, s, b)
                for s in service.slos
                for b in service.slo_burn_rates(s)
            ],
        },
        {
            "name": f"{svc}-error-budget-alerts",
            "rules": [r for s in service.slos for r in budget_rules(service, s)],
        },
    ]
    return [g for g in signal_groups if g["rules"]], [g for g in slo_groups if g["rules"]]
