"""`python -m generator import sloth|openslo FILE`: Sloth and OpenSLO specs become this
project's spec (issue 15, section 6).

The fixtures in tests/fixtures/import/ are written for this project in the shapes of Sloth's
example specs (github.com/slok/sloth, examples/) and the OpenSLO v1 README; none is copied.
Every good fixture imports and validates (the real CLI); the imported objectives, labels,
switches, burn-rate windows and factors are the ones Sloth's documentation states; the error
ratio this project records equals Sloth's (error_query / total_query) on every engine; every
bad fixture is refused with its exact message and exit 2; and a Hypothesis property imports
random Sloth specs and finds them in the Model unchanged.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from cli_support import ROOT, routes_test
from click.testing import CliRunner
from depth import examples
from generated_rules import alert_rules
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yaml_io import load_yaml

from generator import alertmanager_config, tools
from generator.cli import main
from generator.importers import openslo, sloth
from generator.importers.writer import to_yaml
from generator.output import write_tree
from generator.plan import service_files, shared_files
from generator.prometheus.rule_files import RECORDING_FILES
from generator.promql import parse_duration
from generator.spec.errors import SpecInvalid
from generator.spec.loader import load_text
from generator.spec.model import BURN_ALERT, Service, SeverityAlert

FIXTURES = ROOT / "tests" / "fixtures" / "import"
GOOD = sorted(FIXTURES.glob("*.yml"))
BAD = sorted((FIXTURES / "bad").glob("*.yml"))
ENGINES = [pytest.param(e, id=e.name) for e in tools.RULE_ENGINES]

# Sloth's default alert windows for a 30-day SLO period, as Sloth documents them:
# https://github.com/slok/sloth/blob/main/internal/alert/windows/google-30d.yaml ("Common and
# safe month windows", from https://sre.google/workbook/alerting-on-slos/, table 5-8): page
# quick 2 % of the budget over 1h with a 5m short window, page slow 5 % over 6h / 30m, ticket
# quick 10 % over 1d / 2h, ticket slow 10 % over 3d / 6h; burn-rate factors (budget % x 30d /
# long window, the Workbook's formula) 14.4, 6, 3 and 1, the factor Sloth's own alert tests
# expect for the page quick pair (internal/alert/alert_test.go). Page is this project's
# critical, ticket its warning. (severity, long, short, budget %, factor)
SLOTH_30D = {
    ("critical", "1h", "5m", 2, 14.4),
    ("critical", "6h", "30m", 5, 6),
    ("warning", "1d", "2h", 10, 3),
    ("warning", "3d", "6h", 10, 1),
}


def _import(kind: str, path: Path, out: Path) -> list[Path]:
    """Run `import KIND PATH -o OUT/` (the CLI, in process); return the specs written."""
    out.mkdir(parents=True, exist_ok=True)
    result = CliRunner().invoke(main, ["import", kind, str(path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return sorted(out.glob("*.yaml"))


def _kind(path: Path) -> str:
    return path.name.split("-", 1)[0]


def _load(path: Path) -> Service:
    return load_text(path.name, path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    """Every good fixture, imported: fixture name -> the spec files written."""
    root = tmp_path_factory.mktemp("imported")
    return {p.name: _import(_kind(p), p, root / p.stem) for p in GOOD}


# -- instances: every fixture imports, validates and generates ----------------------------


def test_every_fixture_imports_to_specs_that_validate(imported: dict[str, list[Path]]) -> None:
    """The real `validate` (which plans every artifact, generated tests included) accepts
    every imported spec at once: one spec per service, names unique across fixtures."""
    specs = [p for paths in imported.values() for p in paths]
    assert len(specs) == len(GOOD) + 1  # sloth-multi.yml holds two services
    args = [a for p in specs for a in ("--spec", str(p))]
    proc = subprocess.run(
        [sys.executable, "-m", "generator", "validate", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count(": ok (") == len(specs)


def test_stdout_is_the_same_spec_and_deterministic(imported: dict[str, list[Path]]) -> None:
    """Without -o the spec goes to stdout, byte for byte what -o writes (two services: two
    YAML documents), and twice the same."""
    runs = [
        CliRunner().invoke(main, ["import", "sloth", str(FIXTURES / "sloth-multi.yml")])
        for _ in range(2)
    ]
    assert runs[0].exit_code == 0 and runs[0].stdout == runs[1].stdout
    written = [p.read_text(encoding="utf-8") for p in imported["sloth-multi.yml"]]
    assert sorted(runs[0].stdout.split("---\n")) == sorted(written)


def test_sloth_burn_rates_are_sloths_documented_windows(imported: dict[str, list[Path]]) -> None:
    """Every imported Sloth spec alerts on Sloth's default 30-day windows and factors."""
    for name, paths in imported.items():
        if _kind(FIXTURES / name) != "sloth":
            continue
        for path in paths:
            service = _load(path)
            assert service.period == parse_duration("30d"), path
            got = {
                (b.severity, b.long, b.short, b.budget_consumed, b.factor(service.period))
                for b in service.burn_rates
            }
            want = {
                (s, parse_duration(lw), parse_duration(sw), budget, factor)
                for s, lw, sw, budget, factor in SLOTH_30D
            }
            assert got == want, path


def test_sloth_alerting_maps_to_labels_annotations_and_switches(
    imported: dict[str, list[Path]],
) -> None:
    (mailer,) = imported["sloth-alerting.yml"]
    service = _load(mailer)
    assert dict(service.labels) == {"team": "comms"}
    delivery, queue, silent = service.slos
    # SLO labels, then alerting.labels, then the labels both alerts share.
    assert dict(delivery.labels) == {
        "channel": "email",
        "category": "delivery",
        "routing_key": "comms",
    }
    assert dict(delivery.annotations) == {"playbook": "https://wiki.example.org/mailer"}
    assert (delivery.page, delivery.ticket, delivery.burn_alert) == (True, True, "MailerBounces")
    # The page alert is off: the ticket alert's own label stays on the ticket alone (not on
    # the SLO's budget alerts, which Sloth does not have).
    assert (queue.page, queue.ticket) == (False, True)
    assert dict(queue.labels) == {}
    assert dict(queue.ticket_alert.labels) == {"slack_channel": "#comms-alerts"}
    assert [b.severity for b in service.slo_burn_rates(queue)] == ["warning", "warning"]
    assert (silent.page, silent.ticket, silent.burn_alert) == (False, False, BURN_ALERT)
    assert service.slo_burn_rates(silent) == ()
    (payments,) = imported["sloth-events.yml"]
    charge, refund = _load(payments).slos
    assert charge.objective == 99.95 and refund.objective == 99
    assert charge.runbook_url == "https://runbooks.example.org/payments#charges"
    assert dict(charge.annotations) == {"chat": "#payments-oncall"}


# Sloth's getting-started shape: page and ticket alerts with labels and severities of their own.
GETTING_STARTED = FIXTURES / "sloth-getting-started.yml"
# Where a team routes them once imported: by the page's own label, by the ticket's own kept
# Sloth severity (a route on `severity="chat"` with its label renamed), else to e-mail.
_SECRETS = "/etc/alertmanager/secrets"
_ROUTING = {
    "receivers": {
        "pager": {"pagerduty": {"routing_key_file": f"{_SECRETS}/pd"}},
        "chat": {"slack": {"api_url_file": f"{_SECRETS}/slack", "channel": "#storefront-alerts"}},
        "mail": {
            "email": {"to": "sre@example.org", "from": "am@example.org", "smarthost": "mx:25"}
        },
    },
    "default": "mail",
    "routes": [
        {"labels": {"routing_key": "storefront-pager"}, "receivers": ["pager"]},
        {"labels": {"sloth_severity": "chat"}, "receivers": ["chat"]},
    ],
}


def _getting_started(imported: dict[str, list[Path]]) -> Service:
    (path,) = imported[GETTING_STARTED.name]
    data = load_yaml(path.read_text(encoding="utf-8"))
    data |= {"routing": _ROUTING, "runbook_base_url": "https://runbooks.example.org/bookshop"}
    return load_text(path.name, yaml.safe_dump(data, sort_keys=False))


def _burn_expectations(folder: Path) -> list[dict]:
    """Every alert the generated slo_alerts_test.yml expects (its labels proven by the
    engines), with its alertname."""
    suite = load_yaml((folder / "prometheus/tests/slo_alerts_test.yml").read_text())
    return [
        {"alertname": check["alertname"], **{k: str(v) for k, v in e["exp_labels"].items()}}
        | {"annotations": e["exp_annotations"]}
        for case in suite["tests"]
        for check in case["alert_rule_test"]
        for e in check["exp_alerts"]
    ]


def test_sloth_page_and_ticket_labels_go_on_their_own_burn_rate_alerts_only(
    imported: dict[str, list[Path]], tmp_path: Path
) -> None:
    """The imported getting-started spec: the page's labels (its Sloth severity kept as
    sloth_severity) and annotation are on the critical burn-rate alerts only, the ticket's on
    the warning ones only, the budget alerts carry neither, and the generated tests expect
    each on the alerts of its severity. The dropped severities are noted at their line."""
    result = CliRunner().invoke(main, ["import", "sloth", str(GETTING_STARTED.relative_to(ROOT))])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines() if ": note: " in line]
    rel = GETTING_STARTED.relative_to(ROOT)
    assert [n.split(": ", 2)[:2] for n in notes] == [
        [f"{rel}:24:9", "slos[0].alerting.annotations.summary"],
        [f"{rel}:28:11", "slos[0].alerting.page_alert.labels.severity"],
        [f"{rel}:34:11", "slos[0].alerting.ticket_alert.labels.severity"],
    ]
    assert "'oncall' becomes 'critical'" in notes[1] and "sloth_severity" in notes[1]
    service = _getting_started(imported)
    write_tree(tmp_path, service_files(service))
    rules = [
        r
        for r in alert_rules(tmp_path / "bookshop/prometheus")
        if r["labels"].get("slo") == "checkout-availability"
    ]
    page = {"routing_key": "storefront-pager", "sloth_severity": "oncall"}
    ticket = {"slack_channel": "#storefront-alerts", "sloth_severity": "chat"}
    shared = {"owner": "storefront", "tier": "1", "category": "availability"}
    escalation = "Call the storefront lead after 15 minutes"
    by_kind: dict[tuple[str, str], list[dict]] = {}
    for rule in rules:
        kind = "burn" if rule["alert"] == "BookshopCheckoutErrors" else "budget"
        by_kind.setdefault((kind, rule["labels"]["severity"]), []).append(rule)
    assert sorted(by_kind) == [
        ("budget", "critical"),
        ("budget", "warning"),
        ("burn", "critical"),
        ("burn", "warning"),
    ]
    for (kind, severity), group in by_kind.items():
        own = page if (kind, severity) == ("burn", "critical") else {}
        own = ticket if (kind, severity) == ("burn", "warning") else own
        for rule in group:
            extra = set(rule["labels"]) - {"severity", "service", "slo", "slo_type", "long"}
            assert extra - {"short"} == set(shared) | set(own), rule
            assert rule["labels"].items() >= (shared | own).items()
            assert (rule["annotations"].get("escalation") == escalation) == (own is page)
            assert rule["annotations"]["dashboard_hint"] == "Checkout overview, top row"
    # The runbook tells on-call which labels each severity carries of its own.
    runbook = (tmp_path / "bookshop/docs/alerts.md").read_text(encoding="utf-8")
    section = runbook.split("\n## BookshopCheckoutErrors", 1)[1].split("\n## ", 1)[0]
    assert "On its critical alerts only: `routing_key=storefront-pager`" in section
    assert "On its warning alerts only: `slack_channel=#storefront-alerts`" in section
    fired = _burn_expectations(tmp_path / "bookshop")
    for severity, own in (("critical", page), ("warning", ticket)):
        mine = [e for e in fired if e["alertname"] == "BookshopCheckoutErrors"]
        mine = [e for e in mine if e["severity"] == severity]
        assert mine and all(e.items() >= own.items() for e in mine)
        other = ticket if own is page else page
        assert not any(
            e.get(k) == v for e in mine for k, v in other.items() if k != "sloth_severity"
        )


@pytest.mark.parametrize("engine", ENGINES)
def test_the_imported_getting_started_spec_passes_its_burn_rate_suite_on_every_engine(
    engine: tools.Engine, imported: dict[str, list[Path]], tmp_path: Path
) -> None:
    """Its generated slo_alerts_test.yml (pages with the page's labels and annotation,
    tickets with the ticket's) passes on the engine: the rules raise exactly those alerts."""
    write_tree(tmp_path, service_files(_getting_started(imported)))
    tests = tmp_path / "bookshop/prometheus/tests"
    files = [f for f in tools.unit_test_files(engine, tests) if f.name == "slo_alerts_test.yml"]
    assert len(files) == 1
    proc = tools.run_unit_tests(engine, files)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("alertmanager", tools.CONFIG_ALERTMANAGERS, ids=lambda e: e.name)
def test_imported_pages_and_tickets_route_by_their_own_labels(
    alertmanager: tools.Engine, imported: dict[str, list[Path]], tmp_path: Path
) -> None:
    """amtool routes each alert the generated tests expect, with the labels the engines
    proved: a page by its own routing_key to the pager, a ticket by its kept Sloth severity to
    chat, a budget alert (neither label) to the default."""
    service = _getting_started(imported)
    write_tree(tmp_path, {**service_files(service), **shared_files([service])})
    config = tmp_path / alertmanager_config.FILE
    amtool = alertmanager.tool("amtool")
    fired = _burn_expectations(tmp_path / "bookshop")
    receivers = {
        ("BookshopCheckoutErrors", "critical"): "pager",
        ("BookshopCheckoutErrors", "warning"): "chat",
        ("ErrorBudgetCritical", "critical"): "mail",
        ("ErrorBudgetLow", "warning"): "mail",
    }
    seen = set()
    for alert in fired:
        labels = {k: v for k, v in alert.items() if k != "annotations"}
        which = (labels["alertname"], labels["severity"])
        if which in seen:
            continue
        seen.add(which)
        want = [f"bookshop/{receivers[which]}"]
        proc = routes_test(amtool, config, labels, want)
        assert proc.returncode == 0, (labels, want, proc.stdout, proc.stderr)
        assert proc.stdout.strip() == want[0], (labels, proc.stdout)
    assert seen == set(receivers)


def test_sloth_slis_map_to_series_or_raw_queries(imported: dict[str, list[Path]]) -> None:
    """A summed rate of one counter becomes bad/total series; other shapes stay raw PromQL
    with {{ window }}; a raw error ratio becomes ratio_query."""

    def slis(name: str) -> list[dict]:
        return [
            slo["sli"]
            for p in imported[name]
            for slo in load_yaml(p.read_text(encoding="utf-8"))["slos"]
        ]

    charge, refund = slis("sloth-events.yml")
    assert charge == {
        "bad": {"metric": "payments_charges", "match": 'code=~"5.."'},
        "total": {"metric": "payments_charges"},
    }
    assert refund == {
        "bad": {"metric": "payments_refund_failures"},
        "total": {"metric": "payments_refunds"},
    }
    latency, index = slis("sloth-raw-events.yml")
    assert (
        set(latency) == {"error_query", "total_query"} and "{{ window }}" in latency["error_query"]
    )
    assert index["error_query"].endswith("[{{ window }}])) or vector(0)")
    (wifi,) = slis("sloth-raw-ratio.yml")
    assert set(wifi) == {"ratio_query"} and "{{.window}}" not in wifi["ratio_query"]
    proxy, tls = slis("sloth-crd.yml")
    assert proxy["bad"]["match"] == 'code=~"5..|429"'
    tls_query = 'avg_over_time(gateway_tls_handshake_error_ratio{job="gateway"}[{{ window }}])'
    assert tls == {"ratio_query": tls_query}


def test_openslo_objectives_windows_and_burn_rates(imported: dict[str, list[Path]]) -> None:
    """OpenSLO's target (0..1) is a percentage here; a rolling 4w window is the period; each
    AlertCondition's burn rate and lookback window are a burn_rates row's factor and long
    window (OpenSLO README, AlertCondition); SLOs without alert policies page nobody."""
    (catalog,) = imported["openslo-good-total.yml"]
    service = _load(catalog)
    assert service.period == parse_duration("4w")
    (slo,) = service.slos
    assert slo.objective == 99.5 and slo.sli.good is not None
    rows = {(b.severity, b.long, b.short, b.factor(service.period)) for b in service.burn_rates}
    assert rows == {("critical", 3600, 300, 13.44), ("warning", 3 * 86400, 6 * 3600, 1)}
    (storage,) = imported["openslo-bad-total.yml"]
    service = _load(storage)
    assert [(s.name, s.objective, s.page, s.ticket) for s in service.slos] == [
        ("upload-1", 99.9, False, False),
        ("upload-2", 99, False, False),
    ]
    (renderer,) = imported["openslo-threshold.yml"]
    (slo,) = _load(renderer).slos
    assert slo.sli.kind == "latency" and slo.sli.threshold == 0.25 and slo.objective == 99
    assert slo.sli.total.metric.type == "histogram"


def test_the_readme_example_is_what_import_writes(tmp_path: Path) -> None:
    """The README's Sloth example, imported, is the spec the README shows, and it validates."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Importing from Sloth or OpenSLO", 1)[1]
    sloth_spec, shown = re.findall(r"```yaml\n(.*?)```", section, re.DOTALL)[:2]
    (tmp_path / "sloth.yml").write_text(sloth_spec, encoding="utf-8")
    (spec,) = _import("sloth", tmp_path / "sloth.yml", tmp_path / "out")
    written = spec.read_text(encoding="utf-8")
    assert written.split("\n", 3)[3] == shown
    assert _load(spec).slos[0].burn_alert == "OrdersHighErrorRate"


# -- the error ratio equals Sloth's, on every engine -----------------------------------------

# Constant traffic with known shares of errors, and a series of another job both ignore.
_INPUT = {
    'payments_charges_total{job="payments-api", code="500"}': "0+3x150",
    'payments_charges_total{job="payments-api", code="200"}': "0+57x150",
    'payments_charges_total{job="payments-batch", code="500"}': "0+500x150",
    'payments_refund_failures_total{job="payments-worker"}': "0+1x150",
    'payments_refunds_total{job="payments-worker"}': "0+40x150",
}
_SHARE = {"charge-availability": 3 / 60, "refund-success": 1 / 40}


def _sloth_ratio_suite(source: Path, dialect: str) -> dict:
    """A unit-test suite over the imported spec's recording rules: for each SLO and window,
    this project's recorded error ratio equals Sloth's SLI error ratio, ``(error_query) /
    (total_query)`` with the window filled in (Sloth's sli_rules/v1 plugin,
    https://github.com/slok/sloth/blob/main/internal/plugin/slo/core/sli_rules_v1/plugin.go),
    and the input's share. Sloth's default "optimized" long windows average the 5m ratios
    instead; under the constant traffic used here both agree, and this project deliberately
    weights by traffic (README, "Traffic-weighted period")."""
    checks = []
    doc = load_yaml(source.read_text(encoding="utf-8"))
    for slo in doc["slos"]:
        events = slo["sli"]["events"]
        for window in ("5m", "30m", "1h", "2h"):
            error, total = (
                re.sub(r"\{\{\s*\.window\s*\}\}", window, events[k])
                for k in ("error_query", "total_query")
            )
            ours = f'sum(slo:sli_error:ratio_rate{window}{{slo="{slo["name"]}"}})'
            for other in (f"sum(({error}) / ({total}))", repr(_SHARE[slo["name"]])):
                checks.append(
                    {
                        "expr": f"count(abs({ours} - {other}) < 1e-9)",
                        "eval_time": "150m",
                        "exp_samples": [{"labels": "{}", "value": 1}],
                    }
                )
    key = "metricsql_expr_test" if dialect == "victoriametrics" else "promql_expr_test"
    series = [{"series": s, "values": v} for s, v in _INPUT.items()]
    return {
        "rule_files": list(RECORDING_FILES),
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": series, key: checks}],
    }


@pytest.mark.parametrize("engine", ENGINES)
def test_imported_sloth_specs_equal_sloths_error_ratio_on_every_engine(
    engine: tools.Engine, imported: dict[str, list[Path]], tmp_path: Path
) -> None:
    """On each engine: the error ratios recorded for sloth-events.yml equal Sloth's queries
    over the same series, and the generated burn-rate suites of one small imported spec
    (sloth-multi.yml's shipping: one SLO, ticket alert off) pass: its alerts fire at Sloth's
    windows and factors, with their detection and reset times."""
    (payments,) = imported["sloth-events.yml"]
    shipping = next(p for p in imported["sloth-multi.yml"] if p.stem == "shipping")
    files = []
    for path in (payments, shipping):
        service = _load(path)
        write_tree(tmp_path, service_files(service))
        files.append(tmp_path / service.name / "prometheus")
    ratio = files[0] / "sloth_ratio_test.yml"
    suite = _sloth_ratio_suite(FIXTURES / "sloth-events.yml", engine.family)
    ratio.write_text(yaml.safe_dump(suite, sort_keys=False), encoding="utf-8")
    wanted = ("slo_alerts_test.yml", "burn_rate_times_test.yml")
    burn = [f for f in tools.unit_test_files(engine, files[1] / "tests") if f.name in wanted]
    assert len(burn) == 2
    proc = tools.run_unit_tests(engine, [ratio, *burn])
    assert proc.returncode == 0, proc.stdout + proc.stderr


# -- what does not map: the named field, exit 2, no traceback --------------------------------


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_unmappable_fields_are_refused_by_name(path: Path) -> None:
    result = CliRunner().invoke(main, ["import", _kind(path), str(path.relative_to(ROOT))])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    want = path.with_suffix(".expect").read_text(encoding="utf-8").splitlines()
    rel = path.relative_to(ROOT)
    assert result.stderr.splitlines() == [f"{rel}:{line}" for line in want] + [
        f"{len(want)} problem(s); nothing was written."
    ]


def test_every_bad_fixture_has_its_expectation() -> None:
    assert len(BAD) >= 15
    assert sorted(p.stem for p in (FIXTURES / "bad").glob("*.expect")) == [p.stem for p in BAD]


# -- the kind: random Sloth specs keep their objectives, labels and switches ----------------

_NAME = st.from_regex(r"[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,5})?", fullmatch=True)
_LABEL_NAME = st.sampled_from(["team", "owner", "tier", "component", "env", "routing_key"])
# Label values a reviewer would write, and some that YAML 1.1 and 1.2 read differently.
_VALUE = st.one_of(
    st.text(
        st.characters(
            min_codepoint=32,
            max_codepoint=0x2FF,
            # Spaces other than ' ' (such as U+00A0) are not printable: refused as labels.
            exclude_categories=("Cc", "Cs", "Cf", "Zl", "Zp", "Zs"),
            include_characters=" ",
            exclude_characters="{}",
        ),
        max_size=12,
    ),
    st.sampled_from(["1", "1e3", "010", "on", "no", "0x1f", "#alerts", "a: b", "- x", "~", ""]),
)
_LABELS = st.dictionaries(_LABEL_NAME, _VALUE, max_size=3)
_OBJECTIVE = st.integers(min_value=950_000, max_value=999_999).map(lambda n: n / 10_000)
_MATCHER = st.sampled_from(['code=~"5.."', 'outcome="error"', 'status!="ok"', 'result=~"fail.*"'])


@st.composite
def _sloth_slo(draw: st.DrawFn, name: str, alert: str, crd: bool) -> tuple[dict, dict]:
    """Return a random Sloth SLO and what the Model must hold for it."""
    metric = draw(st.sampled_from(["app_requests_total", "app_jobs_total", "app_calls_total"]))
    job = f'job="{draw(_NAME)}"'
    shape = draw(st.sampled_from(["plain", "raw-events", "raw-ratio"]))
    error = f"sum(rate({metric}{{{job}, {draw(_MATCHER)}}}[{{{{.window}}}}]))"
    total = f"sum(rate({metric}{{{job}}}[{{{{.window}}}}]))"
    if shape == "raw-events":
        error = f"{error} or on() vector(0)"
    keys = (
        ("errorQuery", "totalQuery", "errorRatioQuery")
        if crd
        else ("error_query", "total_query", "error_ratio_query")
    )
    if shape == "raw-ratio":
        sli = {"raw": {keys[2]: f"({error}) / ({total})"}}
    else:
        sli = {"events": {keys[0]: error, keys[1]: total}}
    slo_labels, alert_labels, shared = draw(_LABELS), draw(_LABELS), draw(_LABELS)
    disable = {"page": draw(st.booleans()), "ticket": draw(st.booleans())}
    alerting: dict = {"name": alert, "labels": alert_labels}
    # What each alert carries in Sloth: the SLO's labels, alerting.labels, then its own
    # (shared ones and its only), its severity kept as sloth_severity unless it is ours.
    effective = {}
    owns: dict[str, dict[str, str]] = {}  # each enabled alert's own labels
    for kind, key in (
        ("page", "pageAlert" if crd else "page_alert"),
        ("ticket", "ticketAlert" if crd else "ticket_alert"),
    ):
        own = shared | draw(_LABELS)
        theirs = draw(st.sampled_from([None, sloth.SEVERITY[kind], "pageteam", "slack"]))
        alerting[key] = {"disable": disable[kind], "labels": own}
        if theirs is not None:
            alerting[key]["labels"] = own | {"severity": theirs}
        if draw(st.booleans()):
            alerting[key]["annotations"] = {f"{kind}_note": draw(_VALUE)}
        kept = {} if theirs in (None, sloth.SEVERITY[kind]) else {sloth.SLOTH_SEVERITY: theirs}
        if not disable[kind]:
            owns[kind] = {k: str(v) for k, v in own.items()}
            effective[sloth.SEVERITY[kind]] = (
                {k: str(v) for k, v in (slo_labels | alert_labels | own).items()} | kept,
                # Prometheus shows an empty annotation as none: it is left out.
                {k: v for k, v in alerting[key].get("annotations", {}).items() if v != ""},
            )
    slo = {
        "name": name,
        "objective": draw(_OBJECTIVE),
        "labels": slo_labels,
        "sli": sli,
        "alerting": alerting,
    }
    on = not (disable["page"] and disable["ticket"])
    # The SLO's own labels (on its budget alerts too) are only those Sloth sets on every alert:
    # a label of the page alone stays on the page even when the ticket is off.
    both = set(owns["page"].items()) & set(owns["ticket"].items()) if len(owns) == 2 else set()
    want = {
        "slo_labels": {k: str(v) for k, v in (slo_labels | alert_labels).items()} | dict(both),
        "objective": slo["objective"],
        "labels": slo_labels | alert_labels,
        "effective": effective,
        "page": not disable["page"],
        "ticket": not disable["ticket"],
        "alert": alert if on else BURN_ALERT,
        "kind": {"plain": "events", "raw-events": "query", "raw-ratio": "ratio_query"}[shape],
        "query": error if shape == "raw-events" else f"({error}) / ({total})",
    }
    return slo, want


@st.composite
def _sloth_spec(draw: st.DrawFn) -> tuple[dict, dict, list[dict]]:
    crd = draw(st.booleans())
    names = draw(st.lists(_NAME, min_size=1, max_size=3, unique=True))
    slos = [draw(_sloth_slo(n, f"Burn{i}Alert", crd)) for i, n in enumerate(names)]
    body = {"service": draw(_NAME), "labels": draw(_LABELS), "slos": [s for s, _ in slos]}
    if crd:
        doc = {
            "apiVersion": "sloth.slok.dev/v1",
            "kind": "PrometheusServiceLevel",
            "metadata": {"name": "x"},
            "spec": body,
        }
    else:
        doc = {"version": "prometheus/v1", **body}
    return doc, body, [w for _, w in slos]


@settings(
    max_examples=examples(deep=20, quick=6),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(spec=_sloth_spec())
def test_random_sloth_specs_import_into_the_same_model(spec: tuple, tmp_path: Path) -> None:
    doc, body, wants = spec
    path = tmp_path / "sloth.yml"
    # The spec's own writer quotes text YAML 1.1 and 1.2 read differently, as a Sloth user must.
    path.write_text(to_yaml(doc, "hypothesis"), encoding="utf-8")
    try:
        (imported,) = sloth.import_file(str(path)).specs
        service = load_text("imported.yaml", to_yaml(imported, str(path)))
    except SpecInvalid as exc:  # pragma: no cover - shown on failure
        raise AssertionError("\n".join(map(str, exc.errors))) from None
    assert service.name == body["service"]
    assert dict(service.labels) == {k: str(v) for k, v in body["labels"].items()}
    assert len(service.slos) == len(wants)
    for slo, want in zip(service.slos, wants, strict=True):
        assert slo.objective == want["objective"]
        if want["effective"]:
            assert dict(slo.labels) == want["slo_labels"]
            for severity, (labels, annotations) in want["effective"].items():
                extra = slo.severity_alert(severity)
                assert dict(slo.labels) | dict(extra.labels) == labels
                assert dict(slo.annotations) | dict(extra.annotations) == annotations
        else:  # no alert: only what Sloth sets on the SLO's rules and on both alerts
            assert dict(slo.labels) == want["labels"]
            assert (slo.page_alert, slo.ticket_alert) == (SeverityAlert(), SeverityAlert())
        assert (slo.page, slo.ticket, slo.burn_alert) == (
            want["page"],
            want["ticket"],
            want["alert"],
        )
        assert slo.sli.kind == want["kind"]
        if want["kind"] != "events":  # the query is kept, with this project's placeholder
            query = slo.sli.error_query or slo.sli.ratio_query
            assert query == want["query"].replace("{{.window}}", "{{ window }}")


_OPENSLO_SLO = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: api
spec:
  service: api
  budgetingMethod: Occurrences
  indicator:
    metadata:
      name: api-errors
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: Prometheus
            spec:
              query: api_requests_total{{job="api", code=~"5.."}}
        total:
          metricSource:
            type: Prometheus
            spec:
              query: api_requests_total{{job="api"}}
  timeWindow:
    - duration: {period}
      isRolling: true
  objectives:
    - target: {target}
  alertPolicies:
"""
_CONDITION = """\
    - kind: AlertPolicy
      metadata:
        name: policy-{i}
      spec:
        conditions:
          - kind: AlertCondition
            metadata:
              name: condition-{i}
            spec:
              severity: {severity}
              condition:
                kind: burnrate
                op: gt
                threshold: {threshold}
                lookbackWindow: {lookback}
"""


@settings(max_examples=examples(deep=20, quick=6), deadline=None)
@given(
    period=st.sampled_from(["7d", "28d", "30d", "4w"]),
    target=st.sampled_from(["0.99", "0.995", "0.999", "0.9995"]),
    conditions=st.lists(
        st.tuples(
            st.sampled_from(["page", "ticket", "critical", "warning"]),
            st.sampled_from([1, 2, 3, 6, 13.44, 14.4]),
            st.sampled_from(["1h", "6h", "1d", "3d"]),
        ),
        min_size=1,
        max_size=4,
        unique_by=lambda c: (c[0], c[2]),
    ),
)
def test_random_openslo_burn_rates_keep_their_factor_and_window(
    period: str, target: str, conditions: list[tuple[str, float, str]]
) -> None:
    """Each AlertCondition becomes a burn-rate pair whose factor is the condition's threshold
    and whose long window is its lookback; a condition that spends more than the whole
    period's budget is refused, naming the threshold."""
    text = _OPENSLO_SLO.format(period=period, target=target) + "".join(
        _CONDITION.format(i=i, severity=s, threshold=t, lookback=lb)
        for i, (s, t, lb) in enumerate(conditions)
    )
    days = {"7d": 7, "28d": 28, "30d": 30, "4w": 28}[period] * 86400
    spent = any(t * parse_duration(lb) > days for _, t, lb in conditions)
    path = Path(tempfile.mkdtemp()) / "openslo.yml"
    path.write_text(text, encoding="utf-8")
    try:
        (spec,) = openslo.import_file(str(path)).specs
    except SpecInvalid as exc:
        assert spent, exc.errors
        assert all(e.path.endswith("condition.threshold") for e in exc.errors), exc.errors
        return
    assert not spent
    service = load_text("api.yaml", to_yaml(spec, str(path)))
    assert service.period == days
    # target 0.999 is 99.9 %, not 99.89999999999999
    assert service.slos[0].objective == float(Decimal(target) * 100)
    severity = {"page": "critical", "critical": "critical", "ticket": "warning"}
    want = {(severity.get(s, "warning"), parse_duration(lb), t) for s, t, lb in conditions}
    got = {(b.severity, b.long, b.factor(service.period)) for b in service.burn_rates}
    assert got == want
    assert service.slos[0].page == any(w[0] == "critical" for w in want)
    assert service.slos[0].ticket == any(w[0] == "warning" for w in want)


def test_openslo_metadata_labels_are_noted_at_their_line_not_dropped_silently(
    tmp_path: Path,
) -> None:
    """OpenSLO's ``metadata.labels`` describe a document (a map of lists), not its alerts:
    the import notes each one, top-level and inline, at its own line, and still succeeds."""
    text = (FIXTURES / "openslo-good-total.yml").read_text()
    text = text.replace(
        "metadata:\n  name: catalog-availability\n",
        "metadata:\n  name: catalog-availability\n  labels:\n    team: [catalog]\n",
    )
    text = text.replace(
        "      metadata:\n        name: catalog-slow-burn\n",
        "      metadata:\n        name: catalog-slow-burn\n        annotations:\n"
        "          owner: catalog-team\n",
    )
    source = tmp_path / "labelled.yml"
    source.write_text(text)
    result = CliRunner().invoke(main, ["import", "openslo", str(source)])
    assert result.exit_code == 0, result.output
    notes = [n.split(": ", 2)[:2] for n in result.stderr.splitlines() if "metadata." in n]
    lines = text.splitlines()
    at = [i + 1 for i, line in enumerate(lines) if line.strip() in ("labels:", "annotations:")]
    assert [n[0] for n in notes] == [f"{source}:{at[0]}:3", f"{source}:{at[1]}:9"]
    assert [n[1] for n in notes] == [
        "[document 4] metadata.labels",
        "[document 4] spec.alertPolicies[1].metadata.annotations",
    ]
