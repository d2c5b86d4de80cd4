"""The spec's ``routing`` section: where Alertmanager sends each severity.

Secrets (the Telegram bot token, the SMTP password, the pager URL) are only ever named by
the path of a file on the Alertmanager host, so they never reach the spec or ``out/``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import promql
from .errors import Path, SpecError
from .yaml_source import Source

DEFAULT_TIMING = {"group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h"}


@dataclass(frozen=True)
class Telegram:
    """A Telegram chat and the file holding the bot's token."""

    chat_id: int
    bot_token_file: str


@dataclass(frozen=True)
class Email:
    """An e-mail recipient and the SMTP server that delivers to it."""

    to: str
    sender: str
    smarthost: str
    auth_username: str = ""
    auth_password_file: str = ""


@dataclass(frozen=True)
class Routing:
    """Receivers and timings of a service's Alertmanager configuration."""

    telegram: Telegram
    email: Email | None
    pager_url_file: str
    group_wait: int
    group_interval: int
    repeat_interval: int

    def receivers(self, severity: str) -> tuple[str, ...]:
        """Return the receiver names an alert of ``severity`` is sent to, in routing order."""
        if severity == "critical":
            return ("telegram", "pager") if self.pager_url_file else ("telegram",)
        if severity == "warning":
            return ("telegram", "email") if self.email else ("telegram",)
        return ("telegram",)


def resolve(source: Source, errors: list[SpecError]) -> Routing | None:
    """Return the spec's Routing (None when it has no ``routing``); append problems to errors.

    The section has passed the JSON Schema already; this adds the checks a schema cannot say.
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

    files: dict[str, Path] = {}
    tg = data["telegram"]
    if tg["chat_id"] == 0:
        fail(("telegram", "chat_id"), "0 is not a Telegram chat id")
    files[tg["bot_token_file"]] = ("telegram", "bot_token_file")

    email = None
    if "email" in data:
        e = data["email"]
        user, password = e.get("auth_username", ""), e.get("auth_password_file", "")
        if bool(user) != bool(password):
            missing = "auth_password_file" if user else "auth_username"
            fail(("email", missing), f"SMTP authentication needs both auth_username and {missing}")
        if password:
            files[password] = ("email", "auth_password_file")
        email = Email(e["to"], e["from"], e["smarthost"], user, password)

    pager = data.get("pager", {}).get("url_file", "")
    if pager:
        files[pager] = ("pager", "url_file")

    for name, path in files.items():
        # '..' can climb from a secrets folder into a checkout, where the file gets committed.
        if "/../" in name + "/" or "/./" in name + "/":
            fail(path, f"{name!r} is not a plain absolute path; write it without '.' or '..'")
    if len(files) < 1 + bool(email and email.auth_password_file) + bool(pager):
        fail((), "each secret needs a file of its own")

    return Routing(
        telegram=Telegram(tg["chat_id"], tg["bot_token_file"]),
        email=email,
        pager_url_file=pager,
        **timing,
    )
