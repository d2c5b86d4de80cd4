"""The one place that names recorded series. Recording rules, alerts, tests and the
dashboard all read these names, so a rename happens here and nowhere else.

Names follow Prometheus's ``level:metric:operations`` convention.
"""

from __future__ import annotations

from .promql import format_duration, format_number
from .spec.model import SLO, Metric, Service, Signal

AGGREGATION_ROOT = ("job",)


def by_labels(extra: tuple[str, ...]) -> tuple[str, ...]:
    """Return the labels a recording keeps: ``job`` and then ``extra``, without repeats."""
    return AGGREGATION_ROOT + tuple(x for x in extra if x not in AGGREGATION_ROOT)


def _level(labels: tuple[str, ...]) -> str:
    return "_".join(labels)


def base_name(metric: Metric) -> str:
    """Return the metric name without the ``_total`` a rate makes redundant."""
    return metric.name.removesuffix("_total")


def counter_rate(service: Service, metric: Metric, breakdown: tuple[str, ...] = ()) -> str:
    """``job_method:http_requests:rate5m``: the per-second rate of a counter."""
    window = format_duration(service.rate_window)
    return f"{_level(by_labels(breakdown))}:{base_name(metric)}:rate{window}"


def bucket_rate(service: Service, metric: Metric, breakdown: tuple[str, ...] = ()) -> str:
    """``job_le:latency_seconds_bucket:rate5m``: per-bucket rates, the input of quantiles."""
    window = format_duration(service.rate_window)
    return f"{_level(by_labels(breakdown) + ('le',))}:{metric.name}_bucket:rate{window}"


def quantile_suffix(q: float) -> str:
    """Return ``p95`` for 0.95 and ``p99_9`` for 0.999."""
    return "p" + format_number(q * 100).replace(".", "_")


def quantile(service: Service, metric: Metric, q: float, breakdown: tuple[str, ...] = ()) -> str:
    """``job:latency_seconds:p95_rate5m``: a histogram quantile over the rate window."""
    window = format_duration(service.rate_window)
    return f"{_level(by_labels(breakdown))}:{metric.name}:{quantile_suffix(q)}_rate{window}"


def signal(service: Service, sig: Signal) -> str:
    """Return the series a signal is read from."""
    if sig.kind == "quantile":
        assert sig.series is not None
        return quantile(service, sig.series.metric, sig.quantile)
    if sig.kind == "availability":
        return f"slo:{sig.key}:percent_rate{format_duration(sig.window)}"
    op = sig.aggregate if sig.kind == "gauge" else sig.unit
    if sig.counter_based:
        op += f"_rate{format_duration(service.rate_window)}"
    return f"{_level(by_labels(sig.by))}:{sig.key}:{op}"


def slo_labels(service: Service, slo: SLO) -> dict[str, str]:
    """Return the labels that identify an SLO's series."""
    return {"service": service.name, "slo": slo.name, "slo_type": slo.slo_type}


def slo_selector(service: Service, slo: SLO) -> str:
    """Return ``{service="x", slo="y"}``: the matchers that pick one SLO's series."""
    return f'{{service="{service.name}", slo="{slo.name}"}}'


def slo_bad_events(service: Service) -> str:
    """Bad events counted over each non-overlapping rate window."""
    return f"slo:sli_bad_events:increase{format_duration(service.rate_window)}"


def slo_events(service: Service) -> str:
    """All events counted over each non-overlapping rate window."""
    return f"slo:sli_events:increase{format_duration(service.rate_window)}"


def slo_error_ratio_slice(service: Service) -> str:
    """A ``ratio_query``'s error ratio over each non-overlapping rate window."""
    return f"slo:sli_error:ratio_slice{format_duration(service.rate_window)}"


def slo_error_ratio(window: int) -> str:
    """``slo:sli_error:ratio_rate1h``: bad events / all events over a window."""
    return f"slo:sli_error:ratio_rate{format_duration(window)}"


SLO_OBJECTIVE = "slo:objective:ratio"
SLO_ERROR_BUDGET = "slo:error_budget:ratio"
SLO_BUDGET_REMAINING = "slo:error_budget_remaining:ratio"
# Good events / all events over the period (1 - the period's error ratio), for every SLO.
SLO_GOOD_RATIO = "slo:sli_good:ratio"


def budget_remaining_percent(service: Service) -> str:
    """The seed's ``<service>_error_budget_remaining_percent{slo_type}``."""
    return f"{service.metric_prefix}_error_budget_remaining_percent"


def availability_current(service: Service) -> str:
    """The seed's ``<service>_availability_slo_current``: 1 - error ratio over the period.
    Recorded for availability SLOs only, where the name is true; every SLO has
    :data:`SLO_GOOD_RATIO`."""
    return f"{service.metric_prefix}_availability_slo_current"


def availability_target(service: Service) -> str:
    """The seed's ``<service>_availability_slo_target``: the objective as a ratio. Recorded
    for availability SLOs only; every SLO has :data:`SLO_OBJECTIVE`."""
    return f"{service.metric_prefix}_availability_slo_target"
