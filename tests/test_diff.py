"""The semantic diff: a threshold edit, regenerated, names exactly that alert and its panels."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from cli_support import SAMOKODER, run_cli

from generator.diff import budget_minutes, expr_changes, report

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
    first = text.index("for: 10m")
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
