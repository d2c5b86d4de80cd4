"""Every artifact of a service, as ``{relative path: bytes}``. Pure: reads only the Model."""

from __future__ import annotations

from .output import Files, to_yaml
from .prometheus import alerts, recording, unittests
from .spec.model import Service


def service_files(service: Service) -> Files:
    """Return every generated file of one service, keyed by its path under ``out/``."""
    src = service.source
    base = service.name
    files: Files = {
        f"{base}/prometheus/recording_rules.yml": to_yaml({"groups": recording.groups(service)}, src),
        f"{base}/prometheus/alerts.yml": to_yaml({"groups": alerts.groups(service)}, src),
    }
    for name, suite in unittests.suites(service).items():
        files[f"{base}/prometheus/tests/{name}"] = to_yaml(suite, src)
    return files
