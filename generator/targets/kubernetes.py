"""The Kubernetes target: Prometheus Operator manifests for kube-prometheus-stack.

- ``prometheusrule.yaml``: a ``monitoring.coreos.com/v1`` PrometheusRule holding the plain
  files' rule groups unchanged;
- ``alertmanagerconfig.yaml`` (with ``routing``): a ``monitoring.coreos.com/v1alpha1``
  AlertmanagerConfig with the plain ``alertmanager.yml``'s routes, inhibitions and receivers;
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

from ..alertmanager import GROUP_BY, SEVERITIES, TELEGRAM_PARSE_MODE, series_labels
from ..grafana import dashboard
from ..grafana.files import DASHBOARD_FILE
from ..output import Files, to_json, to_yaml
from ..prometheus.rule_files import all_groups
from ..promql import format_duration
from ..spec.deploy import DASHBOARD_LABEL, Kubernetes, secret_key
from ..spec.model import BUDGET_CRITICAL_ALERT, BUDGET_LOW_ALERT, Service

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


def _receivers(service: Service, secret: str) -> list[dict]:
    routing = service.routing
    assert routing is not None
    tg = routing.telegram
    out: list[dict] = [
        {
            "name": "telegram",
            "telegramConfigs": [
                {
                    "botToken": {"name": secret, "key": secret_key(tg.bot_token_file)},
                    "chatID": tg.chat_id,
                    "parseMode": TELEGRAM_PARSE_MODE,
                    "sendResolved": True,
                }
            ],
        }
    ]
    if (e := routing.email) is not None:
        email: dict[str, object] = {
            "to": e.to,
            "from": e.sender,
            "smarthost": e.smarthost,
            "requireTLS": True,
            "sendResolved": True,
        }
        if e.auth_username:
            email["authUsername"] = e.auth_username
            email["authPassword"] = {"name": secret, "key": secret_key(e.auth_password_file)}
        out.append({"name": "email", "emailConfigs": [email]})
    if routing.pager_url_file:
        url = {"name": secret, "key": secret_key(routing.pager_url_file)}
        out.append({"name": "pager", "webhookConfigs": [{"urlSecret": url, "sendResolved": True}]})
    return out


def alertmanager_config(service: Service) -> dict:
    """Return the AlertmanagerConfig manifest (the operator adds a ``namespace`` matcher to
    its top route, so it only sees alerts of rules in its own namespace)."""
    k8s, routing = service.deploy.kubernetes, service.routing
    assert k8s is not None and routing is not None
    svc = _equal("service", service.name)
    routes = []
    for severity in SEVERITIES:
        receivers = routing.receivers(severity)
        for i, receiver in enumerate(receivers):
            route: dict[str, object] = {
                "receiver": receiver,
                "matchers": [svc, _equal("severity", severity)],
            }
            if i < len(receivers) - 1:
                route["continue"] = True
            routes.append(route)
    equal = list(series_labels(service))
    manifest = {
        "apiVersion": MONITORING_V1ALPHA1,
        "kind": "AlertmanagerConfig",
        "metadata": _metadata(service, k8s, service.name),
        "spec": {
            "route": {
                "receiver": "telegram",
                "groupBy": GROUP_BY,
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
            "receivers": _receivers(service, k8s.secret),
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
        "data": {f"{service.name}-{DASHBOARD_FILE}": to_json(dashboard.build(service)).decode()},
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
