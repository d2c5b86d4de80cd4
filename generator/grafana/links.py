"""Where each panel is: the dashboard's panel ids and the URLs alerts carry to them.

Panels are numbered from 1 in dashboard order, each row header taking the id before its
panels; :func:`numbered` is that numbering, and dashboard.build uses it. An alert leads to the
panel of what it watches: a threshold alert to the first panel reading its signal's recording
(a time series before a stat), an SLO alert to its SLO's budget panel. URLs follow Grafana's
``/d/<uid>`` and ``?viewPanel=<id>`` (the panel alone, full size).
"""

from __future__ import annotations

from .. import signals as names
from ..memo import per_service
from ..spec.dashboard import Panel
from ..spec.model import Service
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


@per_service
def _panel_index(service: Service) -> tuple[dict[str, int], dict[str, int]]:
    """Return the panel each signal's alert opens and each SLO's budget panel, by key."""
    found = [(p, i) for _, _, panels in numbered(service) for p, i in panels]
    found.sort(key=lambda pi: PREFERRED.index(pi[0].type))  # stable: dashboard order within
    signals: dict[str, int] = {}
    slos: dict[str, int] = {}
    for panel, panel_id in found:
        for recorded in recordings_read(service, panel):
            signals.setdefault(recorded, panel_id)
        if panel.slo is not None:
            slos.setdefault(panel.slo.name, panel_id)
    return signals, slos


def shows_signal(service: Service, panel: Panel, key: str) -> bool:
    """Return whether ``panel`` reads signal ``key``'s recording (a quantile panel reads a
    quantile signal's series too)."""
    return names.signal(service, service.signal(key)) in recordings_read(service, panel)


def signal_panel(service: Service, key: str) -> int | None:
    """Return the id of the panel an alert on signal ``key`` opens, or None."""
    if service.dashboard is None:
        return None
    return _panel_index(service)[0].get(names.signal(service, service.signal(key)))


def slo_panel(service: Service, slo: str) -> int | None:
    """Return the id of the budget panel of SLO ``slo``, or None."""
    if service.dashboard is None:
        return None
    return _panel_index(service)[1].get(slo)


def dashboard_url(service: Service) -> str:
    """Return the dashboard's address; "" without ``grafana_url`` or a dashboard."""
    if not service.grafana_url or service.dashboard is None:
        return ""
    return f"{service.grafana_url}/d/{service.dashboard.uid}"


def alert_annotations(service: Service, signal: str = "", slo: str = "") -> dict[str, str]:
    """Return the ``dashboard_url`` and ``panel_url`` annotations of an alert on ``signal``
    or ``slo`` (only ``dashboard_url`` when no panel shows it; none without ``grafana_url``)."""
    url = dashboard_url(service)
    if not url:
        return {}
    panel = signal_panel(service, signal) if signal else slo_panel(service, slo) if slo else None
    out = {"dashboard_url": url}
    if panel is not None:
        out["panel_url"] = f"{url}?viewPanel={panel}"
    return out
