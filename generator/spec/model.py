"""The validated, resolved form of a spec: frozen dataclasses every planner reads.

Every name, window and threshold is resolved here once; planners never look at raw YAML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .. import label_values
from ..promql import Matcher
from .deploy import Deploy
from .routing import Routing

# A `job=~` regex that matches a finite list of at most this many names (`api|worker`,
# `shop-(api|web)`, `web-[0-9]`) names those jobs: each gets TargetDown.
MAX_LISTED_JOBS = 32

if TYPE_CHECKING:  # dashboard.py reads this module's types, so import it for hints only
    from .dashboard import Dashboard

# The SRE Workbook's multi-window multi-burn-rate pairs (chapter 5, table 5-8):
# (severity, long window, short window, % of the period's budget burnt in the long window).
# No `for`: the short window already resets the alert once a burn is over, and a `for`
# would only add its own length to every detection time (Sloth does the same).
DEFAULT_BURN_RATES = (
    ("critical", "1h", "5m", 2),
    ("critical", "6h", "30m", 5),
    ("warning", "1d", "2h", 10),
    ("warning", "3d", "6h", 10),
)
# Alert names every SLO gets; they are the on-call contract, shared by all services.
BURN_ALERT = "ErrorBudgetBurn"
BUDGET_LOW_ALERT = "ErrorBudgetLow"
BUDGET_CRITICAL_ALERT = "ErrorBudgetCritical"
TARGET_DOWN_ALERT = "TargetDown"  # a request-based SLI cannot see requests that never arrive
ABSENT_ALERT = "MetricAbsent"  # an SLI or signal whose input vanished reads perfect otherwise
RESERVED_LABELS = (
    "alertname",
    "severity",
    "service",
    "slo",
    "slo_type",
    "long",
    "short",
    "metric",
)
# Annotations every alert gets from the generator; a spec sets them through their own fields.
GENERATED_ANNOTATIONS = ("summary", "description", "runbook_url", "dashboard_url", "panel_url")


@dataclass(frozen=True)
class Runbook:
    """What the spec says on-call does for an alert: ``steps`` to find the cause, in order,
    ``mitigation`` (how to stop the harm) and ``escalation`` (whom to call, when). Each part
    left out ("" or no steps) takes the generated default of the alert's kind."""

    steps: tuple[str, ...] = ()
    mitigation: str = ""
    escalation: str = ""


@dataclass(frozen=True)
class Metric:
    """A metric the service exports."""

    key: str
    name: str
    type: str  # counter | gauge | histogram
    help: str
    matchers: tuple[Matcher, ...]
    breakdowns: tuple[tuple[str, ...], ...] = ()
    buckets: tuple[float, ...] = ()
    quantiles: tuple[float, ...] = ()


@dataclass(frozen=True)
class Series:
    """A metric narrowed by extra matchers (e.g. the 5xx share of a request counter)."""

    metric: Metric
    matchers: tuple[Matcher, ...] = ()

    @property
    def all_matchers(self) -> tuple[Matcher, ...]:
        """Return the metric's selector followed by the extra matchers."""
        return self.metric.matchers + self.matchers


@dataclass(frozen=True)
class Signal:
    """A derived quantity recorded once, read by threshold alerts and the dashboard."""

    key: str
    kind: str  # ratio | gauge | quantile | availability
    unit: str
    help: str
    numerator: Series | None = None
    denominator: Series | None = None
    series: Series | None = None  # gauge and quantile
    complement: bool = False
    by: tuple[str, ...] = ()
    aggregate: str = "sum"
    quantile: float = 0.0
    slo: str = ""
    window: int = 0  # seconds; availability only

    @property
    def counter_based(self) -> bool:
        """Return True when the signal is computed from counter rates."""
        return self.numerator is not None and self.numerator.metric.type == "counter"


@dataclass(frozen=True)
class SLI:
    """How good and bad events are counted: ``events`` (bad or good, and total), ``latency``,
    or raw PromQL: ``query`` (``error_query`` / ``total_query``) or ``ratio_query``.

    A raw SLI's ``total`` is the first selector all events are read from (``inputs`` the
    others); its ``bad`` is set only when the queries have the counted shape the generated
    tests can drive (see ``generator.raw_query``)."""

    kind: str
    total: Series
    bad: Series | None = None
    good: Series | None = None
    threshold: float = 0.0  # latency: the bucket bound (le) in seconds
    error_query: str = ""  # query: PromQL with {{ window }}, bad events over the window
    total_query: str = ""  # query: all events over the window
    ratio_query: str = ""  # ratio_query: the error ratio over the window
    inputs: tuple[Series, ...] = ()  # a raw SLI's other selectors MetricAbsent watches
    native: bool = False  # latency: a native histogram (histogram_fraction), not buckets

    @property
    def raw(self) -> bool:
        """Return True for an SLI written as the user's own PromQL (``query``,
        ``ratio_query``): its queries, not the generator, decide which series it reads."""
        return self.kind in ("query", "ratio_query")

    @property
    def watched(self) -> tuple[Series, ...]:
        """Return the series MetricAbsent watches for this SLI: every part of a metrics SLI
        (each is a declared metric, created at 0), but only the selectors all events are
        read from of a raw one; its error side (``code=~"5.."``) rightly has no series
        before the first error."""
        if self.raw:
            return (self.total, *self.inputs)
        parts = (self.total, self.bad, self.good, *self.inputs)
        return tuple(p for p in parts if p is not None)

    @property
    def testable(self) -> bool:
        """Return True when synthetic series can put the SLI at any error ratio."""
        if self.native:  # written in promtool's native notation (native_tests.py)
            return False
        return self.kind in ("events", "latency") or self.bad is not None

    @property
    def weighted(self) -> bool:
        """Return True when the SLI counts events, so a long window's ratio weighs each slice
        by its traffic; a ``ratio_query`` averages its slices' ratios unweighted."""
        return self.kind != "ratio_query"


Labels = tuple[tuple[str, str], ...]  # (name, value) pairs, sorted by name


@dataclass(frozen=True)
class SeverityAlert:
    """An SLO's extra ``labels`` and ``annotations`` for the burn-rate alerts of one
    severity (``page_alert``: critical, ``ticket_alert``: warning), set over the SLO's own."""

    labels: Labels = ()
    annotations: Labels = ()


@dataclass(frozen=True)
class SLO:
    """A service level objective over a period.

    ``labels`` and ``annotations`` are the SLO's own, set on its burn-rate and budget alerts
    over the service-wide ones; ``page`` and ``ticket`` switch its critical and warning
    burn-rate pairs, and ``page_alert`` and ``ticket_alert`` add labels and annotations to
    them only; ``burn_alert`` names its burn-rate alerts."""

    name: str
    slo_type: str
    objective: float  # percent, e.g. 99.9
    period: int  # seconds
    description: str
    runbook_url: str
    sli: SLI
    labels: Labels = ()
    annotations: Labels = ()
    page: bool = True
    ticket: bool = True
    burn_alert: str = BURN_ALERT
    group_by: tuple[str, ...] = ()  # one SLO per value combination of these labels
    runbook: Runbook = Runbook()  # for its burn-rate alerts
    page_alert: SeverityAlert = SeverityAlert()  # on its critical burn-rate alerts only
    ticket_alert: SeverityAlert = SeverityAlert()  # on its warning burn-rate alerts only

    def severity_alert(self, severity: str) -> SeverityAlert:
        """Return the extras of this SLO's burn-rate alerts of ``severity`` (critical or
        warning)."""
        return self.page_alert if severity == "critical" else self.ticket_alert

    def alerting(self, burn_rates: tuple[BurnRate, ...]) -> tuple[BurnRate, ...]:
        """Return the pairs of ``burn_rates`` this SLO alerts on: the critical ones (pages)
        unless ``page: false``, the warning ones (tickets) unless ``ticket: false``."""
        on = {"critical": self.page, "warning": self.ticket}
        return tuple(b for b in burn_rates if on[b.severity])

    @property
    def target(self) -> float:
        """Return the objective as a ratio (0.999)."""
        return round(self.objective / 100, 12)

    @property
    def error_budget(self) -> float:
        """Return the share of events allowed to be bad (0.001)."""
        return round(1 - self.objective / 100, 12)

    @property
    def budget_minutes(self) -> float:
        """Return the error budget as minutes of total downtime over the period."""
        return round(self.error_budget * self.period / 60, 6)


@dataclass(frozen=True)
class BurnRate:
    """One multi-window burn-rate alert pair."""

    severity: str
    long: int
    short: int
    budget_consumed: float  # percent of the period's budget burnt over the long window
    for_: int  # seconds; 0 (the default) fires at the first evaluation both windows agree

    def factor(self, period: int) -> float:
        """Return the burn rate: how many times faster than sustainable the budget burns."""
        return round(self.budget_consumed / 100 * period / self.long, 12)


@dataclass(frozen=True)
class ErrorBudgetPolicy:
    """Error budget remaining thresholds, in percent."""

    healthy_above: float
    low_below: float
    critical_below: float
    for_: int


@dataclass(frozen=True)
class AbsentDataPolicy:
    """How MetricAbsent (an input of an SLO or threshold alert has no series) is raised."""

    severity: str = "critical"


@dataclass(frozen=True)
class Threshold:
    """One row of the threshold table: an alert with a warning and maybe a critical level."""

    alert: str
    signal: Signal
    direction: str  # above | below
    warning: float
    critical: float | None
    for_: int
    summary: str
    description: str
    runbook_url: str
    labels: Labels = ()  # the row's own, over the service-wide ones
    annotations: Labels = ()
    runbook: Runbook = Runbook()

    def levels(self) -> tuple[tuple[str, float], ...]:
        """Return ``(severity, value)`` pairs, warning first."""
        out: tuple[tuple[str, float], ...] = (("warning", self.warning),)
        if self.critical is not None:
            out += (("critical", self.critical),)
        return out


def scrape_jobs(metrics: tuple[Metric, ...]) -> tuple[str, ...]:
    """Return the scrape jobs ``metrics`` select, sorted (see :attr:`Service.jobs`)."""
    out = set()
    for x in metrics:
        for m in x.matchers:
            if (m.name, m.op) == ("job", "="):
                out.add(m.text)
            elif (m.name, m.op) == ("job", "=~"):
                out.update(label_values.finite_matches(m.text, MAX_LISTED_JOBS) or ())
    return tuple(sorted(out))


@dataclass(frozen=True)
class Service:
    """Everything the generator knows about one service."""

    name: str
    source: str  # spec path, as given
    description: str
    period: int
    scrape_interval: int
    rate_window: int
    labels: Labels
    runbook_base_url: str
    metrics: tuple[Metric, ...]
    signals: tuple[Signal, ...]
    slos: tuple[SLO, ...]
    burn_rates: tuple[BurnRate, ...]
    error_budget: ErrorBudgetPolicy
    thresholds: tuple[Threshold, ...]
    slo_windows: tuple[int, ...] = field(default=())
    absent_data: AbsentDataPolicy = field(default=AbsentDataPolicy())
    routing: Routing | None = None  # no routing section: no Alertmanager config
    dashboard: Dashboard | None = None  # no dashboard section: no Grafana files
    grafana_url: str = ""  # where Grafana is served; "" leaves alerts without dashboard links
    deploy: Deploy = field(default=Deploy())  # no deploy section: plain rule files only
    annotations: Labels = ()  # extra annotations on every alert
    quiet_jobs: tuple[str, ...] = ()  # scrape jobs with `target_down: false`
    cluster_label: str = ""  # the label naming a series' cluster; "" when there is none
    # A spec with `environments`: one resolved copy of the service per environment (in name
    # order), each with its name and its selector's matchers (added to every metric's).
    environments: tuple[Service, ...] = ()
    environment: str = ""
    environment_matchers: tuple[Matcher, ...] = ()
    job_runbooks: tuple[tuple[str, Runbook], ...] = ()  # `jobs.<job>.runbook`, by job

    @property
    def metric_prefix(self) -> str:
        """Return the service name as a metric-name prefix (``my-svc`` -> ``my_svc``)."""
        return self.name.replace("-", "_")

    @property
    def jobs(self) -> tuple[str, ...]:
        """Return the scrape jobs (label values, unescaped) the metrics select, sorted: each
        ``job="x"``, and each name a ``job=~`` regex matches when it matches a finite list
        of at most MAX_LISTED_JOBS (``api|worker``, ``shop-(api|web)``, ``web-[0-2]``: it
        selects exactly those jobs, and an outage of each must page;
        ``label_values.finite_matches``). A regex that matches unboundedly many jobs
        (``shop-.*``) names none: MetricAbsent's ``absent()`` of the metric's selector is
        then its outage alert."""
        return scrape_jobs(self.metrics)

    @property
    def target_down_jobs(self) -> tuple[str, ...]:
        """Return the jobs that get TargetDown: :attr:`jobs` without those switched off."""
        return tuple(j for j in self.jobs if j not in self.quiet_jobs)

    def slo_burn_rates(self, slo: SLO) -> tuple[BurnRate, ...]:
        """Return the burn-rate pairs ``slo`` alerts on (see :meth:`SLO.alerting`)."""
        return slo.alerting(self.burn_rates)

    def signal_inputs(self, sig: Signal) -> tuple[Metric, ...]:
        """Return the metrics ``sig`` is computed from (an availability signal: its SLO's)."""
        if sig.kind == "availability":
            sli = self.slo(sig.slo).sli
            return tuple(x.metric for x in (sli.total, sli.bad, sli.good) if x is not None)
        parts = (sig.numerator, sig.denominator, sig.series)
        return tuple(p.metric for p in parts if p is not None)

    def signal(self, key: str) -> Signal:
        """Return the signal called ``key``."""
        return next(s for s in self.signals if s.key == key)

    def slo(self, name: str) -> SLO:
        """Return the SLO called ``name``."""
        return next(s for s in self.slos if s.name == name)
