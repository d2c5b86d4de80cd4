"""End to end: the generated rules and dashboard against a real engine (``E2E_ENGINE``:
Prometheus 3.5, 2.53, 2.42 or VictoriaMetrics) holding synthetic history for each scenario.
Run with ``make e2e``; every engine answers through :class:`tests.e2e.prom.Server`."""

from __future__ import annotations

import json
import os
import pathlib
import re

import pytest
from yaml_io import load_yaml

from generator.prometheus.rule_files import ALERT_FILES, FILES, RECORDING_FILES
from generator.promql import format_duration, parse_duration
from generator.spec.loader import load

from . import expect, prom, synthetic
from .pipeline import Env, held_since, rule_labels_selector, scenario_server

pytestmark = pytest.mark.e2e
SPEC = pathlib.Path(__file__).resolve().parents[2] / "slo_specs" / "samokoder.yaml"
DASHBOARD = "grafana/four-golden-signals.json"
# How far a period figure may sit from the exact traffic-weighted value, relative to the
# ratio (or to the budget consumed), per engine family. Derivation (the history has 60 s
# scrapes at random phases, a 4-hour fault, a 7-minute scrape gap on one of two targets,
# one counter reset and one target born halfway; README "End-to-end" has the measurements):
#
# * VictoriaMetrics: increase() does not extrapolate and starts from the last sample before
#   its window, so the 5m slices telescope to the counters' growth up to the last scrape
#   before the last slice's end. Lost: at most one scrape interval (+ jitter) of the final
#   rates, 61 s of a 4-hour fault's bad events = 0.42 % of the ratio. Bound: 0.5 %.
# * Prometheus (2.x, 3.x): each slice is extrapolated from its own samples, exact on a
#   steady rate. A rate change inside a slice (fault onset) is misjudged by up to one scrape
#   interval of the change: 0.42 % again; events during the scrape gap are lost: 7 min + one
#   interval of half the traffic in a day, up to 0.45 % with day/night weights; the reset and
#   the birth lose a fraction of a scrape each. Worst case about 0.9 %. Bound: 1 %.
#
# A mean of 5m ratios misses by about 30 % in budget-exhausted (a test asserts it misses by
# more than 10 bounds), so no unweighted period can pass.
REL_TOL = {"prometheus": 0.01, "victoriametrics": 0.005}


@pytest.fixture(scope="module", params=synthetic.SCENARIOS)
def env(request) -> Env:
    service = load(str(SPEC))
    engine = prom.env_engine()
    with (
        prom.scratch(request.param) as work,
        scenario_server(service, request.param, work, engine) as e,
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
        _report(e)


def _report(env: Env) -> None:
    """Append the setup timings and measured errors to ``$E2E_REPORT`` (JSON lines)."""
    path = os.environ.get("E2E_REPORT")
    if path:
        with open(path, "a") as f:
            row = {
                "engine": env.engine.name,
                "scenario": env.history.scenario,
                "timings": env.timings,
                **env.notes,
            }
            f.write(json.dumps(row) + "\n")


def _groups(env: Env, names: tuple[str, ...] = FILES) -> list[dict]:
    """The groups of the plain rule files ``names`` the service has, in evaluation order."""
    paths = [f"{env.service.name}/prometheus/{name}" for name in names]
    return [g for p in paths if p in env.files for g in load_yaml(env.files[p])["groups"]]


def test_rules_load_and_evaluate_cleanly(env: Env):
    groups = env.server.rule_groups()
    names = {g["name"] for g in groups}
    wanted = {g["name"] for g in _groups(env)}
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
    for group in _groups(env, RECORDING_FILES):
        window = parse_duration(group.get("interval", "1m")) + 600
        for rule in group["rules"]:
            sel = rule_labels_selector(rule)
            result = env.server.query(f"last_over_time({sel}[{window}s])")["result"]
            if not result:
                empty.append(sel)
    assert not empty, f"recording rules with no series: {empty}"


def _exact(env: Env, slo, slices: list[float]) -> tuple[float, float]:
    """Return the exact (bad, all) events over the count slices ``(c - 5m, c]`` the period
    sums, from the synthetic counts (clipped to the history: nothing happened outside)."""
    bad = total = 0.0
    for c in slices:
        b, a = synthetic.sli_counts(env.history, slo.sli, c - synthetic.SLICE, c)
        bad, total = bad + b, total + a
    return bad, total


def _period_samples(
    env: Env, record: str, slo, via: str | None = None
) -> tuple[float, float, list[float]]:
    """Return ``(t, value, slices)``: a live evaluation of ``record`` for ``slo`` and the
    count slices it summed (through ``via``, the period record it reads, when given).

    The engine evaluates the count group live too; a live count whose window reaches past
    the history's end is partly empty. The newest live evaluation made before the first
    such count sums only slices inside the history. If the count group happened to be
    evaluated first (Prometheus: its phase fell in the first seconds after start), the
    first evaluation a few seconds after that count is taken with it included.
    """
    server = env.server
    sel = f'{record}{{service="{env.service.name}", slo="{slo.name}"}}'

    def live():
        result = server.query(f"{sel}[10m]")["result"]
        return [
            (float(t), float(v))
            for s in result
            for t, v in s["values"]
            if float(t) >= server.started - 1
        ]

    def pick():
        samples = live()  # before the counts: a count a sample saw is in the counts read next
        counts = env.count_times(slo.name)
        past_end = [c for c in counts if c > env.history.end]
        first_past = min(past_end, default=float("inf"))
        if env.engine.family == "victoriametrics":
            # vmalert stamps live counts on the 5m grid the replay used, and one may be
            # written after this query: stay before the grid point that follows the history.
            last = max(c for c in counts if c <= env.history.end)
            first_past = min(first_past, last + synthetic.SLICE)
        before = [(t, v) for t, v in samples if t < first_past]
        after = [(t, v) for t, v in samples if t >= first_past + 2]
        chosen = before[-1] if before else (after[0] if after else None)
        return chosen and (*chosen, counts)

    t, got, counts = server.wait_for(f"a live evaluation of {sel}", pick, timeout=90)
    read_at = t
    if via:
        # ``record`` reads ``via`` recorded by another group: at t it saw via's newest
        # sample, evaluated at some t' <= t, which summed the slices up to t' only. A count
        # stamped between t' and t is in no sum yet (the one-level lag of every engine).
        sel_via = f'{via}{{service="{env.service.name}", slo="{slo.name}"}}'
        result = server.query(f"{sel_via}[10m]", at=t)["result"]
        read_at = max(float(ts) for r in result for ts, _ in r["values"] if float(ts) <= t)
    period = env.service.period
    slices = [c for c in counts if read_at - period < c <= read_at]
    return t, got, slices


def _period_check(
    env: Env, what: str, record: str, value_of, scale_of, via: str | None = None
) -> None:
    """Compare the live value of ``record`` per SLO with ``value_of(slo, bad, all)``,
    relative to ``scale_of(slo, bad, all)``."""
    failures, errors = [], {}
    for slo in env.service.slos:
        t, got, slices = _period_samples(env, record, slo, via)
        assert slices, f"{slo.name}: no count slices before {t}"
        bad, total = _exact(env, slo, slices)
        want = value_of(slo, bad, total)
        err = abs(got - want) / max(abs(scale_of(slo, bad, total)), 1e-12)
        errors[slo.name] = err
        if err > REL_TOL[env.engine.family]:
            failures.append(f"{slo.name} at {t}: server {got!r}, exact {want!r}, error {err:.2e}")
    env.notes[what] = errors
    assert not failures, failures


def _ratio(slo, bad: float, total: float) -> float:
    return bad / total if total else 0.0


def _period_record(env: Env) -> str:
    return f"slo:sli_error:ratio_rate{format_duration(env.service.period)}"


def test_period_error_ratio_matches_the_exact_ratio(env: Env):
    _period_check(env, "period_error", _period_record(env), _ratio, _ratio)


def test_budget_remaining_matches_the_exact_budget(env: Env):
    """Remaining = 1 - consumed: its error is the consumed budget's, so it is bounded
    relative to the budget consumed (a remaining near 0 would magnify a relative error)."""

    def consumed(slo, bad, total):
        return _ratio(slo, bad, total) / slo.error_budget

    _period_check(
        env,
        "budget_error",
        "slo:error_budget_remaining:ratio",
        lambda slo, bad, total: 1 - consumed(slo, bad, total),
        consumed,
        via=_period_record(env),
    )


@pytest.mark.scenarios("budget-exhausted")  # the one scenario whose error ratio varies
def test_an_unweighted_period_would_fail_the_bound(env: Env):
    """The bound is tight enough to tell a traffic-weighted period from the mean of its 5m
    ratios (Sloth's shape): on the same slices the mean misses by far more than REL_TOL."""
    slo = env.service.slos[0]
    _, _, slices = _period_samples(
        env, f"slo:sli_error:ratio_rate{format_duration(env.service.period)}", slo
    )
    weighted = _ratio(slo, *_exact(env, slo, slices))
    ratios = []
    for c in slices:
        b, a = synthetic.sli_counts(env.history, slo.sli, c - synthetic.SLICE, c)
        if a:
            ratios.append(b / a)
    mean = sum(ratios) / len(ratios)
    env.notes["unweighted_error"] = abs(mean - weighted) / weighted
    assert abs(mean - weighted) > 10 * REL_TOL[env.engine.family] * weighted, (mean, weighted)


def _server_states(env: Env) -> dict[expect.AlertKey, str]:
    """Per alert: firing, or pending, as the server reports it; a pending alert whose
    condition has held in the server's history for its whole ``for`` counts as firing."""
    rules = {
        expect.alert_key({**r["labels"], "alertname": r["alert"]}): r
        for g in _groups(env, ALERT_FILES)
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
