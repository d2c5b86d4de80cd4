"""The generated docs: an alert runbook (alerts.md) and a dashboard guide (dashboard.md).

Templates are Jinja2 files in ``templates/``. Every value a template prints goes through
:func:`markdown_text` unless it is :class:`Markup` built here, so spec text (a summary with a
``|``, a ``#`` or an HTML tag) can never change the document's structure.
"""

from __future__ import annotations

import contextlib
import functools
import re
from dataclasses import dataclass, field

from jinja2 import (
    BytecodeCache,
    Environment,
    FileSystemBytecodeCache,
    PackageLoader,
    StrictUndefined,
    select_autoescape,
)
from markupsafe import Markup

from .. import signals as names
from ..grafana import links
from ..grafana.thresholds import threshold_steps
from ..prometheus import alerts, windows
from ..prometheus.rule_files import ALERT_FILES, plain_groups
from ..prometheus.windows import describe_factor
from ..promql import Matcher, format_duration, format_number, le_matcher, selector
from ..spec.dashboard import Dashboard, Levels, Panel
from ..spec.model import (
    ABSENT_ALERT,
    BUDGET_CRITICAL_ALERT,
    BUDGET_LOW_ALERT,
    BURN_ALERT,
    GENERATED_ANNOTATIONS,
    RESERVED_LABELS,
    SLO,
    TARGET_DOWN_ALERT,
    Runbook,
    Series,
    Service,
    Signal,
    Threshold,
)
from ..spec.routing import Receiver

# Characters that start emphasis, code, links or table cells anywhere in a line.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
# What opens a block (heading, list, quote, setext underline) only at the start of a line.
_BLOCK_START = re.compile(r"^([#>+=-]|\d+[.)])")
_SLUG_DROP = re.compile(r"[^\w\- ]", re.UNICODE)


def markdown_text(value: object) -> str:
    """Return ``value`` as inert Markdown text: one line, HTML and Markdown syntax escaped."""
    if isinstance(value, Markup):
        return str(value)
    text = re.sub(r"\s+", " ", str(value))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return _BLOCK_START.sub(lambda m: m.group()[:-1] + "\\" + m.group()[-1], text)


def comment(text: str) -> Markup:
    """Return ``text`` safe inside an HTML comment (``--`` may not appear there)."""
    return Markup(" ".join(str(text).split()).replace("--", "- -").replace(">", "&gt;"))


def code(text: str) -> Markup:
    """Return ``text`` as a fenced code block whose fence no backtick run inside can close."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return Markup(f"{fence}promql\n{text.rstrip()}\n{fence}")


def inline(text: str, table: bool = True) -> Markup:
    """Return ``text`` as an inline code span on one line; ``table``: safe in a table cell
    (a ``|`` escaped, which only a table cell reads back as ``|``)."""
    text = " ".join(text.split())
    text = text.replace("|", "\\|") if table else text
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return Markup(f"{fence}{pad}{text}{pad}{fence}")


def prose(text: str) -> Markup:
    """Return spec text as one line of Markdown: each `backtick span` kept as inline code
    (a PromQL query, a command), everything else escaped."""
    parts = re.split(r"`([^`]+)`", text)
    return md(*(inline(p, table=False) if i % 2 else p for i, p in enumerate(parts) if p))


def md(*parts: object) -> Markup:
    """Return the parts as one line of Markdown: plain text escaped, Markup kept as it is."""
    return Markup("".join(markdown_text(p) for p in parts))


def link(text: str, target: str) -> Markup:
    """Return a Markdown link whose text is escaped and whose target cannot end early."""
    return Markup(f"[{markdown_text(text)}](<{target.replace('>', '%3E').replace(' ', '%20')}>)")


def slug(text: str) -> str:
    """Return GitHub's heading anchor for ``text`` (before de-duplication)."""
    return _SLUG_DROP.sub("", text.strip().lower()).replace(" ", "-")


class Anchors:
    """GitHub's anchors for a document's headings, in order: a repeat gets ``-1``, ``-2``."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def add(self, heading: str) -> str:
        """Return the anchor of the next heading with text ``heading``."""
        base = slug(heading)
        n = self.seen.get(base, 0)
        self.seen[base] = n + 1
        return base if n == 0 else f"{base}-{n}"


class _QuietCache(FileSystemBytecodeCache):
    """Jinja2's bytecode cache, where a folder it cannot read or write means no cache rather
    than a failed run (a full or read-only temporary folder). Jinja checks each entry against
    its template's source and the Python version, and drops a damaged one."""

    def load_bytecode(self, bucket) -> None:
        with contextlib.suppress(OSError):
            super().load_bytecode(bucket)

    def dump_bytecode(self, bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def _bytecode_cache() -> BytecodeCache | None:
    """Return Jinja2's bytecode cache in its default folder (``_jinja2-cache-<uid>`` in the
    temporary folder, private to the user: Jinja refuses one that is not), or None where
    there is none. Compiling the templates is about 0.1 s of a one-spec run; loading their
    bytecode about 1 ms."""
    try:
        return _QuietCache()
    except (OSError, RuntimeError):
        return None


@functools.cache
def environment() -> Environment:
    """Return the Jinja2 environment of the docs templates (one per process: it caches the
    compiled templates, so no service compiles them again; across runs, Jinja2's bytecode
    cache keeps them, see :func:`_bytecode_cache`).

    Markdown templates escape through ``finalize``; a template producing HTML, XML or SVG
    gets Jinja's HTML autoescaping instead.
    """
    env = Environment(
        loader=PackageLoader("generator.docs", "templates"),
        autoescape=select_autoescape(
            enabled_extensions=("html", "xml", "svg", "html.j2", "xml.j2", "svg.j2"),
            default_for_string=False,
            default=False,
        ),
        finalize=markdown_text,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        bytecode_cache=_bytecode_cache(),
    )
    env.filters["code"] = code
    env.filters["inline"] = inline
    env.filters["comment"] = comment
    return env


# -- what the templates read -----------------------------------------------------------------


@dataclass
class PanelDoc:
    """A dashboard panel as the guide describes it."""

    row: str
    row_index: int
    panel: Panel
    anchor: str
    shows: Markup
    colours: list[str]
    alerts: list[tuple[str, str]] = field(default_factory=list)  # (section title, anchor)
    url: str = ""  # the panel alone in Grafana; "" without grafana_url


@dataclass
class AlertDoc:
    """One alert's runbook section; ``rules`` lists each generated rule's conditions."""

    name: str
    anchor: str
    summary: str
    meaning: str
    words: Markup
    rules: list[dict[str, str]]
    checks: list[Markup | str]
    panels: list[PanelDoc]
    exprs: list[str]
    signal_key: str = ""
    timing: Markup | str = ""  # burn-rate alerts: detection and reset times per pair
    notes: Markup | str = ""  # the spec's labels, annotations and switches (spec_notes)
    title: str = ""  # the heading; default the alert's name
    mitigation: Markup | str = ""
    escalation: Markup | str = ""
    own_steps: bool = False  # the checks are the spec's runbook steps
    slo: str = ""  # a burn-rate section: its SLO
    jobs: list[tuple[str, Markup]] = field(default_factory=list)  # TargetDown: runbook per job

    def __post_init__(self) -> None:
        self.title = self.title or self.name


def value_text(unit: str, value: float) -> str:
    """Return a value in its unit as people read it: ``90%``, ``2s``, ``5000 connections``."""
    if unit == "seconds":
        return f"{format_number(value)}s"
    return format_number(value) + alerts.UNIT_WORDS.get(unit, f" {unit.replace('_', ' ')}")


def colours(unit: str, levels: Levels | None) -> list[str]:
    """Return a panel's colour bands in words, lowest values first."""
    steps = threshold_steps(levels)
    out = []
    for i, (colour, start) in enumerate(steps):
        end = steps[i + 1][1] if i + 1 < len(steps) else None
        if start is None and end is None:
            out.append(f"{colour}: always (no thresholds)")
        elif start is None:
            out.append(f"{colour}: below {value_text(unit, end)}")
        elif end is None:
            out.append(f"{colour}: {value_text(unit, start)} and above")
        else:
            out.append(f"{colour}: {value_text(unit, start)} to {value_text(unit, end)}")
    return out


def _shows(service: Service, panel: Panel) -> str:
    by = f", by {', '.join(panel.by)}" if panel.by else ""
    if panel.source == "signal" and panel.signal is not None:
        series = names.signal(service, panel.signal)
        return md(f"the signal {panel.signal.key} (recorded as ", inline(series), f"){by}")
    if panel.source == "rate" and panel.metric is not None:
        return md("the per-second rate of ", inline(panel.metric.name), by)
    if panel.source == "quantiles" and panel.metric is not None:
        qs = "/".join(names.quantile_suffix(q).upper() for q in panel.quantiles)
        return md(f"{qs} of ", inline(panel.metric.name), by)
    if panel.source == "budget" and panel.slo is not None:
        remaining = inline(names.budget_remaining_percent(service))
        return md(f"the error budget left of the {panel.slo.name} SLO (", remaining, ")")
    return md(panel.source)


def panel_docs(service: Service, dashboard: Dashboard, anchors: Anchors) -> list[PanelDoc]:
    """Return every panel's guide entry; takes anchors in the order dashboard.md prints
    headings (title, health check, then each row and its panels)."""
    anchors.add(dashboard.title)
    anchors.add("Daily health check")
    out = []
    ids = iter(i for _, _, placed in links.numbered(service) for _, i in placed)
    for i, row in enumerate(dashboard.rows):
        anchors.add(row.title)
        for panel in row.panels:
            out.append(
                PanelDoc(
                    url=links.panel_url(service, next(ids)),
                    row=row.title,
                    row_index=i,
                    panel=panel,
                    anchor=anchors.add(panel.title),
                    shows=_shows(service, panel),
                    colours=colours(panel.unit, panel.levels),
                )
            )
    return out


def _panel_for(panels: list[PanelDoc], signal: Signal | None, slo: str = "") -> PanelDoc | None:
    """Return the panel to open for an alert: one showing its signal (a time series first,
    for the history), else the budget panel of its SLO."""
    if signal is not None:
        showing = [
            p for p in panels if p.panel.signal is not None and p.panel.signal.key == signal.key
        ]
        showing.sort(key=lambda p: p.panel.type != "timeseries")
        if showing:
            return showing[0]
        slo = slo or signal.slo
    budget = [p for p in panels if p.panel.slo is not None and p.panel.slo.name == slo]
    return budget[0] if budget else None


def receiver_words(receiver: Receiver) -> str:
    """Return who a receiver notifies, in words (never a secret: those are file paths)."""
    if receiver.name == "pager" and receiver.kind == "webhook":
        return "the pager webhook"
    words = {
        "telegram": lambda: f"Telegram chat {receiver.get('chat_id')}",
        "email": lambda: f"e-mail to {receiver.get('to')}",
        "slack": lambda: f"Slack {receiver.get('channel') or f'webhook {receiver.name}'}",
        "pagerduty": lambda: f"PagerDuty ({receiver.name})",
        "opsgenie": lambda: f"Opsgenie ({receiver.name})",
        "webhook": lambda: f"webhook {receiver.name}",
    }
    return words[receiver.kind]()


def paged(service: Service, severity: str) -> str:
    """Return who an alert of ``severity`` carrying the service's labels reaches, in words."""
    routing = service.routing
    if routing is None:
        return "nobody yet: the spec has no routing section"
    labels = {**dict(service.labels), "service": service.name, "severity": severity}
    return ", ".join(receiver_words(routing.receiver(r)) for r in routing.reached(labels))


def label_routes(service: Service) -> list[tuple[Markup, str]]:
    """Return ``(conditions, receivers in words)`` for each route, in order, when some route
    reads a label other than ``severity`` (else the severity table says it all), then the
    default receiver as ``("anything else", …)``."""
    routing = service.routing
    if routing is None or all(m.name == "severity" for r in routing.routes for m in r.matchers):
        return []
    rows = [
        (
            Markup(", ".join(inline(str(m)) for m in route.matchers)),
            ", ".join(receiver_words(routing.receiver(n)) for n in route.receivers),
        )
        for route in routing.routes
    ]
    return [*rows, (Markup("anything else"), receiver_words(routing.receiver(routing.default)))]


def _threshold_doc(service: Service, row: Threshold, panels: list[PanelDoc]) -> AlertDoc:
    sig = row.signal
    word = "above" if row.direction == "above" else "below"
    where = " on any instance" if "instance" in sig.by else ""
    rules = [
        {
            "severity": severity,
            "condition": f"{word} {alerts.threshold_text(sig, value)}",
            "for": format_duration(row.for_),
            "paged": paged(service, severity),
        }
        for severity, value in row.levels()
    ]
    levels = " (warning) or ".join(
        f"{word} {alerts.threshold_text(sig, v)}" for _, v in row.levels()
    )
    severity_note = " (critical)" if row.critical is not None else " (warning)"
    words = md(
        f"It fires when {sig.key.replace('_', ' ')}{where} stays {levels}{severity_note} "
        f"for {format_duration(row.for_)}, read from the recorded series ",
        inline(names.signal(service, sig)),
        ".",
    )
    panel = _panel_for(panels, sig)
    doc = AlertDoc(
        name=row.alert,
        anchor=alerts.anchor(row.alert),
        summary=row.summary,
        meaning=row.description or sig.help or sig.key.replace("_", " "),
        words=words,
        rules=rules,
        checks=threshold_checks(service, sig, panel),
        panels=[panel] if panel else [],
        exprs=[r["expr"] for r in alerts.threshold_rules(service, row)],  # type: ignore[misc]
        signal_key=sig.key,
        mitigation=THRESHOLD_MITIGATION.get(sig.kind, "").format(slo=sig.slo),
    )
    return with_runbook(doc, row.runbook)


# What stops the harm of a threshold alert, by the kind of its signal.
THRESHOLD_MITIGATION = {
    "ratio": "Roll back the change the rise started with. If one instance or one label value "
    "stands out, take it out of service or fail it over; if all rise together, add capacity "
    "or shed load.",
    "quantile": "Roll back the change the rise started with. If a dependency is slow, shed "
    "load or lower client timeouts and retries: retries multiply the load on it.",
    "gauge": "Add capacity (scale out, raise the limit) or shed load. Before restarting an "
    "instance, keep what explains it: its logs, a heap or thread dump.",
    "availability": "Follow the burn-rate section of the {slo} SLO: roll back if the drop "
    "started with a change.",
}


def with_runbook(doc: AlertDoc, runbook: Runbook) -> AlertDoc:
    """Return ``doc`` with the spec's runbook over the generated defaults: its steps replace
    the checks, its mitigation and escalation replace the defaults (each only when given)."""
    if runbook.steps:
        doc.checks = [prose(step) for step in runbook.steps]
        doc.own_steps = True
    if runbook.mitigation:
        doc.mitigation = prose(runbook.mitigation)
    if runbook.escalation:
        doc.escalation = prose(runbook.escalation)
    return doc


def threshold_checks(service: Service, sig: Signal, panel: PanelDoc | None) -> list[Markup | str]:
    """Return the first three things to check for a threshold alert on ``sig``."""
    where = f"the panel “{panel.panel.title}”" if panel else "the dashboard"
    spread = "which instance it is and whether " if "instance" in sig.by else "whether "
    first = f"Open {where}: find when the rise began, {spread}it is a spike or a steady climb."
    second = (
        "Look for a change at that moment: a deploy, a config change, a traffic surge; "
        "roll it back if the rise started with it."
    )
    if sig.kind == "ratio" and sig.numerator is not None:
        metric = sig.numerator.metric
        labels = sorted({label for b in metric.breakdowns for label in b})
        split = f" by {', '.join(labels)}" if labels else " by instance"
        third = md("Break ", inline(metric.name), f" down{split} in Explore to find the source.")
    elif sig.kind == "quantile" and sig.series is not None:
        third = md(
            "Compare P50 with P99 of ",
            inline(sig.series.metric.name),
            ": if only the tail is slow, suspect a slow dependency rather than overload.",
        )
    elif sig.kind == "availability":
        third = f"Check the error ratio of the {sig.slo} SLO and its burn-rate alerts."
    else:
        metric = sig.series.metric.name if sig.series is not None else sig.key
        third = md("Graph ", inline(metric), " per instance: is one instance affected, or all?")
    return [first, second, third]


def _slo_rows(
    service: Service, alert: str, kind: str, only: SLO | None = None
) -> list[dict[str, str]]:
    rows = []
    policy = service.error_budget
    for slo in service.slos if only is None else (only,):
        if kind == BURN_ALERT:
            if slo.burn_alert != alert:
                continue
            for b in service.slo_burn_rates(slo):
                rows.append(
                    {
                        "slo": slo.name,
                        "severity": b.severity,
                        "condition": f"burn rate above {describe_factor(slo, b)}x over "
                        f"{format_duration(b.long)} and {format_duration(b.short)}",
                        "for": format_duration(b.for_) if b.for_ else "0s",
                        "paged": paged(service, b.severity),
                    }
                )
        else:
            severity, below = next(
                (sev, lim) for name, sev, lim in alerts.budget_levels(service) if name == alert
            )
            rows.append(
                {
                    "slo": slo.name,
                    "severity": severity,
                    "condition": f"budget left below {format_number(below)}%",
                    "for": format_duration(policy.for_),
                    "paged": paged(service, severity),
                }
            )
    return rows


SLO_TEXT = {
    BURN_ALERT: (
        "The {slo} SLO is spending its error budget faster than the period allows.",
        "It fires when the SLO's error ratio, divided by its error budget (the burn rate), "
        "is above the factor in both a long and a short window: the long one proves the burn "
        "is real, the short one that it is still going on.",
    ),
    BUDGET_LOW_ALERT: (
        "An SLO has used most of its error budget for the period.",
        "It fires when the error budget left over the SLO period stays below the low level.",
    ),
    BUDGET_CRITICAL_ALERT: (
        "An SLO has almost no error budget left for the period.",
        "It fires when the error budget left over the SLO period stays below the critical level.",
    ),
}


def breakdown_labels(slo: SLO) -> list[str]:
    """Return the labels to split an SLO's errors by: those its total metric is broken down
    by (``breakdowns``), without the ones its bad or good events are picked by (a status
    label would only split errors from successes), else ``instance``."""
    sli = slo.sli
    picked = {m.name for part in (sli.bad, sli.good) if part is not None for m in part.matchers}
    return sorted({x for b in sli.total.metric.breakdowns for x in b} - picked) or ["instance"]


def breakdown_query(service: Service, slo: SLO) -> str:
    """Return the PromQL that finds where an SLO's bad events come from: the five highest
    error ratios over the rate window by :func:`breakdown_labels`, read from the raw
    series (the recorded SLO series keep no such labels); "" for an SLI it cannot split."""
    sli = slo.sli
    if sli.kind not in ("events", "latency"):
        return ""
    by = ", ".join(breakdown_labels(slo))
    window = format_duration(service.rate_window)

    def rate(series: Series, suffix: str = "", extra: tuple[Matcher, ...] = ()) -> str:
        sel = selector(series.metric.name + suffix, series.all_matchers + extra)
        return f"sum by ({by}) (rate({sel}[{window}]))"

    if sli.kind == "latency":
        le = (le_matcher(sli.threshold),)
        ratio = f"1 - {rate(sli.total, '_bucket', le)} / {rate(sli.total, '_count')}"
    elif sli.bad is not None:
        ratio = f"{rate(sli.bad)} / {rate(sli.total)}"
    elif sli.good is not None:
        ratio = f"1 - {rate(sli.good)} / {rate(sli.total)}"
    else:
        return ""
    return f"topk(5, {ratio})"


def _exhaustion(slo: SLO, burn: windows.BurnRate) -> str:
    """Return how long the whole budget lasts at a pair's factor: period / factor."""
    return format_duration(round(slo.period / burn.factor(slo.period) / 60) * 60)


def _open(panel: PanelDoc | None) -> Markup:
    """Return "the panel “X” (Grafana link, guide link)", or the dashboard in words."""
    if panel is None:
        return md("the SLO panels of the dashboard")
    grafana = [link("in Grafana", panel.url)] if panel.url else []
    guide = link("guide", "dashboard.md#" + panel.anchor)
    return md(f"the panel “{panel.panel.title}” (", Markup(", ").join([*grafana, guide]), ")")


def burn_checks(
    service: Service, slo: SLO, panel: PanelDoc | None, panels: list[PanelDoc]
) -> list[Markup | str]:
    """Return the first things to check for ``slo``'s burn-rate alerts: which pair fired and
    what it leaves, where the bad events come from, what changed."""
    pairs = ", ".join(
        f"{format_duration(b.long)}/{format_duration(b.short)} {_exhaustion(slo, b)}"
        for b in service.slo_burn_rates(slo)
    )
    first = md(
        "Open ",
        _open(panel),
        ". The alert's ",
        inline("long"),
        "/",
        inline("short"),
        f" labels name the pair that fired. At each pair's factor the whole "
        f"{format_duration(slo.period)} budget is gone in: {pairs}.",
    )
    query = breakdown_query(service, slo)
    ratio = names.slo_error_ratio(service.rate_window) + names.slo_selector(service, slo)
    split = [
        p
        for p in panels
        if p.panel.metric is not None
        and p.panel.metric == getattr(slo.sli.total, "metric", None)
        and p.panel.by
    ]
    where = (
        md(
            " The panel “",
            split[0].panel.title,
            f"” splits its traffic by {', '.join(split[0].panel.by)}.",
        )
        if split
        else ""
    )
    second = (
        md(
            "Find the failing endpoint: the SLO's error ratio is recorded as ",
            inline(ratio),
            " (no labels to split by); run ",
            inline(query, table=False),
            f" in Prometheus for the top five by {', '.join(breakdown_labels(slo))}.",
            where,
        )
        if query
        else md(
            "Find where the bad events come from: break the SLI's series down by their labels.",
            where,
        )
    )
    third = (
        "Compare the start of the burn with the last deploy, config change or feature flag, "
        "and with the status of the dependencies the failing requests use."
    )
    return [first, second, third]


def burn_mitigation(service: Service, slo: SLO) -> Markup | str:
    """Return when to roll back for ``slo``'s burn: a page rolls back at once when the burn
    started with a change, and in any case below the critical budget level; a ticket-only
    SLO's slow burn waits for working hours."""
    pairs = service.slo_burn_rates(slo)
    pages = [b for b in pairs if b.severity == "critical"]
    critical = format_number(service.error_budget.critical_below)
    if pages:
        fastest = max(pages, key=lambda b: b.factor(slo.period))
        return md(
            "Roll back at once if the burn started with a deploy or a config change; do not "
            f"wait for the root cause: at {describe_factor(slo, fastest)}x the whole budget "
            f"is gone in {_exhaustion(slo, fastest)}. Whatever the cause, once less than "
            f"{critical}% of the budget is left ({BUDGET_CRITICAL_ALERT}), roll back or "
            "switch off the failing feature and freeze releases. A warning (ticket) is a slow "
            "burn: fix it in working hours."
        )
    return md(
        "A slow burn (no page: this SLO's critical pairs are switched off): find and fix the "
        "cause in working hours. Roll back the change it started with once less than "
        f"{critical}% of the budget is left ({BUDGET_CRITICAL_ALERT})."
    )


def burn_escalation(service: Service, slo: SLO) -> str:
    """Return when to call for help: the budget an hour of the fastest page costs."""
    pages = [b for b in service.slo_burn_rates(slo) if b.severity == "critical"]
    if not pages:
        return ""
    factor = max(b.factor(slo.period) for b in pages)
    share = format_number(round(factor * 3600 / slo.period * 100, 2))
    return (
        "If a rollback does not stop the burn, escalate: to the owners of the dependency the "
        "bad events come from, else to the next on-call level. Every hour at "
        f"{format_number(round(factor, 3))}x costs {share}% of the "
        f"{format_duration(slo.period)} budget."
    )


def _burn_doc(service: Service, slo: SLO, panels: list[PanelDoc]) -> AlertDoc:
    """Return the section of one SLO's burn-rate alerts."""
    meaning, words = SLO_TEXT[BURN_ALERT]
    panel = _panel_for(panels, None, slo.name)
    doc = AlertDoc(
        name=slo.burn_alert,
        title=alerts.section_title(slo.burn_alert, slo.name),
        anchor=alerts.anchor(slo.burn_alert, slo.name),
        summary=meaning.format(slo=slo.name),
        meaning=slo.description or meaning.format(slo=slo.name),
        words=words,
        rules=_slo_rows(service, slo.burn_alert, BURN_ALERT, slo),
        checks=burn_checks(service, slo, panel, panels),
        panels=[panel] if panel else [],
        exprs=[
            str(alerts.burn_rate_rule(service, slo, b)["expr"]) for b in service.slo_burn_rates(slo)
        ],
        timing=_burn_timing(service, slo),
        mitigation=burn_mitigation(service, slo),
        escalation=burn_escalation(service, slo),
        slo=slo.name,
    )
    return with_runbook(doc, slo.runbook)


def slo_checks(panel: PanelDoc | None) -> list[Markup | str]:
    """Return the first three things to check for an error budget alert."""
    return [
        md("Open ", _open(panel), " and see when the budget started to fall."),
        "Review the burn-rate alerts of the period: one incident or a slow leak?",
        "Apply the error budget policy: freeze risky releases until the budget recovers.",
    ]


def _slo_doc(service: Service, alert: str, panels: list[PanelDoc]) -> AlertDoc:
    """Return the section of an error budget alert (one for every SLO)."""
    exprs = [
        str(r["expr"])
        for s in service.slos
        for r in alerts.budget_rules(service, s)
        if r["alert"] == alert
    ]
    budget_panels = [p for s in service.slos if (p := _panel_for(panels, None, s.name))]
    meaning, words = SLO_TEXT[alert]
    return AlertDoc(
        name=alert,
        anchor=alerts.anchor(alert),
        summary=meaning,
        meaning=meaning,
        words=words,
        rules=_slo_rows(service, alert, alert),
        checks=slo_checks(budget_panels[0] if budget_panels else None),
        panels=budget_panels,
        exprs=exprs,
    )


def _burn_timing(service: Service, slo: SLO) -> Markup:
    """Return the detection and reset times of the pairs ``slo`` alerts on (SRE Workbook)
    and the cost of any ``for``, as Markdown."""
    pairs = service.slo_burn_rates(slo)
    parts = [
        "How soon each pair fires after the error ratio steps up to a burn rate, and how "
        "soon it resets after the burn ends (detect / reset; the SRE Workbook's figures: "
        "long window x factor / burn rate, and short window x (1 - factor / burn rate)). "
        "The generated tests (`burn_rate_times_test.yml`) check each pair on every engine: "
        "silent until one scrape interval before its detection time, firing by one "
        "evaluation interval after it, and the same around its reset time.",
        windows.timing_table(slo.period, pairs, slo.error_budget).strip(),
    ]
    parts += windows.for_costs(pairs)
    return Markup("\n\n".join(parts))


def _target_doc(service: Service, panels: list[PanelDoc]) -> AlertDoc:
    rules = [
        {
            "severity": str(r["labels"]["severity"]),  # type: ignore[index]
            "condition": f"job {job}: "
            + ("an instance is down" if i == 0 else "every instance down or none discovered"),
            "for": str(r["for"]),
            "paged": paged(service, str(r["labels"]["severity"])),  # type: ignore[index]
        }
        for job in service.target_down_jobs
        for i, r in enumerate(alerts.target_rules(service, job))
    ]
    traffic = [p for p in panels if p.panel.source == "rate"][:1]
    doc = AlertDoc(
        name=TARGET_DOWN_ALERT,
        anchor=alerts.anchor(TARGET_DOWN_ALERT),
        summary="Prometheus cannot scrape a target of the service.",
        meaning=(
            "A scrape target is down, or no target of a job is discovered at all. While the "
            "service is down no requests arrive, so the SLO alerts cannot see the outage; "
            "this alert does."
        ),
        words=md(
            "It fires when ",
            inline("up"),
            " is 0 for an instance (warning), or when every "
            "instance of a job is down or gone from service discovery (critical).",
        ),
        rules=rules,
        checks=[
            md(
                "Open Prometheus's ",
                inline("/targets"),
                " page and read the scrape error of the job the alert's ",
                inline("job"),
                " label names; ",
                inline('up{job="<job>"} == 0', table=False),
                " lists the instances down.",
            ),
            "Check the process and its host: is it running, restarting, out of memory?",
            "Check what changed: a deploy, a network policy, a renamed job or label in the "
            "scrape configuration.",
        ],
        panels=traffic,
        exprs=[
            str(r["expr"])
            for j in service.target_down_jobs
            for r in alerts.target_rules(service, j)
        ],
        mitigation="One instance down: the others carry the load; restart or reschedule it "
        "after reading its last logs. Every instance down is an outage: roll back the last "
        "deploy or scrape-config change, and tell users while you do.",
    )
    given = dict(service.job_runbooks)
    doc.jobs = [(job, job_runbook(given[job])) for job in service.target_down_jobs if job in given]
    return doc


def job_runbook(runbook: Runbook) -> Markup:
    """Return a job's own TargetDown runbook as one Markdown paragraph."""
    parts = [prose(s) for s in runbook.steps]
    if runbook.mitigation:
        parts.append(md("Mitigation: ", prose(runbook.mitigation)))
    if runbook.escalation:
        parts.append(md("Escalation: ", prose(runbook.escalation)))
    return Markup(" ").join(p if str(p).endswith(".") else p + Markup(".") for p in parts)


def _absent_doc(service: Service, panels: list[PanelDoc]) -> AlertDoc:
    watched = alerts.watched_metrics(service)
    read = {w.metric.name for w in watched}
    # Panels drawing a watched metric straight from its raw series: a gap there is the rename.
    showing = [p for p in panels if p.panel.metric is not None and p.panel.metric.name in read]
    severity = service.absent_data.severity
    rules = [
        {
            "severity": severity,
            "condition": md(
                "no series of ",
                inline(w.selector),
                f" while job {w.job} is up" if w.job else " at all (the selector names no job)",
            ),
            "for": format_duration(alerts.absent_for(w)),
            "paged": paged(service, severity),
        }
        for w in watched
    ]
    slos = service.slos
    budget = (
        f"; for an SLO, the time in which 1 % of its error budget burns at the fastest "
        f"paging burn rate ({format_duration(alerts.blind_budget_time(service, slos[0]))} for "
        f"the {slos[0].name} SLO)"
        if slos
        else ""
    )
    return AlertDoc(
        name=ABSENT_ALERT,
        anchor=alerts.anchor(ABSENT_ALERT),
        summary="A metric an SLO or a threshold alert reads has no series.",
        meaning=(
            "An input of an SLO or a threshold alert is gone while its scrape target is up: "
            "renamed in a deploy, dropped by relabelling, or never created. Without it an "
            "SLO counts no events and reads 100 %, and a threshold alert cannot fire."
        ),
        words=md(
            "It fires when ",
            inline("up"),
            " is 1 for the metric's job and no series of the metric exists (",
            inline("unless on (job)"),
            "). A metric at 0 is present: no traffic is not absence. A job that is down is ",
            "TargetDown's, and this alert stays silent. When the metric's selector names no job, ",
            inline("absent()"),
            " of the whole selector fires instead, on an outage as well, for at most "
            f"{format_duration(alerts.TARGET_DOWN_FOR)}. Its severity is the spec's ",
            inline("absent_data.severity"),
            f" ({severity}). Its ",
            inline("for"),
            " is the shortest of its readers': a threshold row's own ",
            inline("for"),
            f"{budget}; at least the rate window.",
        ),
        rules=rules,
        checks=[
            md(
                "Read the alert's ",
                inline("metric"),
                " label and search the service's ",
                inline("/metrics"),
                " page for it: a new name or new labels mean the spec must follow.",
            ),
            "Check the last deploy and the scrape configuration's relabelling rules "
            "(metric_relabel_configs) for a rename or a drop; roll back or update the spec.",
            "A labelled counter that appears only with its first event is absent until then: "
            "have the client create every label combination at 0 at start-up.",
        ],
        panels=showing,
        exprs=[str(alerts.absent_rule(service, w)["expr"]) for w in watched],
        mitigation="Until the metric is back, its SLOs and alerts are blind: watch the "
        "service by hand (logs, the panels of its other metrics). Roll back the rename, or "
        "change the spec's metric and regenerate.",
    )


def spec_notes(service: Service, alert: str, slo: str = "") -> list[Markup]:
    """Return what the spec adds to or removes from ``alert``, in words: the labels and
    annotations an SLO or a threshold row sets, the burn-rate pairs an SLO switched off, the
    jobs whose TargetDown is off. ``slo``: only that SLO's burn-rate alerts."""
    rules = [r for g in plain_groups(service, ALERT_FILES) for r in g["rules"]]
    mine = [r for r in rules if r["alert"] == alert and (not slo or r["labels"].get("slo") == slo)]
    # Only what an SLO or a row sets over the service-wide ones, which every alert has.
    skip = {*RESERVED_LABELS, "job"}
    shared = set(service.labels)
    generated = {*GENERATED_ANNOTATIONS, *(k for k, _ in service.annotations)}
    by_severity: dict[str, tuple[set, set]] = {}
    for r in mine:
        labels_, annotations_ = by_severity.setdefault(r["labels"]["severity"], (set(), set()))
        labels_ |= {(k, v) for k, v in r["labels"].items() if k not in skip} - shared
        annotations_ |= {k for k in r["annotations"] if k not in generated}
    # What every severity carries, then what only one does (an SLO's page_alert/ticket_alert).
    common = [set.intersection(*(x[i] for x in by_severity.values())) for i in (0, 1)]
    if not by_severity:
        common = [set(), set()]
    notes = []
    if common[0]:
        shown = ", ".join(inline(f"{k}={v}") for k, v in sorted(common[0]))
        notes.append(md("Labels of its own (for routing): ", Markup(shown), "."))
    if common[1]:
        shown = ", ".join(inline(k) for k in sorted(common[1]))
        notes.append(md("Annotations of its own: ", Markup(shown), "."))
    for severity, (labels_, annotations_) in sorted(by_severity.items()):
        only = [f"{k}={v}" for k, v in sorted(labels_ - common[0])]
        only += [f"{k} (annotation)" for k in sorted(annotations_ - common[1])]
        if only:
            shown = ", ".join(inline(x) for x in only)
            notes.append(md(f"On its {severity} alerts only: ", Markup(shown), "."))
    for each in service.slos:
        if each.burn_alert != alert or (slo and each.name != slo):
            continue
        for switch, severity in (("page", "critical"), ("ticket", "warning")):
            if not getattr(each, switch):
                notes.append(
                    md(
                        inline(f"{switch}: false"),
                        f": the {each.name} SLO has no {severity} burn-rate pairs.",
                    )
                )
    if alert == TARGET_DOWN_ALERT and service.quiet_jobs:
        jobs = ", ".join(inline(j) for j in service.quiet_jobs)
        notes.append(
            md("Switched off for ", Markup(jobs), " (", inline("target_down: false"), ").")
        )
    return notes


def alert_docs(service: Service, panels: list[PanelDoc]) -> list[AlertDoc]:
    """Return one runbook section per alert name, in the order of the alert rule files."""
    docs = [_target_doc(service, panels)] if service.target_down_jobs else []
    docs += [_absent_doc(service, panels)] if alerts.watched_metrics(service) else []
    docs += [_threshold_doc(service, row, panels) for row in service.thresholds]
    # One section per SLO's burn-rate alerts (named by its alert_name, else ErrorBudgetBurn).
    docs += [_burn_doc(service, s, panels) for s in service.slos if service.slo_burn_rates(s)]
    docs += [_slo_doc(service, a, panels) for a in (BUDGET_LOW_ALERT, BUDGET_CRITICAL_ALERT)]
    for doc in docs:
        doc.notes = Markup("\n\n").join(spec_notes(service, doc.name, doc.slo))
    for panel in panels:
        shown = panel.panel.signal.key if panel.panel.signal else None
        panel.alerts += [
            (d.title, d.anchor) for d in docs if panel in d.panels or d.signal_key == shown
        ]
    return docs


def health_checks(service: Service, panels: list[PanelDoc]) -> list[str]:
    """Return the daily health-check list: every panel with levels in the green, and more."""
    out = []
    seen: set[str] = set()
    for p in panels:
        if p.panel.levels is None:
            continue
        what = p.panel.signal.key if p.panel.signal else p.panel.slo.name if p.panel.slo else ""
        if what in seen:
            continue
        seen.add(what)
        green = next((c for c in p.colours if c.startswith("green")), "green")
        out.append(f"“{p.panel.title}” ({p.row}) is {green}.")
    return out


def files(service: Service) -> dict[str, str]:
    """Return the docs of a service as ``{file name: Markdown text}``."""
    env = environment()
    dashboard = service.dashboard
    panels = panel_docs(service, dashboard, Anchors()) if dashboard is not None else []
    docs = alert_docs(service, panels)
    common = {
        "service": service,
        "dashboard": dashboard,
        "dashboard_url": links.dashboard_url(service),
        "link": link,
        "anchor": alerts.anchor,
        "paged": lambda severity: paged(service, severity),
        "label_routes": label_routes(service),
    }
    out = {
        "alerts.md": env.get_template("alerts.md.j2").render(**common, alerts=docs),
    }
    if dashboard is not None:
        out["dashboard.md"] = env.get_template("dashboard.md.j2").render(
            **common, panels=panels, checks=health_checks(service, panels)
        )
    return out
