"""The Kubernetes target: Prometheus Operator manifests for kube-prometheus-stack.

- ``prometheusrule.yaml``: a ``monitoring.coreos.com/v1`` PrometheusRule holding the plain
  files' rule groups unchanged;
- ``alertmanagerconfig.yaml`` (with ``routing``): a ``monitoring.coreos.com/v1alpha1``
  AlertmanagerConfig with the routes, inhibitions and receivers of ``alertmanager/route.yml``;
  each secret file becomes a key (its file name) of one Kubernetes Secret the spec names;
- ``dashboard-configmap.yaml`` (with ``dashboard``): a ConfigMap labelled
  ``grafana_dashboard: "1"``, which the Grafana sidecar loads.

The manifests are plain data in the shapes of the operator's CRDs. ``tests/test_deploy_targets.py``
validates them, for every shipped spec and for random specs with random deploy settings,
against cloudcoil's models (generated from the operator's and Kubernetes' own OpenAPI
schemas) and requires them to round-trip unchanged. The generator does not import those
models: they cost 3 s of import for every run, 10 times a whole service's planning.
"""

from __future__ import annotations

from ..alertmanager import group_by, integration, route_steps, series_labels
from ..grafana import dashboard
from ..grafana.files import DASHBOARD_FILE
from ..output import Files, to_yaml
from ..prometheus.rule_files import all_groups
from ..promql import format_duration
from ..spec.deploy import DASHBOARD_LABEL, Kubernetes, secret_key
from ..spec.model import BUDGET_CRITICAL_ALERT, BUDGET_LOW_ALERT, Service
from ..spec.routing import Receiver

FOLDER = "kubernetes"
MONITORING_V1 = "monitoring.coreos.com/v1"
MONITORING_V1ALPHA1 = "monitoring.coreos.com/v1alpha1"


def _metadata(service: Service, k8s: Kubernetes, name: str, **extra: str) -> dict:
    return {
        "name": name,
        "namespace": k8s.namespace,
        "labels": {**dict(k8s.labels), **extra},
    }


def prometheus_rule(service: Service) -> dict:
    """Return the PrometheusRule manifest: ``spec.groups`` is every plain rule group."""
    k8s = service.deploy.kubernetes
    assert k8s is not None
    manifest = {
        "apiVersion": MONITORING_V1,
        "kind": "PrometheusRule",
        "metadata": _metadata(service, k8s, service.name),
        "spec": {"groups": all_groups(service)},
    }
    return manifest


def _equal(name: str, value: str) -> dict:
    return {"name": name, "value": value, "matchType": "="}


# The CRD's name of each field of the plain config (the operator's Go structs spell them).
_CRD_FIELDS = {
    "bot_token_file": "botToken",
    "chat_id": "chatID",
    "parse_mode": "parseMode",
    "to": "to",
    "from": "from",
    "smarthost": "smarthost",
    "require_tls": "requireTLS",
    "auth_username": "authUsername",
    "auth_password_file": "authPassword",
    "api_url_file": "apiURL",
    "channel": "channel",
    "routing_key_file": "routingKey",
    "api_key_file": "apiKey",
    "api_url": "apiURL",
    "url_file": "urlSecret",
    "send_resolved": "sendResolved",
}


def _integration(receiver: Receiver, secret: str) -> dict[str, list[dict[str, object]]]:
    """Return a receiver's plain integration (:func:`alertmanager.integration`) in the CRD's
    shape: each secret file becomes the key (its file name) of the one Kubernetes Secret."""
    ((_, (plain,)),) = integration(receiver).items()
    crd = {
        _CRD_FIELDS[field]: {"name": secret, "key": secret_key(str(value))}
        if field.endswith("_file")
        else value
        for field, value in plain.items()
    }
    return {f"{receiver.kind}Configs": [crd]}


def alertmanager_config(service: Service) -> dict:
    """Return the AlertmanagerConfig manifest (the operator adds a ``namespace`` matcher to
    its top route, so it only sees alerts of rules in its own namespace, and prefixes the
    receiver names with the namespace and name of the manifest)."""
    k8s, routing = service.deploy.kubernetes, service.routing
    assert k8s is not None and routing is not None
    svc = _equal("service", service.name)
    routes = []
    for spec_route, receiver, more in route_steps(routing):
        matchers = [
            {"name": m.name, "value": m.text, "matchType": m.op} for m in spec_route.matchers
        ]
        route: dict[str, object] = {"receiver": receiver, "matchers": [svc, *matchers]}
        if more:
            route["continue"] = True
        routes.append(route)
    equal = list(series_labels(service))
    manifest = {
        "apiVersion": MONITORING_V1ALPHA1,
        "kind": "AlertmanagerConfig",
        "metadata": _metadata(service, k8s, service.name),
        "spec": {
            "route": {
                "receiver": routing.default,
                "groupBy": group_by(service),
                "groupWait": format_duration(routing.group_wait),
                "groupInterval": format_duration(routing.group_interval),
                "repeatInterval": format_duration(routing.repeat_interval),
                "routes": routes,
            },
            "inhibitRules": [
                {
                    "sourceMatch": [svc, _equal("severity", "critical")],
                    "targetMatch": [svc, _equal("severity", "warning")],
                    "equal": ["alertname", *equal],
                },
                {
                    "sourceMatch": [svc, _equal("alertname", BUDGET_CRITICAL_ALERT)],
                    "targetMatch": [svc, _equal("alertname", BUDGET_LOW_ALERT)],
                    "equal": equal,
                },
            ],
            "receivers": [
                {"name": r.name, **_integration(r, k8s.secret)} for r in routing.receivers
            ],
        },
    }
    return manifest


def dashboard_config_map(service: Service) -> dict:
    """Return the ConfigMap holding the dashboard JSON, labelled for the Grafana sidecar."""
    k8s = service.deploy.kubernetes
    assert k8s is not None
    name = f"{service.name}-dashboard"
    manifest = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(service, k8s, name, **{DASHBOARD_LABEL: "1"}),
        "data": {f"{service.name}-{DASHBOARD_FILE}": dashboard.json_bytes(service).decode()},
    }
    return manifest


def files(service: Service) -> Files:
    """Return ``{"<service>/kubernetes/<manifest>.yaml": bytes}``; nothing when the target
    is off. The AlertmanagerConfig needs ``routing``, the ConfigMap ``dashboard``."""
    if service.deploy.kubernetes is None:
        return {}
    base, src = f"{service.name}/{FOLDER}", service.source
    out = {f"{base}/prometheusrule.yaml": to_yaml(prometheus_rule(service), src)}
    if service.routing is not None:
        out[f"{base}/alertmanagerconfig.yaml"] = to_yaml(alertmanager_config(service), src)
    if service.dashboard is not None:
        out[f"{base}/dashboard-configmap.yaml"] = to_yaml(dashboard_config_map(service), src)
    return out
