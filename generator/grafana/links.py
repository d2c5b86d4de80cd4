"""Where each panel is: the dashboard's panel ids and the URLs alerts carry to them.

Panels are numbered from 1 in dashboard order, each row header taking the id before its
panels; :func:`numbered` is that numbering, and dashboard.build uses it. An alert leads to the
panel of what it watches (a time series before a stat before a gauge, then dashboard order):
a threshold alert to the first panel reading its signal's recording (an availability signal
without one: its SLO's budget panel), an SLO alert to its SLO's budget panel, MetricAbsent to
the first panel computed from the absent metric, TargetDown to the first panel computed from
a metric its job exports. URLs follow Grafana's ``/d/<uid>`` and ``?viewPanel=<id>`` (the
panel alone, full size). Everything here reads the Model only, never the dashboard JSON.
"""

from __future__ import annotations

from .. import signals as names
from ..memo import per_service
from ..spec.dashboard import Panel
from ..spec.model import Metric, Service, scrape_jobs
from .queries import recordings_read

PREFERRED = ("timeseries", "stat", "gauge")  # which panel of a signal an alert opens


def numbered(service: Service) -> list[tuple[str, int, list[tuple[Panel, int]]]]:
    """Return each row's title and id, and its panels with their ids, in dashboard order."""
    assert service.dashboard is not None
    out, next_id = [], 1
    for row in service.dashboard.rows:
        row_id, next_id = next_id, next_id + 1
        panels = []
        for panel in row.panels:
            panels.append((panel, next_id))
            next_id += 1
        out.append((row.title, row_id, panels))
    return out


def metrics_read(service: Service, panel: Panel) -> tuple[Metric, ...]:
    """Return the metrics a panel is computed from: its own (a rate or quantiles panel), its
    signal's inputs, or its SLO's SLI metrics."""
    if panel.metric is not None:
        return (panel.metric,)
    if panel.signal is not None:
        return service.signal_inputs(panel.signal)
    if panel.slo is not None:
        sli = panel.slo.sli
        return tuple(x.metric for x in (sli.total, sli.bad, sli.good) if x is not None)
    return ()


@per_service
def _panel_index(service: Service) -> dict[str, dict[str, int]]:
    """Return the panel an alert opens, by what it watches: ``signal`` (recorded series
    name), ``slo`` (SLO name), ``metric`` (metric name) and ``job`` (scrape job)."""
    found = [(p, i) for _, _, panels in numbered(service) for p, i in panels]
    found.sort(key=lambda pi: PREFERRED.index(pi[0].type))  # stable: dashboard order within
    index: dict[str, dict[str, int]] = {"signal": {}, "slo": {}, "metric": {}, "job": {}}
    for panel, panel_id in found:
        for recorded in recordings_read(service, panel):
            index["signal"].setdefault(recorded, panel_id)
        if panel.slo is not None:
            index["slo"].setdefault(panel.slo.name, panel_id)
        for metric in metrics_read(service, panel):
            index["metric"].setdefault(metric.name, panel_id)
            for job in scrape_jobs((metric,)):
                index["job"].setdefault(job, panel_id)
    return index


def shows_signal(service: Service, panel: Panel, key: str) -> bool:
    """Return whether ``panel`` reads signal ``key``'s recording (a quantile panel reads a
    quantile signal's series too)."""
    return names.signal(service, service.signal(key)) in recordings_read(service, panel)


def signal_panel(service: Service, key: str) -> int | None:
    """Return the id of the panel an alert on signal ``key`` opens, or None."""
    if service.dashboard is None:
        return None
    sig = service.signal(key)
    found = _panel_index(service)["signal"].get(names.signal(service, sig))
    if found is None and sig.kind == "availability":
        return slo_panel(service, sig.slo)  # what the signal restates: the SLO's budget
    return found


def slo_panel(service: Service, slo: str) -> int | None:
    """Return the id of the budget panel of SLO ``slo``, or None."""
    if service.dashboard is None:
        return None
    return _panel_index(service)["slo"].get(slo)


def metric_panel(service: Service, metric: str) -> int | None:
    """Return the id of the first panel computed from metric ``metric`` (its name), or None."""
    if service.dashboard is None:
        return None
    return _panel_index(service)["metric"].get(metric)


def job_panel(service: Service, job: str) -> int | None:
    """Return the id of the first panel computed from a metric of scrape job ``job``, or None."""
    if service.dashboard is None:
        return None
    return _panel_index(service)["job"].get(job)


def dashboard_url(service: Service) -> str:
    """Return the dashboard's address; "" without ``grafana_url`` or a dashboard."""
    if not service.grafana_url or service.dashboard is None:
        return ""
    return f"{service.grafana_url}/d/{service.dashboard.uid}"


def panel_url(service: Service, panel: int | None) -> str:
    """Return the address of panel ``panel`` alone; "" without an address or a panel."""
    url = dashboard_url(service)
    return f"{url}?viewPanel={panel}" if url and panel is not None else ""


def watched_panel(
    service: Service, signal: str = "", slo: str = "", metric: str = "", job: str = ""
) -> int | None:
    """Return the id of the panel an alert watching one of these opens (the first given)."""
    if signal:
        return signal_panel(service, signal)
    if slo:
        return slo_panel(service, slo)
    if metric:
        return metric_panel(service, metric)
    return job_panel(service, job) if job else None


def alert_annotations(
    service: Service, signal: str = "", slo: str = "", metric: str = "", job: str = ""
) -> dict[str, str]:
    """Return the ``dashboard_url`` and ``panel_url`` annotations of an alert watching a
    ``signal`` (key), an ``slo`` (name), a ``metric`` (name) or a scrape ``job`` (only
    ``dashboard_url`` when no panel shows it; none without ``grafana_url``)."""
    url = dashboard_url(service)
    if not url:
        return {}
    panel = panel_url(service, watched_panel(service, signal, slo, metric, job))
    return {"dashboard_url": url, **({"panel_url": panel} if panel else {})}
