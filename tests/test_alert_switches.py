"""Per-alert labels, annotations and switches (``labels``, ``annotations``, ``page``,
``ticket``, ``page_alert``, ``ticket_alert``, ``alert_name`` per SLO; ``labels``,
``annotations``, ``enabled`` per threshold row; ``jobs.<job>.target_down``): the rules carry
them, the generated tests, runbooks and Alertmanager inhibitions follow them, and one small
generated suite proves it on every engine. Colliding labels and names are refused
(tests/fixtures/bad/113-119, 170-172)."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import test_alertmanager_inhibition as inhibition
import yaml
from cli_support import CHECKOUT, ROOT
from depth import examples
from generated_rules import alert_rules
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from yaml_io import load_yaml

from generator import alertmanager, tools
from generator.docs import render
from generator.grafana.dashboard import runbook_links
from generator.output import write_tree
from generator.plan import service_files
from generator.prometheus import alerts, unittests
from generator.spec.errors import SpecInvalid, format_path
from generator.spec.loader import load, load_text
from generator.spec.model import (
    BURN_ALERT,
    RESERVED_LABELS,
    TARGET_DOWN_ALERT,
    Service,
)

MAILER = ROOT / "tests" / "fixtures" / "specs" / "mailer.yaml"
ENGINES = [pytest.param(e, id=e.name) for e in tools.RULE_ENGINES]


def _mailer(**changes: object) -> dict:
    """The mailer fixture (two jobs, a per-queue threshold, one SLO) with a second SLO on the
    same counter, and ``changes`` set at the top level."""
    data = load_yaml(MAILER.read_text())
    strict = copy.deepcopy(data["slos"][0]) | {"name": "delivery-strict", "objective": 99.9}
    data["slos"].append(strict)
    return data | changes


def _load(data: dict) -> Service:
    return load_text("spec.yaml", yaml.safe_dump(data, sort_keys=False))


def _rules(service: Service) -> list[dict]:
    return [r for g in alerts.groups(service) for r in g["rules"]]


def _checks(service: Service) -> list[dict]:
    """Every ``alert_rule_test`` entry of the generated suites."""
    return [
        check
        for suite in unittests.suites(service).values()
        for case in suite["tests"]
        for check in case.get("alert_rule_test", [])
    ]


def _expected(service: Service, alertname: str) -> list[dict]:
    return [e for c in _checks(service) if c["alertname"] == alertname for e in c["exp_alerts"]]


# -- instances ----------------------------------------------------------------------------------


def test_row_and_slo_labels_are_set_over_the_service_wide_ones_and_expected_by_the_tests() -> None:
    service = load(CHECKOUT)
    rules = _rules(service)
    slow = [r for r in rules if r["alert"] == "PaymentsSlow"]
    assert slow and all(
        r["labels"].items() >= {"team": "payments-gateway", "component": "psp", "tier": "1"}.items()
        for r in slow
    )
    assert all(r["annotations"]["vendor_status"].startswith("https://status.") for r in slow)
    burn = [r for r in rules if r.get("labels", {}).get("slo") == "order-success"]
    assert burn and all(r["labels"]["team"] == "orders" for r in burn)
    assert all(r["annotations"]["chat"] == "#orders-oncall" for r in burn)
    down = [r for r in rules if r["alert"] == TARGET_DOWN_ALERT]
    assert down and all(r["labels"]["team"] == "payments" for r in down)  # service-wide only
    fired = _expected(service, "PaymentsSlow")
    assert fired and all(e["exp_labels"]["component"] == "psp" for e in fired)
    assert all("vendor_status" in e["exp_annotations"] for e in fired)


def test_page_false_drops_the_pages_and_the_tickets_still_fire() -> None:
    service = load(CHECKOUT)
    slo = service.slo("order-success")
    burn = [r for r in _rules(service) if r["alert"] == slo.burn_alert]
    assert {r["labels"]["severity"] for r in burn} == {"warning"}
    assert len(burn) == sum(b.severity == "warning" for b in service.burn_rates)
    fastest_page = max(b.factor(slo.period) for b in service.burn_rates if b.severity == "critical")
    # A case burning past the fastest page's factor expects every ticket, and no page.
    cases = unittests.suites(service)["slo_alerts_test.yml"]["tests"]
    above = [
        c
        for c in cases
        if (m := re.search(r"burning order-success ([0-9.]+)x", c["name"]))
        and float(m[1]) > fastest_page
    ]
    assert above
    for case in above:
        (check,) = case["alert_rule_test"]
        assert [e["exp_labels"]["severity"] for e in check["exp_alerts"]] == ["warning"] * len(burn)


def test_ticket_false_drops_the_tickets_and_keeps_the_pages() -> None:
    data = _mailer()
    data["slos"][1]["ticket"] = False
    service = _load(data)
    strict = [r for r in _rules(service) if r["labels"].get("slo") == "delivery-strict"]
    burn = {r["labels"]["severity"] for r in strict if "long" in r["labels"]}
    assert burn == {"critical"}
    expected = [
        e for e in _expected(service, BURN_ALERT) if e["exp_labels"]["slo"] == "delivery-strict"
    ]
    assert expected and {e["exp_labels"]["severity"] for e in expected} == {"critical"}
    # Its budget alerts are no burn-rate pair: they stay.
    assert {r["alert"] for r in strict} >= {"ErrorBudgetLow", "ErrorBudgetCritical"}


def test_a_disabled_row_has_no_rule_no_test_no_runbook_and_no_absence_watch() -> None:
    service = load(CHECKOUT)
    assert "CheckoutBusy" not in {r["alert"] for r in _rules(service)}
    assert "CheckoutBusy" not in yaml.safe_dump(unittests.suites(service))
    assert "## CheckoutBusy" not in render.files(service)["alerts.md"]
    # Its gauge was watched for it alone.
    assert "shop_checkout_inflight_requests" not in {
        w.series for w in alerts.watched_metrics(service)
    }
    # The row still colours its signal's panels: the dashboard reads every row.
    data = load_yaml(CHECKOUT.read_text())
    assert any(t["alert"] == "CheckoutBusy" and t["enabled"] is False for t in data["thresholds"])


def test_alert_name_names_the_rules_their_runbook_section_and_the_dashboard_links() -> None:
    data = load_yaml(CHECKOUT.read_text())
    data["runbook_base_url"] = "https://runbooks.example.com/checkout"  # links need an address
    service = load_text(str(CHECKOUT), yaml.safe_dump(data, sort_keys=False))
    burn = [r for r in _rules(service) if "long" in r["labels"]]
    assert burn and {r["alert"] for r in burn} == {"OrderSuccessBurn"}
    anchor = "#ordersuccessburn-order-success"  # the SLO's own section
    assert all(r["annotations"]["runbook_url"].endswith(anchor) for r in burn)
    doc = render.files(service)["alerts.md"]
    heading = "\n## OrderSuccessBurn: order-success\n"
    assert heading in doc and f"\n## {BURN_ALERT}" not in doc
    section = doc[doc.index(heading) :].split("\n## ")[1]
    assert "Labels of its own (for routing): `team=orders`." in section
    assert "`page: false`: the order-success SLO has no critical burn-rate pairs." in section
    # The budget panel of the SLO links its runbook sections (checkout draws no dashboard).
    panel = SimpleNamespace(slo=service.slo("order-success"))
    links = [a for a, _ in runbook_links(service, panel)]
    assert "OrderSuccessBurn" in links and BURN_ALERT not in links


def test_per_alert_labels_are_compared_by_every_inhibition() -> None:
    service = load(CHECKOUT)
    equal = set(alertmanager.series_labels(service))
    assert {"component", "team"} <= equal


def _paged_apart(tmp: Path) -> Path:
    """The mailer with a warning pair on the page's own windows (1h/5m), the delivery SLO's
    page relabelled (``team`` over the SLO's, plus ``routing_key``) and its ticket labelled
    apart: a generated tree whose alerts of one SLO and window pair differ in more than
    severity."""
    data = _mailer(
        burn_rates=[
            {"severity": "critical", "long": "1h", "short": "5m", "budget_consumed": 2},
            {"severity": "warning", "long": "1h", "short": "5m", "budget_consumed": 1},
            {"severity": "warning", "long": "1d", "short": "2h", "budget_consumed": 10},
        ]
    )
    data["slos"][0] |= {
        "labels": {"team": "delivery"},
        "page_alert": {"labels": {"team": "pager", "routing_key": "mail-pd"}},
        "ticket_alert": {"labels": {"chat": "#mail"}, "annotations": {"hint": "{{ no }}"}},
    }
    spec = tmp / "mailer.yaml"
    spec.write_text(yaml.safe_dump(data, sort_keys=False))
    return inhibition.generated(spec, tmp / "out")


@pytest.mark.parametrize("engine", tools.CONFIG_ALERTMANAGERS, ids=lambda e: e.name)
def test_a_page_with_labels_of_its_own_hides_its_own_ticket_and_no_other(
    engine: tools.Engine, tmp_path: Path
) -> None:
    """On a real Alertmanager, alerts labelled as the generated tests expect them (proven on
    the engines): the delivery page (team=pager, routing_key) hides the delivery ticket of
    its window pair (team=delivery, chat), not the strict SLO's ticket of that pair."""
    out = _paged_apart(tmp_path)
    fired = inhibition.fired(out)

    def one(slo: str, severity: str) -> dict[str, str]:
        (alert,) = [
            a
            for a in fired
            if (a["alertname"], a.get("slo"), a["severity"], a.get("long"))
            == (BURN_ALERT, slo, severity, "1h")
        ] or [None]
        assert alert is not None, (slo, severity)
        return alert

    page, ticket = one("delivery", "critical"), one("delivery", "warning")
    assert (page["team"], page["routing_key"], ticket["team"], ticket["chat"]) == (
        "pager",
        "mail-pd",
        "delivery",
        "#mail",
    )
    other = one("delivery-strict", "warning")
    config = out.parent / inhibition.ALERTMANAGER_FILE
    with inhibition.running(engine, config, tmp_path) as am:
        inhibition.verdicts(am, {inhibition.key(ticket): (ticket, page)}, [page, other])


def _switched(tmp: Path) -> Path:
    """The mailer with TargetDown off for its queue job, an SLO paging only under its own
    name, and row and SLO annotations holding template syntax (printed literally)."""
    data = _mailer(jobs={"mailer-queue": {"target_down": False}})
    data["slos"][1] |= {
        "ticket": False,
        "alert_name": "StrictDeliveryBurn",
        "labels": {"owner": "smtp"},
        "annotations": {"note": "{{ $value }} is not a template here"},
    }
    data["thresholds"][0] |= {"labels": {"owner": "queues"}, "annotations": {"chat": "{{ x }}"}}
    return _written(tmp, data)


def _written(tmp: Path, data: dict) -> Path:
    """Generate ``data`` into ``tmp`` and return its service folder."""
    service = _load(data)
    write_tree(tmp, service_files(service))
    return tmp / service.name


def _suites_pass(engine: tools.Engine, folder: Path, wanted: tuple[str, ...]) -> None:
    """Run the generated suites named ``wanted`` (each must exist) on ``engine``."""
    files = [
        f for f in tools.unit_test_files(engine, folder / "prometheus/tests") if f.name in wanted
    ]
    assert len(files) == len(wanted)
    proc = tools.run_unit_tests(engine, files)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_target_down_false_writes_no_target_down_and_its_outage_pages_nothing(
    tmp_path: Path,
) -> None:
    folder = _switched(tmp_path)
    rules = alert_rules(folder / "prometheus")
    assert {r["labels"]["job"] for r in rules if r["alert"] == TARGET_DOWN_ALERT} == {
        "mailer-worker"
    }
    absent = load_yaml((folder / "prometheus/tests/absent_data_alerts_test.yml").read_text())
    quiet = [c for c in absent["tests"] if "job mailer-queue is down" in c["name"]]
    assert quiet and all(chk["exp_alerts"] == [] for c in quiet for chk in c["alert_rule_test"])
    threshold = (folder / "prometheus/tests/threshold_alerts_test.yml").read_text()
    assert "mailer-queue instance is down" not in threshold
    runbook = (folder / "docs/alerts.md").read_text()
    assert "Switched off for `mailer-queue` (`target_down: false`)." in runbook


@pytest.mark.parametrize("engine", ENGINES)
def test_switched_mailer_passes_its_alert_suites_on_every_engine(
    engine: tools.Engine, tmp_path: Path
) -> None:
    """The threshold and MetricAbsent suites of :func:`_switched`: a row's labels and
    literal annotations expected exactly, the switched-off TargetDown silent while its job is
    down. (The checkout fixture's suites, which tests/test_rules.py runs on every engine,
    prove an SLO's labels, annotations, ``page: false`` and ``alert_name``.)"""
    _suites_pass(
        engine, _switched(tmp_path), ("threshold_alerts_test.yml", "absent_data_alerts_test.yml")
    )


def _loose_tickets_only(tmp: Path) -> Path:
    """The mailer with a 90 % SLO that only tickets: a 10 % budget cannot burn at 14.4x (that
    is 144 % errors), so the pages must be off, and with them off the spec is valid."""
    data = _mailer()
    data["slos"][0] |= {"objective": 90, "page": False}
    return _written(tmp, data)


def test_an_slo_whose_budget_cannot_burn_at_the_page_factor_is_valid_without_pages() -> None:
    data = _mailer()
    data["slos"][0]["objective"] = 90
    with pytest.raises(SpecInvalid) as refusal:
        _load(data)
    assert [e.path for e in refusal.value.errors] == ["slos[0].objective"]
    service = _load(data | {"slos": [data["slos"][0] | {"page": False}, data["slos"][1]]})
    delivery = service.slo("delivery")
    assert {b.severity for b in service.slo_burn_rates(delivery)} == {"warning"}
    assert all(
        b.factor(delivery.period) * delivery.error_budget < 1
        for b in service.burn_rates
        if b.severity == "warning"
    )


@pytest.mark.replays
@pytest.mark.parametrize("engine", ENGINES)
def test_a_tickets_only_loose_slo_passes_its_slo_suites_on_every_engine(
    engine: tools.Engine, tmp_path: Path
) -> None:
    """Its burn-rate and timing suites drive ticket burns of a 10 % budget and expect the
    tickets, no page, at the times the Model gives; every engine agrees."""
    _suites_pass(
        engine, _loose_tickets_only(tmp_path), ("slo_alerts_test.yml", "burn_rate_times_test.yml")
    )


# -- the kind: random labels and switches keep rules, tests, runbooks and inhibitions in step --

# Free label names far more often than colliding ones, so that about half the specs load.
LABEL_NAMES = ["team", "owner", "component"] * 12 + ["severity", "slo", "long", "job", "queue"]
LABEL_NAMES += ["instance"]
ALERT_NAMES = [None] * 4 + ["DeliveryBurn", "StrictBurn", BURN_ALERT, "QueueBacklog", "TargetDown"]
LABELS = st.dictionaries(st.sampled_from(LABEL_NAMES), st.sampled_from(["a", "b"]), max_size=2)
# What each scope may not set: the labels the generator writes on its alerts, and those of
# the alerted series a rule label would overwrite (the queue signal keeps job and queue).
REFUSED = {
    "service": set(RESERVED_LABELS) | {"job", "instance"},
    "slo": set(RESERVED_LABELS),
    "row": set(RESERVED_LABELS) | {"job", "queue"},
}
GENERATED_NAMES = {"ErrorBudgetLow", "ErrorBudgetCritical", "MetricAbsent", "TargetDown"}
SAME_WINDOW_BURN_RATES = [
    {"severity": "critical", "long": "1h", "short": "5m", "budget_consumed": 2},
    {"severity": "warning", "long": "1h", "short": "5m", "budget_consumed": 1},
    {"severity": "warning", "long": "1d", "short": "2h", "budget_consumed": 10},
]
# What the generator itself sets on an SLO's alerts.
SLO_RULE_LABELS = {"severity", "service", "slo", "slo_type", "long", "short"}


def _matches(matcher: str, labels: dict[str, str]) -> bool:
    """Alertmanager's reading of one generated ``name="value"`` or ``name=~"regex"``."""
    name, op, value = re.fullmatch(r'(\w+)(=~|=)"(.*)"', matcher).groups()
    have = labels.get(name, "")
    return have == value if op == "=" else re.fullmatch(value, have) is not None


def _inhibited(service: Service, source: dict[str, str], target: dict[str, str]) -> bool:
    """Whether some generated inhibition has ``source`` hide ``target`` (labels missing on
    both sides compare equal, as in Alertmanager)."""
    return any(
        all(_matches(m, source) for m in rule["source_matchers"])
        and all(_matches(m, target) for m in rule["target_matchers"])
        and all(source.get(k, "") == target.get(k, "") for k in rule["equal"])
        for rule in alertmanager.inhibit_rules(service)
    )


@st.composite
def switched_specs(draw: st.DrawFn) -> tuple[dict, set[tuple]]:
    """Return (a mailer spec with random labels and switches, the YAML paths of the errors
    it must get: every colliding label and every alert name used twice)."""
    data = _mailer(labels=draw(LABELS))
    errors = {("labels", k) for k in data["labels"] if k in REFUSED["service"]}
    if "queue" in data["labels"]:  # a service-wide label is refused where a signal groups by it
        errors.add(("signals", "queue_depth", "by", 0))
    if draw(st.booleans()):  # a ticket on the page's own windows: the page must hide it
        data["burn_rates"] = SAME_WINDOW_BURN_RATES
    names: list[str] = []
    for i, slo in enumerate(data["slos"]):
        slo |= {"labels": draw(LABELS), "page": draw(st.booleans()), "ticket": draw(st.booleans())}
        errors |= {("slos", i, "labels", k) for k in slo["labels"] if k in REFUSED["slo"]}
        for switch in ("page", "ticket"):
            # Seldom beside the switch that turns them off, so that most specs still load.
            if not draw(st.sampled_from([slo[switch]] * 3 + [True])):
                continue
            extra = {"labels": draw(LABELS)}
            if draw(st.booleans()):
                extra["annotations"] = {f"{switch}_note": "{{ $value }} is text"}
            extra = {k: v for k, v in extra.items() if v}
            if not extra:
                continue
            slo[f"{switch}_alert"] = extra
            at = ("slos", i, f"{switch}_alert")
            # Refused as the SLO's own labels are, and beside the switch that turns them off.
            labels = extra.get("labels", {})
            errors |= {(*at, "labels", k) for k in labels if k in REFUSED["slo"]}
            if not slo[switch]:
                errors.add(at)
        # A 10 % budget cannot burn at the 14.4x page factor: refused unless the pages are off.
        slo["objective"] = draw(st.sampled_from([slo["objective"], 90]))
        if slo["objective"] == 90 and slo["page"]:
            errors.add(("slos", i, "objective"))
        if (name := draw(st.sampled_from(ALERT_NAMES))) is not None:
            slo["alert_name"] = name
            taken = name in GENERATED_NAMES | {"QueueBacklog"} or name in names
            if taken and name != BURN_ALERT:
                errors.add(("slos", i, "alert_name"))
            names.append(name)
    row = data["thresholds"][0]
    row |= {"labels": draw(LABELS), "enabled": draw(st.booleans())}
    errors |= {("thresholds", 0, "labels", k) for k in row["labels"] if k in REFUSED["row"]}
    data["jobs"] = {
        j: {"target_down": draw(st.booleans())} for j in ("mailer-queue", "mailer-worker")
    }
    return data, errors


@settings(
    max_examples=examples(deep=20, quick=6), deadline=None, suppress_health_check=list(HealthCheck)
)
@given(drawn=switched_specs())
def test_random_labels_and_switches_keep_rules_tests_runbooks_and_inhibitions_in_step(
    drawn: tuple[dict, set[tuple]],
) -> None:
    data, errors = drawn
    try:
        service = _load(data)
    except SpecInvalid as exc:
        event("refused")
        assert {e.path for e in exc.errors} == {format_path(p) for p in errors}
        return
    event("generated")
    assert not errors
    rules = _rules(service)
    merged = dict(data["labels"])
    for slo_spec in data["slos"]:
        slo = service.slo(slo_spec["name"])
        own = [r for r in rules if r["labels"].get("slo") == slo.name]
        for r in own:
            # A burn-rate alert gets its severity's page_alert/ticket_alert; no other does.
            switch = {"critical": "page", "warning": "ticket"}[r["labels"]["severity"]]
            extra = slo_spec.get(f"{switch}_alert", {}) if "long" in r["labels"] else {}
            want = merged | slo_spec["labels"] | extra.get("labels", {})
            assert r["labels"].items() >= want.items(), r
            assert set(r["labels"]) - SLO_RULE_LABELS == set(want), r
            notes = {k for k in r["annotations"] if k.endswith("_note")}
            assert notes == set(extra.get("annotations", {})), r
        burn = {r["labels"]["severity"] for r in own if "long" in r["labels"]}
        assert burn == {s for s, on in (("critical", slo.page), ("warning", slo.ticket)) if on}
        assert all(
            r["alert"] == slo_spec.get("alert_name", BURN_ALERT)
            for r in own
            if "long" in r["labels"]
        )
    row = data["thresholds"][0]
    backlog = [r for r in rules if r["alert"] == "QueueBacklog"]
    assert len(backlog) == (2 if row["enabled"] else 0)
    assert all(r["labels"].items() >= (merged | row["labels"]).items() for r in backlog)
    down = {r["labels"]["job"] for r in rules if r["alert"] == TARGET_DOWN_ALERT}
    assert down == {j for j, s in data["jobs"].items() if s["target_down"]}
    # Every rule's alerts are expected, with its labels, by some generated test, and every
    # expectation is an alert some rule raises: nothing switched off is expected.
    checks = _checks(service)
    for rule in rules:
        name = rule["alert"]
        assert any(
            e["exp_labels"].items() >= rule["labels"].items()
            for c in checks
            if c["alertname"] == name
            for e in c["exp_alerts"]
        ), rule
    for check in checks:
        for e in check["exp_alerts"]:
            assert any(
                r["alert"] == check["alertname"] and e["exp_labels"].items() >= r["labels"].items()
                for r in rules
            ), (check["alertname"], e)
    names = {r["alert"] for r in rules}
    assert {c["alertname"] for c in checks} - names <= {TARGET_DOWN_ALERT}  # a silent check
    times = yaml.safe_dump(unittests.suites(service).get("burn_rate_times_test.yml", {}))
    assert set(re.findall(r'alertname="(\w+)"', times)) <= names
    # One runbook section per alert name; inhibitions compare every label the spec sets.
    doc = render.files(service)["alerts.md"]
    assert {n for n in names} <= set(re.findall(r"^## (\w+)(?::|$)", doc, re.M))
    own_names = {k for x in (*service.slos, *service.thresholds) for k, _ in x.labels}
    assert own_names <= set(alertmanager.series_labels(service))
    # A page hides the ticket of its own SLO and window pair, whatever labels each carries
    # of its own, and never another SLO's.
    burns = [{**r["labels"], "alertname": r["alert"]} for r in rules if "long" in r["labels"]]
    for page in (b for b in burns if b["severity"] == "critical"):
        for ticket in (b for b in burns if b["severity"] == "warning"):
            same = all(page[k] == ticket[k] for k in ("slo", "long", "short", "alertname"))
            assert _inhibited(service, page, ticket) == same, (page, ticket)
