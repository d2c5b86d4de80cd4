"""Alertmanager config: amtool 0.28.1 and 0.33.1 validate it, and route every alert rule as the
spec says."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from cli_support import SAMOKODER, routes_test, run_cli
from generated_rules import alert_rules
from yaml_io import load_yaml

from generator import tools
from generator.alertmanager import route_file
from generator.alertmanager_config import FILE as ALERTMANAGER_FILE
from generator.output import write_tree
from generator.plan import service_files, shared_files
from generator.spec.errors import SpecInvalid
from generator.spec.loader import load, load_text

PAGER = "/etc/alertmanager/secrets/pager_url"


@pytest.fixture(
    scope="module",
    params=tools.CONFIG_ALERTMANAGERS,
    ids=[e.name for e in tools.CONFIG_ALERTMANAGERS],
)
def amtool(request) -> Path:
    return request.param.tool("amtool")


def spec_text(pager: bool, email: bool = True) -> str:
    data = load_yaml(SAMOKODER.read_text())
    if pager:
        data["routing"]["pager"] = {"url_file": PAGER}
    if not email:
        del data["routing"]["email"]
    return yaml.safe_dump(data, sort_keys=False)


def generate(tmp_path: Path, text: str) -> Path:
    """Write the service's files and the tree's ``alertmanager.yml``; return its folder."""
    service = load_text(str(tmp_path / "spec.yaml"), text)
    write_tree(tmp_path / "out", {**service_files(service), **shared_files([service])})
    return tmp_path / "out" / service.name


def expected(spec: dict, severity: str) -> str:
    """Receivers as the spec's routing section reads (the contract in the issue), named
    ``<service>/<name>`` as in the shared config."""
    routing = spec["routing"]
    if severity == "critical":
        names = ["telegram", "pager"] if "pager" in routing else ["telegram"]
    else:
        names = ["telegram", "email"] if "email" in routing else ["telegram"]
    return ",".join(f"{spec['service']}/{n}" for n in names)


@pytest.mark.parametrize(
    ("pager", "email"),
    [(False, True), (True, True), (True, False)],
    ids=["seed", "pager", "no-email"],
)
def test_amtool_checks_the_config_and_routes_every_alert(
    amtool: Path, tmp_path: Path, pager: bool, email: bool
) -> None:
    text = spec_text(pager, email)
    out = generate(tmp_path, text)
    config = out.parent / ALERTMANAGER_FILE
    check = tools.run(amtool, "check-config", config)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "SUCCESS" in check.stdout
    spec = load_yaml(text)
    rules = alert_rules(out / "prometheus")
    assert len(rules) >= 30
    seen = set()
    for rule in rules:
        labels = {**rule["labels"], "alertname": rule["alert"]}
        want = expected(spec, labels["severity"])
        proc = routes_test(amtool, config, labels, want.split(","))
        assert proc.returncode == 0, (rule["alert"], labels, proc.stdout, proc.stderr)
        assert proc.stdout.strip() == want
        seen.add((rule["alert"], labels["severity"], want))
    assert {s for _, s, _ in seen} == {"warning", "critical"}


def test_a_wrong_expectation_fails(amtool: Path, tmp_path: Path) -> None:
    """The route test can fail: a warning never reaches the pager."""
    out = generate(tmp_path, spec_text(pager=True))
    labels = {"severity": "warning", "service": "samokoder", "alertname": "HighCPUUsage"}
    want = ["samokoder/telegram", "samokoder/pager"]
    proc = routes_test(amtool, out.parent / ALERTMANAGER_FILE, labels, want)
    assert proc.returncode != 0


def test_inhibitions_and_grouping() -> None:
    service = load(SAMOKODER)
    cfg = route_file(service)
    assert cfg is not None
    assert cfg["route"]["group_by"] == ["alertname", "service", "slo"]
    # What the inhibitions do is proven on live servers (test_alertmanager_inhibition.py).
    severity, budget = cfg["inhibit_rules"]
    assert severity["source_matchers"] == ['service="samokoder"', 'severity="critical"']
    assert severity["target_matchers"] == ['service="samokoder"', 'severity="warning"']
    assert budget["source_matchers"][1:] == ['alertname="ErrorBudgetCritical"']
    assert budget["target_matchers"][1:] == ['alertname="ErrorBudgetLow"']
    assert severity["equal"] == ["alertname", *budget["equal"]]


def test_secrets_come_from_files_and_never_reach_out(tmp_path: Path) -> None:
    token = "123456:SECRET-bot-token-never-in-out"
    secret = tmp_path / "telegram_bot_token"
    secret.write_text(token)
    text = spec_text(pager=True).replace(
        "/etc/alertmanager/secrets/telegram_bot_token", str(secret)
    )
    out = generate(tmp_path, text)
    body = (out / "alertmanager" / "route.yml").read_text()
    receivers = load_yaml(body)["receivers"]
    tg = receivers[0]["telegram_configs"][0]
    assert tg["bot_token_file"] == str(secret) and "bot_token" not in tg
    mail = receivers[1]["email_configs"][0]
    assert "auth_password" not in mail and mail["auth_password_file"].startswith("/")
    assert receivers[2]["webhook_configs"][0] == {"url_file": PAGER, "send_resolved": True}
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert token not in path.read_text(errors="replace"), path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "bot_token_file: /etc/alertmanager/secrets/telegram_bot_token",
            "bot_token: '123:abc'",
            "unknown field 'bot_token'",
        ),
        (
            "auth_password_file: /etc/alertmanager/secrets/smtp_password",
            "auth_password: hunter2",
            "unknown field 'auth_password'",
        ),
        (
            "bot_token_file: /etc/alertmanager/secrets/telegram_bot_token",
            "bot_token_file: secrets/token",
            "routing.telegram.bot_token_file: 'secrets/token' is not valid",
        ),
        (
            "bot_token_file: /etc/alertmanager/secrets/telegram_bot_token",
            "bot_token_file: /etc/alertmanager/../../srv/repo/token",
            "is not a plain absolute path",
        ),
        ("    auth_password_file: /etc/alertmanager/secrets/smtp_password\n", "", "needs both"),
        ("chat_id: -1001234567890", "chat_id: 0", "0 is not a Telegram chat id"),
    ],
)
def test_bad_routing_is_a_spec_error(tmp_path: Path, old: str, new: str, message: str) -> None:
    text = SAMOKODER.read_text()
    assert text.count(old) == 1
    spec = tmp_path / "samokoder.yaml"
    spec.write_text(text.replace(old, new))
    with pytest.raises(SpecInvalid) as info:
        load(spec)
    assert any(message in str(e) for e in info.value.errors), info.value.errors
    proc = run_cli("validate", "--spec", spec)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"{spec}:" in proc.stderr or "samokoder.yaml:" in proc.stderr
