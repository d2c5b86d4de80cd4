"""Links both ways: every alert leads to the panel of what it watches, every panel with an
alert links to that alert's runbook section, the dashboard links to the alerts docs.

Which panel an alert must open is read from the alert itself (the signal recording its
expression reads, the ``slo`` label it carries) and the panel from the dashboard JSON (the
series its queries read), never from the code that makes the links.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from yaml_io import load_yaml

from generator import signals as names
from generator.grafana import dashboard
from generator.prometheus import alerts
from generator.spec.loader import load_text
from generator.spec.model import Service

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "slo_specs" / "samokoder.yaml"


@pytest.fixture(scope="module")
def service() -> Service:
    return load_text("slo_specs/samokoder.yaml", SPEC.read_text(encoding="utf-8"))


def alert_rules(service: Service) -> list[dict]:
    return [r for g in alerts.groups(service) for r in g["rules"]]


def _reads(panel: dict, series: str, slo: str | None = None) -> bool:
    for target in panel.get("targets", []):
        expr = target["expr"]
        if re.search(rf"(?<![\w:]){re.escape(series)}\{{", expr) and (
            slo is None or f'slo="{slo}"' in expr
        ):
            return True
    return False


def watched(service: Service, rule: dict) -> tuple[str, str | None] | None:
    """What an alert watches, from the alert: ``(series, slo)`` or None for neither."""
    if "slo" in rule["labels"]:
        return names.budget_remaining_percent(service), rule["labels"]["slo"]
    for sig in service.signals:
        if re.search(rf"(?<![\w:]){re.escape(names.signal(service, sig))}\{{", rule["expr"]):
            return names.signal(service, sig), None
    return None


def test_every_alert_leads_to_the_panel_of_what_it_watches(service: Service) -> None:
    assert service.grafana_url and service.dashboard is not None
    board = dashboard.build(service)
    by_id = {p["id"]: p for p in board["panels"]}
    home = f"{service.grafana_url}/d/{service.dashboard.uid}"
    led = 0
    for rule in alert_rules(service):
        notes = rule["annotations"]
        assert notes["dashboard_url"] == home, rule["alert"]
        if {"job", "metric"} & set(rule["labels"]):
            continue  # TargetDown, MetricAbsent: tests/test_runbooks.py follows their series
        what = watched(service, rule)
        shown = what and any(_reads(p, *what) for p in by_id.values())
        restated = [s for s in service.signals if what and names.signal(service, s) == what[0]]
        if not shown and restated and restated[0].kind == "availability":
            # No panel reads an availability signal: its SLO's budget panel shows it.
            what = names.budget_remaining_percent(service), restated[0].slo
            shown = any(_reads(p, *what) for p in by_id.values())
        if not shown:
            assert "panel_url" not in notes, rule["alert"]
            continue
        url = urlsplit(notes["panel_url"])
        assert f"{url.scheme}://{url.netloc}{url.path}" == home
        (panel_id,) = parse_qs(url.query)["viewPanel"]
        panel = by_id[int(panel_id)]
        assert _reads(panel, *what), f"{rule['alert']} opens {panel['title']!r}"
        # a time series, where one shows it: the history around the alert, not one number
        if any(p["type"] == "timeseries" and _reads(p, *what) for p in by_id.values()):
            assert panel["type"] == "timeseries", (rule["alert"], panel["title"])
        led += 1
    assert led >= 20


def test_every_panel_with_an_alert_links_to_its_runbook_section(service: Service) -> None:
    board = dashboard.build(service)
    docs = (ROOT / "out" / service.name / "docs" / "alerts.md").read_text(encoding="utf-8")
    anchors = {
        re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
        for h in re.findall(r"^## (.+)$", docs, re.M)
    }
    linked = 0
    for rule in alert_rules(service):
        what = watched(service, rule)
        if what is None:
            continue
        runbook = rule["annotations"]["runbook_url"]
        for panel in board["panels"]:
            if _reads(panel, *what):
                urls = [link["url"] for link in panel.get("links", [])]
                assert runbook in urls, f"{panel['title']} does not link {runbook}"
                linked += 1
    assert linked >= 20
    for panel in board["panels"]:
        for link in panel.get("links", []):
            assert link["url"].startswith(service.runbook_base_url + "#")
            assert link["url"].split("#", 1)[1] in anchors, link


def test_the_dashboard_links_to_the_alerts_docs(service: Service) -> None:
    (link,) = dashboard.build(service)["links"]
    assert link["url"] == service.runbook_base_url
    assert link["url"].endswith(f"out/{service.name}/docs/alerts.md")
    assert (ROOT / "out" / service.name / "docs" / "alerts.md").is_file()


def test_without_grafana_url_alerts_carry_no_dashboard_links() -> None:
    data = load_yaml(SPEC.read_text(encoding="utf-8"))
    del data["grafana_url"]
    plain = load_text("plain.yaml", yaml.safe_dump(data, sort_keys=False))
    for rule in alert_rules(plain):
        assert not {"dashboard_url", "panel_url"} & set(rule["annotations"]), rule["alert"]
