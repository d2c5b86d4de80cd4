"""The generated inhibitions, applied by a real Alertmanager 0.28.1 (Debian trixie).

amtool can check the syntax of ``inhibit_rules`` but not what they do. Here the generated
``alertmanager.yml`` is loaded into a running server, alerts carrying the labels of the
generated alert rules are posted to its v2 API, and the server's own verdict
(``status.state`` and ``status.inhibitedBy`` of ``GET /api/v2/alerts``) is compared with the
contract: a critical hides the warning of the same alert on the same node / SLO, and nothing
else.
"""

from __future__ import annotations

import datetime
import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from cli_support import ROOT
from e2e.prom import _ready, _stop, free_port

from generator import tools

OUT = ROOT / "out" / "samokoder"
CONFIG = OUT / "alertmanager" / "alertmanager.yml"
ALERT_RULES = OUT / "prometheus" / "alerts.yml"

READY_TIMEOUT = 20.0
# Inhibition is computed when alerts are read, but the inhibitor learns about source alerts
# asynchronously, so every expectation is polled for at most this long.
STATE_TIMEOUT = 10.0
POLL = 0.02

Labels = dict[str, str]
Alert = dict[str, object]


class Alertmanager:
    """A running server and the two v2 API calls the tests need."""

    def __init__(self, proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.proc = proc
        self.url = url
        self.log = log

    def post(self, alerts: list[Alert]) -> None:
        """POST ``alerts`` to /api/v2/alerts; fail with the server's answer unless accepted."""
        request = urllib.request.Request(
            f"{self.url}/api/v2/alerts",
            data=json.dumps(alerts).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as resp:
                assert resp.status == 200, resp.read().decode()
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"POST alerts: HTTP {exc.code}: {exc.read().decode()}") from None

    def alerts(self) -> list[dict]:
        """Return the unresolved alerts of GET /api/v2/alerts, with their status."""
        with urllib.request.urlopen(f"{self.url}/api/v2/alerts", timeout=10) as resp:
            return json.load(resp)

    def find(self, labels: Labels) -> dict | None:
        """Return the alert with exactly ``labels``, or None if the server does not show it."""
        return next((a for a in self.alerts() if a["labels"] == labels), None)

    def wait_for(self, what: str, check: Callable[[], object]) -> object:
        """Poll ``check()`` until it is truthy and return its value; fail after the timeout."""
        deadline = time.monotonic() + STATE_TIMEOUT
        while not (value := check()):
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"alertmanager exited while waiting for {what}:\n{self.tail()}"
                )
            if time.monotonic() > deadline:
                seen = [(a["labels"], a["status"]) for a in self.alerts()]
                raise AssertionError(f"timed out waiting for {what}; the server shows {seen}")
            time.sleep(POLL)
        return value

    def wait_for_state(self, labels: Labels, state: str) -> dict:
        """Return the alert with ``labels`` once its ``status.state`` is ``state``."""

        def check() -> dict | None:
            alert = self.find(labels)
            return alert if alert is not None and alert["status"]["state"] == state else None

        return self.wait_for(f"{labels} to be {state}", check)  # type: ignore[return-value]

    def tail(self, lines: int = 30) -> str:
        """Return the end of the server's log."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@pytest.fixture(
    scope="module",
    params=tools.CONFIG_ALERTMANAGERS,
    ids=[e.name for e in tools.CONFIG_ALERTMANAGERS],
)
def alertmanager(request, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Alertmanager]:
    # ToolMissing (not a skip) says how to install the binaries.
    binary = request.param.tool("alertmanager")
    work = tmp_path_factory.mktemp("alertmanager")
    config = work / "alertmanager.yml"
    # The copy is unchanged: 0.28.1 reads bot_token_file / auth_password_file only when it
    # sends a notification, so the absent /etc/alertmanager/secrets/* do not stop it loading
    # (and, being absent, guarantee nothing is ever sent to Telegram or SMTP from a test).
    shutil.copyfile(CONFIG, config)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = work / "alertmanager.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(binary),
                f"--config.file={config}",
                f"--storage.path={work / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",  # a lone server: no gossip port, no peers
                "--log.level=info",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    server = Alertmanager(proc, url, log)
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while not _ready(url):
            if proc.poll() is not None:
                raise AssertionError(
                    f"alertmanager exited with {proc.returncode}:\n{server.tail()}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"alertmanager not ready after {READY_TIMEOUT}s:\n{server.tail()}"
                )
            time.sleep(POLL)
        yield server
    finally:
        _stop(proc, 10)


# -- alerts as the generated rules label them -------------------------------------------


def _rules() -> list[dict]:
    groups = yaml.safe_load(ALERT_RULES.read_text())["groups"]
    return [r for g in groups for r in g["rules"] if "alert" in r]


RULES = _rules()


def rule_labels(alertname: str, severity: str, **match: str) -> Labels:
    """Return the labels (alertname included) of the first generated rule that fits."""
    for rule in RULES:
        labels = {**rule["labels"], "alertname": rule["alert"]}
        wanted = {"alertname": alertname, "severity": severity, **match}
        if all(labels.get(k) == v for k, v in wanted.items()):
            return labels
    raise AssertionError(f"no {severity} {alertname} {match} rule in {ALERT_RULES}")


def slos_of(alertname: str) -> list[str]:
    """Return the SLOs that have an ``alertname`` rule, sorted; the tests need two."""
    slos = sorted({r["labels"]["slo"] for r in RULES if r["alert"] == alertname})
    assert len(slos) >= 2, f"{ALERT_RULES} has {alertname} for {slos}; the tests need two SLOs"
    return slos


def on(labels: Labels, instance: str) -> Labels:
    """Return ``labels`` as Prometheus sends them for one node (the per-node series keep it)."""
    return {**labels, "instance": instance}


def _iso(offset: float) -> str:
    return (datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=offset)).isoformat()


def _alert(labels: Labels, ends_in: float) -> Alert:
    summary = next(
        (r["annotations"]["summary"] for r in RULES if r["alert"] == labels["alertname"]), ""
    )
    return {
        "labels": labels,
        "annotations": {"summary": summary},
        "startsAt": _iso(-60),
        "endsAt": _iso(ends_in),
    }


@pytest.fixture
def fire(alertmanager: Alertmanager) -> Iterator[Callable[..., list[dict]]]:
    """Post firing alerts; after the test, resolve them and wait until the server drops them,
    so no scenario's critical can inhibit (or fail to inhibit) the next one's warnings."""
    posted: list[Labels] = []

    def post(*label_sets: Labels) -> list[dict]:
        alertmanager.post([_alert(labels, ends_in=3600) for labels in label_sets])
        posted.extend(label_sets)
        return [
            alertmanager.wait_for(
                f"{labels} to be stored", lambda want=labels: alertmanager.find(want)
            )
            for labels in label_sets
        ]

    yield post
    alertmanager.post([_alert(labels, ends_in=-1) for labels in posted])
    alertmanager.wait_for(
        "resolved alerts to disappear",
        lambda: not any(alertmanager.find(labels) for labels in posted),
    )


def assert_inhibited_by(alertmanager: Alertmanager, target: Labels, source: dict) -> None:
    alert = alertmanager.wait_for_state(target, "suppressed")
    want = [source["fingerprint"]]
    assert alert["status"]["inhibitedBy"] == want, f"{target} not by {source['labels']}"
    assert alert["status"]["silencedBy"] == [], f"{target}: {alert['status']}"


def assert_active(alertmanager: Alertmanager, target: Labels) -> None:
    """Call only after a control alert was seen suppressed: then the inhibitor already knows
    every source posted with it, and "active" is its verdict, not a not-yet-processed state."""
    alert = alertmanager.find(target)
    assert alert is not None, f"{target} is not on the server"
    assert alert["status"]["state"] == "active", f"{target} should stay active: {alert['status']}"
    assert alert["status"]["inhibitedBy"] == [], f"{target}: {alert['status']}"


# -- scenarios --------------------------------------------------------------------------


def test_critical_hides_the_warning_of_the_same_node(alertmanager: Alertmanager, fire) -> None:
    critical = on(rule_labels("HighCPUUsage", "critical"), "node-a:9100")
    warning = on(rule_labels("HighCPUUsage", "warning"), "node-a:9100")
    source, _ = fire(critical, warning)
    assert_inhibited_by(alertmanager, warning, source)
    # The critical itself still pages.
    assert_active(alertmanager, critical)


def test_critical_on_one_node_keeps_the_warning_of_another(
    alertmanager: Alertmanager, fire
) -> None:
    critical = on(rule_labels("HighCPUUsage", "critical"), "node-a:9100")
    control = on(rule_labels("HighCPUUsage", "warning"), "node-a:9100")
    other_node = on(rule_labels("HighCPUUsage", "warning"), "node-b:9100")
    source, _, _ = fire(critical, control, other_node)
    assert_inhibited_by(alertmanager, control, source)
    assert_active(alertmanager, other_node)


def test_exhausted_budget_hides_only_its_own_slos_low_budget_warning(
    alertmanager: Alertmanager, fire
) -> None:
    slo, other = slos_of("ErrorBudgetLow")[:2]
    critical = rule_labels("ErrorBudgetCritical", "critical", slo=slo)
    low = rule_labels("ErrorBudgetLow", "warning", slo=slo)
    other_low = rule_labels("ErrorBudgetLow", "warning", slo=other)
    source, _, _ = fire(critical, low, other_low)
    assert_inhibited_by(alertmanager, low, source)
    assert_active(alertmanager, other_low)


def test_fast_burn_hides_only_its_own_slos_slow_burn(alertmanager: Alertmanager, fire) -> None:
    slo, other = slos_of("ErrorBudgetBurn")[:2]
    critical = rule_labels("ErrorBudgetBurn", "critical", slo=slo)
    warning = rule_labels("ErrorBudgetBurn", "warning", slo=slo)
    other_warning = rule_labels("ErrorBudgetBurn", "warning", slo=other)
    # The windows differ (long/short labels) yet the warning is still the same alert.
    assert critical["long"] != warning["long"]
    source, _, _ = fire(critical, warning, other_warning)
    assert_inhibited_by(alertmanager, warning, source)
    assert_active(alertmanager, other_warning)


def test_warnings_without_their_critical_stay_active(alertmanager: Alertmanager, fire) -> None:
    """Every warning the rules can raise, on one node, next to one unrelated critical."""
    critical = on(rule_labels("HighMemoryUsage", "critical"), "node-c:9100")
    control = on(rule_labels("HighMemoryUsage", "warning"), "node-c:9100")
    warnings = {
        json.dumps(labels, sort_keys=True): labels
        for rule in RULES
        if rule["labels"]["severity"] == "warning"
        for labels in [on({**rule["labels"], "alertname": rule["alert"]}, "node-c:9100")]
        if labels != control
    }
    assert len(warnings) >= 10, f"only {len(warnings)} distinct warnings in {ALERT_RULES}"
    source, *_ = fire(critical, control, *warnings.values())
    assert_inhibited_by(alertmanager, control, source)
    for labels in warnings.values():
        assert_active(alertmanager, labels)
