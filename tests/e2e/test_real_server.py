"""End to end: the generated rules and dashboard against a real Prometheus holding synthetic
history for each scenario. Run with ``make e2e``."""

from __future__ import annotations

import json
import pathlib
import re

import pytest
import yaml

from generator.promql import parse_duration
from generator.spec.loader import load

from . import expect, prom, synthetic
from .pipeline import Env, held_since, rule_labels_selector, scenario_server

pytestmark = pytest.mark.e2e
SPEC = pathlib.Path(__file__).resolve().parents[2] / "slo_specs" / "samokoder.yaml"
DASHBOARD = "grafana/four-golden-signals.json"
REL_TOL = 1e-6


@pytest.fixture(scope="module", params=synthetic.SCENARIOS)
def env(request) -> Env:
    service = load(str(SPEC))
    with (
        prom.scratch(request.param) as work,
        scenario_server(service, request.param, work, prom.env_flavour()) as e,
    ):
        # Readiness is not evaluation: wait until every group has been evaluated live once
        # (the 5m-interval count group excepted: its history is backfilled).
        server = e.server

        def evaluated():
            groups = server.rule_groups()
            return groups and all(
                g["lastEvaluation"] > "2000" for g in groups if g["interval"] < 300
            )

        server.wait_for("a first evaluation of every rule group", evaluated, timeout=60)
        yield e


def _files(env: Env, suffix: str) -> dict:
    return yaml.safe_load(env.files[f"{env.service.name}/prometheus/{suffix}"])


def test_rules_load_and_evaluate_cleanly(env: Env):
    groups = env.server.rule_groups()
    names = {g["name"] for g in groups}
    wanted = {
        g["name"] for f in ("recording_rules.yml", "alerts.yml") for g in _files(env, f)["groups"]
    }
    assert names == wanted
    bad = [
        (r.get("name"), r.get("lastError"))
        for g in groups
        for r in g["rules"]
        if r["health"] == "err"
    ]
    assert not bad, bad


def test_every_recording_rule_returns_series(env: Env):
    empty = []
    for group in _files(env, "recording_rules.yml")["groups"]:
        window = parse_duration(group.get("interval", "1m")) + 600
        for rule in group["rules"]:
            sel = rule_labels_selector(rule)
            result = env.server.query(f"last_over_time({sel}[{window}s])")["result"]
            if not result:
                empty.append(sel)
    assert not empty, f"recording rules with no series: {empty}"


def _period_check(env: Env, record: str, expected_of):
    """Compare the live-evaluated value of ``record`` per SLO with the Python value."""
    server = env.server
    failures, checked = [], 0
    for slo in env.service.slos:
        sel = f'{record}{{service="{env.service.name}", slo="{slo.name}"}}'
        # Raw samples with their own timestamps: only evaluations by the live server, made
        # before the first live count (whose window reaches past the history's end).
        samples = server.query(f"{sel}[10m]")["result"]
        assert samples, f"{sel} has no samples"
        first_live_count = min(
            (
                float(t)
                for s in server.query(f'slo:sli_events:increase5m{{slo="{slo.name}"}}[10m]')[
                    "result"
                ]
                for t, _ in s["values"]
                if float(t) > env.counts_end
            ),
            default=float("inf"),
        )
        live = [
            (float(t), float(v))
            for t, v in samples[0]["values"]
            if server.started <= float(t) < first_live_count
        ]
        assert live, f"{sel}: no live evaluation before the first live count"
        t, got = live[-1]
        want = expected_of(slo, t)
        checked += 1
        if abs(got - want) > REL_TOL * max(abs(want), 1e-12):
            failures.append(f"{slo.name} at {t}: server {got!r}, exact {want!r}")
    assert checked and not failures, failures


def _exact_ratio(env: Env, slo, t: float) -> float:
    """Bad / all events over the count slices the period rule sums at ``t``: every count
    sample in [t - period, t] (both ends, as Prometheus 2 selects) covers its own 5m."""
    slices = [c for c in env.count_times() if t - slo.period <= c <= t]
    bad = total = 0.0
    for c in slices:
        b, a = synthetic.sli_counts(env.history, slo.sli, c - synthetic.SLICE, c)
        bad, total = bad + b, total + a
    return bad / total if total else 0.0


def test_period_error_ratio_is_exact(env: Env):
    record = f"slo:sli_error:ratio_rate{_fmt(env.service.period)}"
    _period_check(env, record, lambda slo, t: _exact_ratio(env, slo, t))


def test_budget_remaining_is_exact(env: Env):
    _period_check(
        env,
        "slo:error_budget_remaining:ratio",
        lambda slo, t: 1 - _exact_ratio(env, slo, t) / slo.error_budget,
    )


def _fmt(seconds: int) -> str:
    from generator.promql import format_duration

    return format_duration(seconds)


def test_traffic_weighting_matters(env: Env):
    """The exact checks only prove weighting when the mean of ratios would differ."""
    if env.history.scenario != "budget-exhausted":
        pytest.skip("only the month-long scenario varies the error ratio with traffic")
    slo = env.service.slos[0]
    weighted = _exact_ratio(env, slo, env.counts_end)
    ratios = []
    for c in env.count_times()[-slo.period // synthetic.SLICE :]:
        b, a = synthetic.sli_counts(env.history, slo.sli, c - synthetic.SLICE, c)
        ratios.append(b / a)
    assert abs(sum(ratios) / len(ratios) - weighted) > 0.1 * weighted


def _server_states(env: Env) -> dict[expect.AlertKey, str]:
    """Per alert: firing, or pending, as the server reports it; a pending alert whose
    condition has held in the server's history for its whole ``for`` counts as firing."""
    rules = {
        expect.alert_key({**r["labels"], "alertname": r["alert"]}): r
        for g in _files(env, "alerts.yml")["groups"]
        for r in g["rules"]
    }
    states: dict[expect.AlertKey, str] = {}
    now = env.server.started
    for alert in env.server.alerts():
        key = expect.alert_key(alert["labels"])
        state = alert["state"]
        if state == "pending":
            rule = rules[key]
            hold = 0 if rule.get("for", "0s") == "0s" else parse_duration(rule["for"])
            since = held_since(env.server, rule["expr"], hold, now)
            if since and now - max(since.values()) >= hold:
                state = "firing"
        if states.get(key) != "firing":
            states[key] = state
    return states


def test_expected_alerts_fire_and_no_others(env: Env):
    want = expect.expected_states(env.service, env.history)
    got = _server_states(env)
    wrong = []
    for key in sorted(set(want) | set(got)):
        state = got.get(key, "inactive")
        allowed = want.get(key, {"inactive"})
        if state not in allowed:
            wrong.append(f"{key}: server {state}, expected {sorted(allowed)}")
    assert not wrong, "\n".join(wrong)
    if env.history.scenario == "healthy":
        assert not got, f"alerts active in the healthy scenario: {got}"
    else:
        assert any(s == {"firing"} for s in want.values()), "the fault scenario fires nothing"


_RANGE = re.compile(r"^now-(\d+[smhdw])$")


def _grafana_expr(expr: str, range_s: int, step: int, scrape: int) -> str:
    """Substitute Grafana's built-in variables as Grafana does for a Prometheus source."""
    rate_interval = max(step + scrape, 4 * scrape)
    for name, value in (
        ("__rate_interval", f"{rate_interval}s"),
        ("__interval_ms", str(step * 1000)),
        ("__interval", f"{step}s"),
        ("__range_s", str(range_s)),
        ("__range_ms", str(range_s * 1000)),
        ("__range", f"{range_s}s"),
    ):
        expr = expr.replace("${" + name + "}", value).replace("$" + name, value)
    return expr


def _targets(panels: list[dict]):
    for panel in panels:
        yield from ((panel.get("title", ""), t) for t in panel.get("targets", []) if t.get("expr"))
        yield from _targets(panel.get("panels", []))


def test_every_dashboard_panel_shows_data(env: Env):
    key = f"{env.service.name}/{DASHBOARD}"
    assert key in env.files, f"the generator wrote no {DASHBOARD} for {env.service.name}"
    board = json.loads(env.files[key])
    match = _RANGE.match(board.get("time", {}).get("from", "now-6h"))
    assert match, board.get("time")
    range_s = parse_duration(match.group(1))
    step = max(env.service.scrape_interval, range_s // 1000)
    variables = {
        v["name"]: (v.get("current") or {}).get("value") or ".*"
        for v in board.get("templating", {}).get("list", [])
        if v.get("type") != "datasource"
    }
    empty, count = [], 0
    end = env.server.started
    for title, target in _targets(board.get("panels", [])):
        expr = _grafana_expr(target["expr"], range_s, step, env.service.scrape_interval)
        for name, value in variables.items():
            value = ".*" if value in ("$__all", ["$__all"]) else value
            expr = expr.replace("${" + name + "}", str(value)).replace("$" + name, str(value))
        count += 1
        if not env.server.query_range(expr, end - range_s, end, step):
            empty.append(f"{title}: {expr}")
    assert count, "the dashboard has no panel queries"
    assert not empty, "panels without data:\n" + "\n".join(empty)
