"""A service's Alertmanager subtree (``alertmanager/route.yml``): its route, with child routes
by severity and by label, its inhibitions, and its receivers, which read secrets from files."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from . import signals as names
from .promql import format_duration
from .spec.model import BUDGET_CRITICAL_ALERT, BUDGET_LOW_ALERT, RESERVED_LABELS, Service
from .spec.routing import Receiver, Route, Routing

GROUP_BY = ["alertname", "service", "slo"]


def group_by(service: Service) -> list[str]:
    """Return the labels one notification groups alerts by: :data:`GROUP_BY`, then the
    cluster label and ``env`` when the spec has them, so a page from one cluster or
    environment never arrives folded into another's. An SLO's ``group_by`` labels are not
    added: an outage across many endpoints is one notification per SLO, listing them."""
    out = [*GROUP_BY, *names.kept_labels(service)]
    return [*out, names.ENV_LABEL] if service.environments else out


# Alertmanager's Telegram notifier sends HTML; its default template prints each alert's
# summary, so on-call sees the same words as in the e-mail.
TELEGRAM_PARSE_MODE = "HTML"


def receiver_name(service: Service, name: str) -> str:
    """Return the name of a service's receiver in a shared config: ``<service>/<name>``
    (service names are unique in a tree, so receivers of two services never clash)."""
    return f"{service.name}/{name}"


def integration(receiver: Receiver) -> dict[str, list[dict[str, object]]]:
    """Return a receiver's Alertmanager integration, as ``{"<kind>_configs": [config]}``.

    Every secret is a ``*_file`` field (read by Alertmanager 0.28.1 and 0.33.1 alike), and
    every integration also says when an alert is resolved.
    """
    s = dict(receiver.settings)
    kind = receiver.kind
    if kind == "telegram":
        cfg: dict[str, object] = {
            "bot_token_file": s["bot_token_file"],
            "chat_id": s["chat_id"],
            "parse_mode": TELEGRAM_PARSE_MODE,
        }
    elif kind == "email":
        cfg = {"to": s["to"], "from": s["from"], "smarthost": s["smarthost"], "require_tls": True}
        if s.get("auth_username"):
            cfg["auth_username"] = s["auth_username"]
            cfg["auth_password_file"] = s["auth_password_file"]
    elif kind == "slack":
        cfg = {"api_url_file": s["api_url_file"]}
        if "channel" in s:
            cfg["channel"] = s["channel"]
    elif kind == "pagerduty":
        cfg = {"routing_key_file": s["routing_key_file"]}
    elif kind == "opsgenie":
        cfg = {"api_key_file": s["api_key_file"]}
        if "api_url" in s:
            cfg["api_url"] = s["api_url"]
    else:
        cfg = {"url_file": s["url_file"]}
    cfg["send_resolved"] = True
    return {f"{kind}_configs": [cfg]}


def route_steps(routing: Routing) -> Iterator[tuple[Route, str, bool]]:
    """Yield ``(spec route, receiver, continue)``: one Alertmanager route per spec route and
    receiver, in order. ``continue`` on all but a spec route's last receiver lets its alerts
    reach every receiver it names, and no later route."""
    for spec_route in routing.routes:
        last = len(spec_route.receivers) - 1
        for i, receiver in enumerate(spec_route.receivers):
            yield spec_route, receiver, i < last


def _child_routes(routing: Routing, name: Callable[[str], str]) -> list[dict[str, object]]:
    out = []
    for spec_route, receiver, more in route_steps(routing):
        route: dict[str, object] = {
            "receiver": name(receiver),
            "matchers": [str(m) for m in spec_route.matchers],
        }
        if more:
            route["continue"] = True
        out.append(route)
    return out


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
    # The cluster and every SLO's group_by labels: a page in one cluster or group must never
    # mute the ticket of another.
    labels |= {k for slo in service.slos for k in names.kept_labels(service, slo)}
    labels |= set(names.kept_labels(service))
    if service.environments:  # each environment's rules carry its name
        labels.add(names.ENV_LABEL)
    for sig in service.signals:
        labels |= set(names.by_labels(sig.by))
    series = [s for sig in service.signals for s in (sig.numerator, sig.denominator, sig.series)]
    series += [s for slo in service.slos for s in (slo.sli.total, slo.sli.bad, slo.sli.good)]
    matchers = [m for metric in service.metrics for m in metric.matchers]
    matchers += [m for s in series if s is not None for m in s.matchers]
    labels |= {m.name for m in matchers if m.op == "="}
    return tuple(sorted(labels))


def severity_labels(service: Service) -> tuple[str, ...]:
    """Return the labels some SLO sets on the burn-rate alerts of one severity only (its
    ``page_alert`` and ``ticket_alert`` labels), sorted. They tell a page from a ticket of
    one SLO and window pair, never two alerts of one severity apart, so no inhibition
    compares them (a page with ``routing_key`` still hides its own ticket without one)."""
    return tuple(
        sorted(
            {
                k
                for slo in service.slos
                for extra in (slo.page_alert, slo.ticket_alert)
                for k, _ in extra.labels
            }
        )
    )


def inhibit_rules(service: Service) -> list[dict[str, object]]:
    """Return the inhibitions: a critical hides the warning of the same alert on the same
    series, and an exhausted budget hides the same SLO's low-budget warning.

    ``equal`` lists :func:`series_labels`, so a critical for one queue, node, job, SLO or
    burn-rate window pair never hides the warning of another: the fast-burn page (1h/5m)
    leaves the slow-burn ticket (1d/2h) visible, since each window pair is its own alert.
    """
    svc = f'service="{service.name}"'
    equal = list(series_labels(service))
    out: list[dict[str, object]] = [
        {
            "source_matchers": [svc, 'severity="critical"'],
            "target_matchers": [svc, 'severity="warning"'],
            "equal": ["alertname", *equal],
        },
    ]
    # A per-severity label that other alerts carry on both severities is in `equal`, where
    # it keeps a page from hiding its own ticket: the burn-rate alerts of the SLOs that set
    # per-severity labels get a rule that leaves them out.
    own = set(severity_labels(service)) & set(equal)
    burn = sorted(
        {s.burn_alert for s in service.slos if s.page_alert.labels or s.ticket_alert.labels}
    )
    if own:
        out.append(
            {
                "source_matchers": [svc, 'severity="critical"', f'alertname=~"{"|".join(burn)}"'],
                "target_matchers": [svc, 'severity="warning"'],
                "equal": ["alertname", *(k for k in equal if k not in own)],
            }
        )
    out.append(
        {
            "source_matchers": [svc, f'alertname="{BUDGET_CRITICAL_ALERT}"'],
            "target_matchers": [svc, f'alertname="{BUDGET_LOW_ALERT}"'],
            "equal": equal,
        }
    )
    return out


def route_file(service: Service) -> dict[str, object] | None:
    """Return the service's subtree, ready to merge into an Alertmanager config: ``route``
    (one route for the service's alerts, to add under the top route's ``routes``),
    ``receivers`` (named ``<service>/<name>``) and ``inhibit_rules``. None without a
    ``routing`` section."""
    routing = service.routing
    if routing is None:
        return None

    def name(receiver: str) -> str:
        return receiver_name(service, receiver)

    return {
        "route": {
            "receiver": name(routing.default),  # what no route takes
            "matchers": [f'service="{service.name}"'],
            "group_by": group_by(service),
            "group_wait": format_duration(routing.group_wait),
            "group_interval": format_duration(routing.group_interval),
            "repeat_interval": format_duration(routing.repeat_interval),
            "routes": _child_routes(routing, name),
        },
        "inhibit_rules": inhibit_rules(service),
        "receivers": [{"name": name(r.name), **integration(r)} for r in routing.receivers],
    }
