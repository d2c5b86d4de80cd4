"""Runbooks worth reading at 3 a.m. (issue 15, section 5).

Every alert's links are absolute and lead somewhere real: its ``runbook_url`` to a section of
the generated alerts.md (headings parsed by markdown-it with GitHub's slugs, not by the
generator), its ``panel_url`` to a panel of the generated dashboard JSON that shows what the
alert watches (the panel's queries, expanded through the recording rules, read the alert's
SLO, signal, metric or job). A spec's ``runbook`` shows in its alert's own section.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from cli_support import ROOT, SAMOKODER
from markdown_it import MarkdownIt
from mdit_py_plugins.anchors import anchors_plugin
from yaml_io import load_yaml

from generator import tools
from generator.docs import render
from generator.grafana import dashboard
from generator.output import write_tree
from generator.plan import service_files
from generator.prometheus.rule_files import ALERT_FILES, ALERTS_FILE, RECORDING_FILES, rule_files
from generator.spec.loader import load, load_text
from generator.spec.model import Service

RUNBOOKS = ROOT / "tests" / "fixtures" / "specs" / "runbooks.yaml"
FIXTURE_SPECS = [SAMOKODER, *sorted((ROOT / "tests" / "fixtures" / "specs").glob("*.yaml"))]
LINKS = ("runbook_url", "dashboard_url", "panel_url")


def parse(markdown: str) -> tuple[set[str], list[str]]:
    """Return the heading anchors (GitHub's slugs) and every link target of a document."""
    md = MarkdownIt("commonmark").use(anchors_plugin, min_level=1, max_level=6)
    tokens = md.parse(markdown)
    anchors = {t.attrs["id"] for t in tokens if t.type == "heading_open"}
    targets = [
        str(child.attrs["href"])
        for t in tokens
        if t.type == "inline"
        for child in t.children or ()
        if child.type == "link_open"
    ]
    return anchors, targets


def section(doc: str, title: str) -> str:
    """Return the text of the ``## title`` section."""
    return doc.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def alert_rules(service: Service) -> list[dict]:
    """Every alerting rule, of every environment's file when the spec has environments."""
    files = rule_files(service)
    return [r for f in files if _named(f, ALERT_FILES) for g in files[f] for r in g["rules"]]


def _named(path: str, names: tuple[str, ...]) -> bool:
    """Whether ``path`` (``<file>`` or ``<env>/<file>``) is one of the files ``names``."""
    return path.rsplit("/", 1)[-1] in names


def expanded(service: Service, exprs: list[str]) -> str:
    """Return the expressions with every recorded series replaced by its rule's expression,
    until only raw series are left: what a panel or an alert reads in the end."""
    recorded = {
        str(r["record"]): str(r["expr"])
        for f, groups in rule_files(service).items()
        if _named(f, RECORDING_FILES)
        for g in groups
        for r in g["rules"]
    }
    text = "\n".join(exprs)
    for _ in range(6):  # recordings read recordings a few levels deep at most
        found = [n for n in recorded if re.search(rf"(?<![\w:]){re.escape(n)}(?![\w:])", text)]
        if not found:
            break
        text += "\n" + "\n".join(recorded[n] for n in found)
        recorded = {n: e for n, e in recorded.items() if n not in found}
    return text


def shows(service: Service, panel: dict, rule: dict) -> bool:
    """Return whether ``panel`` (dashboard JSON) shows what ``rule`` watches, judged from the
    rule: its SLO, the recorded signal its expression reads, the metric or the job."""
    exprs = [t["expr"] for t in panel.get("targets", [])]
    labels = rule["labels"]
    if "slo" in labels:
        return any(f'slo="{labels["slo"]}"' in e for e in exprs)
    if "metric" in labels:  # MetricAbsent: a panel computed from the absent series
        base = re.sub(r"_bucket$", "", labels["metric"])
        return re.search(rf"(?<![\w:]){re.escape(base)}", expanded(service, exprs)) is not None
    if rule["alert"] == "TargetDown":
        return f'job="{labels["job"]}"' in expanded(service, exprs)
    read = set(re.findall(r"[\w:]+:[\w:]+(?=\{)", rule["expr"]))  # recorded series it reads
    if any(name in e for name in read for e in exprs):
        return True
    # An availability signal no panel draws: its SLO's budget panel restates it.
    return any(f'slo="{s.slo}"' in e for s in service.signals if s.slo for e in exprs) and any(
        s.kind == "availability" and s.key in name for s in service.signals for name in read
    )


def check_links(service: Service) -> int:
    """Assert every alert link of ``service`` is absolute and resolves; return how many."""
    docs = render.files(service)
    anchors, targets = parse(docs["alerts.md"])
    guide = parse(docs["dashboard.md"])[0] if "dashboard.md" in docs else set()
    for target in targets:  # absolute, or a heading of this document or of its guide
        url = urlsplit(target)
        if url.scheme:
            assert url.scheme in ("http", "https") and url.netloc, target
        else:
            assert url.path in ("", "dashboard.md"), target
            assert url.fragment in (guide if url.path else anchors) or not url.fragment, target
    board = dashboard.build(service) if service.dashboard is not None else {"panels": []}
    by_id = {p["id"]: p for p in board["panels"]}
    home = urlsplit(f"{service.grafana_url}/d/{service.dashboard.uid}") if by_id else None
    checked = 0
    for rule in alert_rules(service):
        notes = rule["annotations"]
        for key in LINKS:
            if key in notes:
                url = urlsplit(notes[key])
                assert url.scheme in ("http", "https") and url.netloc, (rule["alert"], key)
        url = notes.get("runbook_url", "")
        if url and url.startswith(service.runbook_base_url + "#"):
            assert urlsplit(url).fragment in anchors, (rule["alert"], url)
            checked += 1
        if not service.grafana_url or home is None:
            assert not {"dashboard_url", "panel_url"} & set(notes), rule["alert"]
            continue
        assert urlsplit(notes["dashboard_url"]) == home, rule["alert"]
        shown = [p for p in by_id.values() if p["type"] != "row" and shows(service, p, rule)]
        if "panel_url" not in notes:
            assert not shown, f"{rule['alert']} {rule['labels']} has no panel_url"
            continue
        url = urlsplit(notes["panel_url"])
        assert url._replace(query="") == home
        (panel_id,) = parse_qs(url.query)["viewPanel"]
        assert by_id[int(panel_id)] in shown, (rule["alert"], rule["labels"], panel_id)
        checked += 1
    # The dashboard's own links to runbook sections resolve too.
    for panel in by_id.values():
        for link in panel.get("links", []):
            assert urlsplit(link["url"]).fragment in anchors, link
    return checked


@pytest.fixture(scope="module")
def service() -> Service:
    return load(RUNBOOKS)


@pytest.fixture(scope="module")
def docs(service: Service) -> str:
    return render.files(service)["alerts.md"]


# -- instances ------------------------------------------------------------------------------


def test_an_slo_with_its_own_runbook_shows_it_in_its_own_section(
    service: Service, docs: str
) -> None:
    spec = load_yaml(RUNBOOKS.read_text(encoding="utf-8"))
    given = spec["slos"][0]["runbook"]
    own = section(docs, "ErrorBudgetBurn: charges")
    numbered = re.findall(r"^\d+\. (.*)$", own, re.M)
    assert numbered == given["steps"]  # word for word, `code` kept as code
    assert f"**Mitigation.** {given['mitigation']}" in own
    assert f"**Escalation.** {given['escalation']}" in own
    # Only in its own section: the other SLO keeps the generated steps.
    other = section(docs, "ErrorBudgetBurn: speed")
    assert given["steps"][0] not in other and "Find the failing endpoint" in other
    # Runbook text lives in the docs only: no annotation carries it, so no Go template
    # reads its `{{ $labels.psp }}`.
    for rule in alert_rules(service):
        for value in rule["annotations"].values():
            assert "psp" not in value.lower(), rule
    # A threshold row's and a job's runbooks reach their sections too.
    row = spec["thresholds"][0]["runbook"]
    backlog = section(docs, "SettlementBacklog")
    assert re.findall(r"^\d+\. (.*)$", backlog, re.M) == row["steps"]
    assert f"**Mitigation.** {row['mitigation']}" in backlog
    job = spec["jobs"]["payments-worker"]["runbook"]
    assert f"- `payments-worker`: {job['steps'][0]} Escalation: {job['escalation']}" in section(
        docs, "TargetDown"
    )


def test_each_slo_burn_alert_opens_its_own_section_and_budget_panel(
    service: Service, docs: str
) -> None:
    anchors, targets = parse(docs)
    board = {p["id"]: p for p in dashboard.build(service)["panels"]}
    burn = [r for r in alert_rules(service) if "long" in r["labels"]]
    assert {r["labels"]["slo"] for r in burn} == {"charges", "speed"}
    for rule in burn:
        slo = rule["labels"]["slo"]
        url = urlsplit(rule["annotations"]["runbook_url"])
        assert url._replace(fragment="").geturl() == "https://wiki.example.net/payments/alerts.md"
        assert url.fragment in anchors
        # The anchor is the heading of this SLO's section, and that section links the
        # panel the alert opens: the SLO's budget panel.
        own = section(docs, f"ErrorBudgetBurn: {slo}")
        assert url.fragment == parse(f"## ErrorBudgetBurn: {slo}\n")[0].pop()
        panel_url = rule["annotations"]["panel_url"]
        assert f"(<{panel_url}>)" in own
        (panel_id,) = parse_qs(urlsplit(panel_url).query)["viewPanel"]
        panel = board[int(panel_id)]
        assert any(f'slo="{slo}"' in t["expr"] for t in panel["targets"]), panel["title"]
        assert "budget" in panel["title"].lower()
    assert all(
        urlsplit(t).scheme == "https" for t in targets if "dashboard.md" not in t and t[0] != "#"
    )


def test_every_alert_opens_a_panel_showing_its_signal_or_slo(service: Service) -> None:
    rules = alert_rules(service)
    assert {"TargetDown", "MetricAbsent", "SettlementBacklog"} <= {r["alert"] for r in rules}
    assert all("panel_url" in r["annotations"] for r in rules)  # this dashboard shows each
    assert check_links(service) == 2 * len(rules)


def test_a_page_false_slo_times_only_its_ticket_pairs(service: Service, docs: str) -> None:
    """The timing table of a section lists exactly the pairs whose alerts exist."""
    for slo in ("charges", "speed"):
        table = section(docs, f"ErrorBudgetBurn: {slo}").split("| Pair (factor) |")[1]
        timed = re.findall(r"^\| (\w+)/(\w+) \(", table.split("\n\n")[0], re.M)
        rules = [r["labels"] for r in alert_rules(service) if r["labels"].get("slo") == slo]
        pairs = [(r["long"], r["short"]) for r in rules if "long" in r]
        assert timed == pairs, slo
    speed = [r for r in alert_rules(service) if r["labels"].get("slo") == "speed"]
    assert {r["labels"]["severity"] for r in speed if "long" in r["labels"]} == {"warning"}


def test_generated_tests_expect_each_link_on_every_engine(tmp_path: Path) -> None:
    """The links flow into the generated tests' exp_annotations from the Model: one small
    suite (threshold alerts and TargetDown: a signal's and a job's panel) passes on every
    engine, and a rule whose panel_url leads elsewhere fails it."""
    service = load(RUNBOOKS)
    write_tree(tmp_path, service_files(service))
    tests = tmp_path / service.name / "prometheus" / "tests"
    suite = "threshold_alerts_test.yml"
    expected = yaml.safe_dump(load_yaml((tests / suite).read_text()))
    assert "alertname: TargetDown" in expected and "alertname: SettlementBacklog" in expected
    assert expected.count("viewPanel=") >= 4
    for engine in tools.RULE_ENGINES:
        files = [f for f in tools.unit_test_files(engine, tests) if f.name == suite]
        proc = tools.run_unit_tests(engine, files, cwd=tests)
        assert proc.returncode == 0, f"{engine.name}: {proc.stdout}{proc.stderr}"
    rules = tmp_path / service.name / "prometheus" / ALERTS_FILE
    rules.write_text(re.sub(r"viewPanel=(\d+)", r"viewPanel=9\1", rules.read_text()))
    engine = tools.PROMETHEUSES[-1]
    proc = tools.run_unit_tests(engine, [tests / suite], cwd=tests)
    assert proc.returncode != 0, "a wrong panel_url passed the generated tests"


# -- the kind: every alert of every fixture spec ------------------------------------------


@pytest.mark.parametrize("spec", FIXTURE_SPECS, ids=[p.stem for p in FIXTURE_SPECS])
def test_every_link_of_every_alert_is_absolute_and_resolves(spec: Path) -> None:
    """As written, and with runbook_base_url and grafana_url added where the spec has none:
    every link absolute, every runbook anchor a heading, every panel a panel showing what
    its alert watches; without an address, no link at all."""
    text = spec.read_text(encoding="utf-8")
    plain = load_text(str(spec), text)
    check_links(plain)
    if not plain.runbook_base_url:
        assert all("runbook_url" not in r["annotations"] for r in alert_rules(plain))
    data = load_yaml(text)
    data.setdefault("runbook_base_url", "https://docs.example.org/x/alerts.md")
    data.setdefault("grafana_url", "https://grafana.example.org/sub/path")
    linked = load_text(str(spec), yaml.safe_dump(data, sort_keys=False))
    assert check_links(linked) >= len(alert_rules(linked))
