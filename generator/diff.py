"""A semantic diff of generated artifacts, as a Markdown report fit for a pull request comment.

It compares the files under ``out/`` at a git ref with the working tree. It reads the
artifacts, never the spec, so a generator change that alters output shows up too.
"""

from __future__ import annotations

import difflib
import json
import re
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path

import jsonschema
import yaml

from . import signals as names
from .output import Files, read_tree
from .prometheus.rule_files import ALERT_FILES, FILES, RECORDING_FILES
from .promql import format_duration, format_number, parse_duration

DEFAULT_BRANCHES = ("main", "origin/main")
# Labels the generator sets to tell apart rules that share an alert name.
RULE_IDENTITY = ("severity", "slo", "long", "short")
_NUMBER = re.compile(r"(?<![\w.:])-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w.])")
_COMPARISON = re.compile(r"(>=|<=|==|!=|>|<)\s*$")
_PERIOD_RATIO = re.compile(re.escape(names.slo_error_ratio(0).removesuffix("0s")) + r"(\w+)")

Lines = list[str]


class DiffError(Exception):
    """The diff could not be made (not a git repository, unknown ref, unreadable artifact)."""


# -- reading both sides ----------------------------------------------------------------------


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    try:
        proc = subprocess.run(
            ["git", "-C", str(repo), *args], input=stdin, capture_output=True, check=False
        )
    except FileNotFoundError:
        raise DiffError("git is not installed") from None
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise DiffError(f"git {' '.join(args)}: {message[-1] if message else 'failed'}")
    return proc.stdout


def repo_root(path: Path) -> Path:
    """Return the top folder of the git repository holding ``path``."""
    probe = path if path.is_dir() else path.parent
    while not probe.exists():
        probe = probe.parent
    return Path(_git(probe, "rev-parse", "--show-toplevel").decode().strip())


def resolve_base(repo: Path, base: str | None) -> tuple[str, str]:
    """Return ``(commit, how it was chosen)``: ``base``, else the merge base with main, else
    HEAD."""
    if base:
        try:
            commit = _git(repo, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
        except DiffError:
            raise DiffError(f"{base!r} is not a commit, branch or tag of {repo}") from None
        return commit.decode().strip(), f"`{base}`"
    for branch in DEFAULT_BRANCHES:
        try:
            commit = _git(repo, "merge-base", "HEAD", branch)
        except DiffError:
            continue
        return commit.decode().strip(), f"the merge base with `{branch}`"
    return _git(repo, "rev-parse", "--verify", "HEAD").decode().strip(), "`HEAD`"


def files_at(repo: Path, commit: str, folder: str) -> Files:
    """Return the files under ``folder`` (relative to the repo) at ``commit``, keyed below it."""
    listing = _git(repo, "ls-tree", "-r", "-z", "--name-only", commit, "--", folder)
    paths = [p for p in listing.decode("utf-8").split("\0") if p]
    if not paths:
        return {}
    # One `git cat-file --batch` reads every blob in a single process.
    data = _git(
        repo, "cat-file", "--batch", stdin="".join(f"{commit}:{p}\n" for p in paths).encode()
    )
    out: Files = {}
    pos = 0
    prefix = folder.rstrip("/") + "/" if folder not in ("", ".") else ""
    for path in paths:
        end = data.index(b"\n", pos)
        size = int(data[pos:end].split()[2])
        out[path.removeprefix(prefix)] = data[end + 1 : end + 1 + size]
        pos = end + 1 + size + 1
    return out


# -- Markdown helpers ------------------------------------------------------------------------


def code(value: object) -> str:
    """Return ``value`` as an inline code span that survives a Markdown table cell."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    text = " ".join(text.split()).replace("|", "\\|")
    fence = "``" if "`" in text else "`"
    return f"{fence} {text} {fence}" if fence == "``" else f"`{text}`"


def _table(rows: list[tuple[str, object, object]]) -> Lines:
    out = ["| what | old | new |", "|---|---|---|"]
    for what, old, new in rows:
        out.append(f"| {what} | {_cell(old)} | {_cell(new)} |")
    return out


def _cell(value: object) -> str:
    return "—" if value is None else code(value)


def read_yaml(content: bytes) -> object:
    """Return a YAML document's data (safe types only); raises yaml.YAMLError."""
    # libyaml's safe loader when PyYAML has it: a rule file parses about ten times faster.
    return yaml.load(content, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


_TEXT_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
# The shape of a Prometheus rule file, as far as the report reads it: a file edited into
# another shape (labels as a list, say) is an error to report (exit 2), not a crash.
_RULE_FILE = jsonschema.Draft202012Validator(
    {
        "type": ["object", "null"],
        "properties": {
            "groups": {
                "type": ["array", "null"],
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "rules": {
                            "type": ["array", "null"],
                            "items": {
                                "type": "object",
                                "properties": {
                                    "record": {"type": "string"},
                                    "alert": {"type": "string"},
                                    "expr": {"type": ["string", "number"]},
                                    "for": {"type": "string"},
                                    "labels": {"oneOf": [_TEXT_MAP, {"type": "null"}]},
                                    "annotations": {"oneOf": [_TEXT_MAP, {"type": "null"}]},
                                },
                            },
                        },
                    },
                },
            }
        },
    }
)


def read_rules(content: bytes) -> object:
    """Return a rule file's data; raises ValueError where it is not a rule file's shape."""
    doc = read_yaml(content)
    error = next(iter(sorted(_RULE_FILE.iter_errors(doc), key=lambda e: list(e.path))), None)
    if error is not None:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.path)
        raise ValueError(
            f"not a rule file: {where.lstrip('.') or 'the top level'}: {error.message}"
        )
    return doc


def _load(kind: Callable[[bytes], object], path: str, content: bytes | None) -> object:
    if content is None:
        return None
    try:
        return kind(content)
    except (yaml.YAMLError, ValueError) as exc:
        raise DiffError(f"{path}: cannot read it: {exc}") from None


# -- alert and recording rules ---------------------------------------------------------------


RuleKey = tuple[str, tuple[tuple[str, str], ...], int]
# Labels the generator sets to tell apart rules sharing an alert name; always shown.
SHOWN_LABELS = ("severity", "slo", "long", "short")


def _rules(doc: object, kind: str) -> dict[RuleKey, dict]:
    """Return the rules of a rule file keyed by identity: ``(name, every static label as
    sorted (name, value) pairs, occurrence)``. Two rules with the same name and labels (a
    file promtool would reject) are told apart by their occurrence: 1, 2, ..."""
    out: dict[RuleKey, dict] = {}
    groups = doc.get("groups", []) if isinstance(doc, dict) else []
    for group in groups or []:
        for rule in group.get("rules", []) or []:
            if not isinstance(rule, dict) or kind not in rule:
                continue
            labels = tuple(sorted((str(k), str(v)) for k, v in (rule.get("labels") or {}).items()))
            n = 1
            while (str(rule[kind]), labels, n) in out:
                n += 1
            out[(str(rule[kind]), labels, n)] = rule
    return out


def _varying(keys: Iterable[RuleKey]) -> dict[str, set[str]]:
    """Return, per rule name, the labels whose value (or presence) differs between the rules
    sharing it: what a reader needs to tell them apart."""
    by_name: dict[str, list[dict[str, str]]] = {}
    for name, labels, _ in keys:
        by_name.setdefault(name, []).append(dict(labels))
    return {
        name: {k for k in {k for d in sets for k in d} if len({d.get(k) for d in sets}) > 1}
        for name, sets in by_name.items()
    }


def _alert_title(key: RuleKey, varying: set[str]) -> str:
    name, labels, n = key
    d = dict(labels)
    extra = [d["severity"]] if "severity" in d else []
    if d.get("slo"):
        extra.append(f"slo={d['slo']}")
    if "long" in d or "short" in d:
        extra.append(f"{d.get('long', '')}/{d.get('short', '')} windows")
    extra += [f"{k}={d[k]}" if k in d else f"no {k}" for k in sorted(varying - set(SHOWN_LABELS))]
    if n > 1:
        extra.append(f"#{n}")
    return f"**{name}** ({', '.join(extra)})" if extra else f"**{name}**"


def _record_title(key: RuleKey, varying: set[str]) -> str:
    name, labels, n = key
    shown = ", ".join(f'{k}="{v}"' for k, v in labels if k != "service")
    return f"`{name}`" + (f" {{{shown}}}" if shown else "") + (f" #{n}" if n > 1 else "")


def expr_changes(old: str, new: str) -> list[tuple[str, object, object]]:
    """Return how an expression changed: per-number rows when only numbers moved (a
    ``threshold`` when the number follows a comparison), else one ``expr`` row."""
    if _NUMBER.sub("#", old) != _NUMBER.sub("#", new):
        return [("expr", old, new)]
    rows: list[tuple[str, object, object]] = []
    olds, news = list(_NUMBER.finditer(old)), list(_NUMBER.finditer(new))
    for a, b in zip(olds, news, strict=True):
        if a.group() == b.group():
            continue
        op = _COMPARISON.search(old[: a.start()])
        if op:
            row = ("threshold", f"{op.group(1)} {a.group()}", f"{op.group(1)} {b.group()}")
        else:
            row = ("number in expr", a.group(), b.group())
        if row not in rows:  # a burn-rate expr repeats its factor in both windows
            rows.append(row)
    return rows


def _mapping_changes(field: str, old: dict, new: dict) -> list[tuple[str, object, object]]:
    rows: list[tuple[str, object, object]] = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            rows.append((f"{field} `{key}`", old.get(key), new.get(key)))
    return rows


def rule_changes(old: dict, new: dict) -> list[tuple[str, object, object]]:
    """Return ``(what, old, new)`` rows for one rule: expression, ``for``, severity, labels,
    annotations."""
    rows = []
    if old.get("expr") != new.get("expr"):
        rows += expr_changes(str(old.get("expr", "")), str(new.get("expr", "")))
    if old.get("for") != new.get("for"):
        rows.append(("for", old.get("for"), new.get("for")))
    rows += _mapping_changes("label", old.get("labels") or {}, new.get("labels") or {})
    rows += _mapping_changes(
        "annotation", old.get("annotations") or {}, new.get("annotations") or {}
    )
    handled = {"alert", "record", "expr", "for", "labels", "annotations"}
    other = {k: v for k, v in old.items() if k not in handled}
    rows += _mapping_changes("setting", other, {k: v for k, v in new.items() if k not in handled})
    return rows


def group_changes(old: object, new: object) -> Lines:
    """Return one line per rule group added, removed, moved or with other settings changed
    (``interval``, ``limit``, ...), and per group whose rules were reordered."""

    def by_name(doc: object) -> dict[str, dict]:
        groups = doc.get("groups", []) if isinstance(doc, dict) else []
        return {str(g.get("name")): g for g in groups or [] if isinstance(g, dict)}

    og, ng = by_name(old), by_name(new)
    out = [f"- added rule group `{g}`" for g in ng if g not in og]
    out += [f"- removed rule group `{g}`" for g in og if g not in ng]
    if [g for g in og if g in ng] != [g for g in ng if g in og]:
        out.append("- rule groups reordered: " + ", ".join(f"`{g}`" for g in ng))
    for name in (g for g in ng if g in og):
        a, b = og[name], ng[name]
        settings = sorted(k for k in set(a) | set(b) if k != "rules" and a.get(k) != b.get(k))
        out += [
            f"- rule group `{name}`: {k} {_cell(a.get(k))} -> {_cell(b.get(k))}" for k in settings
        ]
        names = [
            [str(r.get("alert", r.get("record"))) for r in g.get("rules") or []] for g in (a, b)
        ]
        if names[0] != names[1] and sorted(names[0]) == sorted(names[1]):
            out.append(f"- rule group `{name}`: rules reordered")
    return out


def _rule_section(
    title: str,
    old: dict[RuleKey, dict],
    new: dict[RuleKey, dict],
    title_of: Callable[[RuleKey, set[str]], str],
    groups: Lines = (),  # type: ignore[assignment]
) -> Lines:
    """Return the Markdown section of one rule file: ``groups`` (from :func:`group_changes`),
    then rules added, removed and changed, each named by its identity."""
    varying = _varying([*old, *new])

    def name(key: RuleKey) -> str:
        return title_of(key, varying.get(key[0], set()))

    added = [k for k in new if k not in old]
    removed = [k for k in old if k not in new]
    changed = [k for k in new if k in old and old[k] != new[k]]
    if not (added or removed or changed or groups):
        return []
    out = [f"#### {title}", "", *groups, *([""] if groups else [])]
    for key in added:
        expr = new[key].get("expr", "")
        out.append(f"- added {name(key)}: {code(expr)}" + _for(new[key]))
    for key in removed:
        out.append(f"- removed {name(key)}")
    if added or removed:
        out.append("")
    for key in changed:
        out += [f"Changed {name(key)}:", "", *_table(rule_changes(old[key], new[key])), ""]
    return out


def _for(rule: dict) -> str:
    return f" for {rule['for']}" if rule.get("for") else ""


# -- SLOs ------------------------------------------------------------------------------------


def slos(recordings: dict[RuleKey, dict]) -> dict[str, tuple[float, int]]:
    """Return ``{slo: (objective %, period seconds)}`` read from the SLO recording rules."""
    objective: dict[str, float] = {}
    period: dict[str, int] = {}
    for key, rule in recordings.items():
        slo = dict(key[1]).get("slo")
        if not slo:
            continue
        expr = str(rule.get("expr", ""))
        if key[0] == names.SLO_OBJECTIVE and (m := _NUMBER.search(expr)):
            objective[slo] = round(float(m.group()) * 100, 9)
        elif key[0] == names.SLO_BUDGET_REMAINING and (m := _PERIOD_RATIO.search(expr)):
            try:
                period[slo] = parse_duration(m.group(1))
            except ValueError:
                continue
    return {s: (objective[s], period.get(s, 0)) for s in objective}


def budget_minutes(objective: float, period: int) -> str:
    """Return the error budget as minutes of full downtime: 99.9 % over 30d -> ``43.2``."""
    return format_number(round((100 - objective) / 100 * period / 60, 6))


def _slo_text(objective: float, period: int) -> str:
    when = f" over {format_duration(period)}" if period else ""
    budget = f" (error budget {budget_minutes(objective, period)} min)" if period else ""
    return f"{format_number(objective)}%{when}{budget}"


def _slo_section(
    old: dict[str, tuple[float, int]], new: dict[str, tuple[float, int]], where: str = ""
) -> Lines:
    out = []
    for slo in sorted(set(old) | set(new)):
        if slo not in old:
            out.append(f"- added SLO **{slo}**: {_slo_text(*new[slo])}")
        elif slo not in new:
            out.append(f"- removed SLO **{slo}** (was {_slo_text(*old[slo])})")
        elif old[slo] != new[slo]:
            out.append(f"- SLO **{slo}**: {_slo_text(*old[slo])} -> {_slo_text(*new[slo])}")
    return [f"#### SLOs{where}", "", *out, ""] if out else []


# -- dashboards ------------------------------------------------------------------------------


def panels(dashboard: dict) -> dict[str, dict]:
    """Return every panel (rows and the panels inside collapsed rows too) keyed by title;
    a repeated title gets `` #2``, `` #3``."""
    return {key: panel for key, (panel, _) in _placed_panels(dashboard).items()}


def _placed_panels(dashboard: dict) -> dict[str, tuple[dict, str | None]]:
    """Return ``{key: (panel, title of the collapsed row holding it, or None)}``."""
    flat: list[tuple[dict, str | None]] = []
    for panel in dashboard.get("panels", []) or []:
        flat.append((panel, None))
        flat.extend((inner, str(panel.get("title"))) for inner in panel.get("panels", []) or [])
    out: dict[str, tuple[dict, str | None]] = {}
    for panel, row in flat:
        title = str(panel.get("title") or f"(untitled {panel.get('type', 'panel')})")
        key, n = title, 1
        while key in out:
            n += 1
            key = f"{title} #{n}"
        out[key] = (panel, row)
    return out


def _steps(panel: dict) -> str | None:
    thresholds = ((panel.get("fieldConfig") or {}).get("defaults") or {}).get("thresholds")
    if not thresholds:
        return None
    parts = []
    for step in thresholds.get("steps", []) or []:
        value = step.get("value")
        at = "base" if value is None else format_number(float(value))
        parts.append(f"{at} {step.get('color', '?')}")
    mode = thresholds.get("mode", "absolute")
    return ", ".join(parts) + ("" if mode == "absolute" else f" ({mode})")


def _unit(panel: dict) -> str | None:
    return ((panel.get("fieldConfig") or {}).get("defaults") or {}).get("unit")


def _targets(panel: dict) -> dict[str, str]:
    out = {}
    for i, target in enumerate(panel.get("targets", []) or []):
        out[str(target.get("refId") or i)] = str(target.get("expr", target))
    return out


_PANEL_HANDLED = {"gridPos", "fieldConfig", "targets", "panels", "title", "id"}


def panel_changes(old: dict, new: dict) -> list[tuple[str, object, object]]:
    """Return ``(what, old, new)`` rows for one panel: position, size, thresholds, unit,
    queries, and the names of any other settings that changed."""
    rows: list[tuple[str, object, object]] = []
    if old.get("id") != new.get("id"):
        rows.append(("id", old.get("id"), new.get("id")))
    og, ng = old.get("gridPos") or {}, new.get("gridPos") or {}
    if (og.get("x"), og.get("y")) != (ng.get("x"), ng.get("y")):
        rows.append(
            ("moved (x, y)", f"{og.get('x')}, {og.get('y')}", f"{ng.get('x')}, {ng.get('y')}")
        )
    if (og.get("w"), og.get("h")) != (ng.get("w"), ng.get("h")):
        rows.append(
            ("resized (w × h)", f"{og.get('w')} × {og.get('h')}", f"{ng.get('w')} × {ng.get('h')}")
        )
    if _steps(old) != _steps(new):
        rows.append(("thresholds", _steps(old), _steps(new)))
    if _unit(old) != _unit(new):
        rows.append(("unit", _unit(old), _unit(new)))
    ot, nt = _targets(old), _targets(new)
    for ref in sorted(set(ot) | set(nt)):
        if ot.get(ref) != nt.get(ref):
            rows.append((f"query {ref}", ot.get(ref), nt.get(ref)))
    old_rest = {k: v for k, v in old.items() if k not in _PANEL_HANDLED}
    new_rest = {k: v for k, v in new.items() if k not in _PANEL_HANDLED}
    old_fc = {**(old.get("fieldConfig") or {}), "defaults": _without(old, ("thresholds", "unit"))}
    new_fc = {**(new.get("fieldConfig") or {}), "defaults": _without(new, ("thresholds", "unit"))}
    other = [k for k in sorted(set(old_rest) | set(new_rest)) if old_rest.get(k) != new_rest.get(k)]
    if old_fc != new_fc:
        other.append("fieldConfig")
    if other:
        rows.append(("other settings", None, ", ".join(other)))
    return rows


def _without(panel: dict, keys: Iterable[str]) -> dict:
    defaults = (panel.get("fieldConfig") or {}).get("defaults") or {}
    return {k: v for k, v in defaults.items() if k not in keys}


def _dashboard_section(path: str, old: dict | None, new: dict | None) -> Lines:
    title = f"#### Dashboard `{path}`"
    if old is None or new is None:
        which = "added" if old is None else "removed"
        doc = new if old is None else old
        count = len(panels(doc or {}))
        return [title, "", f"- {which}: {(doc or {}).get('title', path)} ({count} panels)", ""]
    op, np_ = panels(old), panels(new)
    added = [k for k in np_ if k not in op]
    removed = [k for k in op if k not in np_]
    # A panel whose title changed but id stayed is a rename, not a remove and an add.
    renamed = {}
    for r in removed:
        same = [
            a for a in added if a not in renamed.values() and np_[a].get("id") == op[r].get("id")
        ]
        if op[r].get("id") is not None and same:
            renamed[r] = same[0]
    out: Lines = []
    for r, a in renamed.items():
        out.append(f"- renamed panel **{r}** -> **{a}**")
    for a in added:
        if a not in renamed.values():
            out.append(f"- added panel **{a}** ({np_[a].get('type', 'panel')})")
    for r in removed:
        if r not in renamed:
            out.append(f"- removed panel **{r}**")
    if out:
        out.append("")
    pairs = [(k, k) for k in np_ if k in op] + [(r, a) for r, a in renamed.items()]
    old_rows, new_rows = _placed_panels(old), _placed_panels(new)
    for old_key, new_key in pairs:
        rows = panel_changes(op[old_key], np_[new_key])
        if old_rows[old_key][1] != new_rows[new_key][1]:
            rows.append(("in collapsed row", old_rows[old_key][1], new_rows[new_key][1]))
        if rows:
            out += [f"Panel **{new_key}**:", "", *_table(rows), ""]
    settings = sorted(k for k in set(old) | set(new) if k != "panels" and old.get(k) != new.get(k))
    if settings:
        out += [f"- dashboard settings changed: {', '.join(settings)}", ""]
    return [title, "", *out] if out else []


# -- the report ------------------------------------------------------------------------------


def _line_counts(old: bytes | None, new: bytes | None) -> str:
    a = (old or b"").decode("utf-8", "replace").splitlines()
    b = (new or b"").decode("utf-8", "replace").splitlines()
    plus = minus = 0
    for line in difflib.unified_diff(a, b, lineterm="", n=0):
        if line.startswith("+") and not line.startswith("+++"):
            plus += 1
        elif line.startswith("-") and not line.startswith("---"):
            minus += 1
    return f"+{plus} −{minus}"


def _rule_folders(service: str, old: Files, new: Files) -> list[tuple[str, str]]:
    """Return ``(folder, environment)`` for every folder of plain rule files of ``service``
    in either tree: ``prometheus`` (environment ``""``) and, for a spec with
    ``environments``, ``prometheus/<env>``; in path order."""
    folders = set()
    for path in (*old, *new):
        parts = path.split("/")
        rules = parts[-1] in FILES and len(parts) in (3, 4)
        if rules and parts[:2] == [service, "prometheus"]:
            folders.add("/".join(parts[1:-1]))
    return [(f, f.removeprefix("prometheus").lstrip("/")) for f in sorted(folders)]


def _service_report(service: str, old: Files, new: Files) -> Lines:
    def pair(rel: str, kind: Callable[[bytes], object]) -> tuple[object, object]:
        path = f"{service}/{rel}"
        return _load(kind, path, old.get(path)), _load(kind, path, new.get(path))

    def rule_pair(folder: str, names: tuple[str, ...]) -> tuple[object, object]:
        """The rule files ``names`` of ``folder`` in each tree as one (their groups in
        file order; None where the tree has none): a rule moved between them is no change."""
        loaded = [pair(f"{folder}/{name}", read_rules) for name in names]
        return tuple(  # type: ignore[return-value]
            {"groups": [g for doc in docs if doc for g in doc.get("groups") or []]}
            if any(doc is not None for doc in docs)
            else None
            for docs in zip(*loaded, strict=True)
        )

    out: Lines = []
    handled: set[str] = set()
    for folder, env in _rule_folders(service, old, new):
        where = f" ({env})" if env else ""
        o, n = rule_pair(folder, ALERT_FILES)
        section = _rule_section(
            f"Alerts{where}",
            _rules(o, "alert"),
            _rules(n, "alert"),
            _alert_title,
            group_changes(o, n),
        )
        if section:  # a file that changed with no rule or group to show is listed below
            handled |= {f"{service}/{folder}/{name}" for name in ALERT_FILES}
        out += section
        o, n = rule_pair(folder, RECORDING_FILES)
        old_rec, new_rec = _rules(o, "record"), _rules(n, "record")
        section = _slo_section(slos(old_rec), slos(new_rec), where)
        section += _rule_section(
            f"Recording rules{where}", old_rec, new_rec, _record_title, group_changes(o, n)
        )
        if section:
            handled |= {f"{service}/{folder}/{name}" for name in RECORDING_FILES}
        out += section
    dashboards = sorted(
        p
        for p in set(old) | set(new)
        if p.startswith(f"{service}/grafana/") and p.endswith(".json")
    )
    for path in dashboards:
        o, n = pair(path.removeprefix(f"{service}/"), json.loads)
        if isinstance(o, dict | None) and isinstance(n, dict | None) and "panels" in (n or o or {}):
            section = _dashboard_section(path.removeprefix(f"{service}/"), o, n)
            if section:
                handled.add(path)
            out += section
    others = []
    for path in sorted(set(old) | set(new)):
        if path in handled or old.get(path) == new.get(path):
            continue
        state = "added" if path not in old else "removed" if path not in new else "changed"
        others.append(f"- `{path}`: {state} ({_line_counts(old.get(path), new.get(path))})")
    if others:
        out += ["#### Other generated files", "", *others, ""]
    return [f"### {service}", "", *out] if out else []


def report(old: Files, new: Files, base_label: str) -> str | None:
    """Return the Markdown report of how ``new`` differs from ``old``, or None when equal.

    Both map paths under ``out/`` (``<service>/...``) to bytes.
    """
    if old == new:
        return None
    services = sorted({p.split("/", 1)[0] for p in set(old) | set(new) if "/" in p})
    body: Lines = []
    for service in services:
        mine = f"{service}/"
        body += _service_report(
            service,
            {k: v for k, v in old.items() if k.startswith(mine)},
            {k: v for k, v in new.items() if k.startswith(mine)},
        )
    loose = sorted(p for p in set(old) | set(new) if "/" not in p and old.get(p) != new.get(p))
    body += [f"- `{p}` changed" for p in loose]
    head = [f"## Monitoring changes against {base_label}", ""]
    return "\n".join(head + body).rstrip() + "\n"


def diff(out_dir: Path, base: str | None = None) -> tuple[str | None, str]:
    """Return ``(report or None, base commit)``: the generated files in ``out_dir`` at the
    base commit against the working tree."""
    out_dir = out_dir.resolve()
    repo = repo_root(out_dir)
    try:
        folder = out_dir.relative_to(repo).as_posix()
    except ValueError:
        raise DiffError(f"{out_dir} is not inside the git repository {repo}") from None
    commit, how = resolve_base(repo, base)
    short = _git(repo, "rev-parse", "--short", commit).decode().strip()
    label = f"{how} ({short})"
    return report(files_at(repo, commit, folder), read_tree(out_dir), label), commit
