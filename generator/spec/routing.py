"""The spec's ``routing`` section: which receiver gets each alert.

Receivers are named, each of one kind (:data:`KINDS`); routes send alerts to them by
severity and by any alert label, first match wins; what no route takes goes to the
``default`` receiver. The legacy shape (``telegram``, ``email``, ``pager``) still reads:
it defines receivers of those names and the severity routes it always had (critical to
Telegram and the pager, warning to Telegram and e-mail), after the spec's own ``routes``.

Secrets (bot tokens, webhook URLs, routing and API keys, the SMTP password) are only ever
named by the path of a file on the Alertmanager host, so they never reach the spec or
``out/``. Alertmanager 0.28.1 and 0.33.1 read every ``*_file`` field used here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from .. import promql
from ..am_matchers import MatcherError, label_value_problem, matcher, parse
from ..promql import Matcher
from .errors import Path, SpecError, format_path
from .yaml_source import Source

DEFAULT_TIMING = {"group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h"}
# Each receiver kind and the fields of its spec entry that name a secret file.
KINDS: Mapping[str, tuple[str, ...]] = {
    "telegram": ("bot_token_file",),
    "slack": ("api_url_file",),
    "pagerduty": ("routing_key_file",),
    "opsgenie": ("api_key_file",),
    "email": ("auth_password_file",),
    "webhook": ("url_file",),
}
LEGACY_RECEIVERS = ("telegram", "email", "pager")  # the receiver names of the legacy shape


@dataclass(frozen=True)
class Receiver:
    """A named receiver: its ``kind`` (a key of :data:`KINDS`) and its spec ``settings``,
    as ``(field, value)`` pairs in the spec's field order."""

    name: str
    kind: str
    settings: tuple[tuple[str, object], ...]

    def get(self, field: str, default: object = None) -> object:
        """Return the value of one setting, or ``default``."""
        return dict(self.settings).get(field, default)


@dataclass(frozen=True)
class Route:
    """Alerts that satisfy every matcher go to every one of ``receivers``, in order."""

    matchers: tuple[Matcher, ...]
    receivers: tuple[str, ...]

    def takes(self, labels: Mapping[str, str]) -> bool:
        """Return True when an alert with ``labels`` satisfies every matcher (a missing
        label reads as ``""``, as in Alertmanager)."""
        return all(m.holds(labels.get(m.name, "")) for m in self.matchers)


@dataclass(frozen=True)
class Routing:
    """Receivers, routes (the spec's, then the legacy severity routes) and timings of a
    service's Alertmanager configuration; durations in seconds."""

    receivers: tuple[Receiver, ...]
    routes: tuple[Route, ...]
    default: str
    group_wait: int
    group_interval: int
    repeat_interval: int

    def receiver(self, name: str) -> Receiver:
        """Return the receiver called ``name``; KeyError if there is none."""
        for r in self.receivers:
            if r.name == name:
                return r
        raise KeyError(name)

    def reached(self, labels: Mapping[str, str]) -> tuple[str, ...]:
        """Return the receiver names an alert with ``labels`` is sent to, in routing order:
        those of the first route it satisfies, else the default receiver."""
        for route in self.routes:
            if route.takes(labels):
                return route.receivers
        return (self.default,)


def secret_files(data: Mapping) -> Iterator[tuple[str, Path]]:
    """Yield ``(file, path in routing)`` for every secret file a schema-valid routing
    section names, in spec order."""
    legacy = [("telegram", "bot_token_file"), ("email", "auth_password_file")]
    legacy.append(("pager", "url_file"))
    for section, field in legacy:
        if file := data.get(section, {}).get(field):
            yield file, (section, field)
    for name, entry in data.get("receivers", {}).items():
        ((kind, settings),) = entry.items()
        for field in KINDS[kind]:
            if file := settings.get(field):
                yield file, ("receivers", name, kind, field)


def _legacy(data: Mapping) -> tuple[list[Receiver], list[Route]]:
    """Return the receivers and severity routes of the legacy ``telegram``/``email``/``pager``."""
    receivers = []
    for name, kind in (("telegram", "telegram"), ("email", "email"), ("pager", "webhook")):
        if name in data:
            receivers.append(Receiver(name, kind, tuple(data[name].items())))
    names = {r.name for r in receivers}
    routes = []
    for severity, extra in (("critical", "pager"), ("warning", "email")):
        reach = tuple(n for n in ("telegram", extra) if n in names)
        if reach:
            routes.append(Route((matcher("severity", "=", severity),), reach))
    return receivers, routes


def resolve(source: Source, errors: list[SpecError]) -> Routing | None:
    """Return the spec's Routing (None when it has no ``routing``); append problems to errors.

    The section has passed the JSON Schema already; this adds the checks a schema cannot say:
    timings, Telegram chat ids, SMTP authentication, matchers (the Alertmanager grammar, at
    the matcher's own line), receiver names that exist and are unique, and one plain
    absolute file per secret.
    """
    data = source.data.get("routing") if isinstance(source.data, dict) else None
    if data is None:
        return None
    here: Path = ("routing",)

    def fail(path: Path, message: str) -> None:
        errors.append(source.error((*here, *path), message))

    timing = {}
    for key, default in DEFAULT_TIMING.items():
        try:
            timing[key] = promql.parse_duration(data.get(key, default))
        except ValueError as exc:
            fail((key,), str(exc))
            timing[key] = 0
    if timing["repeat_interval"] and timing["repeat_interval"] < timing["group_interval"]:
        fail(("repeat_interval",), "repeat_interval must not be shorter than group_interval")

    receivers, legacy_routes = _legacy(data)
    for name, entry in data.get("receivers", {}).items():
        if name in LEGACY_RECEIVERS and name in data:
            fail(("receivers", name), f"{name!r} is already the legacy routing.{name}")
            continue
        ((kind, settings),) = entry.items()
        receivers.append(Receiver(name, kind, tuple(settings.items())))

    for r in receivers:
        where: Path = (r.name,) if r.name in data else ("receivers", r.name, r.kind)
        if r.kind == "telegram" and r.get("chat_id") == 0:
            fail((*where, "chat_id"), "0 is not a Telegram chat id")
        if r.kind == "email":
            user, password = r.get("auth_username", ""), r.get("auth_password_file", "")
            if bool(user) != bool(password):
                missing = "auth_password_file" if user else "auth_username"
                fail(
                    (*where, missing),
                    f"SMTP authentication needs both auth_username and {missing}",
                )
    known = {r.name for r in receivers}

    routes = []
    for i, entry in enumerate(data.get("routes", [])):
        at: Path = ("routes", i)
        matchers = []
        if "severity" in entry:
            matchers.append(matcher("severity", "=", entry["severity"]))
        for name, value in entry.get("labels", {}).items():
            if (why := label_value_problem(value)) is not None:
                fail((*at, "labels", name), why)
            else:
                matchers.append(matcher(name, "=", value))
        for j, text in enumerate(entry.get("matchers", [])):
            try:
                matchers.append(parse(text))
            except MatcherError as exc:
                where = f" at character {exc.column}" if exc.column > 1 else ""
                fail((*at, "matchers", j), f"matcher `{text}`{where}: {exc}")
        for j, name in enumerate(entry["receivers"]):
            if name not in known:
                fail((*at, "receivers", j), _unknown(name, known))
        routes.append(Route(tuple(matchers), tuple(entry["receivers"])))

    default = data.get("default", "telegram")
    if default not in known:
        if "default" in data:
            fail(("default",), _unknown(default, known))
        else:
            fail((), "name the receiver of alerts no route takes: set routing.default")

    seen: dict[str, Path] = {}
    for name, path in secret_files(data):
        # '..' can climb from a secrets folder into a checkout, where the file gets committed.
        if "/../" in name + "/" or "/./" in name + "/":
            fail(path, f"{name!r} is not a plain absolute path; write it without '.' or '..'")
        if name in seen:
            other = format_path((*here, *seen[name]))
            fail(path, f"each secret needs a file of its own; {other} reads {name!r} too")
        seen.setdefault(name, path)

    return Routing(
        receivers=tuple(receivers),
        routes=(*routes, *legacy_routes),
        default=default,
        **timing,
    )


def _unknown(name: str, known: set[str]) -> str:
    have = ", ".join(sorted(known)) or "none"
    return f"no receiver is called {name!r}; the receivers are: {have}"
