"""The Mimir (or Cortex) ruler target: one mimirtool namespace file.

``mimirtool rules load out/<service>/mimir/rules.yaml`` loads it: a mapping with the ruler
``namespace`` and the same ``groups`` as the plain files (mimirtool's rule-file format,
``pkg/rules/rwrulefmt`` in grafana/mimir). Each service's groups are a unit the Mimir ruler
shards by, so one namespace per service keeps a service's groups apart from the others'.
"""

from __future__ import annotations

from ..output import Files, to_yaml
from ..prometheus.rule_files import all_groups
from ..spec.model import Service

FILE = "mimir/rules.yaml"


def namespace_file(service: Service) -> dict[str, object]:
    """Return the namespace file as data: ``{"namespace": str, "groups": [group, ...]}``."""
    assert service.deploy.mimir is not None
    return {"namespace": service.deploy.mimir.namespace, "groups": all_groups(service)}


def files(service: Service) -> Files:
    """Return ``{"<service>/mimir/rules.yaml": bytes}``, or nothing when the target is off."""
    if service.deploy.mimir is None:
        return {}
    return {f"{service.name}/{FILE}": to_yaml(namespace_file(service), service.source)}
