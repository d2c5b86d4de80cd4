"""Every artifact of a service, as ``{relative path: bytes}``. Pure: reads only the Model."""

from __future__ import annotations

from . import alertmanager
from .docs import render as docs
from .grafana.files import files as grafana_files
from .grafana.provisioning import tree_files
from .output import Files, to_yaml
from .prometheus import alerts, recording, unittests, vmalert_unittests
from .spec.model import Service


def service_files(service: Service) -> Files:
    """Return every generated file of one service, keyed by its path under ``out/``."""
    src = service.source
    base = service.name
    files: Files = {
        f"{base}/prometheus/recording_rules.yml": to_yaml(
            {"groups": recording.groups(service)}, src
        ),
        f"{base}/prometheus/alerts.yml": to_yaml({"groups": alerts.groups(service)}, src),
    }
    for name, suite in unittests.suites(service).items():
        files[f"{base}/prometheus/tests/{name}"] = to_yaml(suite, src)
    for name, suite in vmalert_unittests.vmalert_suites(service).items():
        files[f"{base}/prometheus/tests/{name}"] = to_yaml(suite, src)
    if (routes := alertmanager.config(service)) is not None:
        files[f"{base}/alertmanager/alertmanager.yml"] = to_yaml(routes, src)
    for name, text in docs.files(service).items():
        files[f"{base}/docs/{name}"] = text.encode("utf-8")
    files.update(grafana_files(service))
    return files


def shared_files(services: list[Service]) -> Files:
    """Return the files every service shares (Grafana provisioning), keyed by path under
    ``out/``. Raises SpecInvalid when services clash (two dashboards with one uid)."""
    return tree_files(services)
