"""Receivers of every kind and routes by severity and by label, proven with amtool.

Every config is checked by ``amtool check-config`` and routed by ``amtool config routes
test`` on every CONFIG_ALERTMANAGERS (0.28.1, 0.33.1). The expected receivers are read from
the spec as a person reads it (the first route whose severity, labels and matchers all hold
takes the alert; else ``default``), never from the generated config.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
import yaml
from cli_support import CHECKOUT, SAMOKODER, am_quoted, routes_test
from depth import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yaml_io import load_yaml

from generator import alertmanager_config, tools
from generator.alertmanager import route_file
from generator.docs import render as docs
from generator.output import to_yaml, write_tree
from generator.plan import shared_files
from generator.prometheus import unittests
from generator.spec.loader import load_text

SECRETS = "/etc/alertmanager/secrets"
# Every receiver kind, and routes by a team label, by a regex matcher and by severity.
EVERY_KIND = {
    "receivers": {
        "oncall-tg": {"telegram": {"chat_id": -100, "bot_token_file": f"{SECRETS}/tg"}},
        "payments-pd": {"pagerduty": {"routing_key_file": f"{SECRETS}/pd_payments"}},
        "payments-slack": {
            "slack": {"api_url_file": f"{SECRETS}/slack_payments", "channel": "#payments"}
        },
        "sre-opsgenie": {
            "opsgenie": {
                "api_key_file": f"{SECRETS}/opsgenie",
                "api_url": "https://api.eu.opsgenie.com/",
            }
        },
        "tickets": {"webhook": {"url_file": f"{SECRETS}/tickets_url"}},
        "mail": {
            "email": {
                "to": "sre@example.org",
                "from": "am@example.org",
                "smarthost": "smtp.example.org:587",
                "auth_username": "am",
                "auth_password_file": f"{SECRETS}/smtp",
            }
        },
    },
    "default": "oncall-tg",
    "routes": [
        {
            "severity": "critical",
            "labels": {"team": "payments"},
            "receivers": ["payments-pd", "payments-slack"],
        },
        {"labels": {"team": "payments"}, "receivers": ["payments-slack"]},
        {"severity": "critical", "matchers": ['team=~"sre|infra"'], "receivers": ["sre-opsgenie"]},
        {"severity": "warning", "receivers": ["tickets", "mail"]},
    ],
}
# (alert labels, receivers) as the routes above read.
EVERY_KIND_CASES = [
    ({"team": "payments", "severity": "critical"}, ["payments-pd", "payments-slack"]),
    ({"team": "payments", "severity": "warning"}, ["payments-slack"]),
    ({"team": "infra", "severity": "critical"}, ["sre-opsgenie"]),
    ({"team": "infrastructure", "severity": "critical"}, ["oncall-tg"]),  # anchored regex
    ({"team": "infra", "severity": "warning"}, ["tickets", "mail"]),
    ({"team": "web", "severity": "critical"}, ["oncall-tg"]),
    ({"severity": "info"}, ["oncall-tg"]),
]


@pytest.fixture(scope="module", params=tools.CONFIG_ALERTMANAGERS, ids=lambda e: e.name)
def amtool(request) -> Path:
    return request.param.tool("amtool")


def with_routing(spec: Path, routing: dict, service: str | None = None) -> str:
    data = load_yaml(spec.read_text())
    data["routing"] = routing
    data.setdefault("runbook_base_url", "https://runbooks.example.org/x")
    if service:
        data["service"] = service
    return yaml.safe_dump(data, sort_keys=False)


def check(amtool: Path, config: Path) -> None:
    proc = tools.run(amtool, "check-config", config)
    assert proc.returncode == 0 and "SUCCESS" in proc.stdout, proc.stdout + proc.stderr


def reached(amtool: Path, config: Path, labels: dict[str, str], want: list[str]) -> None:
    """Assert that amtool sends an alert with ``labels`` to exactly ``want``, in order."""
    proc = routes_test(amtool, config, labels, want)
    assert proc.returncode == 0, (labels, want, proc.stdout, proc.stderr)
    assert proc.stdout.strip() == ",".join(want), (labels, proc.stdout)


def test_every_receiver_kind_and_a_team_route(amtool: Path, tmp_path: Path) -> None:
    """The issue's example: Slack, PagerDuty, Opsgenie, e-mail, webhook and Telegram in one
    spec, with a ``team: payments`` route; the legacy Samokoder spec shares the tree."""
    services = [
        load_text(str(tmp_path / "shop.yaml"), with_routing(CHECKOUT, EVERY_KIND, "shop")),
        load_text(str(SAMOKODER), SAMOKODER.read_text()),
    ]
    shop = to_yaml(route_file(services[0]), "shop.yaml")
    write_tree(tmp_path / "out", {**shared_files(services), "shop/alertmanager/route.yml": shop})
    config = tmp_path / "out" / alertmanager_config.FILE
    check(amtool, config)
    for labels, want in EVERY_KIND_CASES:
        reached(amtool, config, {**labels, "service": "shop"}, [f"shop/{r}" for r in want])
    # The legacy shape keeps its severity routes, and the services never share a receiver.
    team = {"team": "payments", "service": "samokoder"}
    reached(amtool, config, {**team, "severity": "critical"}, ["samokoder/telegram"])
    reached(
        amtool, config, {**team, "severity": "warning"}, ["samokoder/telegram", "samokoder/email"]
    )
    reached(amtool, config, {"service": "nobody", "severity": "critical"}, ["unrouted"])
    # Each service's route.yml is its subtree: one route, its receivers, its inhibitions.
    subtree = load_yaml((tmp_path / "out" / "shop" / "alertmanager" / "route.yml").read_text())
    whole = load_yaml(config.read_text())
    assert subtree["route"] in whole["route"]["routes"]
    assert all(r in whole["receivers"] for r in subtree["receivers"])
    assert all(r in whole["inhibit_rules"] for r in subtree["inhibit_rules"])
    # Secrets stay files: no receiver has a secret field without _file.
    kinds = {k for r in subtree["receivers"] for k in r if k != "name"}
    assert kinds == {f"{k}_configs" for k in ("telegram", "pagerduty", "slack", "opsgenie")} | {
        "webhook_configs",
        "email_configs",
    }
    secrets = {
        "telegram_configs": "bot_token",
        "pagerduty_configs": "routing_key",
        "slack_configs": "api_url",
        "opsgenie_configs": "api_key",
        "webhook_configs": "url",
        "email_configs": "auth_password",
    }
    for receiver in subtree["receivers"]:
        ((kind, (cfg,)),) = ((k, v) for k, v in receiver.items() if k != "name")
        assert secrets[kind] not in cfg, cfg
        if kind != "email_configs":
            assert cfg[f"{secrets[kind]}_file"].startswith(SECRETS), cfg


# ---- the kind: random routing specs --------------------------------------------------------

KINDS = {
    "telegram": lambda n: {"chat_id": 7, "bot_token_file": f"{SECRETS}/{n}"},
    "slack": lambda n: {"api_url_file": f"{SECRETS}/{n}"},
    "pagerduty": lambda n: {"routing_key_file": f"{SECRETS}/{n}"},
    "opsgenie": lambda n: {"api_key_file": f"{SECRETS}/{n}"},
    "email": lambda n: {"to": "a@example.org", "from": "b@example.org", "smarthost": "m:25"},
    "webhook": lambda n: {"url_file": f"{SECRETS}/{n}"},
}
# Label values with quotes, spaces, a backslash and a regex dot, to prove the escaping.
TEAMS = ["payments", "pay-ments", 'web "b"', "a.b", "a-b", "c\\d"]
SEVERITIES = ["critical", "warning"]


@st.composite
def routings(draw) -> tuple[dict, list[tuple]]:
    """Return a random routing section and, for each route, what it means:
    ``(severity or None, team or None, (operator, raw value) or None, receivers)``."""
    names = draw(
        st.lists(st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True), min_size=1, max_size=4)
    )
    names = list(dict.fromkeys(names))
    receivers = {}
    for name in names:
        kind = draw(st.sampled_from(sorted(KINDS)))
        receivers[name] = {kind: KINDS[kind](name)}
    routes, meanings = [], []
    for _ in range(draw(st.integers(0, 4))):
        to = draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
        route: dict = {"receivers": to}
        conditions = draw(st.sets(st.sampled_from(["severity", "labels", "matchers"]), min_size=1))
        severity = team = matcher = None
        if "severity" in conditions:
            severity = route["severity"] = draw(st.sampled_from(SEVERITIES))
        if "labels" in conditions:
            team = draw(st.sampled_from(TEAMS))
            route["labels"] = {"team": team}
        if "matchers" in conditions:
            op = draw(st.sampled_from(["=", "!=", "=~", "!~"]))
            value = "|".join(draw(st.lists(st.sampled_from(TEAMS), min_size=1, max_size=2)))
            if op in ("=", "!="):
                value = value.split("|")[0]
            matcher = (op, value)
            route["matchers"] = [f"team{op}{am_quoted(value)}"]
        routes.append(route)
        meanings.append((severity, team, matcher, to))
    default = draw(st.sampled_from(names))
    return {"receivers": receivers, "default": default, "routes": routes}, meanings


def expected_receivers(meanings: list[tuple], default: str, labels: dict[str, str]) -> list[str]:
    """The spec's routes as documented: the first route whose conditions all hold wins."""
    team = labels.get("team", "")
    for severity, equal, matcher, receivers in meanings:
        if severity is not None and labels["severity"] != severity:
            continue
        if equal is not None and team != equal:
            continue
        if matcher is not None:
            op, value = matcher
            hit = re.fullmatch(value, team) is not None if "~" in op else team == value
            if hit != (op in ("=", "=~")):
                continue
        return receivers
    return [default]


@settings(
    max_examples=examples(deep=10, quick=4), deadline=None, suppress_health_check=list(HealthCheck)
)
@given(drawn=routings())
def test_random_routing_passes_amtool_and_routes_as_the_spec_says(drawn) -> None:
    routing, meanings = drawn
    service = load_text("random.yaml", with_routing(CHECKOUT, routing, "shop"))
    config = alertmanager_config.config([service])
    engines = [e.tool("amtool") for e in tools.CONFIG_ALERTMANAGERS]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / alertmanager_config.FILE
        path.write_bytes(to_yaml(config, "random.yaml"))
        for amtool in engines:
            check(amtool, path)
        for team in [*TEAMS, None]:
            for severity in SEVERITIES:
                labels = {"service": "shop", "severity": severity}
                if team is not None:
                    labels["team"] = team
                want = expected_receivers(meanings, routing["default"], labels)
                for amtool in engines:
                    reached(amtool, path, labels, [f"shop/{r}" for r in want])


def test_the_runbook_spells_out_the_label_routes() -> None:
    """docs/alerts.md lists the routes in order, in words, and who gets the rest."""
    service = load_text("shop.yaml", with_routing(CHECKOUT, EVERY_KIND, "shop"))
    alerts_md = docs.files(service)["alerts.md"]
    table = alerts_md.split("| Alerts with | Go to |\n|---|---|\n")[1].split("\n\n")[0]
    assert table.splitlines() == [
        '| `severity="critical"`, `team="payments"` | PagerDuty (payments-pd), Slack #payments |',
        '| `team="payments"` | Slack #payments |',
        '| `severity="critical"`, `team=~"sre\\|infra"` | Opsgenie (sre-opsgenie) |',
        '| `severity="warning"` | webhook tickets, e-mail to sre@example.org |',
        "| anything else | Telegram chat -100 |",
    ]


# ---- end to end: the labels a firing alert really carries ----------------------------------

# Routes by the per-SLO and per-threshold labels of the checkout fixture (issue 15 section 2):
# its burn alerts carry team=orders, PaymentsSlow team=payments-gateway, the rest the
# service-wide team=payments.
BY_ALERT_LABELS = {
    "receivers": {
        "orders-slack": {"slack": {"api_url_file": f"{SECRETS}/orders", "channel": "#orders"}},
        "gateway-pd": {"pagerduty": {"routing_key_file": f"{SECRETS}/gateway"}},
        "api-hook": {"webhook": {"url_file": f"{SECRETS}/api"}},
        "payments-tg": {"telegram": {"chat_id": -42, "bot_token_file": f"{SECRETS}/tg"}},
    },
    "default": "payments-tg",
    "routes": [
        {"labels": {"team": "orders"}, "receivers": ["orders-slack"]},
        {
            "severity": "warning",
            "matchers": ['team="payments-gateway"'],
            "receivers": ["gateway-pd"],
        },
        {"matchers": ['component=~"orders-api|acquirer"'], "receivers": ["api-hook"]},
    ],
}


def _by_reading(labels: dict[str, str]) -> list[str]:
    """BY_ALERT_LABELS's routes read as documented: the first route whose conditions all hold."""
    if labels.get("team") == "orders":
        return ["orders-slack"]
    if labels["severity"] == "warning" and labels.get("team") == "payments-gateway":
        return ["gateway-pd"]
    if labels.get("component") in ("orders-api", "acquirer"):
        return ["api-hook"]
    return ["payments-tg"]


def test_alerts_route_by_the_labels_they_fire_with(tmp_path: Path) -> None:
    """Every alert the generated promtool tests expect to fire (each suite passes on every
    engine elsewhere: tests/test_alert_switches.py) is routed by amtool with exactly the
    labels it fires with: per-SLO and per-threshold labels reach their team's route."""
    service = load_text("shop.yaml", with_routing(CHECKOUT, BY_ALERT_LABELS, "shop"))
    fired = {
        tuple(sorted(alert["exp_labels"].items()))
        for suite in unittests.suites(service).values()
        for case in suite["tests"]
        for check in case.get("alert_rule_test", [])
        for alert in check["exp_alerts"]
    }
    path = tmp_path / alertmanager_config.FILE
    path.write_bytes(to_yaml(alertmanager_config.config([service]), "shop.yaml"))
    seen = set()
    for amtool in (e.tool("amtool") for e in tools.CONFIG_ALERTMANAGERS):
        check(amtool, path)
        for labels in map(dict, fired):
            want = _by_reading(labels)
            reached(amtool, path, labels, [f"shop/{r}" for r in want])
            seen.update(want)
    # Not vacuous: the fired alerts reach every route and the default.
    assert seen == set(BY_ALERT_LABELS["receivers"]), seen
