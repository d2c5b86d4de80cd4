"""The semantic diff: a threshold edit, regenerated, names exactly that alert and its panels."""

from __future__ import annotations

import copy
import functools
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from cli_support import ROOT, SAMOKODER, run_cli
from depth import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yaml_io import load_yaml

from generator.diff import budget_minutes, expr_changes, read_yaml, report
from generator.plan import service_files
from generator.prometheus.rule_files import ALERT_FILES, RECORDING_FILES
from generator.spec.loader import load_text

MAILER = ROOT / "tests" / "fixtures" / "specs" / "mailer.yaml"
CLUSTERS = ROOT / "tests" / "fixtures" / "specs" / "clusters.yaml"  # prometheus/<env>/ files

GIT = ("git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        [*GIT, *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout


def edit(spec: Path, old: str, new: str) -> None:
    text = spec.read_text()
    assert text.count(old) == 1, old
    spec.write_text(text.replace(old, new))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with the Samokoder spec and its output committed on main, on a
    feature branch."""
    (tmp_path / "slo_specs").mkdir()
    shutil.copy(SAMOKODER, tmp_path / "slo_specs" / "samokoder.yaml")
    git(tmp_path, "init", "-q", "-b", "main")
    assert run_cli("generate", cwd=tmp_path).returncode == 0
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "base")
    git(tmp_path, "checkout", "-qb", "feature")
    return tmp_path


CPU_ROW = "  - alert: HighCPUUsage\n    signal: node_cpu_utilisation\n    warning: 70\n"


def test_one_threshold_names_that_alert_its_values_and_its_panels(repo: Path) -> None:
    edit(repo / "slo_specs/samokoder.yaml", CPU_ROW, CPU_ROW.replace("70", "75"))
    assert run_cli("generate", cwd=repo).returncode == 0
    proc = run_cli("diff", cwd=repo)
    assert proc.returncode == 1, proc.stderr
    out = proc.stdout
    alerts = out.split("#### Alerts")[1].split("####")[0]
    assert re.findall(r"\*\*(\w+)\*\*", alerts) == ["HighCPUUsage"]
    assert "Changed **HighCPUUsage** (warning):" in alerts
    assert "| threshold | `> 70` | `> 75` |" in alerts
    assert "added" not in alerts and "removed" not in alerts
    # Both panels showing the CPU signal moved their yellow step, and no other panel changed.
    board = out.split("#### Dashboard `grafana/four-golden-signals.json`")[1].split("####")[0]
    assert re.findall(r"Panel \*\*(.+?)\*\*:", board) == ["Saturation (CPU)", "CPU"]
    step = "| thresholds | `base green, 70 yellow, 90 red` | `base green, 75 yellow, 90 red` |"
    assert board.count(step) == 2
    assert "#### Recording rules" not in out and "#### SLOs" not in out
    # The runbook changed too; it is listed, not dissected.
    assert "- `samokoder/docs/alerts.md`: changed" in out


def test_no_change_exits_0_and_a_commit_becomes_the_new_base(repo: Path) -> None:
    proc = run_cli("diff", cwd=repo)
    assert (proc.returncode, proc.stdout) == (0, "No change in out/.\n")
    edit(repo / "slo_specs/samokoder.yaml", CPU_ROW, CPU_ROW.replace("70", "75"))
    run_cli("generate", cwd=repo)
    git(repo, "commit", "-qam", "raise CPU warning")
    assert run_cli("diff", cwd=repo).returncode == 1  # default base: the merge base with main
    assert run_cli("diff", "--base", "HEAD", cwd=repo).returncode == 0


def test_slo_objective_change_reports_the_new_error_budget(repo: Path) -> None:
    edit(repo / "slo_specs/samokoder.yaml", "objective: 99.9\n", "objective: 99.5\n")
    run_cli("generate", cwd=repo)
    out = run_cli("diff", cwd=repo).stdout
    assert (
        "- SLO **availability**: 99.9% over 30d (error budget 43.2 min) -> "
        "99.5% over 30d (error budget 216 min)"
    ) in out
    assert budget_minutes(99.9, 30 * 86400) == "43.2"


def test_it_reads_artifacts_so_a_generator_change_shows(repo: Path) -> None:
    """No spec change: an artifact edited as a changed generator would leave it."""
    alerts = repo / "out/samokoder/prometheus/alerts.yml"
    text = alerts.read_text()
    first = text.index("for: 10m", text.index("alert: HighCPUUsage"))
    alerts.write_text(text[:first] + "for: 5m" + text[first + len("for: 10m") :])
    out = run_cli("diff", cwd=repo).stdout
    assert "Changed **HighCPUUsage** (warning):" in out
    assert "| for | `10m` | `5m` |" in out


def test_errors_exit_2_without_a_traceback(repo: Path, tmp_path_factory) -> None:
    proc = run_cli("diff", "--base", "no-such-ref", cwd=repo)
    assert proc.returncode == 2
    assert "'no-such-ref' is not a commit" in proc.stderr and "Traceback" not in proc.stderr
    elsewhere = tmp_path_factory.mktemp("not-a-repo")
    proc = run_cli("diff", "--out", elsewhere, cwd=elsewhere)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    (repo / "out/samokoder/prometheus/alerts.yml").write_text("groups: [unclosed\n")
    proc = run_cli("diff", cwd=repo)
    assert proc.returncode == 2
    assert "samokoder/prometheus/alerts.yml: cannot read it" in proc.stderr


def _board(*panels: dict) -> bytes:
    return json.dumps({"title": "t", "uid": "u", "panels": list(panels)}).encode()


def _panel(pid: int, title: str, **extra) -> dict:
    return {
        "id": pid,
        "title": title,
        "type": "timeseries",
        "gridPos": {"x": 0, "y": 0, "w": 12, "h": 8},
        "fieldConfig": {"defaults": {"unit": "percent"}},
        "targets": [{"refId": "A", "expr": "up"}],
        **extra,
    }


def test_dashboard_panels_added_removed_renamed_moved_resized_requeried() -> None:
    old = _board(
        _panel(1, "CPU"),
        _panel(2, "Memory"),
        _panel(3, "Disk"),
        {"id": 4, "type": "row", "title": "Folded", "panels": [_panel(5, "Inside")]},
    )
    new = _board(
        _panel(1, "CPU", gridPos={"x": 12, "y": 0, "w": 12, "h": 8}),
        _panel(2, "Memory in use", gridPos={"x": 0, "y": 0, "w": 6, "h": 8}),
        _panel(6, "Network"),
        {
            "id": 4,
            "type": "row",
            "title": "Folded",
            "panels": [
                _panel(
                    5,
                    "Inside",
                    fieldConfig={"defaults": {"unit": "s"}},
                    targets=[{"refId": "A", "expr": "up == 1"}],
                )
            ],
        },
    )
    text = report({"svc/grafana/d.json": old}, {"svc/grafana/d.json": new}, "base")
    assert text is not None
    assert "- renamed panel **Memory** -> **Memory in use**" in text
    assert "- added panel **Network** (timeseries)" in text
    assert "- removed panel **Disk**" in text
    assert "| moved (x, y) | `0, 0` | `12, 0` |" in text
    assert "| resized (w × h) | `12 × 8` | `6 × 8` |" in text
    assert "| unit | `percent` | `s` |" in text
    assert "| query A | `up` | `up == 1` |" in text


def test_expression_changes_are_thresholds_when_they_follow_a_comparison() -> None:
    burn = "a[1h] / 0.001 > 14.4\nand\na[5m] / 0.001 > 14.4"
    assert expr_changes(burn, burn.replace("14.4", "13")) == [("threshold", "> 14.4", "> 13")]
    assert expr_changes('x{a="1"} > 2', 'y{a="1"} > 2') == [
        ("expr", 'x{a="1"} > 2', 'y{a="1"} > 2')
    ]
    assert expr_changes("rate(x[5m]) * 100", "rate(x[5m]) * 1000") == [
        ("number in expr", "100", "1000")
    ]


def test_pipes_in_values_cannot_break_the_table() -> None:
    old = b"groups: [{name: g, rules: [{alert: A, expr: a > 1, annotations: {x: 'p|q'}}]}]"
    new = old.replace(b"p|q", b"p|r")
    text = report({"s/prometheus/alerts.yml": old}, {"s/prometheus/alerts.yml": new}, "b") or ""
    row = next(line for line in text.splitlines() if line.startswith("| annotation"))
    assert row.replace("\\|", "").count("|") == 4


# -- every changed artifact is in the report --------------------------------------------------


def files_of(name: str, text: str) -> dict[str, bytes]:
    """Return the generated files of a spec, keyed as under out/."""
    return dict(service_files(load_text(name, text)))


def section(text: str, heading: str) -> str:
    """Return the body of a ``#### heading`` section of a report ('' when absent)."""
    parts = text.split(f"#### {heading}")
    return parts[1].split("\n####")[0] if len(parts) > 1 else ""


def test_two_jobs_target_down_pairs_both_show_after_a_job_rename() -> None:
    """Issue 14's instance: TargetDown for two jobs differ only in ``job``; renaming one job
    changed 6 lines of alerts.yml and the report had no Alerts section."""
    text = MAILER.read_text()
    old = files_of("mailer.yaml", text)
    new = files_of("mailer.yaml", text.replace('job="mailer-queue"', 'job="mailer-queues"'))
    out = report(old, new, "base") or ""
    alerts = section(out, "Alerts")
    for severity in ("warning", "critical"):
        assert f"- removed **TargetDown** ({severity}, job=mailer-queue)" in alerts
        assert re.search(rf"- added \*\*TargetDown\*\* \({severity}, job=mailer-queues\)", alerts)
    # The other job's pair did not change, so it is not in the report.
    assert "job=mailer-worker" not in alerts


@functools.cache
def base_trees() -> tuple[dict[str, bytes], ...]:
    return tuple(files_of(p.name, p.read_text()) for p in (SAMOKODER, MAILER, CLUSTERS))


LABEL_VALUE = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,10}", fullmatch=True)
LABEL_NAME = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)


def _rule_paths(files: dict[str, bytes], kind: str) -> list[str]:
    """Every plain rule file of ``kind`` that holds a rule: prometheus/<name>, or one per
    environment."""
    names = "|".join(map(re.escape, ALERT_FILES if kind == "alert" else RECORDING_FILES))
    return sorted(
        p
        for p in files
        if re.fullmatch(rf"[^/]+/prometheus/([^/]+/)?({names})", p)
        and any(g["rules"] for g in read_yaml(files[p])["groups"])
    )


def _heading(path: str, kind: str) -> str:
    """The report's section for ``path``: "Alerts", or "Alerts (prod)" for an environment's."""
    env = path.split("/")[2] if path.count("/") == 3 else ""
    return ("Alerts" if kind == "alert" else "Recording rules") + (f" ({env})" if env else "")


def _identity(rule: dict, kind: str) -> tuple[str, dict[str, str]]:
    return str(rule[kind]), {k: str(v) for k, v in (rule.get("labels") or {}).items()}


def _names_rule(report_text: str, heading: str, rule: tuple[str, dict], all_rules: list) -> bool:
    """True when one line of the section names the rule: its name and the value of every
    label that tells it apart from another rule of the same name."""
    name, labels = rule
    siblings = [lab for n, lab in all_rules if n == name and lab != labels]
    telling = {
        k for other in siblings for k in set(labels) | set(other) if labels.get(k) != other.get(k)
    }
    body = section(report_text, heading)
    return any(
        name in line and all(labels[k] in line for k in telling if k in labels)
        for line in body.splitlines()
    )


@st.composite
def rule_edits(draw: st.DrawFn, files: dict[str, bytes], kind: str):
    """Return ``(new files, identities that must be named, the edit, the edited file)`` after
    one random rule edit."""
    path = draw(st.sampled_from(_rule_paths(files, kind)))
    doc = read_yaml(files[path])
    places = [
        (g, r) for g, group in enumerate(doc["groups"]) for r, rule in enumerate(group["rules"])
    ]
    g, r = draw(st.sampled_from(places))
    rule = doc["groups"][g]["rules"][r]
    before = _identity(rule, kind)
    edit = draw(
        st.sampled_from(
            ["label", "drop label", "annotation", "expr", "for", "remove", "add", "rename"]
        )
    )
    if edit == "drop label" and not rule.get("labels"):
        edit = "label"
    if kind == "record" and edit in ("annotation", "for"):
        edit = "expr"
    changed = copy.deepcopy(rule)
    if edit == "label":
        changed.setdefault("labels", {})[draw(LABEL_NAME)] = "x-" + draw(LABEL_VALUE)
    elif edit == "drop label":
        del changed["labels"][draw(st.sampled_from(sorted(changed["labels"])))]
    elif edit == "annotation":
        changed.setdefault("annotations", {})[draw(LABEL_NAME)] = "note " + draw(LABEL_VALUE)
    elif edit == "expr":
        changed["expr"] = f"({changed['expr']}) * {draw(st.integers(2, 9))}"
    elif edit == "for":
        changed["for"] = draw(
            st.sampled_from(["1m", "7m", "2h", "0s"]).filter(lambda f: f != rule.get("for"))
        )
    elif edit == "rename":
        changed[kind] = changed[kind] + ("X" if kind == "alert" else ":x")
    rules = doc["groups"][g]["rules"]
    if edit == "remove":
        del rules[r]
    elif edit == "add":
        changed.setdefault("labels", {})["copy"] = draw(LABEL_VALUE)
        rules.insert(r + 1, changed)
    else:
        rules[r] = changed
    after = _identity(changed, kind)
    new = {**files, path: yaml.safe_dump(doc, sort_keys=False, allow_unicode=True).encode()}
    named = [before] if edit != "add" else [after]
    if edit not in ("remove", "add") and after != before:
        named.append(after)
    return new, named, edit, path


@settings(
    max_examples=examples(deep=80, quick=20), deadline=None, suppress_health_check=list(HealthCheck)
)
@given(data=st.data())
def test_every_edited_rule_is_named_in_the_report(data: st.DataObject) -> None:
    files = base_trees()[data.draw(st.integers(0, len(base_trees()) - 1), label="tree")]
    kind = data.draw(st.sampled_from(["alert", "record"]))
    new, named, edit, path = data.draw(rule_edits(files, kind))
    text = report(files, new, "base")
    assert text is not None, edit
    heading = _heading(path, kind)
    every = []
    for tree in (files, new):
        doc = read_yaml(tree[path])
        every += [_identity(r, kind) for g in doc["groups"] for r in g["rules"]]
    for identity in named:
        assert _names_rule(text, heading, identity, every), (edit, identity, text)


def _flat_panels(board: dict) -> list[dict]:
    return [p for top in board["panels"] for p in (top, *(top.get("panels") or []))]


@settings(
    max_examples=examples(deep=50, quick=12), deadline=None, suppress_health_check=list(HealthCheck)
)
@given(data=st.data())
def test_every_edited_panel_is_named_in_the_report(data: st.DataObject) -> None:
    files = base_trees()[0]  # Samokoder: the tree with a dashboard
    path = next(p for p in sorted(files) if p.endswith(".json"))
    board = json.loads(files[path])
    flat = _flat_panels(board)
    panel = flat[data.draw(st.integers(0, len(flat) - 1), label="panel")]
    old_title = panel["title"]
    edit = data.draw(
        st.sampled_from(
            ["title", "x", "w", "unit", "query", "description", "id", "type", "remove", "add"]
        )
    )
    named = [old_title]
    if edit == "title":
        panel["title"] = old_title + " " + data.draw(LABEL_VALUE)
        named = [panel["title"]]
    elif edit in ("x", "w"):
        panel["gridPos"][edit] += data.draw(st.integers(1, 4))
    elif edit == "unit":
        panel.setdefault("fieldConfig", {}).setdefault("defaults", {})["unit"] = "x" + data.draw(
            LABEL_VALUE
        )
    elif edit == "query" and panel.get("targets"):
        panel["targets"][0]["expr"] = (
            f"({panel['targets'][0]['expr']}) > {data.draw(st.integers(1, 9))}"
        )
    elif edit == "description":
        panel["description"] = "about " + data.draw(LABEL_VALUE)
    elif edit in ("id", "query"):
        panel["id"] = 1000 + data.draw(st.integers(0, 99))
    elif edit == "type":
        panel["type"] = "x" + panel["type"]
    elif edit in ("remove", "add"):
        holder = next(h for h in [board, *board["panels"]] if panel in (h.get("panels") or []))
        if edit == "remove":
            holder["panels"].remove(panel)
        else:
            twin = {**copy.deepcopy(panel), "id": 2000, "title": "New " + data.draw(LABEL_VALUE)}
            holder["panels"].append(twin)
            named = [twin["title"]]
    new = {**files, path: json.dumps(board, indent=2).encode()}
    text = report(files, new, "base")
    assert text is not None, edit
    body = section(text, f"Dashboard `{path.split('/', 1)[1]}`")
    for title in named:  # a repeated title is shown as "title #2"
        assert re.search(rf"\*\*{re.escape(title)}( #\d+)?\*\*", body), (edit, title, text)


def test_an_untouched_tree_reports_nothing() -> None:
    for files in base_trees():
        assert report(files, dict(files), "base") is None


def _edit_yaml(text: str, edit) -> str:
    doc = load_yaml(text)
    edit(doc)
    return yaml.safe_dump(doc)


def _labels_as_list(doc: dict) -> None:
    doc["groups"][0]["rules"][0]["labels"] = ["team", "severity"]


def _rules_as_mapping(doc: dict) -> None:
    doc["groups"][0]["rules"] = {"first": doc["groups"][0]["rules"][0]}


WRONG_SHAPES = {
    "labels as a list": ("prometheus/alerts.yml", lambda t: _edit_yaml(t, _labels_as_list)),
    "rules as a mapping": (
        "prometheus/recording_rules.yml",
        lambda t: _edit_yaml(t, _rules_as_mapping),
    ),
    "a group as text": ("prometheus/alerts.yml", lambda t: "groups: [samokoder]\n"),
    "panels as a mapping": (
        "grafana/four-golden-signals.json",
        lambda t: json.dumps({**json.loads(t), "panels": {"a": 1}}),
    ),
    "a panel as a number": (
        "grafana/four-golden-signals.json",
        lambda t: json.dumps({**json.loads(t), "panels": [7]}),
    ),
}


@pytest.mark.parametrize("shape", WRONG_SHAPES)
def test_an_artifact_of_the_wrong_shape_exits_2_never_1(repo: Path, shape: str) -> None:
    """Exit 1 means "changed" (CI passes on it): an artifact the report cannot read, however
    it is broken, exits 2 with one message and no traceback."""
    rel, reshape = WRONG_SHAPES[shape]
    path = repo / "out" / "samokoder" / rel
    path.write_text(reshape(path.read_text()))
    proc = run_cli("diff", cwd=repo)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("diff: ") and len(proc.stderr.strip().splitlines()) == 1, (
        proc.stderr
    )
