"""Grafana provisioning: a dashboards provider and a Prometheus datasource, as plain data.

Mount ``out/<service>/grafana/provisioning`` at ``/etc/grafana/provisioning`` and
``out/<service>/grafana`` at :func:`dashboards_path`, and a stock Grafana shows the dashboard.
"""

from __future__ import annotations

from ..promql import format_duration
from ..spec.model import Service
from .compat import DATASOURCE_TYPE

DASHBOARDS_ROOT = "/var/lib/grafana/dashboards"


def dashboards_path(service: Service) -> str:
    """Return the folder, inside the Grafana container, the dashboard JSON is mounted at."""
    return f"{DASHBOARDS_ROOT}/{service.name}"


def dashboards(service: Service) -> dict:
    """Return the dashboards provider file: the service's folder, read-only in the UI."""
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": service.name,
                "folder": service.name,
                "type": "file",
                "disableDeletion": True,
                "allowUiUpdates": False,  # the JSON is generated; UI edits would be lost
                "updateIntervalSeconds": 60,
                "options": {"path": dashboards_path(service)},
            }
        ],
    }


def datasources(service: Service) -> dict:
    """Return the datasource file: the default Prometheus, told the scrape interval.

    Grafana's ``$__rate_interval`` is at least four scrape intervals only when it knows the
    scrape interval (``timeInterval``); without it, rates over short ranges come out empty.
    """
    assert service.dashboard is not None
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": "Prometheus",
                "type": DATASOURCE_TYPE,
                "uid": "prometheus",
                "access": "proxy",
                "url": service.dashboard.datasource_url,
                "isDefault": True,
                "editable": False,
                "jsonData": {"timeInterval": format_duration(service.scrape_interval)},
            }
        ],
    }
