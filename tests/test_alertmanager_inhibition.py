"""The generated inhibitions, applied by real Alertmanagers (every CONFIG_ALERTMANAGERS).

amtool can check the syntax of ``inhibit_rules`` but not what they do. Here each spec's
generated ``out/alertmanager.yml`` is loaded into a running server, alerts carrying the labels of
the generated alert rules are posted to its v2 API, and the server's own verdict
(``status.state`` and ``status.inhibitedBy`` of ``GET /api/v2/alerts``) is compared with the
contract: a critical hides the warning of the same alert on the same series (and
``ErrorBudgetCritical`` its SLO's ``ErrorBudgetLow``), and nothing else.

An alert's labels are read from what the engines proved: the ``exp_labels`` of the generated
unit tests (promtool checks them against the real rules), plus the ``by`` labels of the
recorded series an alert reads, which a synthetic test input may leave out.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import re
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from cli_support import CHECKOUT, ROOT, SAMOKODER
from e2e.prom import _ready, _stop, free_port
from generated_rules import rules_in
from yaml_io import load_yaml

from generator import tools
from generator.alertmanager_config import FILE as ALERTMANAGER_FILE
from generator.output import write_tree
from generator.plan import service_files, shared_files
from generator.spec.loader import load
from generator.spec.model import BUDGET_CRITICAL_ALERT, BUDGET_LOW_ALERT

MAILER = ROOT / "tests" / "fixtures" / "specs" / "mailer.yaml"
# Every spec with a routing section; checkout has none, so it gets a copy of Samokoder's.
SPECS = (SAMOKODER, MAILER, CHECKOUT)

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

    def groups(self) -> list[dict]:
        """Return GET /api/v2/alerts/groups: one entry per notification group."""
        with urllib.request.urlopen(f"{self.url}/api/v2/alerts/groups", timeout=10) as resp:
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
def engine(request) -> tools.Engine:
    return request.param


@contextlib.contextmanager
def running(engine: tools.Engine, config: Path, work: Path) -> Iterator[Alertmanager]:
    """Run one Alertmanager on ``config`` (a lone server on a free port) while in the block."""
    # ToolMissing (not a skip) says how to install the binaries.
    binary = engine.tool("alertmanager")
    # The config names /etc/alertmanager/secrets/* files, which Alertmanager reads only when
    # it sends a notification; being absent, they guarantee nothing is sent from a test.
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


def generated(spec: Path, out: Path) -> Path:
    """Generate ``spec`` into ``out`` and return its service folder; a spec without routing
    borrows Samokoder's, so every spec's alerts meet a real config."""
    data = load_yaml(spec.read_text())
    if "routing" not in data:
        seed = load_yaml(SAMOKODER.read_text())
        data["routing"] = seed["routing"]
        data.setdefault("runbook_base_url", "https://runbooks.example.org/checkout")
    copy = out.parent / spec.name
    copy.write_text(yaml.safe_dump(data, sort_keys=False))
    service = load(copy)
    write_tree(out, {**service_files(service), **shared_files([service])})
    return out / service.name


# -- alerts as the generated rules label them -------------------------------------------


def _rules(out: Path, kind: str) -> list[dict]:
    return [r for r in rules_in(out / "prometheus") if kind in r]


def fired(out: Path) -> list[Labels]:
    """Every alert the generated unit tests expect to fire, alertname included, once each."""
    seen: dict[str, Labels] = {}
    for path in sorted((out / "prometheus" / "tests").glob("*.yml")):
        for test in load_yaml(path.read_text()).get("tests") or []:
            for case in test.get("alert_rule_test") or []:
                for exp in case.get("exp_alerts") or []:
                    labels = {k: str(v) for k, v in exp["exp_labels"].items()}
                    labels["alertname"] = case["alertname"]
                    seen[key(labels)] = labels
    return list(seen.values())


_BY = re.compile(r"\bby\s*\(([^)]*)\)")
_NAME = re.compile(r"[A-Za-z_:][\w:]*")


def kept_labels(out: Path, alertname: str) -> set[str]:
    """Return the ``by`` labels of an alert's expression and of the recorded series it reads
    (a synthetic test input may not carry them); ``le`` is consumed by the quantile."""
    records = {r["record"]: r["expr"] for r in _rules(out, "record")}
    exprs = [r["expr"] for r in _rules(out, "alert") if r["alert"] == alertname]
    exprs += [records[n] for e in list(exprs) for n in _NAME.findall(e) if n in records]
    kept = {x.strip() for e in exprs for m in _BY.finditer(e) for x in m.group(1).split(",")}
    return kept - {"", "le"}


def key(labels: Labels) -> str:
    return json.dumps(labels, sort_keys=True)


def hidden_by(alertname: str) -> tuple[str, ...]:
    """The alert names a critical ``alertname`` may hide (the contract in the README)."""
    return (alertname, BUDGET_LOW_ALERT) if alertname == BUDGET_CRITICAL_ALERT else (alertname,)


def _iso(offset: float) -> str:
    return (datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=offset)).isoformat()


def _alert(labels: Labels) -> Alert:
    return {"labels": labels, "startsAt": _iso(-60), "endsAt": _iso(3600)}


def verdicts(am: Alertmanager, hidden: dict[str, tuple[Labels, Labels]], shown: list[Labels]):
    """Post every alert; wait until each of ``hidden`` is suppressed, then assert that each
    target is inhibited by exactly its own critical and that every alert of ``shown`` is
    active (the inhibitor knows every source by then: they came in the same request)."""
    everything = [t for t, _ in hidden.values()] + shown
    am.post([_alert(labels) for labels in everything])

    def states() -> dict[str, dict] | None:
        by_key = {key(a["labels"]): a for a in am.alerts()}
        done = all(k in by_key for k in map(key, everything)) and all(
            by_key[k]["status"]["state"] == "suppressed" for k in hidden
        )
        return by_key if done else None

    by_key = am.wait_for(f"{len(hidden)} same-series warnings to be suppressed", states)
    fingerprint = {key(a["labels"]): a["fingerprint"] for a in by_key.values()}
    for k, (target, source) in hidden.items():
        status = by_key[k]["status"]
        assert status["inhibitedBy"] == [fingerprint[key(source)]], (target, status)
    wrongly = [(labels, by_key[key(labels)]["status"]) for labels in shown]
    wrongly = [(labels, s) for labels, s in wrongly if s["state"] != "active" or s["inhibitedBy"]]
    assert not wrongly, f"{len(wrongly)} alerts of other series were inhibited: {wrongly[:5]}"


# -- the contract, for every alert of every spec ----------------------------------------------


@pytest.mark.parametrize("spec", SPECS, ids=[s.stem for s in SPECS])
def test_a_critical_hides_its_own_series_warning_and_no_other(
    engine: tools.Engine, spec: Path, tmp_path: Path
) -> None:
    """For every critical the rules can raise: the warning of the same series (the same
    labels but severity) is inhibited by it, and a warning that differs in any one label
    the alert carries (job, a ``by`` label, instance, slo, burn-rate windows, ...) is not."""
    out = generated(spec, tmp_path / "out")
    alerts = fired(out)
    for rule in _rules(out, "alert"):
        wanted = {**rule["labels"], "alertname": rule["alert"]}
        assert any(wanted.items() <= labels.items() for labels in alerts), (
            f"no generated unit test fires {wanted}; the labels of its alerts are unknown"
        )
    hidden: dict[str, tuple[Labels, Labels]] = {}
    shown: dict[str, Labels] = {}
    for critical in (a for a in alerts if a["severity"] == "critical"):
        shown[key(critical)] = critical
        # A twin of a kind with no warning rule (ErrorBudgetCritical) would itself be a source.
        warned = {a["alertname"] for a in alerts if a["severity"] == "warning"}
        for target in sorted(set(hidden_by(critical["alertname"])) & warned):
            twin = {**critical, "alertname": target, "severity": "warning"}
            hidden[key(twin)] = (twin, critical)
            names = set(critical) | kept_labels(out, critical["alertname"])
            names |= {k for a in alerts if a["alertname"] == target for k in a}
            names |= kept_labels(out, target)
            for name in sorted(names - {"alertname", "severity"}):
                other = {**twin, name: f"{twin[name]}-elsewhere" if name in twin else "elsewhere"}
                shown[key(other)] = other
    for warning in (a for a in alerts if a["severity"] == "warning"):
        if key(warning) not in hidden:
            shown[key(warning)] = warning
    assert not set(hidden) & set(shown)
    assert len(hidden) >= 2, f"{spec.name}: only {len(hidden)} criticals"
    with running(engine, out.parent / ALERTMANAGER_FILE, tmp_path) as am:
        verdicts(am, hidden, list(shown.values()))


def test_a_critical_on_one_queue_keeps_another_queues_warning(
    engine: tools.Engine, tmp_path: Path
) -> None:
    """Issue 14's instance: a threshold signal with ``by: [queue]``."""
    out = generated(MAILER, tmp_path / "out")
    rules = {
        r["labels"]["severity"]: {**r["labels"], "alertname": r["alert"], "job": "mailer-queue"}
        for r in _rules(out, "alert")
        if r["alert"] == "QueueBacklog"
    }
    critical = {**rules["critical"], "queue": "orders"}
    same = {**rules["warning"], "queue": "orders"}
    other = {**rules["warning"], "queue": "emails"}
    with running(engine, out.parent / ALERTMANAGER_FILE, tmp_path) as am:
        verdicts(am, {key(same): (same, critical)}, [critical, other])
