"""Alertmanager configuration: routes per severity, inhibitions, receivers reading secret files."""

from __future__ import annotations

from .promql import format_duration
from .spec.model import BUDGET_CRITICAL_ALERT, BUDGET_LOW_ALERT, Service
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


def inhibit_rules(service: Service) -> list[dict[str, object]]:
    """Return the inhibitions: critical hides the warning of the same alert, and an exhausted
    budget hides the low-budget warning.

    ``slo`` and ``instance`` are in ``equal`` so that one SLO's (or one node's) critical never
    hides another SLO's (or node's) warning; Alertmanager treats a label missing on both sides
    as equal, so alerts without them are matched on alertname and service alone.
    """
    svc = f'service="{service.name}"'
    return [
        {
            "source_matchers": [svc, 'severity="critical"'],
            "target_matchers": [svc, 'severity="warning"'],
            "equal": ["alertname", "service", "slo", "instance"],
        },
        {
            "source_matchers": [svc, f'alertname="{BUDGET_CRITICAL_ALERT}"'],
            "target_matchers": [svc, f'alertname="{BUDGET_LOW_ALERT}"'],
            "equal": ["service", "slo"],
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
