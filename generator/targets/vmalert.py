"""The VictoriaMetrics vmalert target: every group of a service in one plain rule file.

``vmalert -rule=out/*/vmalert/rules.yml`` loads a whole fleet with one glob; vmalert reads
the Prometheus rule format (and MetricsQL, a superset of the PromQL the rules use).
"""

from __future__ import annotations

from ..output import Files, to_yaml
from ..prometheus.rule_files import all_groups
from ..spec.model import Service

FILE = "vmalert/rules.yml"


def files(service: Service) -> Files:
    """Return ``{"<service>/vmalert/rules.yml": bytes}``, or nothing when the target is off."""
    if not service.deploy.vmalert:
        return {}
    return {f"{service.name}/{FILE}": to_yaml({"groups": all_groups(service)}, service.source)}
