"""Alertmanager configuration: routes per severity, inhibitions, receivers reading secret files."""

from __future__ import annotations

from . import signals as names
from .promql import format_duration
from .spec.model import BUDGET_CRITICAL_ALERT, BUDGET_LOW_ALERT, RESERVED_LABELS, Service
from .spec.routing import Routing

GROUP_BY = ["alertname", "service", "slo"]
SEVERITIES = ("critical", "warning")
# Alertmanager's Telegram notifier sends HTML; its default template prints each alert's
# summary, so on-call sees the same words as in the e-mail.
TELEGRAM_PARSE_MODE = "HTML"


def _receivers(routing: Routing) -> list[dict[str, object]]:
    tg = routing.telegram
    out: list[dict[str, object]] = [
        {
            "name": "telegram",
            "telegram_configs": [
                {
                    "bot_token_file": tg.bot_token_file,
                    "chat_id": tg.chat_id,
                    "parse_mode": TELEGRAM_PARSE_MODE,
                    "send_resolved": True,
                }
            ],
        }
    ]
    if routing.email is not None:
        e = routing.email
        email: dict[str, object] = {
            "to": e.to,
            "from": e.sender,
            "smarthost": e.smarthost,
            "require_tls": True,
            "send_resolved": True,
        }
        if e.auth_username:
            email["auth_username"] = e.auth_username
            email["auth_password_file"] = e.auth_password_file
        out.append({"name": "email", "email_configs": [email]})
    if routing.pager_url_file:
        out.append(
            {
                "name": "pager",
                "webhook_configs": [{"url_file": routing.pager_url_file, "send_resolved": True}],
            }
        )
    return out


def _severity_routes(service: Service, routing: Routing) -> list[dict[str, object]]:
    """One route per (severity, receiver); ``continue`` lets an alert reach every receiver."""
    routes = []
    for severity in SEVERITIES:
        receivers = routing.receivers(severity)
        for i, receiver in enumerate(receivers):
            route: dict[str, object] = {
                "receiver": receiver,
                "matchers": [f'service="{service.name}"', f'severity="{severity}"'],
            }
            if i < len(receivers) - 1:
                route["continue"] = True
            routes.append(route)
    return routes


def series_labels(service: Service) -> tuple[str, ...]:
    """Return every label that can tell two alerts of one name apart, sorted.

    That is the labels the generator sets on alert rules (``service``, ``slo``, ``slo_type``,
    the burn-rate windows ``long``/``short``, the spec's own ``labels``, service-wide, per SLO
    and per threshold row) and the labels the
    alerted series carry: ``job`` and ``instance`` (``up`` and per-node signals), every
    signal's ``by`` labels, and the label of every ``=`` matcher (``absent()`` keeps those).
    A list covering all alert kinds at once is sound because Alertmanager compares a label
    missing on both sides as equal (both empty): a label an alert kind never carries cannot
    stop its inhibition, while one it does carry must match.
    """
    labels = {"job", "instance", *(k for k, _ in service.labels)}
    # An SLO's or a threshold row's own labels: the same on both severities of one alert, so
    # they never stop its inhibition, and they keep apart alerts that differ only in them.
    labels |= {k for x in (*service.slos, *service.thresholds) for k, _ in x.labels}
    labels |= set(RESERVED_LABELS) - {"alertname", "severity"}
    for sig in service.signals:
        labels |= set(names.by_labels(sig.by))
    series = [s for sig in service.signals for s in (sig.numerator, sig.denominator, sig.series)]
    series += [s for slo in service.slos for s in (slo.sli.total, slo.sli.bad, slo.sli.good)]
    matchers = [m for metric in service.metrics for m in metric.matchers]
    matchers += [m for s in series if s is not None for m in s.matchers]
    labels |= {m.name for m in matchers if m.op == "="}
    return tuple(sorted(labels))


def inhibit_rules(service: Service) -> list[dict[str, object]]:
    """Return the inhibitions: a critical hides the warning of the same alert on the same
    series, and an exhausted budget hides the same SLO's low-budget warning.

    ``equal`` lists :func:`series_labels`, so a critical for one queue, node, job, SLO or
    burn-rate window pair never hides the warning of another: the fast-burn page (1h/5m)
    leaves the slow-burn ticket (1d/2h) visible, since each window pair is its own alert.
    """
    svc = f'service="{service.name}"'
    equal = list(series_labels(service))
    return [
        {
            "source_matchers": [svc, 'severity="critical"'],
            "target_matchers": [svc, 'severity="warning"'],
            "equal": ["alertname", *equal],
        },
        {
            "source_matchers": [svc, f'alertname="{BUDGET_CRITICAL_ALERT}"'],
            "target_matchers": [svc, f'alertname="{BUDGET_LOW_ALERT}"'],
            "equal": equal,
        },
    ]


def config(service: Service) -> dict[str, object] | None:
    """Return the Alertmanager configuration of a service, or None without a routing section."""
    routing = service.routing
    if routing is None:
        return None
    return {
        "route": {
            "receiver": "telegram",  # anything unmatched still reaches a human
            "group_by": GROUP_BY,
            "group_wait": format_duration(routing.group_wait),
            "group_interval": format_duration(routing.group_interval),
            "repeat_interval": format_duration(routing.repeat_interval),
            "routes": _severity_routes(service, routing),
        },
        "inhibit_rules": inhibit_rules(service),
        "receivers": _receivers(routing),
    }
