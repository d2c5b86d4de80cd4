"""``out/alertmanager.yml``: one Alertmanager config for every service of the tree.

It is each service's subtree (:func:`generator.alertmanager.route_file`) merged under one
top route: a service's alerts (its ``service`` label) take its route, its receivers and its
inhibitions. Alerts of no generated service (hand-written rules) go to :data:`UNROUTED`, a
receiver that notifies no one; to route those as well, merge the services' ``route.yml``
files into a config of your own instead.
"""

from __future__ import annotations

from .alertmanager import route_file
from .spec.model import Service

FILE = "alertmanager.yml"
UNROUTED = "unrouted"


def config(services: list[Service]) -> dict[str, object] | None:
    """Return the config of every service with a ``routing`` section, in service-name order;
    None when no service has one."""
    subtrees = [t for s in sorted(services, key=lambda s: s.name) if (t := route_file(s))]
    if not subtrees:
        return None
    return {
        "route": {
            "receiver": UNROUTED,
            "group_by": ["alertname", "service"],
            "routes": [t["route"] for t in subtrees],
        },
        "inhibit_rules": [rule for t in subtrees for rule in t["inhibit_rules"]],
        "receivers": [{"name": UNROUTED}, *(r for t in subtrees for r in t["receivers"])],
    }
