"""Grafana provisioning for the whole out/ tree: one datasources file, one provider per service.

Grafana reads one provisioning folder, so the files live once for the tree, under
:data:`TREE` (a name no service can have: services start with a letter). Mount
``out/_grafana/provisioning`` at ``/etc/grafana/provisioning`` and ``out/`` at
:data:`DASHBOARDS_ROOT`, and a stock Grafana shows every service's dashboard in its own folder.

- ``datasources/prometheus.yaml``: one Prometheus datasource per distinct
  ``dashboard.datasource_url``; its uid is derived from the URL, so services that share a
  Prometheus share one datasource and no two datasources ever share a uid. The URL most
  services use is the default (ties: the first in sorted order).
- ``dashboards/<service>.yaml``: the service's provider, reading its ``grafana/`` folder.

Dashboard uids must be unique across the tree (Grafana keeps one dashboard per uid):
:func:`tree_files` raises SpecInvalid naming both specs otherwise.
"""

from __future__ import annotations

import hashlib
from collections import Counter

from ..output import Files, to_yaml
from ..promql import format_duration
from ..spec.errors import SpecError, SpecInvalid
from ..spec.model import Service
from .compat import DATASOURCE_TYPE

TREE = "_grafana"
DASHBOARDS_ROOT = "/var/lib/grafana/dashboards"


def dashboards_path(service: Service) -> str:
    """Return the folder, inside the Grafana container, holding the service's dashboard JSON."""
    return f"{DASHBOARDS_ROOT}/{service.name}/grafana"


def datasource_uid(url: str) -> str:
    """Return the uid of the datasource for ``url``: ``prometheus-`` and 8 hex digits of its
    SHA-256, the same in every run and every tree."""
    return "prometheus-" + hashlib.sha256(url.encode("utf-8")).hexdigest()[:8]


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


def datasources(services: list[Service]) -> dict:
    """Return the datasources file: one Prometheus per distinct URL, told its scrape interval.

    Grafana's ``$__rate_interval`` is at least four scrape intervals only when it knows the
    scrape interval (``timeInterval``); a Prometheus several services share gets the shortest.
    """
    with_board = [s for s in services if s.dashboard is not None]
    urls = Counter(s.dashboard.datasource_url for s in with_board if s.dashboard)
    default = min(urls, key=lambda u: (-urls[u], u)) if urls else None
    out = []
    for url in sorted(urls):
        scrape = min(s.scrape_interval for s in with_board if s.dashboard.datasource_url == url)
        out.append(
            {
                "name": "Prometheus" if url == default else f"Prometheus {url}",
                "type": DATASOURCE_TYPE,
                "uid": datasource_uid(url),
                "access": "proxy",
                "url": url,
                "isDefault": url == default,
                "editable": False,
                "jsonData": {"timeInterval": format_duration(scrape)},
            }
        )
    return {"apiVersion": 1, "datasources": out}


def _unique_uids(services: list[Service]) -> None:
    seen: dict[str, Service] = {}
    errors = []
    for s in services:
        if s.dashboard is None:
            continue
        other = seen.setdefault(s.dashboard.uid, s)
        if other is not s:
            message = (
                f"{s.dashboard.uid!r} is also the dashboard uid of {other.source}; "
                "Grafana keeps one dashboard per uid"
            )
            errors.append(SpecError(s.source, 1, 1, "dashboard.uid", message))
    if errors:
        raise SpecInvalid(errors)


def tree_files(services: list[Service]) -> Files:
    """Return the provisioning files of every service with a dashboard, keyed by path under
    ``out/``; none when no service has one. Raises SpecInvalid on a dashboard uid clash."""
    ordered = sorted((s for s in services if s.dashboard is not None), key=lambda s: s.name)
    if not ordered:
        return {}
    _unique_uids(ordered)
    base = f"{TREE}/provisioning"
    sources = ", ".join(s.source for s in ordered)
    files = {f"{base}/datasources/prometheus.yaml": to_yaml(datasources(ordered), sources)}
    for s in ordered:
        files[f"{base}/dashboards/{s.name}.yaml"] = to_yaml(dashboards(s), s.source)
    return files
