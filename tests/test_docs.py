"""Generated docs: a runbook section per alert that runbook_url finds, a guide per panel,
and spec text that cannot break the Markdown."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cli_support import CHECKOUT, ROOT, SAMOKODER
from generated_rules import alert_rules
from yaml_io import load_yaml

from generator import tools
from generator.docs.render import markdown_text
from generator.grafana.lint import lint
from generator.output import write_tree
from generator.plan import service_files
from generator.prometheus.rule_files import RECORDING_FILES
from generator.spec.loader import load, load_text

MAILER = ROOT / "tests" / "fixtures" / "specs" / "mailer.yaml"


def github_anchors(markdown: str) -> list[str]:
    """GitHub's heading anchors, written independently of the generator's own."""
    out, seen = [], {}
    fence = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fence = not fence
        if fence or not (m := re.match(r"^#{1,6} (.+)$", line)):
            continue
        text = re.sub(r"\\(.)", r"\1", m.group(1)).replace("&amp;", "&")
        base = "".join(c for c in text.lower() if c.isalnum() or c in "-_ ").replace(" ", "-")
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.append(base if n == 0 else f"{base}-{n}")
    return out


def generated(tmp_path: Path, text: str | None = None) -> Path:
    service = load(SAMOKODER) if text is None else load_text("spec.yaml", text)
    write_tree(tmp_path, service_files(service))
    return tmp_path / service.name


def test_every_alert_has_the_section_its_runbook_url_points_to(tmp_path: Path) -> None:
    out = generated(tmp_path)
    alerts_md = (out / "docs/alerts.md").read_text()
    anchors = github_anchors(alerts_md)
    rules = alert_rules(out / "prometheus")
    names = list(dict.fromkeys(r["alert"] for r in rules))
    # One section per alert name, and one per SLO for its burn-rate alerts.
    headings = re.findall(r"^## (\w+)(?:: ([\w-]+))?$", alerts_md, re.M)
    assert list(dict.fromkeys(alert for alert, _ in headings)) == names
    burn = {(r["alert"], r["labels"]["slo"]) for r in rules if "long" in r["labels"]}
    assert {h for h in headings if h[1]} == burn
    for rule in rules:
        url = rule["annotations"]["runbook_url"]
        path, anchor = url.split("#")
        # An address a pager can open (runbook_base_url), serving this very file.
        assert re.fullmatch(r"https://\S+/out/samokoder/docs/alerts\.md", path), url
        assert anchor in anchors, url
    for alert, slo in headings:
        name = f"{alert}: {slo}" if slo else alert
        section = alerts_md.split(f"\n## {name}\n")[1].split("\n## ")[0]
        assert re.findall(r"^(\d)\. ", section, re.M) == ["1", "2", "3"], name
        assert "| Severity |" in section or "| SLO | Severity |" in section
        assert "Telegram chat -1001234567890" in section
        assert "](<dashboard.md#" in section, name
        assert "](<https://grafana.samokoder.example/d/" in section, name


def test_severity_routing_is_spelled_out(tmp_path: Path) -> None:
    alerts_md = (generated(tmp_path) / "docs/alerts.md").read_text()
    section = alerts_md.split("\n## HighCPUUsage\n")[1].split("\n## ")[0]
    assert (
        "| warning | above 70% | 10m | Telegram chat -1001234567890, "
        "e-mail to oncall@samokoder.example |"
    ) in section
    assert "| critical | above 90% | 10m | Telegram chat -1001234567890 |" in section
    assert (
        "[CPU](<https://grafana.samokoder.example/d/samokoder-golden-signals?viewPanel=15>) "
        "(row “Saturation”, [guide](<dashboard.md#cpu>))"
    ) in section


def test_dashboard_guide_covers_every_panel_and_links_resolve(tmp_path: Path) -> None:
    out = generated(tmp_path)
    guide = (out / "docs/dashboard.md").read_text()
    board = json.loads((out / "grafana/four-golden-signals.json").read_text())
    titles = [p["title"] for p in board["panels"] if p["type"] != "row"]
    rows = [p["title"] for p in board["panels"] if p["type"] == "row"]
    assert len(titles) == 22
    headings = [
        re.sub(r"\\(.)", r"\1", h).replace("&amp;", "&")
        for h in re.findall(r"^#{2,3} (.+)$", guide, re.M)
    ]
    assert set(titles) | set(rows) <= set(headings)
    anchors = github_anchors(guide)
    alerts_md = (out / "docs/alerts.md").read_text()
    for target in re.findall(r"\(<dashboard\.md#([^>]+)>\)", alerts_md):
        assert target in anchors, target
    alert_anchors = github_anchors(alerts_md)
    for target in re.findall(r"\(<alerts\.md#([^>]+)>\)", guide):
        assert target in alert_anchors, target
    cpu = guide.split("\n### CPU\n")[1].split("\n### ")[0]
    assert "Colours: green: below 70%; yellow: 70% to 90%; red: 90% and above." in cpu
    assert "- [ ] “Memory” (Saturation) is green: below 80%." in guide


HOSTILE = "## Owned | x | <script>alert(1)</script> [link](http://evil) `tick` *bold*\n# Two"


def test_spec_text_cannot_change_the_document_structure(tmp_path: Path) -> None:
    data = load_yaml(SAMOKODER.read_text())
    data["thresholds"][0]["description"] = HOSTILE
    data["signals"]["node_cpu_utilisation"]["help"] = "1. " + HOSTILE
    data["dashboard"]["rows"][4]["panels"][0]["description"] = "- " + HOSTILE
    out = generated(tmp_path, yaml.safe_dump(data, sort_keys=False))
    plain = generated(tmp_path / "plain")
    for name in ("alerts.md", "dashboard.md"):
        text = (out / "docs" / name).read_text()
        assert "<script>" not in text
        assert "\\[link\\](http://evil)" in text  # shown as text, not a link
        shape = [
            (line[:3], line.count("|") - line.count("\\|"))
            for line in text.splitlines()
            if line.startswith(("#", "|", "- ", "1."))
        ]
        plain_text = (plain / "docs" / name).read_text()
        plain_shape = [
            (line[:3], line.count("|") - line.count("\\|"))
            for line in plain_text.splitlines()
            if line.startswith(("#", "|", "- ", "1."))
        ]
        assert shape == plain_shape, name


def test_markdown_text_escapes() -> None:
    assert markdown_text("a|b") == "a\\|b"
    assert markdown_text("# x\ny") == "\\# x y"
    assert markdown_text("1. x") == "1\\. x"
    assert markdown_text("<b>&") == "&lt;b&gt;&amp;"
    assert markdown_text("a_b *c* [d]") == "a\\_b \\*c\\* \\[d\\]"


def _without_texts(data: dict) -> dict:
    """Return the spec without any help, panel description or threshold description."""
    data = copy.deepcopy(data)
    for section in ("metrics", "signals"):
        for item in data.get(section, {}).values():
            item.pop("help", None)
    for row in data.get("thresholds", []):
        row.pop("description", None)
    for row in (data.get("dashboard") or {}).get("rows", []):
        for panel in row["panels"]:
            panel.pop("description", None)
    return data


def test_a_panel_description_is_optional_as_the_readme_says(tmp_path: Path) -> None:
    """The README lists `description` among a panel's optional fields; without it (and
    without any help text to borrow) every panel still gets one, and the lint is clean."""
    readme = (ROOT / "README.md").read_text()
    assert re.search(r"^- Optional: .*`description`", readme, re.M)
    data = _without_texts(load_yaml(SAMOKODER.read_text()))
    out = generated(tmp_path, yaml.safe_dump(data, sort_keys=False))
    board = json.loads((out / "grafana/four-golden-signals.json").read_text())
    assert lint(board) == []
    texts = [p["description"] for p in board["panels"] if p["type"] != "row"]
    assert len(texts) == 22 and all(t.strip() for t in texts)


# A sentence ends before "Now"; the value follows a verb, never a bare noun phrase.
_RUN_ON = re.compile(r"[^.!?] Now \{\{")


@pytest.mark.parametrize("texts", ["none", "help without a full stop", "as written"])
def test_fallback_alert_descriptions_read_as_sentences(tmp_path: Path, texts: str) -> None:
    data = load_yaml(MAILER.read_text())
    if texts == "none":
        data = _without_texts(data)
    elif texts == "help without a full stop":
        for item in data["signals"].values():
            item["help"] = item["help"].rstrip(".")
    out = generated(tmp_path, yaml.safe_dump(data, sort_keys=False))
    rules = alert_rules(out / "prometheus")
    for rule in rules:
        text = rule["annotations"]["description"]
        assert not _RUN_ON.search(text), text
        assert (text[0].isupper() or text.startswith("{{")) and text.endswith("."), text


def test_slo_series_are_named_by_what_they_are() -> None:
    """No series recorded for one SLO type carries another type's word in its name (the
    latency SLO once got `<service>_availability_slo_current{slo="latency"}`)."""
    types = json.loads((ROOT / "generator/spec/schema.json").read_text())
    kinds = types["$defs"]["slo"]["properties"]["slo_type"]["enum"]
    for spec in (SAMOKODER, CHECKOUT, MAILER):
        service = load(spec)
        files = service_files(service)
        rules = [
            r
            for name in RECORDING_FILES
            for g in load_yaml(files[f"{service.name}/prometheus/{name}"])["groups"]
            for r in g["rules"]
        ]
        for rule in rules:
            own = (rule.get("labels") or {}).get("slo_type")
            if own is None:
                continue
            others = [k for k in kinds if k != own and k in rule["record"]]
            assert not others, f"{spec.name}: {rule['record']} is recorded for a {own} SLO"


# -- the README's console examples are real ---------------------------------------------------

# A fenced block after this comment is the output of the console block just above it (the
# diff report reads better rendered as Markdown).
OUTPUT_MARK = "<!-- output of the last command above -->"
_BLOCK = re.compile(
    r"```console\n(.*?)```\n(?:(?:(?!```).)*?" + re.escape(OUTPUT_MARK) + r"\s*```\w*\n(.*?)```)?",
    re.S,
)
# Only what differs from run to run: the base commit's short hash.
_COMMIT = re.compile(r"\(([0-9a-f]{7,40})\)")


def console_examples(readme: str) -> list[list[tuple[str, str]]]:
    """Return each ```console block as ``[(command, expected output)]``."""
    examples = []
    for match in _BLOCK.finditer(readme):
        steps: list[list[str]] = []
        lines = match.group(1).splitlines()
        assert lines and lines[0].startswith("$ "), f"a console example starts with $: {lines}"
        for line in lines:
            if line.startswith("$ "):
                steps.append([line[2:], ""])
            elif steps[-1][0].endswith("\\") and not steps[-1][1]:
                steps[-1][0] += "\n" + line
            else:
                steps[-1][1] += line + "\n"
        if match.group(2):
            assert not steps[-1][1], "output both inside and after the console block"
            steps[-1][1] = match.group(2)
        examples.append([(cmd, out) for cmd, out in steps])
    return examples


def sandbox(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """Return a checkout-like folder (the specs and out/ committed on main, on a feature
    branch; .tools linked) and the environment the examples run in: the project's Python as
    ``python``, promtool 3.5 and vmalert-tool on PATH."""
    work = tmp_path / "repo"
    shutil.copytree(ROOT / "slo_specs", work / "slo_specs")
    shutil.copytree(ROOT / "out", work / "out")
    (work / ".tools").symlink_to(ROOT / ".tools")
    git = [
        "git",
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.org",
        "-c",
        "commit.gpgsign=false",
    ]
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["commit", "-qm", "base"],
        ["checkout", "-qb", "feature"],
    ):
        subprocess.run([*git, *args], cwd=work, check=True, capture_output=True)
    bins = [
        Path(sys.executable).parent,
        tools.PROMETHEUS_3_5.tool("promtool").parent,
        tools.VICTORIAMETRICS.tool("vmalert-tool").parent,
    ]
    path = os.pathsep.join([*map(str, bins), os.environ.get("PATH", "")])
    return work, {**os.environ, "PATH": path, "PYTHONPATH": str(ROOT), "LC_ALL": "C.UTF-8"}


def run_example(steps: list[tuple[str, str]], tmp_path: Path) -> list[tuple[str, str, str, int]]:
    """Run an example's commands one by one in bash, as typed (cd and $? carry over);
    return ``(command, expected output, real output, exit status)``."""
    cwd, env = sandbox(tmp_path)
    status, out = 0, []
    where = tmp_path / "cwd"
    for command, expected in steps:
        script = f'cd "{cwd}"\n(exit {status})\n{command}\nrc=$?\npwd > "{where}"\nexit $rc\n'
        proc = subprocess.run(
            ["bash", "-c", script],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=600,
            check=False,
        )
        status, cwd = proc.returncode, Path(where.read_text().strip())
        out.append((command, expected, proc.stdout, status))
    return out


EXAMPLES = console_examples((ROOT / "README.md").read_text())


def test_the_readme_has_console_examples() -> None:
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize(
    "steps", EXAMPLES, ids=[f"{i}-{s[0][0].split()[0]}" for i, s in enumerate(EXAMPLES)]
)
def test_a_readme_console_example_prints_what_the_readme_shows(
    steps: list[tuple[str, str]], tmp_path: Path
) -> None:
    ran = run_example(steps, tmp_path)
    for i, (command, expected, actual, status) in enumerate(ran):
        want = _COMMIT.sub("(<commit>)", expected)
        got = _COMMIT.sub("(<commit>)", actual)
        assert got == want, f"$ {command}\n--- README\n{want}--- real\n{got}"
        shown = i + 1 < len(ran) and ran[i + 1][0].startswith("echo $?")
        # `diff` exits 1 when out/ changed, which its printed report shows.
        if not shown and not command.startswith("python -m generator diff"):
            assert status == 0, f"$ {command} exited {status}"
