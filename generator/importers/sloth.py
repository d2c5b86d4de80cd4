"""Import Sloth specs: ``version: prometheus/v1`` files (one or several YAML documents) and
Kubernetes ``PrometheusServiceLevel`` resources (``apiVersion: sloth.slok.dev/v1``).

Field names and meanings follow Sloth's API types (github.com/slok/sloth,
``pkg/prometheus/api/v1/v1.go`` and ``pkg/kubernetes/api/sloth/v1/types.go``): the plain
spec writes ``error_query`` and ``page_alert``, the CRD ``errorQuery`` and ``pageAlert``.
Sloth's default SLO period is 30 days and its default alert windows are the SRE Workbook's
(``internal/alert/windows/google-30d.yaml``), the same as this project's defaults, so the
imported spec sets ``period: 30d`` and no ``burn_rates``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..spec.errors import Path
from .common import (
    Document,
    Imported,
    Metrics,
    Problems,
    declare_raw_metrics,
    events_sli,
    labels,
    mapping,
    plain_counter,
    read,
    text,
    window_query,
)
from .common import (
    name as name_of,
)

PLAIN = "prometheus/v1"
CRD_API = "sloth.slok.dev/v1"
CRD_KIND = "PrometheusServiceLevel"
PERIOD = "30d"  # Sloth's default --default-slo-period
# Sloth's page alert is this project's critical burn-rate pairs, its ticket alert the warning ones.
SEVERITY = {"page": "critical", "ticket": "warning"}
# The label that keeps a Sloth page or ticket alert's own severity value (see _alerting).
SLOTH_SEVERITY = "sloth_severity"


@dataclass(frozen=True)
class _Names:
    """The field names of one of Sloth's two spellings."""

    error_query: str
    total_query: str
    error_ratio_query: str
    page_alert: str
    ticket_alert: str
    spec_plugins: str


_PLAIN_NAMES = _Names(
    "error_query", "total_query", "error_ratio_query", "page_alert", "ticket_alert", "slo_plugins"
)
_CRD_NAMES = _Names(
    "errorQuery", "totalQuery", "errorRatioQuery", "pageAlert", "ticketAlert", "sloPlugins"
)
_SLO_FIELDS = ("name", "description", "objective", "plugins", "labels", "sli", "alerting")


def import_file(path: str) -> Imported:
    """Return the specs (one per Sloth service, in the order first seen) equivalent to the
    Sloth file at ``path`` (no notes: every Sloth field maps or is refused); raise
    SpecInvalid naming every field that has no equivalent."""
    problems = Problems()
    services: dict[str, dict] = {}
    metrics: dict[str, Metrics] = {}
    for doc in read(path):
        found = _service(doc, problems)
        if found is None:
            continue
        body, base, names = found
        name = name_of(doc, (*base, "service"), body.get("service"), "service", problems)
        if name is None:  # refused; the SLOs are still read, to report all at once
            name = str(body.get("service"))
        service_labels = labels(doc, (*base, "labels"), body.get("labels"), problems)
        spec = services.get(name)
        if spec is None:
            spec = services[name] = {"service": name, "period": PERIOD}
            if service_labels:
                spec["labels"] = service_labels
            spec["metrics"] = {}
            spec["slos"] = []
            metrics[name] = Metrics(spec["metrics"])
        elif spec.get("labels", {}) != service_labels:
            problems.refuse(
                doc,
                (*base, "labels"),
                f"service {name!r} is also in an earlier document with other labels; one "
                "service has one set of labels",
            )
        _plugins(doc, (*base, names.spec_plugins), body.get(names.spec_plugins), problems)
        slos = body.get("slos")
        if not isinstance(slos, list) or not slos:
            problems.refuse(doc, (*base, "slos"), "expected a list of at least one SLO")
            continue
        for i, slo in enumerate(slos):
            out = _slo(doc, (*base, "slos", i), slo, names, metrics[name], problems)
            if out is None:
                continue
            alert = out.get("alert_name")
            twin = next((s for s in spec["slos"] if alert and s.get("alert_name") == alert), None)
            if twin is not None:
                problems.refuse(
                    doc,
                    (*base, "slos", i, "alerting", "name"),
                    f"{alert!r} is also the alert name of SLO {twin['name']!r}: this project "
                    "gives each SLO's burn-rate alerts their own name (or ErrorBudgetBurn, "
                    "told apart by the slo label); rename one, or remove both names",
                )
            problems.origins[(name, len(spec["slos"]))] = (doc, (*base, "slos", i))
            spec["slos"].append(out)
    problems.check()
    specs = list(services.values())
    for spec in specs:
        metrics[spec["service"]].finish()
        if not spec["metrics"]:
            del spec["metrics"]
    return problems.imported(specs)


def _service(doc: Document, problems: Problems) -> tuple[dict, Path, _Names] | None:
    """Return the service body of a Sloth document, where it sits, and its spelling."""
    data = doc.data
    assert isinstance(data, dict)
    if data.get("version") == PLAIN:
        known = dict.fromkeys(("version", "service", "labels", "slo_plugins", "slos"), "")
        return mapping(doc, (), data, known, problems), (), _PLAIN_NAMES
    if data.get("apiVersion") == CRD_API and data.get("kind") == CRD_KIND:
        mapping(
            doc,
            (),
            data,
            dict.fromkeys(("apiVersion", "kind", "metadata", "spec", "status")),
            problems,
        )
        known = dict.fromkeys(("service", "labels", "sloPlugins", "slos"), "")
        return mapping(doc, ("spec",), data.get("spec"), known, problems), ("spec",), _CRD_NAMES
    where = ("version",) if "version" in data else ("apiVersion",) if "apiVersion" in data else ()
    problems.refuse(
        doc,
        where,
        f"not a Sloth spec: expected `version: {PLAIN}`, or `apiVersion: {CRD_API}` with "
        f"`kind: {CRD_KIND}`",
    )
    return None


def _plugins(doc: Document, path: Path, value: object, problems: Problems) -> None:
    """Refuse SLO plugins: they rewrite Sloth's generated rules in ways only Sloth knows."""
    if value is None:
        return
    body = mapping(doc, path, value, dict.fromkeys(("overridePrevious", "chain")), problems)
    if body.get("chain") or body.get("overridePrevious"):
        problems.refuse(
            doc,
            path,
            "SLO plugins cannot be imported: they change Sloth's generated rules in code "
            "this project does not run; remove them and check the imported spec's rules",
        )


def _slo(
    doc: Document, path: Path, value: object, names: _Names, metrics: Metrics, problems: Problems
) -> dict | None:
    slo = mapping(doc, path, value, dict.fromkeys(_SLO_FIELDS), problems)
    name = name_of(doc, (*path, "name"), slo.get("name"), "SLO", problems)
    objective = slo.get("objective")
    if isinstance(objective, bool) or not isinstance(objective, int | float):
        problems.refuse(doc, (*path, "objective"), "expected the objective in percent, e.g. 99.9")
        objective = None
    elif not 0 < objective < 100:
        problems.refuse(
            doc,
            (*path, "objective"),
            f"an objective of {objective} % cannot be imported: this project needs one above "
            "0 and below 100 (at 100 % there is no error budget to burn)",
        )
    out: dict = {"name": name, "objective": objective}
    description = slo.get("description")
    if description:
        out["description"] = text(doc, (*path, "description"), description, problems)
    _plugins(doc, (*path, "plugins"), slo.get("plugins"), problems)
    out |= _alerting(doc, path, slo, names, problems)
    out["sli"] = _sli(doc, (*path, "sli"), slo.get("sli"), names, metrics, problems)
    declare_raw_metrics(out["sli"], metrics)
    return out


def _alerting(doc: Document, path: Path, slo: dict, names: _Names, problems: Problems) -> dict:
    """Return the SLO's ``labels``, ``annotations``, ``page``, ``ticket``, ``page_alert``,
    ``ticket_alert`` and ``alert_name``.

    Sloth sets the SLO's labels on its rules and alerts, ``alerting.labels`` and
    ``annotations`` on both alerts, and a page or ticket alert's own ones on that alert. A
    page or ticket label (or annotation) that both alerts carry alike becomes the SLO's own
    (this project sets those on its budget alerts too); any other, and every one of an alert
    whose other alert is off, is kept on that alert alone, under ``page_alert`` or
    ``ticket_alert``.

    Sloth's ``severity`` label is this project's to set (critical for page, warning for
    ticket), since its routes and inhibitions key on it. Another value is noted, not refused,
    and kept on that alert as :data:`SLOTH_SEVERITY`, so a route matching
    ``severity="pageteam"`` works again by renaming its label."""
    at = (*path, "alerting")
    known = ("name", "labels", "annotations", names.page_alert, names.ticket_alert)
    alerting = mapping(doc, at, slo.get("alerting"), dict.fromkeys(known), problems)
    out: dict = {}
    merged = labels(doc, (*path, "labels"), slo.get("labels"), problems)
    merged |= labels(doc, (*at, "labels"), alerting.get("labels"), problems)
    raw_annotations = alerting.get("annotations")
    runbook = None
    if isinstance(raw_annotations, dict) and "runbook_url" in raw_annotations:
        # This project's runbook_url annotation is written from the SLO's own runbook_url.
        runbook = text(
            doc, (*at, "annotations", "runbook_url"), raw_annotations["runbook_url"], problems
        )
        raw_annotations = {k: v for k, v in raw_annotations.items() if k != "runbook_url"}
    annotations = labels(doc, (*at, "annotations"), raw_annotations, problems, "annotation")
    per_alert = {}
    severities: dict[str, str] = {}
    extras: dict[str, dict] = {}  # page_alert / ticket_alert
    for kind, key in (("page", names.page_alert), ("ticket", names.ticket_alert)):
        alert_path = (*at, key)
        alert = mapping(doc, alert_path, alerting.get(key), dict.fromkeys(_ALERT), problems)
        disable = alert.get("disable", False)
        if not isinstance(disable, bool):
            problems.refuse(doc, (*alert_path, "disable"), "expected true or false")
            continue
        if disable:
            out[kind] = False
            continue
        raw_labels = alert.get("labels")
        if isinstance(raw_labels, dict) and "severity" in raw_labels:
            severity = str(raw_labels["severity"])
            if severity != SEVERITY[kind]:
                severities[kind] = severity
                problems.note(
                    doc,
                    (*alert_path, "labels", "severity"),
                    f"severity {severity!r} becomes {SEVERITY[kind]!r}, which this project's "
                    "routes and inhibitions key on; the value is kept as the label "
                    f"{SLOTH_SEVERITY}, so route on that",
                )
            raw_labels = {k: v for k, v in raw_labels.items() if k != "severity"}
        own_labels = labels(doc, (*alert_path, "labels"), raw_labels, problems)
        own_annotations = labels(
            doc, (*alert_path, "annotations"), alert.get("annotations"), problems, "annotation"
        )
        per_alert[kind] = (own_labels, own_annotations)
    for index, field in ((0, "labels"), (1, "annotations")):
        shared: dict[str, str] = {}
        for kind, row in per_alert.items():
            other = next((r for k, r in per_alert.items() if k != kind), None)
            for key, value in row[index].items():
                # Only what both alerts carry alike is the SLO's (its budget alerts get it
                # too); a page's label stays on the page even when the ticket is off.
                if other is not None and other[index].get(key) == value:
                    shared[key] = value
                else:
                    extras.setdefault(f"{kind}_alert", {}).setdefault(field, {})[key] = value
        if index == 0:
            merged |= shared
        else:
            annotations |= shared
    for kind, severity in severities.items():
        extras.setdefault(f"{kind}_alert", {}).setdefault("labels", {})[SLOTH_SEVERITY] = severity
    if runbook is not None:
        out["runbook_url"] = runbook
    if merged:
        out["labels"] = merged
    if annotations:
        out["annotations"] = annotations
    out |= dict(sorted(extras.items()))
    name = alerting.get("name")
    if name is not None and (out.get("page", True) or out.get("ticket", True)):
        out["alert_name"] = name_of(doc, (*at, "name"), name, "alert", problems)
    return out


_ALERT = ("disable", "labels", "annotations")


def _sli(
    doc: Document, path: Path, value: object, names: _Names, metrics: Metrics, problems: Problems
) -> dict | None:
    """Return the SLI: events as this project's ``bad``/``total`` series when both queries
    are ``sum(rate(counter{...}[{{.window}}]))`` over one counter, else as raw
    ``error_query``/``total_query``; a raw error ratio as ``ratio_query``."""
    sli = mapping(doc, path, value, dict.fromkeys(("events", "raw", "plugin")), problems)
    kinds = [k for k in ("events", "raw", "plugin") if sli.get(k) is not None]
    if len(kinds) != 1:
        problems.refuse(doc, path, "an SLI is exactly one of events, raw or plugin")
        return None
    kind = kinds[0]
    if kind == "plugin":
        problems.refuse(
            doc,
            (*path, "plugin"),
            "SLI plugins cannot be imported: the plugin's query is built by Go code in "
            "Sloth; write its queries out as events (error_query, total_query)",
        )
        return None
    if kind == "raw":
        raw = mapping(doc, (*path, "raw"), sli["raw"], {names.error_ratio_query: ""}, problems)
        at = (*path, "raw", names.error_ratio_query)
        query = text(doc, at, raw.get(names.error_ratio_query), problems)
        ratio = window_query(doc, at, query, problems) if query is not None else None
        return {"ratio_query": ratio} if ratio else None
    known = {names.error_query: "", names.total_query: ""}
    events = mapping(doc, (*path, "events"), sli["events"], known, problems)
    queries = []
    for key in (names.error_query, names.total_query):
        at = (*path, "events", key)
        query = text(doc, at, events.get(key), problems)
        queries.append(window_query(doc, at, query, problems) if query is not None else None)
    bad, total = queries
    if bad is None or total is None:
        return None
    bad_counter, total_counter = plain_counter(bad), plain_counter(total)
    if bad_counter and total_counter:
        native = events_sli("bad", bad_counter, total_counter, metrics)
        if native is not None:
            return native
    return {"error_query": bad, "total_query": total}
